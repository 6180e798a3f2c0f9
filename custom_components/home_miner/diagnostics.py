"""Diagnostics download of a miner, with credentials and pool workers redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import MinerConfigEntry

TO_REDACT = {CONF_PASSWORD, CONF_USERNAME, "user"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MinerConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data
    client = coordinator.client
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "identity": asdict(client.identity),
            "capabilities": asdict(client.capabilities),
            "snapshot": asdict(coordinator.data) if coordinator.data else None,
        },
        TO_REDACT,
    )
