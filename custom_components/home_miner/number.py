"""The power-limit number, bounded by what the model can do."""

from __future__ import annotations

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry, MinerCoordinator
from .entity import MinerEntity, miner_command

PARALLEL_UPDATES = 1


class PowerLimitNumber(MinerEntity, NumberEntity):
    _attr_device_class = NumberDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.WATT
    _attr_mode = NumberMode.BOX
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, coordinator: MinerCoordinator) -> None:
        super().__init__(
            coordinator, NumberEntityDescription(key="power_limit", translation_key="power_limit")
        )
        limit = coordinator.client.capabilities.power_limit
        assert limit is not None
        self._attr_native_min_value = limit.minimum
        self._attr_native_max_value = limit.maximum
        self._attr_native_step = limit.step

    @property
    def native_value(self) -> float | None:
        return self.coordinator.data.power_limit_w

    @miner_command
    async def async_set_native_value(self, value: float) -> None:
        self._tell_plans("power_limit")
        self.coordinator.async_set_updated_data(
            await self.coordinator.client.async_set_power_limit(round(value))
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    if coordinator.client.capabilities.power_limit is not None:
        async_add_entities([PowerLimitNumber(coordinator)])
