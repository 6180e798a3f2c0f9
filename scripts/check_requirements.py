"""The manifest's requirements install and import on the oldest and the newest supported release.

For each release (the `hacs.json` minimum and `NEWEST`), in a venv of its own on Python 3.14
holding that release of Home Assistant:

1. *fresh*: no pyasic installed; Home Assistant's own requirement code
   (`homeassistant.requirements._install_requirements_if_missing` with `pip_kwargs()`: uv with
   the release's `package_constraints.txt`, as a running Home Assistant installs a custom
   integration's requirements) installs the manifest's requirements;
2. *upgrade*: the last pyasic an older version of this integration pinned (`PREVIOUS`) is
   left installed, as a user's Home Assistant has it after updating the integration; the same
   code runs again (it installs only what `is_installed` says is missing);

and after each, a new interpreter imports `homeassistant` first (it installs the probatio and
httpx2 aliases, as a running Home Assistant does), then pyasic and every module of the
integration. Exit 1 with what failed.

usage: python scripts/check_requirements.py [--requirement REQ ...] [--release VERSION ...]
(`--requirement` replaces the manifest's requirements, to show what a bad one does.)
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "home_miner"
NEWEST = "2026.11.0"
PREVIOUS = "pyasic==0.78.1"
CACHE = ROOT / ".cache"
UV = CACHE / "tools" / "bin" / "uv"

INSTALL = """
import inspect, json, sys
import homeassistant
from homeassistant.requirements import _install_requirements_if_missing, pip_kwargs
# Before 2026.11 it takes the config dir, which only matters outside a venv.
kwargs = pip_kwargs(*[None] * len(inspect.signature(pip_kwargs).parameters))
installed, failures = _install_requirements_if_missing(json.loads(sys.argv[1]), kwargs)
print(json.dumps(sorted(failures)))
"""

IMPORT = """
import importlib, pkgutil, sys
import homeassistant
import pyasic
sys.path.insert(0, sys.argv[1])
import custom_components.home_miner as integration
for module in pkgutil.walk_packages(integration.__path__, integration.__name__ + "."):
    importlib.import_module(module.name)
from importlib.metadata import version
print("pyasic", version("pyasic"), "httpx is", sys.modules["httpx"].__name__)
"""


def oldest() -> str:
    return str(json.loads((ROOT / "hacs.json").read_text())["homeassistant"])


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def release_venv(release: str, python: str) -> Path:
    """A venv with exactly this release of Home Assistant (kept in .cache/ between runs)."""
    venv = CACHE / f"ha-{release}"
    marker = venv / "homeassistant-installed"
    if marker.exists() and (venv / "bin" / "python").exists() and marker.read_text() != release:
        return venv
    if not (venv / "bin" / "python").exists():
        result = run([str(UV), "venv", "--quiet", "--python", python, str(venv)])
        if result.returncode:
            raise SystemExit(f"venv for Home Assistant {release}: {result.stderr}")
    result = run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         f"homeassistant=={release}"]
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"installing Home Assistant {release}: {result.stderr}")
    # What the release alone installs: a fresh case removes everything else first.
    marker.write_text("\n".join(sorted(_installed(venv))))
    return venv


def _installed(venv: Path) -> set[str]:
    freeze = run([str(UV), "pip", "freeze", "--python", str(venv / "bin" / "python")])
    return {line.split("==")[0].lower() for line in freeze.stdout.splitlines() if "==" in line}


def _reset(venv: Path) -> None:
    """Back to the release as installed: nothing an earlier case installed stays behind."""
    baseline = set((venv / "homeassistant-installed").read_text().split())
    extra = sorted(_installed(venv) - baseline)
    if extra:
        run([str(UV), "pip", "uninstall", "--quiet", "--python", str(venv / "bin" / "python"),
             *extra])  # fmt: skip


def check(venv: Path, requirements: list[str]) -> list[str]:
    """Both cases on one release; the problems found."""
    python = str(venv / "bin" / "python")
    problems: list[str] = []
    for case in ("fresh", "upgrade"):
        _reset(venv)
        if case == "upgrade":
            result = run([str(UV), "pip", "install", "--quiet", "--python", python, PREVIOUS])
            if result.returncode:
                problems.append(f"{case}: could not put {PREVIOUS} in place: {result.stderr}")
                continue
        result = run([python, "-c", INSTALL, json.dumps(requirements)])
        if result.returncode or json.loads(result.stdout.splitlines()[-1]):
            problems.append(f"{case}: Home Assistant could not install {requirements}: "
                            f"{result.stdout.strip()} {result.stderr.strip()}")  # fmt: skip
            continue
        result = run([python, "-c", IMPORT, str(ROOT)])
        if result.returncode:
            raised = [line for line in result.stderr.splitlines() if re.match(r"[\w.]+: ", line)]
            problems.append(f"{case}: the integration does not import: {raised[-1:]}")
            continue
        print(f"    {case}: installed and imported ({result.stdout.strip()})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirement", action="append", help="instead of the manifest's")
    parser.add_argument("--release", action="append", help="instead of the oldest and newest")
    args = parser.parse_args(argv)
    requirements = (
        args.requirement or json.loads((INTEGRATION / "manifest.json").read_text())["requirements"]
    )
    python = run([str(ROOT / "scripts" / "python314.sh")]).stdout.strip()
    if not python:
        raise SystemExit("no Python 3.14 (scripts/python314.sh)")
    failed = False
    for release in args.release or [oldest(), NEWEST]:
        print(f"==> Home Assistant {release}: {', '.join(requirements)}")
        for problem in check(release_venv(release, python), requirements):
            failed = True
            print(f"    FAILED {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
