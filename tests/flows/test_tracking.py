"""register_and_promote against a real MLflow server: champions on validation, compared like with like."""

from __future__ import annotations

import logging

import mlflow
import numpy as np
import pytest

pytestmark = pytest.mark.integration

SAME = {"dataset_hash": "d1", "split": "random:0.2", "validation": "split:0.2"}


def _logged_model() -> str:
    """A tiny logged model (what is registered does not matter here, only its tags)."""
    from sklearn.linear_model import LinearRegression

    from flows import tracking

    x = np.arange(12.0).reshape(6, 2)
    with mlflow.start_run():
        info = tracking.log_sklearn_model(LinearRegression().fit(x, x[:, 0]))
    return info.model_uri


def _register(name: str, val: float, test: float, **kwargs):
    from flows import tracking

    return tracking.register_and_promote(
        _logged_model(), name, metric="val_r2", value=val, tags={"test_r2": test}, **kwargs
    )


def test_better_test_worse_validation_does_not_take_the_alias(mlflow_env) -> None:
    first = _register("champ-val", val=0.50, test=0.20, comparable=SAME)
    second = _register("champ-val", val=0.40, test=0.90, comparable=SAME)
    assert first.promoted and not second.promoted
    assert "does not beat champion v1" in second.reason
    alias = mlflow.MlflowClient().get_model_version_by_alias("champ-val", "champion")
    assert alias.version == first.version
    third = _register("champ-val", val=0.60, test=0.10, comparable=SAME)
    assert third.promoted and third.previous_champion == first.version and third.reason == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset_hash": "d2"}, "dataset_hash"),
        ({"split": "n_mut:3"}, "split"),
        ({"validation": "cv:5"}, "validation"),
    ],
)
def test_unlike_versions_are_not_compared(mlflow_env, change, message) -> None:
    name = f"champ-unlike-{message}"
    first = _register(name, val=0.2, test=0.2, comparable=SAME)
    other = _register(name, val=0.9, test=0.9, comparable={**SAME, **change})
    assert first.promoted and not other.promoted
    assert message in other.reason and "not comparable" in other.reason
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias(name, "champion").version == first.version
    assert client.get_model_version(name, other.version).tags[message] == str(change[message])


def test_other_metric_is_not_compared(mlflow_env) -> None:
    from flows import tracking

    first = _register("champ-metric", val=0.2, test=0.2)
    other = tracking.register_and_promote(_logged_model(), "champ-metric", metric="val_auc", value=0.99)
    assert first.promoted and not other.promoted and "not comparable" in other.reason


def test_hold_registers_without_alias_and_tags_unreliable(mlflow_env) -> None:
    held = _register("champ-hold", val=0.3, test=0.3, comparable=SAME, hold="validation too small")
    assert not held.promoted and held.reason == "validation too small"
    client = mlflow.MlflowClient()
    assert client.get_model_version("champ-hold", held.version).tags["reliable"] == "false"
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("champ-hold", "champion")


class _Link:
    """A TCP link to the MLflow server that can be cut and restored, as a stopped and restarted server
    looks to its clients (connections refused, then answered again on the same address)."""

    def __init__(self, upstream: str):
        import socket

        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.conns: list = []
        self.server = None

    def up(self) -> None:
        import socket
        import threading

        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(16)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def down(self) -> None:
        import contextlib
        import socket

        with contextlib.suppress(OSError):  # wakes the accepting thread (close alone does not)
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        self.conns.clear()

    def _accept(self, server) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        import contextlib

        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.close()


def test_server_outage_fails_the_flow_in_one_line_and_ends_its_run_failed(mlflow_env, monkeypatch) -> None:
    """The server goes away while a flow logs: the flow fails with one line naming the server, and its
    run is marked FAILED as soon as the server answers again (never left RUNNING)."""
    import threading

    from flows import tracking

    link = _Link(mlflow.get_tracking_uri())
    link.up()
    uri = f"http://127.0.0.1:{link.port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # one quick retry: enough for a keep-alive connection the server closed, not for an outage
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    monkeypatch.setenv(tracking.RECOVERY_ENV, "60")

    class _ServerBack(logging.Handler):  # the server returns once the flow waits for it
        def emit(self, record: logging.LogRecord) -> None:
            if "does not answer" in record.getMessage():
                threading.Timer(1.0, link.up).start()

    handler = _ServerBack()
    logging.getLogger("flows.tracking").addHandler(handler)
    try:
        with pytest.raises(tracking.TrackingError) as err:
            with tracking.parent_run("outage", experiment="outage") as run:
                run_id = run.info.run_id
                link.down()
                tracking.log_metrics({"loss": 1.0})
        message = str(err.value)
        assert len(message.splitlines()) == 1, message
        assert f"the MLflow server {uri} stopped answering" in message
        assert "marked FAILED once the server answered again" in message
        assert mlflow.MlflowClient(uri).get_run(run_id).info.status == "FAILED"
        # without the server back in time the run cannot be ended, and the line says so
        logging.getLogger("flows.tracking").removeHandler(handler)
        monkeypatch.setenv(tracking.RECOVERY_ENV, "1")
        with pytest.raises(
            tracking.TrackingError, match="could not be marked FAILED: the server did not answer within 1 s"
        ):
            with tracking.parent_run("outage", experiment="outage"):
                link.down()
                tracking.log_metrics({"loss": 1.0})
    finally:
        logging.getLogger("flows.tracking").removeHandler(handler)
        link.down()


def test_recovery_seconds_must_be_a_number(monkeypatch) -> None:
    from flows import tracking

    monkeypatch.setenv(tracking.RECOVERY_ENV, "soon")
    with pytest.raises(tracking.TrackingError, match="DYNAMOTIF_MLFLOW_RECOVERY_S must be a number"):
        tracking._recovery_s()
