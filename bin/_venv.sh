# Sourced by bin/demo and bin/test: make .venv with the locked dependencies, once per lock change.
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
STAMP="$VENV/.requirements.lock.sha256"
WANT="$(sha256sum requirements.lock | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "Installing locked dependencies into .venv ..."
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  echo "$WANT" >"$STAMP"
fi
PY="$VENV/bin/python"
