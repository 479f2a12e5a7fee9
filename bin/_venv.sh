# Sourced by bin/demo, bin/test and .ci/run: make .venv with the development lock, once per lock change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "Care Portal needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  exit 1
}

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  "$(find_python)" -m venv "$VENV"
fi
# The development lock: the runtime lock (requirements.lock, all production installs) plus the
# test tools and the demo's OpenID provider.
STAMP="$VENV/.requirements.lock.sha256"
WANT="$(cat requirements.lock requirements-dev.lock | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "Installing locked dependencies into .venv ..."
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
  echo "$WANT" >"$STAMP"
fi
PY="$VENV/bin/python"
