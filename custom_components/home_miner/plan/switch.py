"""A plan's switch: automatic curtailment on or off (off: every miner runs)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PlanCoordinator
from .entity import PlanEntity


class AutomaticCurtailmentSwitch(PlanEntity, SwitchEntity):
    @property
    def is_on(self) -> bool:
        return self.coordinator.data.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.coordinator.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        self.coordinator.async_set_enabled(False)


async def async_setup_plan_switches(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator: PlanCoordinator = entry.runtime_data
    async_add_entities(
        [
            AutomaticCurtailmentSwitch(
                coordinator,
                SwitchEntityDescription(
                    key="automatic_curtailment", translation_key="automatic_curtailment"
                ),
            )
        ]
    )
