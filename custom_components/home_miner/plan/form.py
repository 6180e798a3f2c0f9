"""The plan forms: their schemas and the checks behind each error a user can see."""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

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
import voluptuous as vol

from ..const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_MINER, ENTRY_TYPE_PLAN
from ..curtailment import (
    CurtailMode,
    MissingPrice,
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    VenClient,
)
from ..curtailment.errors import (
    OpenAdrForeignTokenUrlError,
    OpenAdrInsecureUrlError,
)
from . import const
from .config import vtn_config
from .const import ThresholdChoice
from .feeds import state_number

# What a form stores is bounded: a text (a name, a label, a time, a day, a band's price).
MAX_NAME_LENGTH = 100
MAX_TEXT_LENGTH = 32


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


class _ObjectsSelector(ObjectSelector):
    """A list of objects; Home Assistant's own selector fails with a TypeError (HTTP 500) on
    an item that is no object, where it should refuse it like any other bad value."""

    def __call__(self, data: Any) -> Any:
        if isinstance(data, list) and not all(isinstance(item, dict) for item in data):
            raise vol.Invalid("Value should be a list of objects")
        return super().__call__(data)


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
    schema[vol.Required(const.CONF_MINERS)] = _ObjectsSelector(
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


def check_name(name: str, errors: dict[str, str]) -> None:
    if not name.strip():
        errors[const.CONF_NAME] = "name_required"
    elif len(name.strip()) > MAX_NAME_LENGTH:
        errors[const.CONF_NAME] = "too_long"


def _number_in(value: object, low: float, high: float) -> bool:
    """A finite number within bounds. An object selector checks its fields but hands them
    on as sent: "nan" passes a number field, and stays a string."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def _miner_action_ok(item: Mapping[str, Any]) -> bool:
    """Stop, or a limit with its value (a percentage at most 100)."""
    action, value = item.get(const.CONF_ACTION, CurtailMode.STOP), item.get(const.CONF_VALUE)
    if action not in tuple(CurtailMode):
        return False
    if value is None:
        return bool(action == CurtailMode.STOP)
    return _number_in(value, 0, 100 if action == CurtailMode.LIMIT_PERCENT else 100000)


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
        miner = item.get(const.CONF_MINER) if isinstance(item, dict) else None
        if not isinstance(miner, str) or miner not in known or miner in seen:
            errors[const.CONF_MINERS] = "invalid_miners"
            return []
        if miner in taken:
            errors[const.CONF_MINERS] = "miner_in_other_plan"
            return []
        seen.add(miner)
        priority = item.get(const.CONF_PRIORITY, 100)
        if not _miner_action_ok(item) or not _number_in(priority, 0, 1000):
            errors[const.CONF_MINERS] = "invalid_miner_action"
            return []
        found.append(
            {
                const.CONF_MINER: miner,
                const.CONF_ACTION: item.get(const.CONF_ACTION, CurtailMode.STOP),
                const.CONF_VALUE: item.get(const.CONF_VALUE),
                const.CONF_PRIORITY: int(priority),
            }
        )
    if not found:
        errors[const.CONF_MINERS] = "no_miners_selected"
    return found


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


def _is_number(hass: HomeAssistant, entity_id: str) -> bool:
    state = hass.states.get(entity_id)
    return state is not None and (
        state_number(state) is not None or state.state in ("unknown", "unavailable")
    )


def check_price(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    errors: dict[str, str],
    *,
    stored: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The price options to store (`stored`: what the form was filled with).

    A threshold is compared with the price entity's state: without one, "curtail when the
    price is unavailable" curtailed at once, as if the price were above it. A threshold
    typed in while price curtailment is off would be kept, doing nothing.
    """
    found = dict(user_input)
    for key in (const.CONF_THRESHOLD, const.CONF_HASHPRICE, const.CONF_HYSTERESIS):
        # The selectors check the range, and NaN is in no range.
        if key in found and not math.isfinite(found[key]):
            errors[key] = "invalid_number"
    entity_id = found.get(const.CONF_PRICE_ENTITY)
    if entity_id and not is_price(hass, entity_id):
        errors[const.CONF_PRICE_ENTITY] = "not_a_price"
    hashprice_entity = found.get(const.CONF_HASHPRICE_ENTITY)
    if hashprice_entity and not _is_number(hass, hashprice_entity):
        errors[const.CONF_HASHPRICE_ENTITY] = "not_a_hashprice"
    mode = ThresholdChoice(found[const.CONF_THRESHOLD_MODE])
    if mode is not ThresholdChoice.NONE and not entity_id:
        errors[const.CONF_PRICE_ENTITY] = "price_entity_required"
    if mode is ThresholdChoice.FIXED and found.get(const.CONF_THRESHOLD) is None:
        errors[const.CONF_THRESHOLD] = "threshold_required"
    if (
        mode is ThresholdChoice.BREAK_EVEN
        and found.get(const.CONF_HASHPRICE) is None
        and not hashprice_entity
    ):
        errors[const.CONF_HASHPRICE] = "hashprice_required"
    if mode is ThresholdChoice.NONE:
        threshold = found.pop(const.CONF_THRESHOLD, None)
        if threshold is not None and threshold != (stored or {}).get(const.CONF_THRESHOLD):
            errors[const.CONF_THRESHOLD_MODE] = "threshold_mode_required"
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
            vol.Optional(const.CONF_VTN_TOKEN_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
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
    except OpenAdrInsecureUrlError as err:
        token_url = found.get(const.CONF_VTN_TOKEN_URL)
        field = const.CONF_VTN_TOKEN_URL if err.url == token_url else const.CONF_VTN_URL
        errors[field] = "vtn_insecure_url"
    except OpenAdrForeignTokenUrlError:
        errors[const.CONF_VTN_TOKEN_URL] = "vtn_foreign_token_url"
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
    for key, value in found.items():
        # The selectors check the range, and NaN is in no range.
        if isinstance(value, float) and not math.isfinite(value):
            errors[key] = "invalid_number"
    if errors:
        return found
    max_length = float(found[const.CONF_MAX_LENGTH] or 0)
    if 0 < max_length < 1:
        # A limit this short rounds to none at all, which the engine refuses.
        errors[const.CONF_MAX_LENGTH] = "max_length_too_short"
    elif 0 < max_length < float(found[const.CONF_MIN_OFF]):
        errors[const.CONF_MAX_LENGTH] = "max_length_below_min_off"
    return found
