import json
import socket
import subprocess
import sys

import pytest

import apinotebook
from apinotebook import cli


def test_version_is_exposed():
    assert apinotebook.__version__.count(".") == 2


def test_import_does_not_pull_in_jupyter_or_servers():
    code = (
        "import sys, json, apinotebook; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('IPython','ipywidgets','anywidget','jupyterlab','fastapi','uvicorn','strawberry',"
        "'prefect','ipykernel','authlib','joserfc','cryptography','keyring'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"apinotebook {apinotebook.__version__}"


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("sandbox", "lab"):
        assert command in out


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "apinotebook.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "apinotebook" in out.stdout


def test_cli_reports_package_errors_without_traceback(capsys):
    code = cli.main(["sandbox", "--fault", "crm-error_rate"])
    err = capsys.readouterr().err
    assert code == 2
    assert "SERVICE:KEY=VALUE" in err and "Traceback" not in err


def test_network_is_blocked():
    # 192.0.2.0/24 is TEST-NET-1: never routable, so only the block can raise here
    with pytest.raises(Exception, match="(?i)socket|host"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
