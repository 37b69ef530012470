"""The command line of exported scripts: parameters, commands, exit codes, logs."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apinotebook import (
    ConfigError,
    Exchange,
    HTTPStatusError,
    MissingSecretError,
    Request,
    Secret,
)
from apinotebook._core.signing import signature_header
from apinotebook.export import export_notebook
from apinotebook.export.runtime import Cli, Parameter, configure_logging, main
from apinotebook.integration import Integration

from .conftest import code, notebook_json


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("default", "text", "value"),
    [(10, "25", 25), (0.5, "2", 2.0), (True, "no", False), (False, "YES", True),
     (False, "1", True), ("a", "b", "b"), (None, "x", "x"), ([1], "[2, 3]", [2, 3]),
     ({"a": 1}, '{"b": 2}', {"b": 2})],
)  # fmt: skip
def test_parameter_conversion(default: Any, text: str, value: Any) -> None:
    assert Parameter("X", default).convert(text, source="$X") == value


@pytest.mark.parametrize(
    ("default", "text"), [(10, "ten"), (0.5, "half"), (True, "maybe"), ([1], '{"a": 1}'),
                          ([1], "not json")],
)  # fmt: skip
def test_bad_parameter_values(default: Any, text: str) -> None:
    with pytest.raises(ConfigError, match=r"\$X = .* is not valid for X"):
        Parameter("X", default).convert(text, source="$X")


PARAMS = [
    Parameter("BATCH_SIZE", 100, help="records per call"),
    Parameter("list_name", "Newsletter"),
    Parameter("VERBOSE", False),
    Parameter("TAGS", ["a"]),
    Parameter("API_TOKEN", None, secret=True),
]


def test_command_line_then_environment_then_notebook() -> None:
    env = {"BATCH_SIZE": "7", "LIST_NAME": "Events", "VERBOSE": "true"}
    cli = Cli("x", parameters=PARAMS, argv=["--batch-size", "3", "run"], environ=env)
    assert cli.param("BATCH_SIZE") == 3  # command line
    assert cli.param("list_name") == "Events"  # environment
    assert cli.param("VERBOSE") is True
    assert cli.param("TAGS") == ["a"]  # the notebook's value
    cli = Cli("x", parameters=PARAMS, argv=["run", "--no-verbose", "--tags", '["b"]'], environ=env)
    assert cli.param("VERBOSE") is False and cli.param("TAGS") == ["b"]
    imported = Cli("some_module", parameters=PARAMS, environ={"BATCH_SIZE": "9"})
    assert imported.args is None and imported.param("BATCH_SIZE") == 9
    with pytest.raises(ConfigError, match=r"\$BATCH_SIZE = 'many' is not valid"):
        Cli("x", parameters=PARAMS, environ={"BATCH_SIZE": "many"}).param("BATCH_SIZE")
    with pytest.raises(ConfigError, match="Unknown parameter 'BATCH'"):
        cli.param("BATCH")


def test_secret_parameters_come_from_the_environment_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = Cli("x", parameters=PARAMS, environ={})
    with pytest.raises(MissingSecretError, match="API_TOKEN"):
        cli.param("API_TOKEN")
    cli = Cli("x", parameters=PARAMS, environ={"API_TOKEN": "tok-3f9a8b7c6d5e"})
    assert cli.param("API_TOKEN") == "tok-3f9a8b7c6d5e"
    from apinotebook._core.secrets import mask_text

    assert mask_text("sent tok-3f9a8b7c6d5e") == "sent ***"  # registered for masking
    with pytest.raises(SystemExit):
        Cli("x", parameters=PARAMS, argv=["run", "--api-token", "x"])
    assert "unrecognized arguments: --api-token" in capsys.readouterr().err


def test_common_options_before_or_after_the_command() -> None:
    for argv in (["--state", "a.db", "status"], ["status", "--state", "a.db"]):
        cli = Cli("x", argv=argv)
        assert cli.state_path("default.db") == "a.db"
    assert Cli("x", argv=["status"]).state_path("default.db") == "default.db"


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["--help"], 0, "notebook parameters"),
        (["run", "--help"], 0, "--dry-run"),
        (["serve", "--help"], 0, "--secret-env"),
        ([], 2, "required: COMMAND"),
        (["fly"], 2, "invalid choice: 'fly'"),
        (["run", "--limit", "0"], 2, "must be a positive integer"),
        (["schedule"], 2, "one of the arguments --every --cron is required"),
        (["--batch-size", "x", "run"], 2, "is not valid for BATCH_SIZE"),
    ],
)
def test_usage(argv: list[str], code: int, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        Cli("x", parameters=PARAMS, argv=argv, prog="sync.py")
    assert info.value.code == code
    out = capsys.readouterr()
    assert text in out.out + out.err


def test_json_logs_mask_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    secret = Secret("sk-masked-in-logs-1234")
    configure_logging(fmt="json", level="INFO")
    logging.getLogger("apinotebook.test").info("token is %s", secret.reveal())
    logging.getLogger("httpx").info("HTTP Request: GET http://x")  # quiet below DEBUG
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "token is ***" and record["level"] == "INFO"
    configure_logging(fmt="plain", level="INFO")
    logging.getLogger("apinotebook.test").warning("again %s", secret.reveal())
    assert capsys.readouterr().err.rstrip().endswith("WARNING apinotebook.test: again ***")
    assert len(logging.getLogger().handlers) == len([h for h in logging.getLogger().handlers if h])


# -- main() with an in-memory integration -----------------------------------------------


class World:
    def __init__(self, n: int = 5) -> None:
        self.rows = [{"id": i, "email": f"u{i}@x.example"} for i in range(n)]
        self.sink: list[dict] = []
        self.fail_with: BaseException | None = None


def build(tmp_path: Path, world: World) -> Integration:
    sync = Integration("rt", state=tmp_path / "rt.db", progress=None)

    @sync.source(key="id")
    def rows(since: Any) -> Any:
        yield from world.rows

    @sync.transform
    def check(row: dict) -> dict:
        if "bad" in row["email"]:
            raise ValueError("not an email")
        return row

    @sync.destination(batch_size=2, retries=0)
    def write(batch: Any) -> None:
        if world.fail_with is not None:
            raise world.fail_with
        world.sink.extend(batch)

    return sync


def run_main(tmp_path: Path, world: World, *argv: str, **kwargs: Any) -> int:
    return main(build(tmp_path, world), cli=Cli("x", argv=list(argv), prog="sync.py"), **kwargs)


def test_run_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    assert run_main(tmp_path, world, "run", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["written"] == 5 and len(world.sink) == 5

    world.rows.append({"id": 9, "email": "bad"})
    assert run_main(tmp_path, world, "run") == 1  # a record failed: dead-lettered

    world.rows.append({"id": 10, "email": "u10@x.example"})
    denied = Exchange(protocol="rest", request=Request("POST", "https://api.example/w"), status=401)
    world.fail_with = HTTPStatusError("401 Unauthorized", exchange=denied)
    code = run_main(tmp_path, world, "run", "--json")
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "authentication failed" in captured.err
    assert json.loads(captured.out)["status"] == "failed"


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    assert run_main(tmp_path, world, "run", "--dry-run", "--limit", "3") == 0
    assert "3 would write" in capsys.readouterr().out and world.sink == []
    assert run_main(tmp_path, world, "run", "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"would write": 5}


def test_limit(tmp_path: Path) -> None:
    world = World()
    assert run_main(tmp_path, world, "run", "--limit", "2") == 0
    assert len(world.sink) == 2


def test_replay_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    world.rows.append({"id": 9, "email": "bad"})
    assert run_main(tmp_path, world, "run") == 1
    capsys.readouterr()
    assert run_main(tmp_path, world, "status") == 0
    text = capsys.readouterr().out
    assert "dead letters: 1 pending" in text and "delivered:    6 keys" in text
    assert "last run:     partial" in text and "UTC" in text
    assert run_main(tmp_path, world, "status", "--json") == 0
    state = json.loads(capsys.readouterr().out)
    assert state["dead_letters"] == 1 and state["last_run"]["status"] == "partial"
    assert run_main(tmp_path, world, "replay") == 1  # still failing
    world.rows[-1]["email"] = "fixed@x.example"  # the replay maps the stored payload again
    assert run_main(tmp_path, world, "replay", "--json") == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["failed"] == 1


def test_schedule_with_a_bad_cron_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(tmp_path, World(), "schedule", "--cron", "every minute") == 2
    assert "invalid cron expression" in capsys.readouterr().err


def test_serve_needs_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_main(tmp_path, World(), "serve") == 2
    assert "--secret-env NAME" in capsys.readouterr().err
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    assert run_main(tmp_path, World(), "serve", "--secret-env", "HOOK_SECRET") == 2
    assert "'HOOK_SECRET' is not set" in capsys.readouterr().err


def test_serve_processes_signed_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "whsec-0123456789abcdef")
    world = World(0)
    sync = build(tmp_path, world)
    cli = Cli("x", argv=["serve", "--port", "0", "--path", "/hooks/crm"],
              webhook_secret_env="HOOK_SECRET")  # fmt: skip
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(main(sync, cli=cli, extract=lambda e: e["data"]))
    )
    thread.start()
    try:
        for _ in range(500):
            if sync._receiver is not None and sync._receiver.running:
                break
            time.sleep(0.01)
        body = json.dumps({"id": "evt-1", "data": {"id": 42, "email": "w@x.example"}}).encode()
        headers = {"X-Signature": signature_header("whsec-0123456789abcdef", body)}
        answer = httpx.post(sync.webhook_url, content=body, headers=headers)
        assert answer.status_code == 202
        for _ in range(500):
            if world.sink:
                break
            time.sleep(0.01)
        assert world.sink == [{"id": 42, "email": "w@x.example"}]
    finally:
        sync.stop()
        thread.join(10)
        sync.store.close()  # main() closed the serving thread's connection, not this one's
        gc.collect()  # finalize the receiver threads' connections while the filter applies
    assert codes == [0]


class FakeFlow:
    name = "fake-flow"

    def __init__(self, report: Any = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.report = report
        self.fn = fake_flow_fn

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(("run", kwargs))
        return self.report

    def serve(self, **kwargs: Any) -> None:
        self.calls.append(("serve", kwargs))

    def from_source(self, **kwargs: Any) -> FakeFlow:
        self.calls.append(("from_source", kwargs))
        return self

    def deploy(self, **kwargs: Any) -> None:
        self.calls.append(("deploy", kwargs))


def fake_flow_fn() -> None:
    """Stands in for the flow function (its file is this test module)."""


def test_prefect_target_commands(tmp_path: Path) -> None:
    world = World()
    sync = build(tmp_path, world)
    report = sync.run(progress=None)
    flow = FakeFlow(report)
    cli = Cli("x", target="prefect", argv=["run", "--limit", "4"])
    assert main(build(tmp_path, world), cli=cli, flow=flow) == 0
    assert flow.calls[-1] == ("run", {"limit": 4})
    cli = Cli("x", target="prefect", argv=["serve", "--cron", "*/5 * * * *"])
    assert main(build(tmp_path, world), cli=cli, flow=flow) == 0
    assert flow.calls[-1] == ("serve", {"name": "fake-flow", "cron": "*/5 * * * *",
                                        "interval": None})  # fmt: skip
    cli = Cli("x", target="prefect", argv=["deploy", "--work-pool", "pool", "--every", "5m",
                                            "--name", "nightly"])  # fmt: skip
    assert main(build(tmp_path, world), cli=cli, flow=flow) == 0
    assert flow.calls[-2] == ("from_source", {
        "source": str(Path(__file__).resolve().parent),
        "entrypoint": "test_runtime.py:fake_flow_fn"})  # fmt: skip
    assert flow.calls[-1] == ("deploy", {"name": "nightly", "work_pool_name": "pool",
                                         "cron": None, "interval": 300.0})  # fmt: skip
    with pytest.raises(SystemExit):
        Cli("x", target="prefect", argv=["schedule", "--every", "5m"])
    with pytest.raises(ConfigError, match="Unknown target 'airflow'"):
        Cli("x", target="airflow")
    sync.close()


# -- generated scripts in a subprocess ---------------------------------------------------

NOTEBOOK = [
    code('BATCH_SIZE = 2  # records per call\nLIST_NAME = "News"', "parameters"),
    code(
        "import json\nimport os\n\nfrom apinotebook import Secret\n"
        "from apinotebook.integration import Integration\n\n"
        'TOKEN = Secret.from_env("DEMO_TOKEN")\n'
        'sync = Integration("demo", state="demo.db")\n\n\n'
        '@sync.source(key="id")\ndef rows(since):\n'
        '    yield from ({"id": i} for i in range(5))\n\n\n'
        "@sync.destination(batch_size=BATCH_SIZE)\ndef write(batch):\n"
        '    with open(os.environ["OUT_FILE"], "a") as fh:\n'
        '        fh.write(json.dumps([LIST_NAME, TOKEN.reveal(), list(batch)]) + "\\n")'
    ),
]


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("script")
    nb = folder / "demo.ipynb"
    nb.write_text(json.dumps(notebook_json(NOTEBOOK)))
    return export_notebook(nb, folder / "demo.py", format=False).path


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    environ = {k: v for k, v in os.environ.items() if k not in ("DEMO_TOKEN", "LIST_NAME")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=script.parent, env=environ,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_generated_script_end_to_end(script: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run(script, "--batch-size", "3", "run", "--state", str(tmp_path / "s.db"),
               OUT_FILE=str(out), DEMO_TOKEN="demo-token-1234567", LIST_NAME="Events")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(c[2]) for c in calls] == [3, 2]  # --batch-size won over the notebook's 2
    assert {c[0] for c in calls} == {"Events"}  # LIST_NAME from the environment
    assert "demo-token-1234567" not in proc.stderr
    assert (tmp_path / "s.db").exists() and not (script.parent / "demo.db").exists()


def test_a_missing_secret_is_one_clear_line(script: Path) -> None:
    proc = run(script, "run", OUT_FILE="/dev/null")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "demo.py: error: Environment variable 'DEMO_TOKEN' is not set. Set it in your shell "
        "(export DEMO_TOKEN=...) or in the kernel's environment before reading it with "
        "Secret.from_env('DEMO_TOKEN')."
    ]
    helped = run(script, "--help")
    assert helped.returncode == 0 and "--batch-size BATCH_SIZE" in helped.stdout
    assert "Exported from demo.ipynb" in helped.stdout


def test_the_runtime_imports_neither_jupyter_nor_prefect() -> None:
    probe = (
        "import sys\n"
        "import apinotebook.export._runtime\n"
        "import apinotebook.export.runtime\n"
        "import apinotebook.export._prefect\n"
        "import apinotebook.export\n"
        "bad = {'IPython', 'ipykernel', 'ipywidgets', 'anywidget', 'prefect', 'nbformat',"
        " 'jupyter_client', 'fastapi', 'pandas', 'zeep'}\n"
        "print(sorted(bad & {m.split('.')[0] for m in sys.modules}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_schedule_runs_until_sigterm(script: Path, tmp_path: Path) -> None:
    import os
    import signal

    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("DEMO_TOKEN", "LIST_NAME")}
    env.update(OUT_FILE=str(out), DEMO_TOKEN="demo-token-1234567")
    proc = subprocess.Popen(
        [sys.executable, str(script), "schedule", "--every", "1h", "--state", str(tmp_path / "db")],
        cwd=script.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(3000):  # the first run happens at once
            if out.exists() and len(out.read_text().splitlines()) == 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "written 5" in err
