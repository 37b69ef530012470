"""Where tokens live: memory, an owner-only file, the keyring; reused by name."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest
from auth_helpers import sign_in, unique

from apinotebook import ConfigError, LoginRequired, RestClient
from apinotebook.auth import FileTokenStore, KeyringTokenStore, OAuth2AuthorizationCode, TokenSet


def test_file_store_is_owner_only(sb, code_flow, browser, tmp_path):
    store = FileTokenStore(tmp_path / "tokens")
    flow = code_flow(store=store, name="calendar-user")
    sign_in(flow, browser)
    path = store.path("calendar-user")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert TokenSet.from_json(path.read_text()).refresh_token == flow.tokens.refresh_token
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        store.load("calendar-user")


def test_file_store_refuses_the_notebook_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="outside the notebook folder"):
        FileTokenStore(tmp_path / "secrets")
    with pytest.raises(ConfigError, match="outside the notebook folder"):
        FileTokenStore(tmp_path / ".hidden")  # hidden is not enough outside the home folder
    monkeypatch.setenv("HOME", str(tmp_path))  # Jupyter started in the home folder
    assert FileTokenStore().directory == tmp_path / ".config" / "apinotebook" / "tokens"
    with pytest.raises(ConfigError, match="outside the notebook folder"):
        FileTokenStore(tmp_path / "tokens")
    with pytest.raises(ConfigError, match="token name"):
        FileTokenStore(tmp_path.parent / "elsewhere").path("../escape")


def test_an_exported_script_reuses_the_refresh_token_by_name(sb, code_flow, browser, tmp_path):
    """The notebook signs in once; a script in another process refreshes by name."""
    token_dir = tmp_path / "tokens"
    flow = code_flow(store=FileTokenStore(token_dir), name="crm-user")
    sign_in(flow, browser)
    old_refresh = flow.tokens.refresh_token.reveal()
    script = textwrap.dedent(
        """
        import os, sys
        from apinotebook import RestClient
        from apinotebook.auth import OAuth2AuthorizationCode
        flow = OAuth2AuthorizationCode.from_issuer(
            os.environ["AUTH_ISSUER"], client_id=os.environ["AUTH_PUBLIC_CLIENT_ID"],
            scope="openid profile email", store="file", name="crm-user", interactive=False,
        )
        flow.refresh()  # an exported script's first call after a night's sleep
        with RestClient(os.environ["AUTH_ISSUER"], auth=flow) as api:
            print(api.get("userinfo").json()["sub"])
        """
    )
    env = {**os.environ, **sb.env, "APINOTEBOOK_TOKEN_DIR": str(token_dir)}
    (tmp_path / "notebooks").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path / "notebooks",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "u_0001"
    assert old_refresh not in done.stdout + done.stderr
    # the rotated refresh token was written back for the next run
    stored = FileTokenStore(token_dir).load("crm-user")
    assert stored is not None and stored.refresh_token.reveal() != old_refresh


def test_a_script_without_stored_tokens_fails_clearly(sb, tmp_path):
    flow = OAuth2AuthorizationCode.from_issuer(
        sb.env["AUTH_ISSUER"],
        client_id=sb.env["AUTH_PUBLIC_CLIENT_ID"],
        store=FileTokenStore(tmp_path / "empty"),
        name="never-signed-in",
        interactive=False,
    )
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        with pytest.raises(LoginRequired, match="never-signed-in"):
            api.get("userinfo")
    flow.close()


def _dict_keyring():
    """An in-process keyring backend: the OS keyring is not there on CI machines."""
    keyring = pytest.importorskip("keyring")  # the [keyring] extra

    class DictKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.items.get((service, username))

        def set_password(self, service, username, password):
            self.items[(service, username)] = password

        def delete_password(self, service, username):
            if self.items.pop((service, username), None) is None:
                raise keyring.errors.PasswordDeleteError(username)

    return keyring, DictKeyring()


def test_keyring_store(sb, code_flow, browser):
    keyring, backend = _dict_keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        name = unique()
        flow = code_flow(store="keyring", name=name)
        assert isinstance(flow.store, KeyringTokenStore)
        sign_in(flow, browser)
        assert ("apinotebook-oauth", name) in backend.items
        again = code_flow(store="keyring", name=name)  # a new kernel, the same name
        assert again.tokens.refresh_token == flow.tokens.refresh_token
        again.forget()
        assert backend.items == {}
    finally:
        keyring.set_keyring(previous)


def test_memory_store_survives_rebuilding_the_flow(sb, code_flow, browser):
    """Re-running the notebook cell that builds the flow keeps the sign-in."""
    name = unique()
    first = code_flow(name=name)
    sign_in(first, browser)
    assert code_flow(name=name).tokens == first.tokens


def test_unknown_store_lists_the_valid_ones(sb):
    with pytest.raises(ConfigError, match="'file', 'keyring', 'memory'"):
        OAuth2AuthorizationCode(
            authorization_url="http://127.0.0.1/a",
            token_url="http://127.0.0.1/t",
            client_id="c",
            store="vault",
        )


def test_keyring_without_the_extra_says_what_to_install(monkeypatch):
    import sys

    from apinotebook import MissingExtraError

    monkeypatch.setitem(sys.modules, "keyring", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'apinotebook\[keyring\]'"):
        KeyringTokenStore()
