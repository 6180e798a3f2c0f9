"""The plan forms: their schemas and the checks behind each error a user can see."""

from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    ObjectSelector,
    ObjectSelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_MINER, ENTRY_TYPE_PLAN
from ..curtailment import (
    CurtailMode,
    MissingPrice,
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    TariffError,
    VenClient,
    parse_bands,
    parse_urdb,
)
from . import const
from .config import vtn_config
from .const import ThresholdChoice, TouMode
from .feeds import state_number

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HTTP_FORBIDDEN = (401, 403)


def _select(options: list[str], key: str, *, multiple: bool = False) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options,
            translation_key=key,
            multiple=multiple,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def _number(unit: str | None = None, *, low: float = 0, high: float = 1e6) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step="any", mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def miner_options(hass: HomeAssistant) -> list[SelectOptionDict]:
    return [
        SelectOptionDict(value=entry.unique_id, label=entry.title)
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_ENTRY_TYPE, ENTRY_TYPE_MINER) == ENTRY_TYPE_MINER
        and entry.unique_id is not None
    ]


def miners_schema(hass: HomeAssistant, *, with_name: bool) -> vol.Schema:
    fields: dict[str, Any] = {
        const.CONF_MINER: {
            "required": True,
            "selector": {"select": {"options": miner_options(hass), "mode": "dropdown"}},
        },
        const.CONF_ACTION: {
            "required": True,
            "selector": {
                "select": {"options": [m.value for m in CurtailMode], "translation_key": "action"}
            },
        },
        const.CONF_VALUE: {"selector": {"number": {"min": 0, "max": 100000, "mode": "box"}}},
        const.CONF_PRIORITY: {
            "selector": {"number": {"min": 0, "max": 1000, "step": 1, "mode": "box"}}
        },
    }
    schema: dict[Any, Any] = {}
    if with_name:
        schema[vol.Required(const.CONF_NAME)] = TextSelector()
    schema[vol.Required(const.CONF_MINERS)] = ObjectSelector(
        ObjectSelectorConfig(
            fields=fields, multiple=True, label_field=const.CONF_MINER, translation_key="miners"
        )
    )
    return vol.Schema(schema)


def miners_in_other_plans(hass: HomeAssistant, plan_id: str | None) -> set[str]:
    """Miners another plan already drives (two plans would undo each other)."""
    return {
        item.get(const.CONF_MINER)
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != plan_id and entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_PLAN
        for item in entry.options.get(const.CONF_MINERS, [])
    }


def check_miners(
    hass: HomeAssistant, items: object, errors: dict[str, str], *, plan_id: str | None = None
) -> list[dict[str, Any]]:
    """Normalise the miner list; an empty, duplicated or incomplete one is an error, and so
    is a miner another plan already drives."""
    known = {option["value"] for option in miner_options(hass)}
    taken = miners_in_other_plans(hass, plan_id)
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else []:
        miner, action = item.get(const.CONF_MINER), item.get(const.CONF_ACTION, "stop")
        if miner not in known or miner in seen:
            errors[const.CONF_MINERS] = "invalid_miners"
            return []
        if miner in taken:
            errors[const.CONF_MINERS] = "miner_in_other_plan"
            return []
        seen.add(miner)
        value = item.get(const.CONF_VALUE)
        if action != CurtailMode.STOP and (
            value is None or (action == CurtailMode.LIMIT_PERCENT and value > 100)
        ):
            errors[const.CONF_MINERS] = "invalid_miner_action"
            return []
        found.append(
            {
                const.CONF_MINER: miner,
                const.CONF_ACTION: action,
                const.CONF_VALUE: value,
                const.CONF_PRIORITY: int(item.get(const.CONF_PRIORITY, 100)),
            }
        )
    if not found:
        errors[const.CONF_MINERS] = "no_miners_selected"
    return found


def tou_schema() -> vol.Schema:
    band_fields: dict[str, Any] = {
        "label": {"required": True, "selector": {"text": {}}},
        "start": {"required": True, "selector": {"time": {}}},
        "end": {"required": True, "selector": {"time": {}}},
        "days": {
            "selector": {
                "select": {"options": list(_DAYS), "multiple": True, "translation_key": "days"}
            }
        },
        "months": {
            "selector": {"select": {"options": [str(m) for m in range(1, 13)], "multiple": True}}
        },
        "price": {"selector": {"number": {"min": 0, "max": 100000, "step": "any", "mode": "box"}}},
    }
    return vol.Schema(
        {
            vol.Required(const.CONF_TOU_MODE, default=TouMode.NONE): _select(
                [m.value for m in TouMode], "tou_mode"
            ),
            vol.Optional(const.CONF_BANDS): ObjectSelector(
                ObjectSelectorConfig(
                    fields=band_fields, multiple=True, label_field="label", translation_key="bands"
                )
            ),
            vol.Optional(const.CONF_PEAK_LABELS): TextSelector(TextSelectorConfig(multiple=True)),
            vol.Optional(const.CONF_URDB_JSON): TextSelector(TextSelectorConfig(multiline=True)),
            vol.Optional(const.CONF_URDB_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            vol.Optional(const.CONF_URDB_LABEL): TextSelector(),
        }
    )


def _bands(items: object) -> list[dict[str, Any]]:
    bands = []
    for item in items if isinstance(items, list) else []:
        band = {k: v for k, v in item.items() if v not in (None, "", [])}
        if "months" in band:
            band["months"] = [int(m) for m in band["months"]]
        bands.append(band)
    return bands


async def check_tou(
    hass: HomeAssistant, user_input: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The TOU options to store; the URDB rate is stored as read (fetched once, here)."""
    mode = TouMode(user_input[const.CONF_TOU_MODE])
    labels = [label.strip() for label in user_input.get(const.CONF_PEAK_LABELS) or [] if label]
    found: dict[str, Any] = {const.CONF_TOU_MODE: mode.value, const.CONF_PEAK_LABELS: labels}
    timezone = dt_util.get_default_time_zone()
    label = (user_input.get(const.CONF_URDB_LABEL) or "").strip() or None
    if mode is TouMode.BANDS:
        bands = _bands(user_input.get(const.CONF_BANDS))
        try:
            parse_bands(bands, timezone=timezone)
        except TariffError:
            errors[const.CONF_BANDS] = "invalid_bands"
        found[const.CONF_BANDS] = bands
    elif mode is TouMode.URDB_JSON:
        try:
            rate = json.loads(user_input.get(const.CONF_URDB_JSON) or "")
            parse_urdb(rate, timezone=timezone, label=label)
        except ValueError, TariffError:
            errors[const.CONF_URDB_JSON] = "invalid_urdb"
        else:
            found |= {const.CONF_URDB_RATE: rate, const.CONF_URDB_LABEL: label}
    elif mode is TouMode.URDB_FETCH:
        rate = await _fetch_urdb(hass, user_input, label, errors)
        if rate is not None:
            found |= {
                const.CONF_URDB_RATE: rate,
                const.CONF_URDB_LABEL: label,
                const.CONF_URDB_API_KEY: user_input.get(const.CONF_URDB_API_KEY),
            }
    return found


async def _fetch_urdb(
    hass: HomeAssistant, user_input: Mapping[str, Any], label: str | None, errors: dict[str, str]
) -> object | None:
    key = user_input.get(const.CONF_URDB_API_KEY)
    if not key or not label:
        errors["base"] = "urdb_key_and_label"
        return None
    params = {
        "version": "latest",
        "format": "json",
        "detail": "full",
        "api_key": key,
        "getpage": label,
    }
    try:
        async with async_get_clientsession(hass).get(
            const.URDB_URL, params=params, timeout=aiohttp.ClientTimeout(total=20)
        ) as response:
            status, text = response.status, await response.text()
    except TimeoutError, aiohttp.ClientError:
        errors["base"] = "urdb_cannot_connect"
        return None
    if status in _HTTP_FORBIDDEN:
        errors[const.CONF_URDB_API_KEY] = "urdb_invalid_api_key"
        return None
    try:
        rate: object = json.loads(text)
        parse_urdb(rate, timezone=dt_util.get_default_time_zone(), label=label)
    except ValueError, TariffError:
        errors[const.CONF_URDB_LABEL] = "urdb_not_found"
        return None
    return rate


def price_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(const.CONF_PRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain=["sensor", "number", "input_number"])
            ),
            vol.Required(const.CONF_PRICE_PRESET, default="none"): _select(
                list(const.ATTRIBUTE_PRESETS), "price_preset"
            ),
            vol.Required(const.CONF_THRESHOLD_MODE, default=ThresholdChoice.NONE): _select(
                [m.value for m in ThresholdChoice], "threshold_mode"
            ),
            vol.Optional(const.CONF_THRESHOLD): _number(low=-1e6),
            vol.Optional(const.CONF_HASHPRICE): _number(),
            vol.Optional(const.CONF_HASHPRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain=["sensor", "number", "input_number"])
            ),
            vol.Required(const.CONF_HYSTERESIS, default=0): _number(),
            vol.Required(const.CONF_ON_MISSING_PRICE, default=MissingPrice.RUN): _select(
                [m.value for m in MissingPrice], "on_missing_price"
            ),
        }
    )


def is_price(hass: HomeAssistant, entity_id: str) -> bool:
    """A number (or a feed down for now) in a currency per energy unit, or unitless."""
    state = hass.states.get(entity_id)
    if state is None:
        return False
    unit = state.attributes.get("unit_of_measurement")
    if unit is not None and not str(unit).endswith("Wh"):
        return False
    return state_number(state) is not None or state.state in ("unknown", "unavailable")


def check_price(
    hass: HomeAssistant, user_input: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    found = dict(user_input)
    entity_id = found.get(const.CONF_PRICE_ENTITY)
    if entity_id and not is_price(hass, entity_id):
        errors[const.CONF_PRICE_ENTITY] = "not_a_price"
    mode = ThresholdChoice(found[const.CONF_THRESHOLD_MODE])
    if mode is ThresholdChoice.FIXED and found.get(const.CONF_THRESHOLD) is None:
        errors[const.CONF_THRESHOLD] = "threshold_required"
    if (
        mode is ThresholdChoice.BREAK_EVEN
        and found.get(const.CONF_HASHPRICE) is None
        and not found.get(const.CONF_HASHPRICE_ENTITY)
    ):
        errors[const.CONF_HASHPRICE] = "hashprice_required"
    return found


def dr_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(const.CONF_CALENDARS): EntitySelector(
                EntitySelectorConfig(domain="calendar", multiple=True)
            ),
            vol.Optional(const.CONF_CALENDAR_MATCH): TextSelector(),
            vol.Optional(const.CONF_DR_ENTITIES): EntitySelector(
                EntitySelectorConfig(
                    domain=["binary_sensor", "input_boolean", "switch"], multiple=True
                )
            ),
            vol.Optional(const.CONF_VTN_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            vol.Optional(const.CONF_VTN_CLIENT_ID): TextSelector(),
            vol.Optional(const.CONF_VTN_CLIENT_SECRET): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            vol.Optional(const.CONF_VTN_PROGRAM): TextSelector(),
        }
    )


async def check_dr(
    hass: HomeAssistant, user_input: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """DR options; a VTN is asked for its programs with the credentials given."""
    found = {k: v for k, v in user_input.items() if v not in (None, "")}
    if bool(found.get(const.CONF_VTN_CLIENT_ID)) != bool(found.get(const.CONF_VTN_CLIENT_SECRET)):
        errors[const.CONF_VTN_CLIENT_SECRET] = "vtn_credentials_pair"
        return found
    config = vtn_config(found)
    if config is None:
        return found
    try:
        programs = await VenClient(async_get_clientsession(hass), config).programs()
    except OpenAdrAuthError:
        errors["base"] = "vtn_invalid_auth"
    except OpenAdrConnectionError:
        errors[const.CONF_VTN_URL] = "vtn_cannot_connect"
    except OpenAdrError:
        errors[const.CONF_VTN_URL] = "vtn_error"
    else:
        if config.programs and not programs:
            errors[const.CONF_VTN_PROGRAM] = "vtn_program_not_found"
    return found


def safety_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(const.CONF_MIN_ON, default=5): _number("min", high=1440),
            vol.Required(const.CONF_MIN_OFF, default=5): _number("min", high=1440),
            vol.Required(const.CONF_STAGGER, default=10): _number("s", high=3600),
            vol.Required(const.CONF_MAX_LENGTH, default=240): _number("min", high=10080),
            vol.Required(const.CONF_OBSERVE_ONLY, default=False): BooleanSelector(),
        }
    )


def check_safety(user_input: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    found = dict(user_input)
    max_length = float(found[const.CONF_MAX_LENGTH] or 0)
    if 0 < max_length < float(found[const.CONF_MIN_OFF]):
        errors[const.CONF_MAX_LENGTH] = "max_length_below_min_off"
    return found
