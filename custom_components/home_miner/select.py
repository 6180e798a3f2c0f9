"""The work-mode select, for firmware that has modes, and the fan's mode."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry, MinerCoordinator
from .entity import MinerEntity, miner_command

PARALLEL_UPDATES = 1


class WorkModeSelect(MinerEntity, SelectEntity):
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, coordinator: MinerCoordinator) -> None:
        super().__init__(
            coordinator, SelectEntityDescription(key="work_mode", translation_key="work_mode")
        )
        self._attr_options = list(coordinator.client.capabilities.work_modes)

    @property
    def current_option(self) -> str | None:
        return self.coordinator.data.work_mode

    @miner_command
    async def async_select_option(self, option: str) -> None:
        # The firmware's sleep mode is its stop: choosing it, or leaving it, is a person's
        # stop or run, as through the mining switch.
        sleep = self.coordinator.client.capabilities.sleep_mode
        mining = None
        if sleep is not None and option == sleep:
            mining = False
        elif sleep is not None and self.current_option == sleep:
            mining = True
        self._tell_plans("work_mode", mining)
        self.coordinator.async_set_updated_data(
            await self.coordinator.client.async_set_work_mode(option)
        )


class FanModeSelect(MinerEntity, SelectEntity):
    """Automatic (the firmware holds a temperature) or manual (a fixed speed)."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, coordinator: MinerCoordinator) -> None:
        super().__init__(
            coordinator, SelectEntityDescription(key="fan_mode", translation_key="fan_mode")
        )
        self._attr_options = list(coordinator.client.capabilities.fan_modes)

    @property
    def current_option(self) -> str | None:
        return self.coordinator.data.fan_mode

    @miner_command
    async def async_select_option(self, option: str) -> None:
        self.coordinator.async_set_updated_data(
            await self.coordinator.client.async_set_fan_mode(option)
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    caps = coordinator.client.capabilities
    entities: list[SelectEntity] = []
    if caps.work_modes:
        entities.append(WorkModeSelect(coordinator))
    if caps.fan_modes:
        entities.append(FanModeSelect(coordinator))
    async_add_entities(entities)
