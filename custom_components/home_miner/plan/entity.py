"""Base entity of a plan's device."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .coordinator import PlanCoordinator


class PlanEntity(CoordinatorEntity[PlanCoordinator]):
    """An entity of one curtailment plan (a service device)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PlanCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Home Miner",
            model="Curtailment plan",
            entry_type=DeviceEntryType.SERVICE,
        )
