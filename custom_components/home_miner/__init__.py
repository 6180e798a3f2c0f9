"""Home Miner: home Bitcoin miners as Home Assistant devices."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, SIGNAL_MINERS_CHANGED
from .coordinator import MinerConfigEntry, MinerCoordinator
from .miner import Capabilities
from .plan import (
    async_miner_removed,
    async_remove_plan_entry,
    async_setup_plan_entry,
    async_unload_plan_entry,
    is_plan,
)
from .plan.owed import async_setup_owed, owed_hand_backs
from .plan.services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


def _miner_platforms(caps: Capabilities) -> list[Platform]:
    """The platforms this miner has entities on (a fleet sets up a fifth fewer)."""
    wanted = {
        Platform.BUTTON: caps.can_reboot or caps.can_identify,
        Platform.NUMBER: caps.power_limit is not None
        or caps.manual_fan_speed is not None
        or caps.target_temperature is not None,
        Platform.SELECT: bool(caps.work_modes or caps.fan_modes),
        Platform.SWITCH: caps.can_stop,
    }
    return [p for p in PLATFORMS if wanted.get(p, True)]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# The coordinator of each unloaded miner entry, kept until the entry is set up again or
# removed: a removed miner that a plan left curtailed is handed back through it.
DATA_UNLOADED: HassKey[dict[str, MinerCoordinator]] = HassKey(f"{DOMAIN}_unloaded_miners")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the plan actions, once for every entry; read the hand-backs owed."""
    async_setup_services(hass)
    await async_setup_owed(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MinerConfigEntry) -> bool:
    """Set up one miner; a miner that is off makes Home Assistant retry later."""
    if is_plan(entry):
        return await async_setup_plan_entry(hass, entry)
    hass.data.setdefault(DATA_UNLOADED, {}).pop(entry.entry_id, None)
    coordinator = MinerCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    coordinator.platforms = _miner_platforms(coordinator.client.capabilities)
    await hass.config_entries.async_forward_entry_setups(entry, coordinator.platforms)
    coordinator.async_start_polling()
    if (owed := owed_hand_backs(hass)) is not None and entry.unique_id is not None:
        miner_id = entry.unique_id

        @callback
        def _on_poll() -> None:
            owed.async_miner_polled(miner_id, coordinator)

        entry.async_on_unload(coordinator.async_add_listener(_on_poll))
        _on_poll()

    @callback
    def _on_state_change() -> None:
        # Plans act only on loaded miners: tell them once this entry is LOADED, not while
        # its setup is still in progress (they would not see it yet).
        if entry.state is ConfigEntryState.LOADED:
            async_dispatcher_send(hass, SIGNAL_MINERS_CHANGED)

    entry.async_on_unload(entry.async_on_state_change(_on_state_change))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MinerConfigEntry) -> bool:
    if is_plan(entry):
        return await async_unload_plan_entry(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, entry.runtime_data.platforms)
    if unloaded:
        hass.data.setdefault(DATA_UNLOADED, {})[entry.entry_id] = entry.runtime_data
        async_dispatcher_send(hass, SIGNAL_MINERS_CHANGED)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    if is_plan(entry):
        await async_remove_plan_entry(hass, entry)
    elif (coordinator := hass.data.get(DATA_UNLOADED, {}).pop(entry.entry_id, None)) is not None:
        await async_miner_removed(hass, entry, coordinator)
