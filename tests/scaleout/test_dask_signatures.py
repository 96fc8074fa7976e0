"""The ENCoM signature stage on a real Dask cluster: a scheduler and two workers started as separate
processes on 127.0.0.1 (the ``dask`` CLI), results equal to the in-process computation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import distributed
import numpy as np
import pytest

from components import encom
from tests.conftest import REPO, shared

DASK = str(Path(sys.executable).with_name("dask"))


def _structures() -> list[Path]:
    sample = sorted(shared("mir125a", "variants_sample").glob("*.pdb"))[:3]
    return [shared("nrgten_test_structures", "test_medium.pdb"), *sample]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory, prefect_harness):
    """(scheduler address, client): ``dask scheduler`` + 2 ``dask worker`` processes, 1 thread each.

    The workers get the test Prefect API (``prefect_harness``) so that Prefect tasks submitted to
    them report there instead of each starting a temporary server.
    """
    from prefect.settings import PREFECT_API_URL

    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    common = {"env": env, "cwd": tmp, "start_new_session": True, "stdout": subprocess.DEVNULL}
    log = open(tmp / "cluster.log", "w")  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            stderr=log,
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists():
            assert procs[0].poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--name",
                        f"w{i}",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--no-nanny",
                        "--memory-limit",
                        "2GiB",
                        "--local-directory",
                        str(tmp / f"w{i}"),
                    ],
                    stderr=log,
                    **common,
                )
            )
        client = distributed.Client(address, timeout=30)
        client.wait_for_workers(2, timeout=90)
        yield address, client
        client.shutdown()  # the scheduler closes itself and its workers: faster than signals
    finally:
        _stop(procs)
        log.close()


def test_signatures_on_two_dask_workers_equal_local(dask_cluster):
    address, client = dask_cluster
    paths = _structures()
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    # Half of the structures pinned to each worker, so both processes really compute.
    futures = [
        client.submit(encom.compute_signatures, str(p), msf=True, workers=[workers[i % 2]], pure=False)
        for i, p in enumerate(paths)
    ]
    remote = client.gather(futures)
    holders = {w for ws in client.who_has(futures).values() for w in ws}
    assert holders == set(workers), "both worker processes computed signatures"
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    for path, res in zip(paths, remote, strict=True):
        local = encom.compute_signatures(path, msf=True)
        assert res.labels == local.labels, path.name
        np.testing.assert_allclose(res.betas, local.betas)
        np.testing.assert_allclose(res.entropic, local.entropic, rtol=1e-9, atol=1e-12, err_msg=path.name)
        np.testing.assert_allclose(res.msf, local.msf, rtol=1e-9, atol=1e-12, err_msg=path.name)
        np.testing.assert_allclose(
            res.eigenvalues, local.eigenvalues, rtol=1e-9, atol=1e-10, err_msg=path.name
        )


def test_dynasig_signature_task_with_dask_address_equals_local(dask_cluster, tmp_path):
    """The dynasig flow's own signature task, run through ``make_task_runner(dask_address=...)``
    (what ``dynamotif dynasig --dask-address`` uses), gives the same signatures as in process."""
    from prefect import flow

    from components.dynasig_ml import load_signatures
    from components.dynasig_ml.signature_cache import plan_chunks
    from flows.dynasig import make_task_runner, signature_chunk

    address, client = dask_cluster
    wt = str(shared("mir125a", "mir125a_WT.pdb"))
    chunks = [["A12G"], ["A21G;U67A"]]
    betas = [float(b) for b in encom.DEFAULT_BETAS]

    @flow(name="signature-stage-on-dask")
    def signature_stage() -> list[str]:
        planned = [plan_chunks(wt, chunk, betas, tmp_path / "dask")[0] for chunk in chunks]
        return [f.result() for f in [signature_chunk.submit(c) for c in planned]]

    with distributed.get_task_stream(client) as stream:
        paths = signature_stage.with_options(task_runner=make_task_runner(dask_address=address))()
    ran_on = {t["worker"] for t in stream.data}
    assert ran_on and ran_on <= set(client.scheduler_info()["workers"]), "tasks ran on the Dask workers"
    for chunk, path in zip(chunks, paths, strict=True):
        local_path = signature_chunk.fn(plan_chunks(wt, chunk, betas, tmp_path / "local")[0])
        remote, local = load_signatures(path), load_signatures(local_path)
        assert list(remote.ids) == list(local.ids) and list(remote.labels) == list(local.labels)
        np.testing.assert_allclose(remote.values, local.values, rtol=1e-9, atol=1e-12)
