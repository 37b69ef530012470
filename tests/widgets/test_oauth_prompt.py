"""In a real Jupyter kernel the sign-in prompt is a link and a button, not text."""

from __future__ import annotations

import queue

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

CODE = """
from apinotebook.auth._loopback import in_kernel, show_prompt
assert in_kernel()
show_prompt("http://127.0.0.1:9/authorize?client_id=c&state=s", title="Sign in")
show_prompt("http://127.0.0.1:9/device", title="Connect this device", user_code="BCDF-GHJK")
"""


def _outputs(code: str) -> list[dict]:
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        msg_id = kc.execute(code)
        outputs = []
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=30)
            except queue.Empty:  # pragma: no cover - a hung kernel
                raise AssertionError("the kernel did not finish") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            if kind in ("display_data", "stream"):
                outputs.append(msg["content"])
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                return outputs
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_prompt_in_a_kernel_is_a_link_and_a_button():
    outputs = _outputs(CODE)
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert "href='http://127.0.0.1:9/authorize?client_id=c&amp;state=s'" in html[0]
    assert "target='_blank'" in html[0]
    assert "BCDF-GHJK" in html[1]
    view = "application/vnd.jupyter.widget-view+json"
    widgets = [o for o in outputs if view in o.get("data", {})]
    assert len(widgets) == 2  # one "Open sign-in page" button per prompt
    assert not [o for o in outputs if o.get("name") == "stdout"]  # no plain-text fallback
