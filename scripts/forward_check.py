"""Forward compatibility with the newest Home Assistant release, read statically.

The test harness (pytest-homeassistant-custom-component) runs a release behind the newest, and
`scripts/check_requirements.py` only imports the integration on the newest. So this check
reads the newest release's sources (unpacked once into .cache/, never run) and verifies that
everything the integration takes from `homeassistant` still exists there:

- every `from homeassistant.X import Y` (Y a name or a submodule) and `import homeassistant.X`;
- every `alias.NAME` on a module imported by name (`config_validation as cv` → `cv.string`);
- every `Enum.MEMBER` on an enum imported from Home Assistant (`Platform.SENSOR`).

The release is pinned below and bumped on purpose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
import re
import subprocess
import sys

HA_VERSION = "2026.11.0"
ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "home_miner"
UNPACKED = ROOT / ".cache" / "homeassistant"
UV = ROOT / ".cache" / "tools" / "bin" / "uv"
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "IntFlag", "Flag"}

# PEP 758 (3.14) allows `except A, B:`; parenthesise so Python 3.13 can parse such files.
_BARE_EXCEPT = re.compile(r"^(\s*except\*?\s+)([^():]+,[^():]+?)(\s+as\s+\w+)?:", re.M)


def parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.parse(_BARE_EXCEPT.sub(lambda m: f"{m[1]}({m[2]}){m[3] or ''}:", source))


def release_dir() -> Path:
    """The release's package, unpacked by uv (no dependencies, nothing run)."""
    target = UNPACKED / HA_VERSION
    if not (target / "homeassistant" / "const.py").exists():
        subprocess.run(
            [str(UV), "pip", "install", "--quiet", "--no-deps", "--python", sys.executable,
             "--target", str(target), f"homeassistant=={HA_VERSION}"],
            check=True,
        )  # fmt: skip
    return target


@dataclass
class Module:
    """What a module of the newer release defines at top level."""

    names: set[str] = field(default_factory=set)
    enums: dict[str, set[str]] = field(default_factory=dict)


class Release:
    """The newer Home Assistant, read from its unpacked sources (`root/homeassistant/...`)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._files = {
            path.relative_to(root).as_posix() for path in (root / "homeassistant").rglob("*.py")
        }

    def _source(self, module: str) -> tuple[str, bool] | None:
        base = module.replace(".", "/")
        for path, is_package in ((f"{base}.py", False), (f"{base}/__init__.py", True)):
            if path in self._files:
                return (self._root / path).read_text(encoding="utf-8"), is_package
        return None

    def is_module(self, module: str) -> bool:
        return self._source(module) is not None

    @cache  # noqa: B019 - one Release per run
    def module(self, module: str) -> Module | None:
        found = self._source(module)
        if found is None:
            return None
        source, is_package = found
        result = Module()
        for node in parse(source).body:
            _collect(node, result)
        if is_package:
            prefix = module.replace(".", "/") + "/"
            for name in self._files:
                if name.startswith(prefix):
                    result.names.add(name[len(prefix) :].split("/")[0].removesuffix(".py"))
        return result


def _collect(node: ast.stmt, into: Module) -> None:
    match node:
        case ast.FunctionDef() | ast.AsyncFunctionDef():
            into.names.add(node.name)
        case ast.ClassDef():
            into.names.add(node.name)
            bases = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if bases & ENUM_BASES:
                into.enums[node.name] = _class_members(node)
        case ast.Assign():
            for target in node.targets:
                into.names.update(t.id for t in ast.walk(target) if isinstance(t, ast.Name))
        case ast.AnnAssign(target=ast.Name(id=name)) | ast.TypeAlias(name=ast.Name(id=name)):
            into.names.add(name)
        case ast.Import() | ast.ImportFrom():
            into.names.update((a.asname or a.name).split(".")[0] for a in node.names)
        case ast.If() | ast.Try():
            for child in [*node.body, *node.orelse, *getattr(node, "finalbody", [])]:
                _collect(child, into)
            for handler in getattr(node, "handlers", []):
                for child in handler.body:
                    _collect(child, into)


def _class_members(node: ast.ClassDef) -> set[str]:
    members: set[str] = set()
    for child in node.body:
        if isinstance(child, ast.Assign):
            members.update(t.id for t in child.targets if isinstance(t, ast.Name))
        elif isinstance(child, ast.AnnAssign) and isinstance(child.target, ast.Name):
            members.add(child.target.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            members.add(child.name)
    return members


def check_file(path: Path, release: Release, root: Path = ROOT) -> tuple[int, list[str]]:
    """Return (references checked, problems) for one source file."""
    tree = parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(root)
    problems: list[str] = []
    checked = 0
    modules: dict[str, str] = {}  # local alias -> homeassistant module
    enums: dict[str, tuple[str, set[str]]] = {}  # local name -> (qualified, members)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "homeassistant":
                    checked += 1
                    if not release.is_module(alias.name):
                        problems.append(f"{rel}:{node.lineno}: module {alias.name} is gone")
                    elif alias.asname:
                        modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("homeassistant"):
            assert node.module is not None
            defined = release.module(node.module)
            for alias in node.names:
                checked += 1
                local = alias.asname or alias.name
                sub = f"{node.module}.{alias.name}"
                if defined is None:
                    problems.append(f"{rel}:{node.lineno}: module {node.module} is gone")
                    break
                if release.is_module(sub):
                    modules[local] = sub
                elif alias.name not in defined.names:
                    problems.append(f"{rel}:{node.lineno}: {sub} is gone")
                elif alias.name in defined.enums:
                    enums[local] = (sub, defined.enums[alias.name])

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        owner = node.value.id
        if owner in modules:
            defined = release.module(modules[owner])
            checked += 1
            if defined is not None and node.attr not in defined.names:
                problems.append(f"{rel}:{node.lineno}: {modules[owner]}.{node.attr} is gone")
        elif owner in enums:
            qualified, members = enums[owner]
            checked += 1
            if node.attr not in members | {"value", "name"} and not node.attr.startswith("_"):
                problems.append(f"{rel}:{node.lineno}: {qualified}.{node.attr} is gone")
    return checked, problems


def main() -> int:
    release = Release(release_dir())
    checked = 0
    problems: list[str] = []
    for path in sorted(INTEGRATION.rglob("*.py")):
        n, found = check_file(path, release)
        checked += n
        problems += found
    for line in problems:
        print(line)
    print(
        f"forward check: {checked} Home Assistant references checked against "
        f"{HA_VERSION}, {len(problems)} missing"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
