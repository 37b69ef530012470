#!/usr/bin/env bash
# Proof that an exported script runs with only the core package installed.
#
#   1. a fresh venv with `pip install <repo>` (no extras: no Jupyter, no sandbox, no Prefect);
#   2. the fixture notebook exported with the main venv;
#   3. a sandbox started by the main venv in the background (its --env-file parsed);
#   4. the exported script's `run`, `status` and a second `run` with the core venv's
#      python: exit codes checked, and the mailing list checked through the mail API.
#
# Usage: tests/export/core_venv_check.sh [MAIN_VENV]   (default: .venv)
# Needs the package registry (or a warm uv/pip cache) to build the core venv.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MAIN="$(cd "${1:-$ROOT/.venv}" && pwd)"  # absolute: the script changes directory
PY="$MAIN/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/apinotebook-core.XXXXXX")"
SANDBOX_PID=""

cleanup() {
    if [ -n "$SANDBOX_PID" ]; then
        kill "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "core venv check: FAILED: $*" >&2; exit 1; }
step() { echo "--- $*"; }

step "core venv in $WORK/core (pip install $ROOT, no extras)"
"$PY" -m venv "$WORK/core"
CORE="$WORK/core/bin/python"
if "$PY" -m uv --version >/dev/null 2>&1; then
    "$PY" -m uv pip install -q --python "$CORE" "$ROOT"
else
    "$CORE" -m pip install -q "$ROOT"
fi
for extra in IPython ipykernel ipywidgets anywidget prefect fastapi uvicorn strawberry; do
    if "$CORE" -c "import $extra" 2>/dev/null; then
        fail "the core venv has $extra installed"
    fi
done

step "export the fixture notebook with the main venv"
"$PY" - "$ROOT/tests/export/notebooks/crm_to_mail.ipynb" "$WORK/sync.py" <<'EOF'
import sys
from apinotebook.export import export_notebook

result = export_notebook(sys.argv[1], sys.argv[2])
print(f"wrote {result.path}: {len(result.kept)} cells kept, {len(result.dropped)} dropped")
EOF

step "start a sandbox with the main venv"
ENV_FILE="$WORK/sandbox.env"
if "$PY" -c "import sys; from apinotebook.sandbox import SERVICES; sys.exit('crm' not in SERVICES)"
then
    "$MAIN/bin/apinotebook" sandbox --port 0 --seed 7 --env-file "$ENV_FILE" \
        >"$WORK/sandbox.log" 2>&1 &
else  # the CRM is not registered yet: serve it beside the others
    "$PY" - "$ENV_FILE" >"$WORK/sandbox.log" 2>&1 <<'EOF' &
import sys
from apinotebook.sandbox import Sandbox, _runner

_runner.SERVICES = (*_runner.SERVICES, "crm")
sb = Sandbox(seed=7).start()
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\n".join(sb.env_lines()) + "\n")
import os

os.replace(sys.argv[1] + ".tmp", sys.argv[1])
sb.wait()
EOF
fi
SANDBOX_PID=$!
for _ in $(seq 1 300); do
    [ -s "$ENV_FILE" ] && grep -q CRM_URL "$ENV_FILE" && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$WORK/sandbox.log"; fail "sandbox exited"; }
    sleep 0.1
done
[ -s "$ENV_FILE" ] || fail "the sandbox did not write $ENV_FILE"
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a

count_subscribers() {
    "$PY" - <<'EOF'
import os
from apinotebook import ApiKey, Secret
from apinotebook.graphql import GraphQLClient

mail = GraphQLClient(os.environ["MAIL_URL"], auth=ApiKey(Secret.from_env("MAIL_API_KEY")))
page = mail.execute("query { lists(first: 50) { edges { node { name subscriberCount } } } }")
print(next(e["node"]["subscriberCount"] for e in page.data["lists"]["edges"]
           if e["node"]["name"] == "Newsletter"))
EOF
}
BEFORE="$(count_subscribers)"

cd "$WORK"
step "run the exported script with the core venv"
set +e
"$CORE" sync.py run --json >run.json 2>run.log
RUN=$?
set -e
cat run.log >&2
[ "$RUN" -eq 0 ] || [ "$RUN" -eq 1 ] || fail "run exited $RUN (0 or 1 expected)"
WRITTEN="$("$CORE" -c "import json; print(json.load(open('run.json'))['written'])")"
AFTER="$(count_subscribers)"
echo "run: exit $RUN, written $WRITTEN; Newsletter subscribers $BEFORE -> $AFTER"
[ "$WRITTEN" -gt 0 ] || fail "nothing was written"
[ "$AFTER" -gt "$BEFORE" ] || fail "the mailing list did not grow"

step "status and a second run"
"$CORE" sync.py status --json >status.json || fail "status exited $?"
"$CORE" -c "import json; s = json.load(open('status.json')); assert s['seen'] > 0, s" \
    || fail "status shows no delivered keys"
"$CORE" sync.py status
"$CORE" sync.py run --json >again.json 2>again.log || fail "the second run exited $?"
"$CORE" -c "import json; r = json.load(open('again.json')); assert r['written'] == 0, r" \
    || fail "the second run wrote again"
"$CORE" -c "
import runpy, sys
sys.argv = ['sync.py', 'status']
try:
    runpy.run_path('sync.py', run_name='__main__')
except SystemExit:
    pass
bad = {'IPython', 'ipykernel', 'prefect', 'fastapi', 'nbformat'} & {m.split('.')[0] for m in sys.modules}
assert not bad, bad
" >/dev/null || fail "the exported script imported a non-core module"
echo "core venv check: OK"
