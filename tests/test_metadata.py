"""What hassfest and the HACS action check, checked here without GitHub."""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys

from packaging.requirements import Requirement
from packaging.version import Version
from PIL import Image
import pytest
import yaml

from scripts import forward_check

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "home_miner"
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text())


def test_manifest_keys_in_hassfest_order() -> None:
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert MANIFEST["domain"] == INTEGRATION.name == "home_miner"
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["iot_class"] == "local_polling"
    # pyasic's pre-release dependency first, by name: the uv of Home Assistant 2026.5 takes
    # a pre-release only when it is asked for at the top level (scripts/check_requirements.py).
    assert [Requirement(r).name for r in MANIFEST["requirements"]] == ["betterproto", "pyasic"]
    for key in ("version", "documentation", "issue_tracker", "codeowners", "integration_type"):
        assert MANIFEST[key], key
    assert re.fullmatch(r"\d+\.\d+\.\d+", MANIFEST["version"])


def _pins(name: str) -> dict[str, str]:
    pins = (ROOT / name).read_text().splitlines()
    return dict(line.split("==", 1) for line in pins if "==" in line and not line.startswith("#"))


@pytest.mark.parametrize("pinned", ["requirements_test.txt", "requirements_demo.txt"])
def test_tested_pins_satisfy_the_manifest(pinned: str) -> None:
    """What the suite and the demo run is what the manifest lets Home Assistant install."""
    pins = _pins(pinned)
    for requirement in map(Requirement, MANIFEST["requirements"]):
        assert requirement.specifier.contains(pins[requirement.name]), (pinned, requirement)


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == MANIFEST["name"]
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", hacs["homeassistant"])
    minimum = Version(hacs["homeassistant"])
    assert minimum <= Version(_pins("requirements_test.txt")["homeassistant"])
    assert minimum <= Version(_pins("requirements_demo.txt")["homeassistant"])


def test_license_is_a_standard_text() -> None:
    """HACS reads the licence GitHub detects: an unmodified OSI text at the top level."""
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip("\n").startswith("                                 Apache License\n")
    assert "Version 2.0, January 2004" in text
    assert text.rstrip().endswith("limitations under the License.")


def test_brand_icons() -> None:
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.size == (size, size)
            assert image.format == "PNG"


def test_translations_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def _translation_keys_in_code() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in INTEGRATION.glob("*.py"):
        platform = path.stem
        for key in re.findall(r'translation_key="([a-z0-9_]+)"', path.read_text()):
            found.add((platform, key))
    return found


def test_every_translation_key_has_a_string() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    exceptions = set(strings["exceptions"])
    for platform, key in _translation_keys_in_code():
        if platform in strings["entity"] and key in strings["entity"][platform]:
            continue
        assert key in exceptions, f"{platform}: translation_key {key} has no string"


def test_icons_refer_to_translated_entities() -> None:
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]
    strings = json.loads((INTEGRATION / "strings.json").read_text())["entity"]
    for platform, keys in icons.items():
        for key in keys:
            assert key in strings.get(platform, {}), f"icon for unknown {platform}.{key}"


def test_quality_scale_exemptions_have_reasons() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    for name, rule in rules.items():
        if isinstance(rule, dict):
            assert rule["status"] in {"done", "exempt", "todo"}
            if rule["status"] == "exempt":
                assert rule.get("comment"), name


ENUM = "from enum import StrEnum\nclass Platform(StrEnum):\n"


def _fake_release(tmp_path: Path, const_source: str) -> forward_check.Release:
    release = tmp_path / "release"
    for name, source in (
        ("__init__.py", ""),
        ("const.py", const_source),
        ("helpers/__init__.py", ""),
        ("helpers/config_validation.py", "def string(): ...\n"),
    ):
        (release / "homeassistant" / name).parent.mkdir(parents=True, exist_ok=True)
        (release / "homeassistant" / name).write_text(source)
    return forward_check.Release(release)


@pytest.mark.parametrize(
    ("const_source", "problems"),
    [
        (ENUM + "    SENSOR = 'sensor'\nCONF_HOST = 'host'\n", 0),
        (ENUM + "    SWITCH = 'switch'\nCONF_HOST = 'host'\n", 1),
        (ENUM + "    SENSOR = 'sensor'\n", 1),
    ],
)
def test_forward_check_finds_what_a_release_removed(
    tmp_path: Path, const_source: str, problems: int
) -> None:
    source = tmp_path / "custom_components" / "x" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from homeassistant.const import CONF_HOST, Platform\n"
        "from homeassistant.helpers import config_validation as cv\n"
        "X = (Platform.SENSOR, cv.string, CONF_HOST)\n"
    )
    release = _fake_release(tmp_path, const_source)
    checked, found = forward_check.check_file(source, release, root=tmp_path)
    assert checked == 5
    assert len(found) == problems, found
