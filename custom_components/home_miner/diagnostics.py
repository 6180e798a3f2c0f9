"""Diagnostics downloads: a miner's or a plan's, with logins, keys and pool workers redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import MinerCoordinator
from .plan import is_plan
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
    runtime = entry.runtime_data
    if is_plan(entry):
        assert isinstance(runtime, PlanCoordinator)
        return async_redact_data(_plan(entry, runtime), TO_REDACT)
    assert isinstance(runtime, MinerCoordinator)
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
