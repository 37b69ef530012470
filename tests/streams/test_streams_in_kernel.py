"""In a real Jupyter kernel: streams run inside its loop, and interrupting a cell closes them."""

from __future__ import annotations

import queue
import textwrap

import pytest

from apinotebook.sandbox._chat_stream import assistant_reply

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")


@pytest.fixture(scope="module")
def kernel():
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _run(kc, code: str, *, wait: bool = True) -> tuple[str, list[str], str]:
    """Execute ``code``; (stdout, the error's traceback lines, msg_id)."""
    msg_id = kc.execute(textwrap.dedent(code))
    if not wait:
        return "", [], msg_id
    return (*_collect(kc, msg_id), msg_id)


def _collect(kc, msg_id: str) -> tuple[str, list[str]]:
    out, error = [], []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=60)
        except queue.Empty:  # pragma: no cover - a hung kernel
            raise AssertionError("the kernel did not finish") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif kind == "error":
            error = msg["content"]["traceback"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out), error


def _setup(kc, sb) -> None:
    out, error, _ = _run(
        kc,
        f"""
        import asyncio
        from apinotebook import ApiKey, Bearer, GraphQLClient, RestClient
        chat = RestClient({sb.urls["chat"]!r}, auth=Bearer({sb.env["CHAT_TOKEN"]!r}))
        key = ApiKey({sb.env["MAIL_API_KEY"]!r}, header="X-API-Key")
        mail = GraphQLClient({sb.urls["mail"]!r}, auth=key)
        asyncio.get_running_loop()  # the kernel's own loop is running
        print("ready")
        """,
    )
    assert not error, "\n".join(error)
    assert out.strip() == "ready"


def test_sse_sync_and_async_in_the_kernels_loop(clean, kernel):
    _, kc = kernel
    _setup(kc, clean)
    out, error, _ = _run(
        kc,
        """
        params = {"prompt": "in a kernel", "length": 12}
        path = "/assistant/stream"
        events = chat.events(path, params=params, json=True)
        sync = "".join(e.data["token"] for e in events if e.event == "token")
        events = chat.aevents(path, params=params, json=True)
        tokens = [e.data["token"] async for e in events if e.event == "token"]
        print(sync == "".join(tokens), sync)
        """,
    )
    assert not error, "\n".join(error)
    assert out.strip() == "True " + "".join(assistant_reply("in a kernel", 11, 12))


def test_a_subscription_with_top_level_await(clean, kernel):
    _, kc = kernel
    _setup(kc, clean)
    list_id = clean.state("mail").ensure_list("kernel-list")
    start = clean.state("mail").events.last
    clean.state("mail").upsert(list_id, [{"email": "k@example.org"}])
    out, error, _ = _run(
        kc,
        f"""
        query = (
            "subscription ($l: ID, $a: Int) "
            "{{ subscriberAdded(listId: $l, after: $a) {{ subscriber {{ email }} }} }}"
        )
        async with mail.subscribe(query, {{"l": {list_id!r}, "a": {start}}}) as sub:
            async for result in sub:
                print(result.data["subscriberAdded"]["subscriber"]["email"])
                break
        for result in mail.subscribe(query, {{"l": {list_id!r}, "a": {start}}}):  # sync, same loop
            print(result.data["subscriberAdded"]["subscriber"]["email"])
            break
        """,
    )
    assert not error, "\n".join(error)
    assert out.split() == ["k@example.org", "k@example.org"]


def test_interrupting_a_cell_closes_the_socket_and_the_server_sees_it(clean, kernel, wait_until):
    km, kc = kernel
    _setup(kc, clean)
    store = clean.state("chat")
    _, _, msg_id = _run(
        kc,
        """
        ws = chat.websocket("/events")
        for message in ws:   # no events come: the cell waits until it is stopped
            pass
        """,
        wait=False,
    )
    wait_until(lambda: store.sockets == 1, "the kernel's socket to open")
    km.interrupt_kernel()
    _, error = _collect(kc, msg_id)
    assert any("KeyboardInterrupt" in line for line in error)
    wait_until(lambda: store.sockets == 0, "the server to see the close")
    out, error, _ = _run(kc, "print(ws.close_code, ws.close_reason, ws.record.closed)")
    assert not error and out.strip() == "1001 interrupted True"
