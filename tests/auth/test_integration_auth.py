"""A revoked refresh token stops an integration run cleanly: fatal, nothing checkpointed."""

from __future__ import annotations

import dataclasses
import time

import pytest
from auth_helpers import sign_in

from apinotebook import FatalIntegrationError, RestClient
from apinotebook.integration import Integration


def _records(n):
    return [{"id": f"r{i}", "updated_at": f"2025-01-01T00:00:{i:02d}Z"} for i in range(n)]


def test_revoked_refresh_token_stops_the_run(sb, code_flow, browser, tmp_path):
    flow = code_flow()
    sign_in(flow, browser)
    api = RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False)
    sync = Integration("calendar-user-sync", state=tmp_path / "s.db", progress=None)
    sync.source(key="id", cursor="updated_at")(lambda since: iter(_records(25)))
    delivered: list[dict] = []

    @sync.destination(batch_size=10)
    def deliver(batch):
        api.get("userinfo")  # stands in for a write to a user-delegated API
        delivered.extend(batch)

    # first run: fine
    sync.run()
    assert len(delivered) == 25
    # overnight the user revokes the app, and the access token expires
    sb.state("auth").revoke(flow.tokens.refresh_token.reveal())
    flow.set_tokens(dataclasses.replace(flow.tokens, expires_at=time.time()))
    sync.source(key="id", cursor="updated_at")(
        lambda since: iter(_records(30)[25:] if since else _records(30))
    )
    checkpoint = dict(sync.state)
    with pytest.raises(FatalIntegrationError, match="authorize"):
        sync.run()
    assert len(delivered) == 25  # nothing more delivered
    assert dict(sync.state)["cursor"] == checkpoint["cursor"]  # the checkpoint did not move
    api.close()
