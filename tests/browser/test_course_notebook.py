"""The course's first notebook as a learner meets it: run all cells in JupyterLab.

``notebooks/00_start_here.ipynb`` starts a private sandbox in its first cell
(``get_sandbox()``; the test's JupyterLab has no ``SANDBOX_URL``), calls the
CRM and shows an Inspector and a HistoryView. Every cell must run on the live
kernel without an error, and every widget must render: nbval checks the
outputs' text, this checks what the browser shows. Screenshots go to
``tmp_path``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

COURSE = Path(__file__).parents[2] / "notebooks"


def test_start_here_runs_and_its_widgets_render(page: Any, lab: Any, tmp_path: Path) -> None:
    name = lab.add(COURSE / "00_start_here.ipynb")
    prompts = lab.run_all(page, name)
    cells = lab.code_cells(page)
    page.screenshot(path=str(tmp_path / "00_start_here.png"))

    # every code cell ran (an error would have stopped the run) and none shows an error
    assert len(cells) == len(prompts) > 0
    assert [c for c in cells if c["count"] is None or c["errors"]] == [], cells
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), prompts
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(stderr.filter(has_text="Traceback")).to_have_count(0)

    # the widgets rendered: the Inspector of the first request and the live history
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    inspector = page.locator(".apn-inspector").first
    expect(inspector.locator(".apn-status")).to_contain_text("200 OK")
    expect(inspector.locator(".apn-tree .apn-key", has_text="data")).to_have_count(1)
    history = page.locator(".apn-historyview")
    expect(history).to_have_count(1)
    expect(history.locator("tbody tr").first).to_be_visible()
    expect(history).to_contain_text("/contacts")
    # the exercise's check cell said the worked answer is right
    expect(page.locator(".jp-OutputArea-output", has_text="✔ Right:")).to_have_count(1)

    inspector.screenshot(path=str(tmp_path / "inspector.png"))
    history.screenshot(path=str(tmp_path / "history.png"))
    lab.check(page)
