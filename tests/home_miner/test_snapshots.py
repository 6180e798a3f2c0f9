"""Every entity of every family, as the user gets them: registry entries and states."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import SimFactory
from tests.home_miner.conftest import AddMiner
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.avalon import AvalonNanoMiner
from tests.simulator.base import SimulatedMiner
from tests.simulator.esp_miner import BitaxeMiner

# Values that move with the clock rather than with the miner's state.
VOLATILE = ("_boot_time", "_energy", "_estimated_energy")


@pytest.mark.parametrize(
    ("cls", "ip", "kwargs"),
    [
        (BitaxeMiner, "127.0.15.2", {"hostname": "gamma"}),
        (
            BitaxeMiner,
            "127.0.15.3",
            {"hostname": "supra", "model": "Supra 401", "firmware": "v2.10.1"},
        ),
        (AvalonNanoMiner, "127.0.15.4", {}),
        (AvalonNanoMiner, "127.0.15.5", {"soft_off": True}),
        (AntminerStockMiner, "127.0.15.6", {"hostname": "s19"}),
    ],
    ids=[
        "bitaxe_gamma",
        "bitaxe_supra_2_10",
        "avalon_nano_3s",
        "avalon_soft_off",
        "antminer_s19jpro",
    ],
)
async def test_entities(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,
    snapshot: SnapshotAssertion,
    cls: type[SimulatedMiner],
    ip: str,
    kwargs: dict[str, Any],
) -> None:
    miner = await simulate(cls, ip, mac=f"02:00:00:00:15:{ip.rsplit('.', 1)[1].zfill(2)}", **kwargs)
    entry = await add_miner(miner.ip)
    registry = er.async_get(hass)
    entities = sorted(
        er.async_entries_for_config_entry(registry, entry.entry_id),
        key=lambda e: (e.domain, e.unique_id),
    )
    described: list[dict[str, Any]] = []
    for entity in entities:
        state = hass.states.get(entity.entity_id)
        volatile = entity.unique_id.endswith(VOLATILE)
        described.append(
            {
                "entity_id": entity.entity_id,
                "unique_id": entity.unique_id.split("_", 1)[1],
                "translation_key": entity.translation_key,
                "device_class": entity.device_class or entity.original_device_class,
                "unit": entity.unit_of_measurement,
                "category": entity.entity_category,
                "disabled": entity.disabled_by,
                "state": None if state is None or volatile else state.state,
                "attributes": None
                if state is None
                # Keys as strings: Home Assistant 2026.10 made them StrEnum members.
                else {str(k): v for k, v in state.attributes.items() if k != "friendly_name"},
            }
        )
    assert described == snapshot
