"""The plan's time-of-use form: bands entered in it, or a URDB rate pasted or fetched."""

from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    ObjectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..curtailment import (
    TariffError,
    parse_bands,
    parse_urdb,
)
from ..curtailment.errors import (
    UrdbError,
    UrdbExpiredError,
    UrdbPriceError,
    UrdbTooDeepError,
    UrdbTooLargeError,
)
from ..curtailment.urdb import load_urdb_json
from . import const
from .const import TouMode
from .form import MAX_TEXT_LENGTH, _ObjectsSelector, _select

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How many bands and peak labels a plan stores.
MAX_BANDS = 48
MAX_PEAK_LABELS = 10
_BAND_FIELDS = ("label", "start", "end", "days", "months", "price")
_URDB_ERRORS: dict[type[UrdbError], str] = {
    UrdbExpiredError: "urdb_expired",
    UrdbPriceError: "urdb_invalid_price",
    UrdbTooDeepError: "urdb_too_deep",
    UrdbTooLargeError: "urdb_too_large",
}
_HTTP_FORBIDDEN = (401, 403)


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
            vol.Optional(const.CONF_BANDS): _ObjectsSelector(
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
            vol.Optional(const.CONF_HOLIDAYS): EntitySelector(
                EntitySelectorConfig(domain="calendar")
            ),
        }
    )


def _bands(items: object) -> list[dict[str, Any]] | None:
    """The bands to store, each cut to its fields; None for what cannot be bands or exceeds
    the bounds."""
    if not isinstance(items, list) or len(items) > MAX_BANDS:
        return None
    bands = []
    for item in items:
        if not isinstance(item, dict):
            return None
        band = {k: item[k] for k in _BAND_FIELDS if item.get(k) not in (None, "", [])}
        days, months = band.get("days", []), band.get("months", [])
        if not (isinstance(days, list) and len(days) <= 7):
            return None
        if not (isinstance(months, list) and len(months) <= 12 and all(map(_month, months))):
            return None
        texts = [*(band.get(k) for k in ("label", "start", "end", "price")), *days]
        if any(isinstance(text, str) and len(text) > MAX_TEXT_LENGTH for text in texts):
            return None
        if months:
            band["months"] = [int(m) for m in months]
        bands.append(band)
    return bands


def _month(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().isdigit() and len(value.strip()) <= 2
    return isinstance(value, int) and not isinstance(value, bool)


def _peak_labels(user_input: Mapping[str, Any], errors: dict[str, str]) -> list[str]:
    labels = [label.strip() for label in user_input.get(const.CONF_PEAK_LABELS) or [] if label]
    if len(labels) > MAX_PEAK_LABELS or any(len(label) > MAX_TEXT_LENGTH for label in labels):
        errors[const.CONF_PEAK_LABELS] = "invalid_peak_labels"
    return labels


def tou_without_source(user_input: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Bands or a URDB rate typed in while the source is none: they would be dropped without
    a word. The form shows what is stored again, so turning the source off with the stored
    ones still in it is no error (it drops them, as asked)."""
    if user_input.get(const.CONF_TOU_MODE) != TouMode.NONE:
        return False
    bands = user_input.get(const.CONF_BANDS)
    if bands and (const.CONF_BANDS not in stored or _bands(bands) != stored[const.CONF_BANDS]):
        return True
    text = (user_input.get(const.CONF_URDB_JSON) or "").strip()
    rate = stored.get(const.CONF_URDB_RATE)
    return bool(text) and (rate is None or text != json.dumps(rate))


def _is_calendar(hass: HomeAssistant, entity_id: object) -> bool:
    return (
        isinstance(entity_id, str)
        and entity_id.startswith("calendar.")
        and hass.states.get(entity_id) is not None
    )


async def check_tou(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> dict[str, Any]:
    """The TOU options to store; of a URDB rate (fetched once, here) only what the plan uses.
    An error's details (an expired rate's dates) go into `placeholders`."""
    mode = TouMode(user_input[const.CONF_TOU_MODE])
    labels = _peak_labels(user_input, errors)
    found: dict[str, Any] = {const.CONF_TOU_MODE: mode.value, const.CONF_PEAK_LABELS: labels}
    timezone = dt_util.get_default_time_zone()
    label = (user_input.get(const.CONF_URDB_LABEL) or "").strip() or None
    if holidays := user_input.get(const.CONF_HOLIDAYS):
        if not _is_calendar(hass, holidays):
            errors[const.CONF_HOLIDAYS] = "not_a_calendar"
        elif mode is not TouMode.NONE:
            found[const.CONF_HOLIDAYS] = holidays
    if mode is TouMode.BANDS:
        bands = _bands(user_input.get(const.CONF_BANDS))
        try:
            parse_bands(bands, timezone=timezone)
        except TariffError:
            errors[const.CONF_BANDS] = "invalid_bands"
        found[const.CONF_BANDS] = bands or []
    elif mode is TouMode.URDB_JSON:
        text = user_input.get(const.CONF_URDB_JSON) or ""
        rate = await _read_urdb(
            hass,
            text,
            label,
            errors,
            placeholders,
            field=const.CONF_URDB_JSON,
            unreadable="invalid_urdb",
        )
        if rate is not None:
            found |= {const.CONF_URDB_RATE: rate, const.CONF_URDB_LABEL: label}
    elif mode is TouMode.URDB_FETCH:
        rate = await _fetch_urdb(hass, user_input, label, errors, placeholders)
        if rate is not None:
            found |= {
                const.CONF_URDB_RATE: rate,
                const.CONF_URDB_LABEL: label,
                const.CONF_URDB_API_KEY: user_input.get(const.CONF_URDB_API_KEY),
            }
    return found


async def _read_urdb(
    hass: HomeAssistant,
    text: str,
    label: str | None,
    errors: dict[str, str],
    placeholders: dict[str, str],
    *,
    field: str,
    unreadable: str,
) -> dict[str, Any] | None:
    """The part of the rate in `text` a plan stores (what the engine uses), or `None` with the
    error on `field`: `unreadable` when it is no rate, a more precise key when one says why."""
    try:
        data = await hass.async_add_executor_job(load_urdb_json, text)
        tariff = parse_urdb(
            data, timezone=dt_util.get_default_time_zone(), label=label, now=dt_util.utcnow()
        )
    except UrdbError as err:
        errors[field] = next(
            (key for kind, key in _URDB_ERRORS.items() if isinstance(err, kind)), unreadable
        )
        if isinstance(err, UrdbExpiredError):
            placeholders["urdb_start"] = err.start.date().isoformat() if err.start else "?"
            placeholders["urdb_end"] = err.end.date().isoformat()
        return None
    return tariff.as_urdb()


async def _fetch_urdb(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    label: str | None,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> dict[str, Any] | None:
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
            status, text = response.status, await response.text(errors="replace")
    except TimeoutError, aiohttp.ClientError:
        errors["base"] = "urdb_cannot_connect"
        return None
    if status in _HTTP_FORBIDDEN:
        errors[const.CONF_URDB_API_KEY] = "urdb_invalid_api_key"
        return None
    return await _read_urdb(
        hass,
        text,
        label,
        errors,
        placeholders,
        field=const.CONF_URDB_LABEL,
        unreadable="urdb_not_found",
    )
