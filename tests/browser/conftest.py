"""A live JupyterLab and a headless Chromium for the browser tests.

JupyterLab runs from this interpreter on 127.0.0.1 with a random token, a
free port, and temporary root, config, data, runtime and IPython dirs, so
nothing leaks in or out. Chromium is Debian's (``/usr/bin/chromium``, or
``APINOTEBOOK_CHROMIUM``); Playwright only drives it (never
``playwright install``). Without that Chromium the tests skip and say why;
anything else missing (Playwright, JupyterLab) is an error, not a skip.

What the tests share:

- ``lab``: the server. ``lab.add(path)`` copies a notebook into its root
  (outputs cleared); every ``*.ipynb`` beside this file and in
  ``notebooks/`` is there from the start. ``lab.run_all(page, name)`` opens
  a notebook, runs every cell on a live kernel and returns when the last
  cell has finished and the kernel is idle. ``lab.check(page)`` fails on
  page errors, widget console errors and "Error displaying widget".
- ``page``: a fresh browser context and page per test; ``open_page`` makes
  one for a longer scope (a notebook run once for a module's tests).
- ``save_screenshot(locator, name)``: into ``tmp_path``, and into
  ``docs/img/`` only when ``APINOTEBOOK_DOCS_IMG=1``.

Every Playwright wait, action and ``expect`` gives up after ``WAIT_MS``;
long notebook runs wait cell by cell, never with one long timeout.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DOCS_IMG = REPO / "docs" / "img"
NOTEBOOK_DIRS = (HERE, HERE / "notebooks")
CHROMIUM = os.environ.get("APINOTEBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the longest any single Playwright wait, action or assertion may take
WAIT_MS = 30_000
#: how long the JupyterLab server may take to answer /api/status (not a browser wait)
START_TIMEOUT = 60.0
#: user settings for the test JupyterLab: no news toast over the widgets, and every cell
#: attached and rendered (by default cells out of view are skipped by the browser)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
#: console errors that concern the widgets (JupyterLab logs unrelated ones)
WIDGET_HINTS = ("anywidget", "widget", "apn", "esm", "render", "model")

# the notebook in front is loaded and its kernel connected and idle
KERNEL_READY_JS = """() => {
    const panel = window.jupyterapp?.shell.currentWidget;
    const kernel = panel?.sessionContext?.session?.kernel;
    return Boolean(panel?.context?.isReady && panel.content?.widgets?.length
        && kernel?.connectionStatus === "connected" && kernel.status === "idle");
}"""
# what the kernel did with each code cell, from the notebook's model: its execution
# count and its error outputs (a SyntaxError's output has no "Traceback" in it)
CELLS_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter((cell) => cell.model.type === "code")
    .map((cell) => ({
        count: cell.model.executionCount,
        source: cell.model.sharedModel.getSource().split("\\n")[0],
        errors: cell.model.outputs.toJSON()
            .filter((output) => output.output_type === "error")
            .map((output) => `${output.ename}: ${output.evalue}`),
    }))"""
DIALOG_JS = "() => document.querySelector('.jp-Dialog') !== null"
PROMPTS_JS = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt'
)].map((p) => p.textContent.trim())"""
# Run All marks every code cell "[*]:"; each turns "[n]:" when it finishes. After an
# error the kernel aborts the rest, which go back to "[ ]:" (no "*" anywhere then).
STARTED_JS = f"() => ({PROMPTS_JS})().some((p) => /\\*|\\d/.test(p))"
CELL_DONE_JS = f"""(i) => {{
    const prompts = ({PROMPTS_JS})();
    return /\\d/.test(prompts[i]) || !prompts.some((p) => p.includes("*"));
}}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_copy(source: Path, target: Path) -> None:
    """Copy a notebook without outputs or execution counts, so a run starts from "[ ]:"."""
    notebook = json.loads(source.read_text("utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(notebook, indent=1), "utf-8")


@dataclass(frozen=True)
class Lab:
    """The running JupyterLab and how the tests drive it."""

    url: str
    token: str
    root: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def add(self, source: Path) -> str:
        """Copy a notebook into the root (outputs cleared); returns its name there."""
        _clean_copy(source, self.root / source.name)
        return source.name

    def open(self, page: Any, name: str) -> None:
        """Open a notebook and wait until its kernel is connected and idle.

        The toolbar's execution indicator says "idle" before any kernel is
        there, so readiness is read from the app (``expose_app_in_browser``).
        """
        page.goto(self.notebook_url(name))
        # a fresh JupyterLab may ask which kernel to start: take the notebook's own
        select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
        page.wait_for_function(f"() => ({KERNEL_READY_JS})() || ({DIALOG_JS})()")
        if select.is_visible():
            select.click()
            page.wait_for_function(KERNEL_READY_JS)

    def run_all(self, page: Any, name: str) -> list[str]:
        """Run every cell of a notebook on a live kernel; returns the cells' prompts.

        Waits for each code cell in turn (each wait at most ``WAIT_MS``), then
        for the kernel to be idle. A cell that raised stops the run: the
        prompts then show which cells never ran ("[ ]:").
        """
        self.start_all(page, name)
        return self.wait_all(page)

    def start_all(self, page: Any, name: str) -> None:
        """Open a notebook and press Run All; return once the first cell started."""
        self.open(page, name)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.wait_for_function(STARTED_JS)

    def wait_all(self, page: Any) -> list[str]:
        """Wait for every code cell in turn, then for the kernel; returns the prompts."""
        for index in range(len(page.evaluate(PROMPTS_JS))):
            page.wait_for_function(CELL_DONE_JS, arg=index)
        page.wait_for_function(KERNEL_READY_JS)
        prompts: list[str] = page.evaluate(PROMPTS_JS)
        return prompts

    def code_cells(self, page: Any) -> list[dict[str, Any]]:
        """The code cells of the notebook in front: ``count``, ``source`` (line 1), ``errors``."""
        cells: list[dict[str, Any]] = page.evaluate(CELLS_JS)
        return cells

    def check(self, page: Any) -> None:
        """No page error, no widget console error, no "Error displaying widget"."""
        assert page.get_by_text("Error displaying widget").count() == 0
        assert problems(page) == []

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text("utf-8", errors="replace")[-size:]


def problems(page: Any) -> list[str]:
    """The page errors, and the console errors that concern the widgets, seen so far."""
    seen: list[str] = page.problems
    return [
        p for p in seen if p.startswith("pageerror") or any(h in p.lower() for h in WIDGET_HINTS)
    ]


def _wait_ready(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    request = urllib.request.Request(
        f"{lab.url}/api/status", headers={"Authorization": f"token {lab.token}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{lab.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status in {START_TIMEOUT} s:\n{lab.log_tail()}"
    )


def _write_settings(config: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = config / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), "utf-8")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; the browser tests skip (and say why) when it is not installed."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("APINOTEBOOK_REQUIRE_BROWSER") == "1":  # .ci/run: never skip silently
            pytest.fail(f"APINOTEBOOK_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's (apt-get install -y chromium) or set "
            "APINOTEBOOK_CHROMIUM to a Chromium binary"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def lab(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    _write_settings(base / "config")
    token = secrets.token_hex(16)
    port = _free_port()
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=base / "lab.log")
    for folder in NOTEBOOK_DIRS:
        for notebook in sorted(folder.glob("*.ipynb")):
            lab.add(notebook)
    env = {
        **{k: v for k, v in os.environ.items() if k != "SANDBOX_URL"},  # a private sandbox
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable, "-m", "jupyterlab",
        "--allow-root", "--no-browser",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    with lab.log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        _wait_ready(lab, process)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def open_page(browser: Any) -> Callable[..., AbstractContextManager[Any]]:
    """``with open_page(height=1000) as page:`` a fresh context whose problems are recorded."""

    @contextmanager
    def opener(*, height: int = 1000) -> Iterator[Any]:
        context = browser.new_context(viewport={"width": 1280, "height": height})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                page.problems.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        try:
            yield page
        finally:
            context.close()

    return opener


@pytest.fixture
def page(open_page: Callable[..., AbstractContextManager[Any]]) -> Iterator[Any]:
    with open_page() as page:
        yield page


@pytest.fixture
def save_screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``save_screenshot(locator, "name.png")``: a screenshot in ``tmp_path``.

    With ``APINOTEBOOK_DOCS_IMG=1`` it is copied to ``docs/img/`` too (how the
    docs' pictures are refreshed); a plain test run leaves the work tree alone.
    """

    def save(locator: Any, name: str) -> Path:
        path = tmp_path / name
        locator.screenshot(path=str(path))
        if os.environ.get("APINOTEBOOK_DOCS_IMG") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_IMG / name)
        return path

    return save
