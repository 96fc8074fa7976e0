"""The MLflow and Prefect UIs in a real browser (headless Chromium from Debian, driven by Selenium with
Debian's chromedriver), after the DynaSig deployment run of ``conftest.py``.

Each page is checked by what a user reads on it, and saved as a screenshot in the test artifacts
(``test-artifacts/stack/ui/`` unless ``DYNAMOTIF_TEST_ARTIFACTS`` says otherwise).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.stack.conftest import DYNASIG_MODEL, _unavailable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# as root on a closed network: no sandbox, and no background connections at start-up
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
WAIT_S = 90


def _chromium() -> tuple[str, str]:
    """Chromium's binary (``CHROMIUM``, else Debian's) and ``chromedriver``; skips when absent."""
    binary = os.environ.get("CHROMIUM") or next(
        (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
        "",
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or ""
    if not binary or not driver:
        _unavailable("headless Chromium not installed (apt-get install chromium chromium-driver)")
    return binary, driver


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _chromium()
    profile = tempfile.mkdtemp(prefix="dynamotif-chromium-")
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = binary
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, artifacts_dir) -> Callable[..., None]:
    """``page(url, name, *texts, ready=None)``: open ``url``, wait until every text is on the page (and
    ``ready(driver)`` is true), save ``ui/NAME.png``. On timeout the screenshot is saved all the same."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    shots = artifacts_dir / "ui"
    shots.mkdir(exist_ok=True)

    def _text(driver) -> str:
        return driver.execute_script("return document.body ? document.body.innerText : ''") or ""

    def _open(url: str | None, name: str, *texts: str, ready: Callable | None = None) -> None:
        if url is not None:
            browser.get(url)
        try:
            WebDriverWait(browser, WAIT_S, poll_frequency=0.5).until(
                lambda d: all(t in _text(d) for t in texts) and (ready is None or ready(d))
            )
        except TimeoutException:
            browser.save_screenshot(str(shots / f"{name}.png"))
            missing = [t for t in texts if t not in _text(browser)]
            pytest.fail(
                f"{name}: {url} did not show {missing or 'the expected elements'}:\n{_text(browser)[:2000]}"
            )
        browser.save_screenshot(str(shots / f"{name}.png"))

    return _open


def _runs(stack, flow_run_id: str):
    from mlflow import MlflowClient

    client = MlflowClient(stack.mlflow_uri, registry_uri=stack.mlflow_uri)
    exp = client.get_experiment_by_name(DYNASIG_MODEL)
    (parent,) = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.`prefect.flow_run_id` = '{flow_run_id}'"
    )
    children = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    return client, exp.experiment_id, parent, {c.info.run_name: c for c in children}


def test_mlflow_experiment_parent_and_nested_runs(stack, dynasig_flow_run, browser, page) -> None:
    from selenium.webdriver.common.by import By

    _, exp_id, parent, children = _runs(stack, dynasig_flow_run["id"])
    # the experiment's own URL: the runs table, whichever view (GenAI / model training) MLflow starts in
    link = f".ag-cell a[href$='/runs/{parent.info.run_id}']"
    page(
        f"{stack.mlflow_uri}/#/experiments/{exp_id}/runs",
        "mlflow-experiment",
        DYNASIG_MODEL,
        "Training runs",
        ready=lambda d: d.find_elements(By.CSS_SELECTOR, link),
    )
    cell = browser.find_element(By.CSS_SELECTOR, link)
    expand = cell.find_element(By.XPATH, "./ancestor::*[contains(@class, 'ag-cell-value')][1]//button")
    expand.click()
    page(
        None,
        "mlflow-nested-runs",
        *children,
        ready=lambda d: all(
            d.find_elements(By.CSS_SELECTOR, f".ag-cell a[href$='/runs/{c.info.run_id}']")
            for c in children.values()
        ),
    )


def _chart_titled(driver, metric: str) -> bool:
    """A drawn chart whose card is titled ``metric``."""
    from selenium.webdriver.common.by import By

    xpath = (
        f"//*[normalize-space(text())='{metric}']/ancestor::*[.//*[contains(@class, 'js-plotly-plot')]][1]"
    )
    return bool(driver.find_elements(By.XPATH, xpath))


def test_mlflow_metric_chart_and_logged_plot(stack, dynasig_flow_run, browser, page) -> None:
    from selenium.webdriver.common.by import By

    client, exp_id, _, children = _runs(stack, dynasig_flow_run["id"])
    child = children["lasso-both"]
    base = f"{stack.mlflow_uri}/#/experiments/{exp_id}/runs/{child.info.run_id}"
    charts = ".js-plotly-plot"
    page(
        f"{base}/model-metrics",
        "mlflow-metric-charts",
        "Model metrics",
        ready=lambda d: len(d.find_elements(By.CSS_SELECTOR, charts)) > 0,
    )
    # the chart grid is virtualised: search for the selection metric's chart
    box = browser.find_element(By.CSS_SELECTOR, "input[placeholder*='Search metric charts']")
    box.send_keys("val_r2")
    page(
        None,
        "mlflow-metric-chart-val_r2",
        "val_r2",
        ready=lambda d: _chart_titled(d, "val_r2"),
    )
    png = Path(client.download_artifacts(child.info.run_id, "plots/pred_vs_measured.png")).read_bytes()
    width = struct.unpack(">I", png[16:20])[0]  # IHDR width

    def _plot_shown(d) -> bool:
        imgs = d.find_elements(By.CSS_SELECTOR, "img[src^='blob:']")
        return any(int(i.get_attribute("naturalWidth") or 0) == width for i in imgs)

    page(
        f"{base}/artifacts/plots/pred_vs_measured.png",
        "mlflow-logged-plot",
        "pred_vs_measured.png",
        ready=_plot_shown,
    )


def test_mlflow_registered_model_with_champion(stack, dynasig_flow_run, page) -> None:
    from mlflow import MlflowClient

    champion = MlflowClient(stack.mlflow_uri, registry_uri=stack.mlflow_uri).get_model_version_by_alias(
        DYNASIG_MODEL, "champion"
    )
    page(
        f"{stack.mlflow_uri}/#/models/{DYNASIG_MODEL}",
        "mlflow-registered-model",
        f"Version {champion.version}",
        "champion",
    )


def test_prefect_deployment_and_finished_flow_run(stack, dynasig_flow_run, page) -> None:
    ui = stack.prefect_api.removesuffix("/api")
    page(f"{ui}/deployments", "prefect-deployments", "dynasig-process", "dynasig")
    run = dynasig_flow_run["run"]
    page(f"{ui}/runs/flow-run/{run['id']}", "prefect-flow-run", run["name"], "Completed", "dynasig-process")
