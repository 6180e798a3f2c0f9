"""The plan actions: `home_miner.curtail`, `home_miner.resume`, `home_miner.get_schedule`."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DOMAIN
from . import is_plan
from .coordinator import PlanConfigEntry, PlanCoordinator

SERVICE_CURTAIL = "curtail"
SERVICE_RESUME = "resume"
SERVICE_GET_SCHEDULE = "get_schedule"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DURATION = "duration"
ATTR_TARGET_POWER = "target_power"

_PLAN: dict[vol.Marker, object] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}
CURTAIL_SCHEMA = vol.Schema(
    {
        **_PLAN,
        vol.Required(ATTR_DURATION): vol.All(cv.time_period, cv.positive_timedelta),
        vol.Optional(ATTR_TARGET_POWER): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)
RESUME_SCHEMA = vol.Schema(
    {**_PLAN, vol.Optional(ATTR_DURATION): vol.All(cv.time_period, cv.positive_timedelta)}
)
SCHEDULE_SCHEMA = vol.Schema(_PLAN)


def _plan(hass: HomeAssistant, call: ServiceCall) -> PlanCoordinator:
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry: PlanConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or not is_plan(entry):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_plan",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="plan_not_loaded",
            translation_placeholders={"plan": entry.title},
        )
    return entry.runtime_data


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    async def curtail(call: ServiceCall) -> None:
        _plan(hass, call).async_curtail(call.data[ATTR_DURATION], call.data.get(ATTR_TARGET_POWER))

    async def resume(call: ServiceCall) -> None:
        _plan(hass, call).async_resume(call.data.get(ATTR_DURATION))

    async def get_schedule(call: ServiceCall) -> ServiceResponse:
        coordinator = _plan(hass, call)
        return {
            "windows": [
                {
                    "start": window.start.isoformat(),
                    "end": window.end.isoformat(),
                    "reason": window.reason.value,
                    "reasons": [reason.value for reason in sorted(window.reasons)],
                }
                for window in coordinator.data.windows
            ]
        }

    hass.services.async_register(DOMAIN, SERVICE_CURTAIL, curtail, schema=CURTAIL_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RESUME, resume, schema=RESUME_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_SCHEDULE,
        get_schedule,
        schema=SCHEDULE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
