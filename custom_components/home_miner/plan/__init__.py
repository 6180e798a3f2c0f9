"""Curtailment plans in Home Assistant: config entries whose runtime drives miners."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from ..const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_PLAN
from ..coordinator import MinerCoordinator
from ..curtailment import CurtailmentError
from . import const
from .coordinator import PlanConfigEntry, PlanCoordinator
from .handback import async_hand_back_stored
from .tariff_expiry import async_watch_tariff_expiry

PLAN_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.SENSOR,
    Platform.SWITCH,
]


def is_plan(entry: ConfigEntry) -> bool:
    return bool(entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_PLAN)


async def async_setup_plan_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Restore the plan, decide once, then follow its feeds."""
    plan_entry = cast(PlanConfigEntry, entry)
    try:
        coordinator = PlanCoordinator(hass, plan_entry)
    except CurtailmentError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="plan_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.async_on_unload(coordinator.async_stop)
    async_watch_tariff_expiry(hass, entry, coordinator.config.tariff)
    await coordinator.async_config_entry_first_refresh()
    plan_entry.runtime_data = coordinator
    coordinator.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLAN_PLATFORMS)
    return True


async def async_unload_plan_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    plan_entry = cast(PlanConfigEntry, entry)
    # Nothing decides any more (its triggers end only after this returns).
    plan_entry.runtime_data.async_stop()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLAN_PLATFORMS)
    if unloaded:
        if entry.disabled_by is not None:
            # Disabled: the plan stops acting, so nothing it curtailed may stay curtailed.
            await plan_entry.runtime_data.async_hand_back()
        else:
            await plan_entry.runtime_data.async_save_now()
    return unloaded


async def async_remove_plan_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Hand back every miner the plan left curtailed; forget its state and repair issues."""
    store = Store[dict[str, Any]](hass, const.STORAGE_VERSION, f"{DOMAIN}.plan.{entry.entry_id}")
    # The plan is unloaded by now (runtime data gone): what it left curtailed is in its store.
    try:
        stored = await store.async_load()
    except HomeAssistantError:
        stored = None
    await async_hand_back_stored(hass, entry, stored)
    await store.async_remove()
    ir.async_delete_issue(hass, DOMAIN, f"plan_state_lost_{entry.entry_id}")
    for miner in entry.options.get(const.CONF_MINERS, []):
        ir.async_delete_issue(hass, DOMAIN, f"miner_refuses_{entry.entry_id}_{miner['miner']}")


async def async_miner_removed(
    hass: HomeAssistant, miner_entry: ConfigEntry, coordinator: MinerCoordinator
) -> None:
    """A miner entry is being deleted: every plan that left it curtailed hands it back
    through the miner's last coordinator."""
    if miner_entry.unique_id is None:
        return
    for entry in hass.config_entries.async_entries(DOMAIN):
        plan = getattr(entry, "runtime_data", None)
        if is_plan(entry) and isinstance(plan, PlanCoordinator):
            await plan.async_forget_miner(miner_entry.unique_id, coordinator)


__all__ = [
    "PlanConfigEntry",
    "PlanCoordinator",
    "async_miner_removed",
    "async_remove_plan_entry",
    "async_setup_plan_entry",
    "async_unload_plan_entry",
    "is_plan",
]
