"""The mining switch: stop or resume hashing."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry
from .entity import MinerEntity, miner_command
from .plan import is_plan
from .plan.switch import async_setup_plan_switches

PARALLEL_UPDATES = 1


class MiningSwitch(MinerEntity, SwitchEntity):
    """On while the miner hashes; turning it off stops hashing (the miner stays reachable)."""

    @property
    def is_on(self) -> bool:
        return self.coordinator.data.is_mining

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set_mining(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set_mining(False)

    @miner_command
    async def _set_mining(self, mining: bool) -> None:
        self._tell_plans("mining", mining)
        self.coordinator.async_set_updated_data(
            await self.coordinator.client.async_set_mining(mining)
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    if is_plan(entry):
        await async_setup_plan_switches(hass, entry, async_add_entities)
        return
    coordinator = entry.runtime_data
    if coordinator.client.capabilities.can_stop:
        async_add_entities(
            [
                MiningSwitch(
                    coordinator, SwitchEntityDescription(key="mining", translation_key="mining")
                )
            ]
        )
