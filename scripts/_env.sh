# Sourced by scripts/test and scripts/demo: makes .venv (Python 3.13 + uv) and installs the
# pinned stack into it. Safe to run again: an up-to-date venv installs nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python313() {
  local candidate
  for candidate in "${PYTHON313:-}" python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 \
      /root/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.13 not found (looked on PATH, in pyenv and in /usr/bin)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python313)"
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.9.26"
fi
# Home Assistant 2026.2 declares Python >=3.13.2; it runs on 3.13.0, so resolve as 3.13.2.
.venv/bin/uv pip install --quiet --python .venv/bin/python --python-version 3.13.2 \
  -r requirements_test.txt
