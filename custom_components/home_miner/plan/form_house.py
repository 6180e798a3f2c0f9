"""The plan's house form: the miners as the home's flexible load (solar surplus, an import
limit, boost), and the checks behind its errors."""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import voluptuous as vol

from ..curtailment.flex import DEADBAND_W, MAX_CHANGES_PER_HOUR
from . import const
from .feeds import POWER_UNITS, state_number
from .form import _number

BOOST_DOMAINS = ["binary_sensor", "calendar", "input_boolean", "switch"]


def _power_sensor() -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain="sensor", device_class="power"))


def house_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(const.CONF_GRID_ENTITY): _power_sensor(),
            vol.Optional(const.CONF_GRID_EXPORT_ENTITY): _power_sensor(),
            vol.Optional(const.CONF_BATTERY_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="sensor", device_class="battery")
            ),
            vol.Optional(const.CONF_PV_ENTITY): _power_sensor(),
            vol.Required(const.CONF_SURPLUS_ONLY, default=False): BooleanSelector(),
            vol.Required(const.CONF_RESERVE, default=0): _number("W", high=1e5),
            vol.Required(const.CONF_GRID_ALLOWANCE, default=0): _number("W", high=1e5),
            vol.Optional(const.CONF_BATTERY_FLOOR): _number("%", high=100),
            vol.Required(const.CONF_DEADBAND, default=DEADBAND_W): _number("W", high=1e4),
            vol.Required(const.CONF_MAX_CHANGES, default=MAX_CHANGES_PER_HOUR): NumberSelector(
                NumberSelectorConfig(min=2, max=60, step=1, mode=NumberSelectorMode.BOX)
            ),
            vol.Optional(const.CONF_IMPORT_LIMIT): _number("kW", high=1e3),
            vol.Optional(const.CONF_BOOST_PRICE): _number(low=-1e6),
            vol.Optional(const.CONF_BOOST_ENTITIES): EntitySelector(
                EntitySelectorConfig(domain=BOOST_DOMAINS, multiple=True)
            ),
        }
    )


def _is_power(hass: HomeAssistant, entity_id: str) -> bool:
    """A power in W, kW or MW (or a sensor down for now)."""
    state = hass.states.get(entity_id)
    if state is None:
        return False
    if state.state in ("unknown", "unavailable"):
        return True
    unit = state.attributes.get("unit_of_measurement")
    return state_number(state) is not None and unit in POWER_UNITS


def check_house(
    hass: HomeAssistant, user_input: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The house options to store. Following a surplus or an import limit needs the grid's
    power; a battery floor needs the battery."""
    found = {k: v for k, v in user_input.items() if v not in (None, "", [])}
    for key, value in found.items():
        if isinstance(value, float) and not math.isfinite(value):
            errors[key] = "invalid_number"
    for key in (const.CONF_GRID_ENTITY, const.CONF_GRID_EXPORT_ENTITY, const.CONF_PV_ENTITY):
        if (entity_id := found.get(key)) and not _is_power(hass, entity_id):
            errors[key] = "not_a_power"
    needs_grid = (
        found.get(const.CONF_SURPLUS_ONLY)
        or const.CONF_IMPORT_LIMIT in found
        or found.get(const.CONF_GRID_EXPORT_ENTITY)
    )
    if needs_grid and not found.get(const.CONF_GRID_ENTITY):
        errors[const.CONF_GRID_ENTITY] = "grid_entity_required"
    if const.CONF_BATTERY_FLOOR in found and not found.get(const.CONF_BATTERY_ENTITY):
        errors[const.CONF_BATTERY_ENTITY] = "battery_entity_required"
    return found
