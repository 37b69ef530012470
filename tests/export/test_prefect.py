"""The Prefect target, run offline with ``prefect_test_harness`` against the sandbox.

Prefect's test harness starts a temporary API server in a subprocess (loopback
only, SQLite in a temporary folder); nothing leaves the machine.

The ``prefect`` extra requires Prefect 3.9.1 or later: older servers pass
``min_items=`` to ``fastapi.Body``, which current FastAPI rejects.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from apinotebook.export import export_notebook

from .conftest import NOTEBOOKS, run_script, sandbox_env, subscribers

pytestmark = [pytest.mark.prefect, pytest.mark.sandbox, pytest.mark.timeout(480)]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temporary Prefect API; yields its URL."""
    pytest.importorskip("prefect")
    home = tmp_path_factory.mktemp("prefect")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE"):
            mp.delenv(name, raising=False)
        mp.setenv("PREFECT_HOME", str(home))
        mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        mp.setenv("PREFECT_SERVER_UI_ENABLED", "false")
        mp.setenv("DO_NOT_TRACK", "1")
        from prefect.settings import PREFECT_API_URL
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=120):
            yield str(PREFECT_API_URL.value())


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("exported_flow", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["exported_flow"] = module
    spec.loader.exec_module(module)
    return module


def _sandbox():  # type: ignore[no-untyped-def]
    from apinotebook.sandbox import Sandbox

    return Sandbox(seed=5, contacts=120, companies=8).start()


def test_flow_delivers_like_the_script_and_shares_its_state(
    crm_registered: None, harness: str, tmp_path: Path
) -> None:
    folder = tmp_path / "flow"
    folder.mkdir()
    flow_file = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", folder / "flow.py",
                                target="prefect").path  # fmt: skip
    script = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", tmp_path / "script.py").path
    flow_box, script_box = _sandbox(), _sandbox()
    try:
        # the script target on its own sandbox: what the destination should look like
        proc = run_script(script, "run", "--json", env=sandbox_env(script_box.env), cwd=tmp_path)
        expected = json.loads(proc.stdout)

        with pytest.MonkeyPatch.context() as mp:
            for key, value in sandbox_env(flow_box.env).items():
                mp.setenv(key, value)
            mp.chdir(folder)
            module = _load(flow_file)
            try:
                assert module.chunk_task.retries == 3
                report = module.crm_to_newsletter_flow(chunk=50)  # 120 contacts: 3 chunk tasks
            finally:
                module.sync.close()
                sys.modules.pop("exported_flow", None)
        assert subscribers(flow_box) == subscribers(script_box)
        for count in ("written", "failed", "skipped_filtered"):
            assert getattr(report, count) == expected[count], count
        # each chunk reads again the record its checkpoint ends on, and skips it
        assert report.read - report.skipped_duplicate == expected["read"]
        assert 1 <= report.skipped_duplicate <= 3
        assert report.trigger == "prefect" and report.exit_code == proc.returncode == 1

        # checkpoints and dead letters are shared with the script target
        state = folder / "crm_to_newsletter.db"
        env = sandbox_env(flow_box.env)
        status = run_script(script, "status", "--json", "--state", str(state), env=env, cwd=folder)
        assert json.loads(status.stdout)["dead_letters"] == report.dead_lettered
        again = run_script(script, "run", "--json", "--state", str(state), env=env, cwd=folder)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["written"] == 0

        # `python flow.py run` runs the flow once (against the harness's API)
        env["PREFECT_API_URL"] = harness
        once = run_script(flow_file, "run", "--json", env=env, cwd=folder, timeout=180)
        assert once.returncode == 0, once.stderr[-2000:]
        assert json.loads(once.stdout.strip().splitlines()[-1])["trigger"] == "prefect"
    finally:
        flow_box.stop()
        script_box.stop()


def test_a_partitioned_flow_maps_one_task_per_partition_on_shared_state(
    crm_registered: None, harness: str, tmp_path: Path, postgres: Any
) -> None:
    """The flow maps partition tasks (each chunked from its own checkpoint) on PostgreSQL state."""
    from prefect.client.orchestration import get_client

    from apinotebook.integration import Partition, StateStore

    url = postgres.new_database()
    folder = tmp_path / "flow"
    folder.mkdir()
    flow_file = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", folder / "flow.py",
                                target="prefect").path  # fmt: skip
    script = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", tmp_path / "script.py").path
    flow_box, script_box = _sandbox(), _sandbox()
    try:
        proc = run_script(script, "run", "--json", env=sandbox_env(script_box.env), cwd=tmp_path)
        expected = json.loads(proc.stdout)
        with pytest.MonkeyPatch.context() as mp:
            for key, value in sandbox_env(flow_box.env).items():
                mp.setenv(key, value)
            mp.setenv("APINOTEBOOK_STATE", url)  # the flow's state: shared by every worker
            mp.chdir(folder)
            module = _load(flow_file)
            try:
                sync, whole = module.sync, module.contacts

                def contacts(since: Any, partition: Partition) -> Any:
                    return (
                        c
                        for c in whole(since)
                        if zlib.crc32(c["id"].encode()) % 3 == partition.params
                    )

                sync.partitioned([Partition(f"part-{k}", k) for k in range(3)], concurrency=3)
                sync.source(key="id", cursor="updated_at")(contacts)
                report = module.crm_to_newsletter_flow(chunk=15)
            finally:
                module.sync.close()
                sys.modules.pop("exported_flow", None)
        assert subscribers(flow_box) == subscribers(script_box)
        for count in ("written", "failed", "skipped_filtered"):
            assert getattr(report, count) == expected[count], count
        for k in range(3):  # each partition checkpointed on its own
            store = StateStore(url, f"crm-to-newsletter.part-{k}")
            try:
                assert store.cursor() is not None and len(store.runs(50)) >= 2  # chunks
            finally:
                store.close()
        with get_client(sync_client=True) as client:
            names = [t.name for t in client.read_task_runs()]
        assert sum(n.startswith("sync-partition") for n in names) == 3
    finally:
        flow_box.stop()
        script_box.stop()
