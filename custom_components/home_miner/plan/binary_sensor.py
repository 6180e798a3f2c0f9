"""A plan's binary sensor: curtailed (some miner is turned down or off by the plan)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PlanCoordinator
from .entity import PlanEntity


class CurtailedBinarySensor(PlanEntity, BinarySensorEntity):
    @property
    def is_on(self) -> bool:
        return self.coordinator.data.decision.curtailed

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        plan = self.coordinator
        decision = plan.data.decision
        # By name, as a person knows them (their MACs are in the plan's events and diagnostics).
        return {
            "miners": [plan.miner_name(t.miner_id) for t in decision.targets if t.curtailed],
            "overridden": sorted(plan.miner_name(m) for m in plan.data.overridden),
            "observe_only": plan.config.observe_only,
        }


async def async_setup_plan_binary_sensors(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator: PlanCoordinator = entry.runtime_data
    async_add_entities(
        [
            CurtailedBinarySensor(
                coordinator,
                BinarySensorEntityDescription(key="curtailed", translation_key="curtailed"),
            )
        ]
    )
