"""Home Miner: home Bitcoin miners as Home Assistant devices."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, SIGNAL_MINERS_CHANGED
from .coordinator import MinerConfigEntry, MinerCoordinator
from .plan import (
    async_remove_plan_entry,
    async_setup_plan_entry,
    async_unload_plan_entry,
    is_plan,
)
from .plan.services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the plan actions, once for every entry."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MinerConfigEntry) -> bool:
    """Set up one miner; a miner that is off makes Home Assistant retry later."""
    if is_plan(entry):
        return await async_setup_plan_entry(hass, entry)
    coordinator = MinerCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_polling()
    async_dispatcher_send(hass, SIGNAL_MINERS_CHANGED)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MinerConfigEntry) -> bool:
    if is_plan(entry):
        return await async_unload_plan_entry(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        async_dispatcher_send(hass, SIGNAL_MINERS_CHANGED)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    if is_plan(entry):
        await async_remove_plan_entry(hass, entry)
