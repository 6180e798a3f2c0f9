"""Every state a person can read is a word in their language, never a raw key."""

from __future__ import annotations

import json
from pathlib import Path
import string

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations, async_translate_state
import pytest

from custom_components.home_miner.const import DOMAIN
from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.plan.conftest import AddPlan, add_plan  # noqa: F401
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.avalon import AvalonNanoMiner
from tests.simulator.esp_miner import BitaxeMiner

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "translations"


def _flat(tree: object, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): str(tree)}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("language", ["en", "de"])
async def test_every_option_of_every_entity_is_translated(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    add_plan: AddPlan,  # noqa: F811
    language: str,
) -> None:
    """Work modes of every family (an Antminer's sleep among them) and the plan's reasons:
    each option reads as a translated word, as Home Assistant shows states."""
    await hass.config.async_update(language=language)
    antminer = await simulate(AntminerStockMiner, "127.0.16.2", hostname="s19")
    for miner in (
        await simulate(BitaxeMiner, "127.0.16.3", hostname="gamma"),
        await simulate(AvalonNanoMiner, "127.0.16.4"),
        antminer,
    ):
        await add_miner(miner.ip)
    await add_plan([{"miner": antminer.mac.lower(), "action": "stop"}])
    await async_get_translations(hass, language, "entity", {DOMAIN})
    checked = 0
    for entity in er.async_get(hass).entities.values():
        state = hass.states.get(entity.entity_id)
        if entity.platform != DOMAIN or state is None or "options" not in state.attributes:
            continue
        for option in state.attributes["options"]:
            shown = async_translate_state(
                hass,
                option,
                entity.domain,
                DOMAIN,
                entity.translation_key,
                entity.device_class or entity.original_device_class,
            )
            assert shown != option, (entity.entity_id, option)
            checked += 1
    assert checked >= 3 + 3 + 7, "work modes of the Avalon and the Antminer, the reasons"


def test_other_languages_say_what_english_says() -> None:
    """A translation has no key English lacks, and keeps every placeholder."""
    english = _flat(json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8")))
    for path in TRANSLATIONS.glob("*.json"):
        other = _flat(json.loads(path.read_text(encoding="utf-8")))
        assert other.keys() <= english.keys(), (path.name, sorted(other.keys() - english.keys()))
        for key, text in other.items():
            assert _placeholders(text) == _placeholders(english[key]), (path.name, key)
