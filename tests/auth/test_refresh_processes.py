"""Two processes refreshing one stored token at the same instant make one refresh.

A notebook and an exported script (or two scheduled runs) share the refresh
token through the file store. Without coordination both would present it; the
authorization server rotates refresh tokens, so the second presentation reuses
a rotated-away token and the server revokes the whole family. The file store's
lock makes the second process wait and read the fresh tokens instead.

Two real processes, released together by a file appearing; the authorization
server is slowed down (a latency fault) so the two refreshes overlap for sure.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from auth_helpers import sign_in

from apinotebook.auth import FileTokenStore

SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys, time
    from pathlib import Path
    from apinotebook import RefreshTokenRevoked
    from apinotebook.auth import OAuth2AuthorizationCode
    flow = OAuth2AuthorizationCode.from_issuer(
        os.environ["AUTH_ISSUER"], client_id=os.environ["AUTH_PUBLIC_CLIENT_ID"],
        scope="openid profile email", store="file", name="shared-user", interactive=False,
    )
    assert flow.tokens is not None and flow.tokens.expired(flow.leeway)
    print("ready", flush=True)
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.005)
    try:
        token = flow.access_token()
    except RefreshTokenRevoked as exc:
        print("revoked", exc, flush=True)
        sys.exit(3)
    print(hashlib.sha256(token.encode()).hexdigest(), flow.refreshes, flush=True)
    """
)


def test_two_processes_refresh_one_stored_token_once(sb, code_flow, browser, tmp_path):
    token_dir = tmp_path / "tokens"
    flow = code_flow(store=FileTokenStore(token_dir), name="shared-user")
    sign_in(flow, browser)
    old_refresh = flow.tokens.refresh_token.reveal()
    flow.set_tokens(dataclasses.replace(flow.tokens, expires_at=0))  # both see it expired

    env = {**os.environ, **sb.env, "APINOTEBOOK_TOKEN_DIR": str(token_dir)}
    work = tmp_path / "scripts"
    work.mkdir()
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(go)],
            env=env,
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr
        sb.set_faults("auth", latency=0.3)  # every token request takes a while: they overlap
        Path(go).touch()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    codes = [proc.returncode for proc in procs]
    assert codes == [0, 0], outputs
    lines = [out.split() for out, _ in outputs]
    assert lines[0][0] == lines[1][0]  # one access token for both
    assert sorted(int(line[1]) for line in lines) == [0, 1]  # one refresh, one reader
    stored = FileTokenStore(token_dir).load("shared-user")
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.reveal() != old_refresh
    for out, err in outputs:
        assert old_refresh not in out + err


def test_the_lock_file_holds_no_token(sb, code_flow, browser, tmp_path):
    store = FileTokenStore(tmp_path / "tokens")
    flow = code_flow(store=store, name="locked-user")
    sign_in(flow, browser)
    flow.refresh()
    lock = tmp_path / "tokens" / "locked-user.lock"
    assert lock.exists() and lock.read_bytes() == b""
    assert oct(lock.stat().st_mode & 0o777) == "0o600"
