"""The plan forms: their shared pieces, the price, demand-response and safety forms, and
the checks behind each error a user can see. (Miners: form_miners.py; time of use:
form_tou.py.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import math
import re
from typing import Any
import unicodedata

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.generated.currencies import ACTIVE_CURRENCIES
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    ObjectSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from ..const import DOMAIN
from ..curtailment import (
    MissingPrice,
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    PricePreset,
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
from .price_actions import ACTION_PRESETS, PRICE_ACTIONS

# What a form stores is bounded: a text (a name, a label, a time, a day, a band's price).
MAX_NAME_LENGTH = 100
MAX_TEXT_LENGTH = 32

PRICE_DOMAINS = ["sensor", "number", "input_number"]
# A price is money per energy: "EUR/kWh", "€/kWh", "USD/MWh", "ct/kWh". Carbon intensity
# ("gCO2eq/kWh") is per energy too, so the money part is checked: an ISO 4217 code, a text
# with a currency sign, or a currency's everyday name or subunit.
_PER_ENERGY = re.compile(r"^\s*(?P<money>\S.*?)\s*/\s*[kM]?Wh\s*$")
_MONEY_WORDS = frozenset(
    {"c", "ct", "cent", "cents", "p", "kr", "öre", "øre", "snt", "gr", "zł", "kč", "ft", "lei"}
)


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


async def async_selector_texts(hass: HomeAssistant) -> Mapping[str, str]:
    """The integration's selector translations in the configured language.

    A select inside an object selector's dialog shows its options' labels as sent: the
    dialog's form has no way to translate them (only the flow's own form has), so they are
    translated here."""
    return await async_get_translations(hass, hass.config.language, "selector", [DOMAIN])


def labelled(texts: Mapping[str, str], key: str, values: Iterable[str]) -> list[SelectOptionDict]:
    """Options of the select translated under `key`, in the order given."""
    prefix = f"component.{DOMAIN}.selector.{key}.options."
    return [
        SelectOptionDict(value=value, label=texts.get(prefix + value, value)) for value in values
    ]


def check_name(name: str, errors: dict[str, str]) -> None:
    if not name.strip():
        errors[const.CONF_NAME] = "name_required"
    elif len(name.strip()) > MAX_NAME_LENGTH:
        errors[const.CONF_NAME] = "too_long"


def is_price_unit(unit: object) -> bool:
    """A currency per kWh, MWh or Wh."""
    match = _PER_ENERGY.match(unit) if isinstance(unit, str) else None
    if match is None:
        return False
    money = match["money"]
    return (
        money.upper() in ACTIVE_CURRENCIES
        or money.casefold() in _MONEY_WORDS
        or any(unicodedata.category(char) == "Sc" for char in money)
    )


def price_entities(hass: HomeAssistant, chosen: Iterable[object]) -> list[str]:
    """What the price picker offers: the entities whose unit is a price, and those already
    chosen (whatever their unit now, so the form shows them)."""
    found = {
        state.entity_id
        for state in hass.states.async_all(PRICE_DOMAINS)
        if is_price_unit(state.attributes.get("unit_of_measurement"))
    }
    found.update(entity_id for entity_id in chosen if isinstance(entity_id, str) and entity_id)
    return sorted(found)


def price_schema(hass: HomeAssistant, chosen: Iterable[object] = ()) -> vol.Schema:
    """The price form; the picker is filtered by unit, not device class: the core Nord Pool
    integration's price sensors have none."""
    return vol.Schema(
        {
            vol.Optional(const.CONF_PRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(
                    domain=PRICE_DOMAINS, include_entities=price_entities(hass, chosen)
                )
            ),
            vol.Required(const.CONF_PRICE_PRESET, default="none"): _select(
                [*const.ATTRIBUTE_PRESETS, *ACTION_PRESETS], "price_preset"
            ),
            vol.Required(const.CONF_THRESHOLD_MODE, default=ThresholdChoice.NONE): _select(
                [m.value for m in ThresholdChoice], "threshold_mode"
            ),
            vol.Optional(const.CONF_THRESHOLD): _number(low=-1e6),
            vol.Optional(const.CONF_HASHPRICE): _number(),
            vol.Optional(const.CONF_HASHPRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain=PRICE_DOMAINS)
            ),
            vol.Required(const.CONF_HYSTERESIS, default=0): _number(),
            vol.Required(const.CONF_ON_MISSING_PRICE, default=MissingPrice.RUN): _select(
                [m.value for m in MissingPrice], "on_missing_price"
            ),
            vol.Optional(PRICE_ACTION_SECTION): section(
                price_action_schema(hass), {"collapsed": True}
            ),
        }
    )


# The price action's settings: one collapsed section of the price form, stored flat.
PRICE_ACTION_SECTION = "price_action"
PRICE_ACTION_KEYS = (
    const.CONF_PRICE_ACTION_ENTRY,
    const.CONF_PRICE_ACTION_AREA,
    const.CONF_PRICE_ACTION_CURRENCY,
    const.CONF_PRICE_ACTION_VAT,
)
NORD_POOL_CURRENCIES = ["DKK", "EUR", "NOK", "PLN", "SEK"]


def price_action_schema(hass: HomeAssistant) -> vol.Schema:
    """Which of the integration's entries to ask, for which area or home, in which currency
    (Nord Pool) and with VAT or not (EnergyZero)."""
    entries = [
        SelectOptionDict(value=entry.entry_id, label=f"{action.title}: {entry.title}")
        for action in PRICE_ACTIONS.values()
        for entry in hass.config_entries.async_entries(action.domain)
    ]
    fields: dict[Any, Any] = {}
    if entries:
        fields[vol.Optional(const.CONF_PRICE_ACTION_ENTRY)] = SelectSelector(
            SelectSelectorConfig(options=entries, mode=SelectSelectorMode.DROPDOWN)
        )
    fields[vol.Optional(const.CONF_PRICE_ACTION_AREA)] = TextSelector()
    fields[vol.Optional(const.CONF_PRICE_ACTION_CURRENCY)] = SelectSelector(
        SelectSelectorConfig(options=NORD_POOL_CURRENCIES, mode=SelectSelectorMode.DROPDOWN)
    )
    fields[vol.Optional(const.CONF_PRICE_ACTION_VAT, default=True)] = BooleanSelector()
    return vol.Schema(fields)


def shown_price(shown: Mapping[str, Any]) -> dict[str, Any]:
    """The price form's values with the stored (flat) price action in its section."""
    nested = {key: shown[key] for key in PRICE_ACTION_KEYS if key in shown}
    return {**shown, PRICE_ACTION_SECTION: {**nested, **shown.get(PRICE_ACTION_SECTION, {})}}


def is_price(hass: HomeAssistant, entity_id: str) -> bool:
    """A number (or a feed down for now) in a currency per energy unit, or unitless."""
    state = hass.states.get(entity_id)
    if state is None:
        return False
    unit = state.attributes.get("unit_of_measurement")
    if unit is not None and not is_price_unit(unit):
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
    placeholders: dict[str, str],
    *,
    stored: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The price options to store (`stored`: what the form was filled with).

    A threshold is compared with the price entity's state: without one, "curtail when the
    price is unavailable" curtailed at once, as if the price were above it. A threshold
    typed in while price curtailment is off would be kept, doing nothing.
    """
    found = dict(user_input)
    action_settings = found.pop(PRICE_ACTION_SECTION, None)
    if isinstance(action_settings, Mapping):
        found.update({k: v for k, v in action_settings.items() if k in PRICE_ACTION_KEYS})
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
    preset = found[const.CONF_PRICE_PRESET]
    action = PRICE_ACTIONS[PricePreset(preset)] if preset in ACTION_PRESETS else None
    if action is None:
        for key in PRICE_ACTION_KEYS:
            found.pop(key, None)
    elif not hass.services.has_service(action.domain, action.service):
        # The action is the feed: without the integration set up, there are no prices.
        errors[const.CONF_PRICE_PRESET] = "price_action_missing"
        placeholders["integration"] = action.title
    if mode is not ThresholdChoice.NONE and not entity_id and action is None:
        # An action's prices include the current hour's: it needs no entity.
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
