"""The power-limit number and the fan's settings, bounded by what the model can do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry, MinerCoordinator
from .entity import MinerEntity, miner_command
from .miner import Capabilities, MinerClient, MinerSnapshot

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class MinerSettingDescription(NumberEntityDescription):
    """A setting in whole units, bounded by the model, read back after it is set."""

    bounds_fn: Callable[[Capabilities], tuple[int, int] | None]
    value_fn: Callable[[MinerSnapshot], float | None]
    set_fn: Callable[[MinerClient, int], Awaitable[MinerSnapshot]]


SETTINGS: tuple[MinerSettingDescription, ...] = (
    MinerSettingDescription(
        key="manual_fan_speed",
        translation_key="manual_fan_speed",
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        entity_category=EntityCategory.CONFIG,
        bounds_fn=lambda caps: caps.manual_fan_speed,
        value_fn=lambda snapshot: snapshot.manual_fan_speed,
        set_fn=lambda client, value: client.async_set_manual_fan_speed(value),
    ),
    MinerSettingDescription(
        key="target_temperature",
        translation_key="target_temperature",
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        bounds_fn=lambda caps: caps.target_temperature,
        value_fn=lambda snapshot: snapshot.target_temperature,
        set_fn=lambda client, value: client.async_set_target_temperature(value),
    ),
)


class MinerSettingNumber(MinerEntity, NumberEntity):
    entity_description: MinerSettingDescription
    _attr_native_step = 1

    def __init__(self, coordinator: MinerCoordinator, description: MinerSettingDescription) -> None:
        super().__init__(coordinator, description)
        bounds = description.bounds_fn(coordinator.client.capabilities)
        assert bounds is not None
        self._attr_native_min_value, self._attr_native_max_value = bounds

    @property
    def native_value(self) -> float | None:
        return self.entity_description.value_fn(self.coordinator.data)

    @miner_command
    async def async_set_native_value(self, value: float) -> None:
        self.coordinator.async_set_updated_data(
            await self.entity_description.set_fn(self.coordinator.client, round(value))
        )


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
    caps = coordinator.client.capabilities
    entities: list[NumberEntity] = []
    if caps.power_limit is not None:
        entities.append(PowerLimitNumber(coordinator))
    entities += [
        MinerSettingNumber(coordinator, description)
        for description in SETTINGS
        if description.bounds_fn(caps) is not None
    ]
    async_add_entities(entities)
