"""What a person must not read: a raw key where words belong, an unfilled placeholder, a MAC
address where a name belongs, "Unknown" where a value could be."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
import json
from pathlib import Path
import re
from typing import Any

STRINGS = Path(__file__).resolve().parents[2] / "custom_components" / "home_miner" / "strings.json"
MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b")
# Home Assistant's device page names the MAC among the device's connections: a MAC where a
# MAC belongs.
DEVICE_INFO_MAC = re.compile(r"^MAC\n:\n" + MAC.pattern + "$", re.MULTILINE)
# A translation that failed, a reference left unresolved, a placeholder left unfilled.
UNTRANSLATED = re.compile(r"component\.home_miner|home_miner::|\[%key:|\{[a-z_]+\}")
# A timestamp as the engine writes it, where a person reads a time.
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Days as the form's keys (the frontend sorts and shows raw values where labels are missing).
RAW_DAYS = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)(?:, (?:mon|tue|wed|thu|fri|sat|sun))+\b")


def _keys(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield (*path, key), value
            yield from _keys(value, (*path, key))


@cache
def raw_keys() -> frozenset[str]:
    """Every key strings.json translates that a person would recognise as a key: option and
    state values, field names, error and abort reasons written in snake_case (a word like
    "stop" reads as English either way)."""
    found: set[str] = set()
    for path, _ in _keys(json.loads(STRINGS.read_text()), ()):
        parent = path[-2] if len(path) > 1 else ""
        if parent in ("options", "state", "data", "error", "abort", "step") and "_" in path[-1]:
            found.add(path[-1])
    return frozenset(found)


def problems(text: str, *, device_info: bool = False) -> list[str]:
    """What reads wrong in `text` (a page's or a dialog's visible text, a piece a line)."""
    if device_info:
        text = DEVICE_INFO_MAC.sub("MAC", text)
    found = [f"untranslated: {m[0]!r}" for m in UNTRANSLATED.finditer(text)]
    found += [f"raw days: {m[0]!r}" for m in RAW_DAYS.finditer(text)]
    found += [f"a MAC address: {m[0]!r}" for m in MAC.finditer(text)]
    found += [f"a raw timestamp: {m[0]!r}" for m in ISO_TIME.finditer(text)]
    keys = raw_keys()
    found += [
        f"a raw key: {word!r} in {line.strip()!r}"
        for line in text.splitlines()
        for word in re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", line)
        if word in keys
    ]
    found += [f"'Unknown' after {_before(text, m.start())!r}" for m in _UNKNOWN.finditer(text)]
    return found


_UNKNOWN = re.compile(r"^Unknown$", re.MULTILINE)


def _before(text: str, index: int) -> str:
    """The line before `index`: the name of what reads Unknown."""
    lines = text[:index].rstrip("\n").splitlines()
    return lines[-1] if lines else ""
