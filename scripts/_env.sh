# Sourced by scripts/test, scripts/demo and the checks: Python 3.14 (scripts/python314.sh), uv,
# and virtual environments with pinned requirements. Safe to run again: an up-to-date venv
# installs nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never
UV_VERSION="0.13.9"
PYTHON314="$(scripts/python314.sh)"
UV="$ROOT/.cache/tools/bin/uv"

if ! "$UV" --version 2>/dev/null | grep -q "^uv $UV_VERSION "; then
  python3 -m pip install --quiet --disable-pip-version-check --upgrade --target "$ROOT/.cache/tools" \
    "uv==$UV_VERSION" >&2
fi

# ensure_venv DIR REQUIREMENTS: DIR is a venv on the cached Python 3.14 with REQUIREMENTS in it.
ensure_venv() {
  local dir="$1" requirements="$2"
  if ! [ -x "$dir/bin/python" ] \
      || [ "$(readlink -f "$dir/bin/python")" != "$(readlink -f "$PYTHON314")" ]; then
    rm -rf "$dir"
    echo "==> creating $dir with $PYTHON314" >&2
    "$UV" venv --quiet --python "$PYTHON314" "$dir"
  fi
  "$UV" pip install --quiet --python "$dir/bin/python" -r "$requirements"
}
