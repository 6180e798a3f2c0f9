"""Buttons of a miner: reboot, identify."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MinerConfigEntry
from .entity import MinerEntity, miner_command
from .miner import Capabilities, MinerClient

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class MinerButtonDescription(ButtonEntityDescription):
    press_fn: Callable[[MinerClient], Coroutine[Any, Any, None]]
    exists_fn: Callable[[Capabilities], bool]
    translation_key_fn: Callable[[Capabilities], str | None] = lambda _: None


BUTTONS: tuple[MinerButtonDescription, ...] = (
    MinerButtonDescription(
        key="reboot",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda c: c.async_reboot(),
        exists_fn=lambda caps: caps.can_reboot,
    ),
    MinerButtonDescription(
        key="identify",
        device_class=ButtonDeviceClass.IDENTIFY,
        entity_category=EntityCategory.DIAGNOSTIC,
        press_fn=lambda c: c.async_identify_light(),
        exists_fn=lambda caps: caps.can_identify,
        # Named for what the person looks for at the miner, where the firmware says (the
        # press itself shows as the button's last-pressed time).
        translation_key_fn=lambda caps: caps.identify_by and f"identify_{caps.identify_by}",
    ),
)


class MinerButton(MinerEntity, ButtonEntity):
    entity_description: MinerButtonDescription

    @miner_command
    async def async_press(self) -> None:
        await self.entity_description.press_fn(self.coordinator.client)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    caps = coordinator.client.capabilities
    async_add_entities(
        MinerButton(coordinator, replace(d, translation_key=d.translation_key_fn(caps)))
        for d in BUTTONS
        if d.exists_fn(caps)
    )
