"""A plan's sensors: reason, price, break-even, next change, energy and cost avoided."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..curtailment import Reason
from .coordinator import PlanCoordinator, PlanData
from .entity import PlanEntity


@dataclass(frozen=True, kw_only=True)
class PlanSensorDescription(SensorEntityDescription):
    value_fn: Callable[[PlanData], str | float | datetime | None]
    unit_fn: Callable[[PlanCoordinator], str | None] | None = None


def _price_unit(coordinator: PlanCoordinator) -> str | None:
    return coordinator.feeds.unit()


SENSORS: tuple[PlanSensorDescription, ...] = (
    PlanSensorDescription(
        key="reason",
        translation_key="reason",
        device_class=SensorDeviceClass.ENUM,
        options=[reason.value for reason in Reason],
        value_fn=lambda d: d.decision.reason.value,
    ),
    PlanSensorDescription(
        key="current_price",
        translation_key="current_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda d: d.decision.price,
        unit_fn=_price_unit,
    ),
    PlanSensorDescription(
        key="break_even_price",
        translation_key="break_even_price",
        suggested_display_precision=4,
        value_fn=lambda d: d.break_even,
        unit_fn=_price_unit,
    ),
    PlanSensorDescription(
        key="next_change",
        translation_key="next_change",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda d: d.decision.next_check,
    ),
    PlanSensorDescription(
        key="energy_avoided",
        translation_key="energy_avoided",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda d: round(d.energy_kwh, 6),
    ),
    PlanSensorDescription(
        key="cost_avoided",
        translation_key="cost_avoided",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda d: round(d.cost, 6),
        unit_fn=lambda c: c.hass.config.currency,
    ),
)


class PlanSensor(PlanEntity, SensorEntity):
    entity_description: PlanSensorDescription

    @property
    def native_value(self) -> str | float | datetime | None:
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def native_unit_of_measurement(self) -> str | None:
        if self.entity_description.unit_fn is not None:
            return self.entity_description.unit_fn(self.coordinator)
        return super().native_unit_of_measurement


async def async_setup_plan_sensors(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator: PlanCoordinator = entry.runtime_data
    async_add_entities(PlanSensor(coordinator, d) for d in SENSORS)
