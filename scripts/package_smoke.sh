#!/usr/bin/env bash
# Package smoke test: build the sdist and wheel, check what they ship, install
# the wheel (and only the wheel) into a fresh venv outside the repo, and run a
# copy of example_project on it: check, migrate, seed_demo, runserver, and a
# real HTTP request to /api/subscription-plans/.
#
# Needs: uv and python on PATH (the tox `package` env provides both), curl.
# KEEP_SMOKE_DIR=1 keeps the temporary directory for inspection.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$(command -v python3 || command -v python)}"
PY="$("$PY" -c 'import sys; print(sys.executable)')"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/torgovo-package-smoke.XXXXXX")"
WORK="$(cd "$WORK" && pwd -P)"
case "$WORK/" in
    "$ROOT"/*) echo "FAIL: temp dir $WORK is inside the repo $ROOT" >&2; exit 1 ;;
esac

SERVER_PID=""
SERVER_LOG="$WORK/runserver.log"

cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s "$SERVER_LOG" ]]; then
        echo "---- runserver log ----" >&2
        cat "$SERVER_LOG" >&2
    fi
    if [[ "${KEEP_SMOKE_DIR:-0}" == "1" ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }

# --- 1. build ---------------------------------------------------------------
step "build sdist + wheel (wheel built from the sdist) into $WORK/dist"
uv build --quiet --out-dir "$WORK/dist" "$ROOT"
ls -l "$WORK/dist"

# --- 2. contents ------------------------------------------------------------
step "check archive contents"
"$PY" - "$WORK/dist" <<'PYEOF'
import pathlib
import sys
import tarfile
import zipfile

dist = pathlib.Path(sys.argv[1])
wheels = sorted(dist.glob("*.whl"))
sdists = sorted(dist.glob("*.tar.gz"))
assert len(wheels) == 1, f"expected one wheel, got {wheels}"
assert len(sdists) == 1, f"expected one sdist, got {sdists}"

REQUIRED = [
    "django_torgovo_subscriptions/__init__.py",
    "django_torgovo_subscriptions/migrations/0001_initial.py",
    "django_torgovo_subscriptions/py.typed",
]

with zipfile.ZipFile(wheels[0]) as zf:
    wheel_names = set(zf.namelist())
with tarfile.open(sdists[0]) as tf:
    # sdist members are "<name>-<version>/<path>": drop the first component.
    sdist_names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}

errors = []
for label, names in (("wheel", wheel_names), ("sdist", sdist_names)):
    for path in REQUIRED:
        if path not in names:
            errors.append(f"{label} {path} missing")
# The wheel must ship the package only, not the test hosts.
for name in wheel_names:
    top = name.split("/", 1)[0]
    if top in {"tests", "example_project", "accounts", "trading"}:
        errors.append(f"wheel ships {name}")

if errors:
    sys.exit("FAIL:\n  " + "\n  ".join(errors))
print(f"ok: {wheels[0].name} ({len(wheel_names)} files), {sdists[0].name} ({len(sdist_names)} files)")
PYEOF

# --- 3. fresh venv with the wheel only -------------------------------------
step "fresh venv outside the repo, install the wheel"
uv venv --quiet --python "$PY" "$WORK/venv"
VPY="$WORK/venv/bin/python"
uv pip install --quiet --python "$VPY" "$WORK"/dist/*.whl
uv pip list --python "$VPY"

HOST="$WORK/example_project"
cp -R "$ROOT/example_project" "$HOST"
rm -f "$HOST/db.sqlite3"
find "$HOST" -type d -name __pycache__ -prune -exec rm -rf {} +

# Everything below runs in the copied host with nothing from the repo on the
# path and on SQLite (DATABASE_URL dropped).
host() {
    (cd "$HOST" && env -u PYTHONPATH -u DATABASE_URL -u DJANGO_SETTINGS_MODULE "$@")
}

step "the package resolves to the venv's site-packages"
PURELIB="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PURELIB="$(cd "$PURELIB" && pwd -P)"
PKG_FILE="$(host "$VPY" -c 'import django_torgovo_subscriptions, sys; print(django_torgovo_subscriptions.__file__)')"
echo "django_torgovo_subscriptions: $PKG_FILE"
case "$PKG_FILE" in
    "$PURELIB"/django_torgovo_subscriptions/*) ;;
    *) echo "FAIL: imported from $PKG_FILE, not from $PURELIB" >&2; exit 1 ;;
esac

# --- 4. the example host on the installed package --------------------------
step "manage.py check"
host "$VPY" manage.py check
step "manage.py migrate --noinput"
host "$VPY" manage.py migrate --noinput
step "manage.py seed_demo"
host "$VPY" manage.py seed_demo

PORT="$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT/api/subscription-plans/"
step "runserver 127.0.0.1:$PORT"
(cd "$HOST" && exec env -u PYTHONPATH -u DATABASE_URL -u DJANGO_SETTINGS_MODULE \
    "$VPY" manage.py runserver "127.0.0.1:$PORT" --noreload) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "FAIL: runserver exited early" >&2
        exit 1
    fi
    if curl -s -o /dev/null --max-time 2 "$URL"; then
        break
    fi
    sleep 0.25
done

step "GET $URL"
curl -fsS --max-time 10 -H 'Accept: application/json' -o "$WORK/plans.json" "$URL"
"$PY" - "$WORK/plans.json" <<'PYEOF'
import json
import sys

with open(sys.argv[1]) as fh:
    data = json.load(fh)
plans = data.get("results") if isinstance(data, dict) else data
if not isinstance(plans, list) or not plans:
    sys.exit(f"FAIL: expected a non-empty list of plans, got: {data!r}")
for plan in plans:
    slug, kind, price = plan.get("slug"), plan.get("plan_type"), plan.get("monthly_price")
    print(f"  plan: {slug!s:20} {kind!s:12} {price}")
print(f"ok: {len(plans)} plan(s)")
PYEOF

step "package smoke test passed"
