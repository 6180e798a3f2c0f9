"""Binary sensors of a miner: mining, problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry
from .entity import MinerEntity
from .miner import MinerSnapshot
from .plan import is_plan
from .plan.binary_sensor import async_setup_plan_binary_sensors

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MinerBinarySensorDescription(BinarySensorEntityDescription):
    value_fn: Callable[[MinerSnapshot], bool]


BINARY_SENSORS: tuple[MinerBinarySensorDescription, ...] = (
    MinerBinarySensorDescription(
        key="mining",
        translation_key="mining",
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=lambda s: s.is_mining,
    ),
    MinerBinarySensorDescription(
        key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda s: s.problem,
    ),
)


class MinerBinarySensor(MinerEntity, BinarySensorEntity):
    entity_description: MinerBinarySensorDescription

    @property
    def is_on(self) -> bool:
        return self.entity_description.value_fn(self.coordinator.data)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    if is_plan(entry):
        await async_setup_plan_binary_sensors(hass, entry, async_add_entities)
        return
    async_add_entities(MinerBinarySensor(entry.runtime_data, d) for d in BINARY_SENSORS)
