"""Write translations/en.json from strings.json, resolving Home Assistant's common keys.

Custom integrations are not built by core's translation tooling, so references such as
`[%key:common::config_flow::data::host%]` are resolved here. `--check` fails when en.json is
out of date (scripts/test runs it through the test suite).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "home_miner"

COMMON = {
    "common::config_flow::data::host": "Host",
    "common::config_flow::data::username": "Username",
    "common::config_flow::data::password": "Password",
    "common::config_flow::error::unknown": "Unexpected error",
    "common::config_flow::abort::already_configured_device": "Device is already configured",
    "common::config_flow::abort::reauth_successful": "Re-authentication was successful",
    "common::config_flow::abort::reconfigure_successful": "Re-configuration was successful",
}
_REF = re.compile(r"\[%key:([a-z0-9_:]+)%\]")


def resolve(strings: object, root: dict[str, object]) -> object:
    if isinstance(strings, dict):
        return {k: resolve(v, root) for k, v in strings.items()}
    if isinstance(strings, str):
        return _REF.sub(lambda m: _lookup(m[1], root), strings)
    return strings


def _lookup(key: str, root: dict[str, object]) -> str:
    if key in COMMON:
        return COMMON[key]
    node: object = root
    for part in key.split("::"):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"unresolved translation reference {key}")
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(f"translation reference {key} is not a string")
    return node


def render() -> str:
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    return json.dumps(resolve(strings, strings), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    target = INTEGRATION / "translations" / "en.json"
    text = render()
    if "--check" in sys.argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print("translations/en.json is out of date: run scripts/translations.py")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
