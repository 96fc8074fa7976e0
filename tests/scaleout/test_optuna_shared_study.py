"""Two worker processes share one Optuna study through RDB storage (sqlite here, PostgreSQL in
production): each sees the other's trials, and the study holds both workers' trials."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import optuna

from tests.conftest import REPO

WORKER = textwrap.dedent(
    """
    import os, sys, time
    import optuna
    name, storage, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    other = "w1" if name == "w0" else "w0"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="shared", storage=storage,
                              sampler=optuna.samplers.TPESampler(seed=int(name[1:])))

    def barrier(tag):  # both processes reach `tag` before either goes on (through the storage)
        study.set_user_attr(f"{tag}_{name}", True)
        deadline = time.monotonic() + 90
        while not optuna.load_study(study_name="shared", storage=storage).user_attrs.get(f"{tag}_{other}"):
            if time.monotonic() > deadline:
                sys.exit(f"{name}: {other} never reached {tag}")
            time.sleep(0.1)

    def objective(trial):
        x = trial.suggest_float("x", -5.0, 5.0)
        trial.set_user_attr("worker", name)
        trial.set_user_attr("pid", os.getpid())
        time.sleep(0.1)
        return (x - 1.0) ** 2

    barrier("ready")
    study.optimize(objective, n_trials=n)
    barrier("done")
    # What this process sees of the shared study: the other worker's trials too.
    seen = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == other]
    study.set_user_attr(f"seen_by_{name}", len(seen))
    """
)


def test_two_processes_fill_one_sqlite_study(tmp_path):
    storage_url = f"sqlite:///{tmp_path / 'optuna.db'}"
    storage = optuna.storages.RDBStorage(storage_url, engine_kwargs={"connect_args": {"timeout": 30}})
    optuna.create_study(study_name="shared", storage=storage, direction="minimize")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    n_each = 4
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), name, storage_url, str(n_each)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("w0", "w1")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]

    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(trials) == 2 * n_each
    workers = [t.user_attrs["worker"] for t in trials]
    assert workers.count("w0") == n_each and workers.count("w1") == n_each
    assert len({t.user_attrs["pid"] for t in trials}) == 2
    assert len({t.number for t in trials}) == 2 * n_each  # one numbering across processes
    # Each process read the other's trials from the shared storage.
    assert study.user_attrs["seen_by_w0"] == n_each and study.user_attrs["seen_by_w1"] == n_each
    assert study.best_value == min(t.value for t in trials)
