"""Diagnostics downloads: a miner's or a plan's, with logins, keys and pool workers redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .coordinator import MinerCoordinator
from .plan import is_plan
from .plan.const import STORAGE_VERSION
from .plan.coordinator import PlanCoordinator

TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    "user",
    "vtn_client_id",
    "vtn_client_secret",
    "urdb_api_key",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[MinerCoordinator | PlanCoordinator]
) -> dict[str, Any]:
    # No runtime data while the entry is not set up (not yet, unloaded, or its setup failed):
    # then what is stored is all there is to show.
    runtime = getattr(entry, "runtime_data", None)
    if is_plan(entry):
        if isinstance(runtime, PlanCoordinator):
            return async_redact_data(_plan(entry, runtime), TO_REDACT)
        return async_redact_data(await _stored_plan(hass, entry), TO_REDACT)
    if not isinstance(runtime, MinerCoordinator):
        return async_redact_data(
            {**_stored(entry), "identity": None, "capabilities": None, "snapshot": None},
            TO_REDACT,
        )
    client = runtime.client
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "identity": asdict(client.identity),
            "capabilities": asdict(client.capabilities),
            "snapshot": asdict(runtime.data) if runtime.data else None,
        },
        TO_REDACT,
    )


def _stored(entry: ConfigEntry[Any]) -> dict[str, Any]:
    return {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "setup": {"state": entry.state.value, "reason": entry.reason},
    }


async def _stored_plan(hass: HomeAssistant, entry: ConfigEntry[Any]) -> dict[str, Any]:
    store = Store[dict[str, Any]](hass, STORAGE_VERSION, f"{DOMAIN}.plan.{entry.entry_id}")
    return {**_stored(entry), "memory": await store.async_load(), "decision": None}


def _plan(entry: ConfigEntry[Any], plan: PlanCoordinator) -> dict[str, Any]:
    decision = plan.data.decision if plan.data else None
    return {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "memory": plan.memory.to_dict(),
        "decision": None
        if decision is None
        else {
            "reason": str(decision.reason),
            "next_check": decision.next_check.isoformat() if decision.next_check else None,
            "price": decision.price,
            "threshold": decision.threshold,
            "targets": [
                {
                    "miner": t.miner_id,
                    "action": str(t.action),
                    "power_limit_w": t.power_limit_w,
                    "reason": str(t.reason),
                }
                for t in decision.targets
            ],
        },
    }
