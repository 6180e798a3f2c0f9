"""The plan's time-of-use forms: where the periods come from, then that source's own form
(bands entered in it, a URDB rate pasted, or one fetched from OpenEI)."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    ObjectSelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
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
from .form import MAX_TEXT_LENGTH, _ObjectsSelector, labelled

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = tuple(str(m) for m in range(1, 13))
# How many bands and peak labels a plan stores.
MAX_BANDS = 48
MAX_PEAK_LABELS = 10
_BAND_FIELDS = ("label", "start", "end", "days", "months", "price")
# A time of day as a person writes it: 17:00, 7:30; seconds are read too (stored plans have
# them, from the time selector the form had before).
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_URDB_ERRORS: dict[type[UrdbError], str] = {
    UrdbExpiredError: "urdb_expired",
    UrdbPriceError: "urdb_invalid_price",
    UrdbTooDeepError: "urdb_too_deep",
    UrdbTooLargeError: "urdb_too_large",
}
_HTTP_FORBIDDEN = (401, 403)
# What a time-of-use source stores; choosing another source drops the rest.
TOU_KEYS = (
    const.CONF_TOU_MODE,
    const.CONF_BANDS,
    const.CONF_PEAK_LABELS,
    const.CONF_URDB_RATE,
    const.CONF_URDB_LABEL,
    const.CONF_URDB_API_KEY,
    const.CONF_HOLIDAYS,
)


def source_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(const.CONF_TOU_MODE, default=TouMode.NONE): SelectSelector(
                SelectSelectorConfig(
                    options=[m.value for m in TouMode],
                    translation_key="tou_mode",
                    mode=SelectSelectorMode.LIST,
                )
            ),
        }
    )


def _bands_fields(texts: Mapping[str, str]) -> dict[str, Any]:
    """A band's fields. The selects carry their labels: the dialog that edits a band cannot
    translate them. Days and months are checkboxes, which keep the week's and the year's
    order (the dropdown's chips follow the order they were picked in)."""
    return {
        "label": {"required": True, "selector": {"text": {}}},
        "start": {"required": True, "selector": {"text": {}}},
        "end": {"required": True, "selector": {"text": {}}},
        "days": {
            "selector": {
                "select": {
                    "options": labelled(texts, "days", _DAYS),
                    "multiple": True,
                    "mode": "list",
                    "translation_key": "days",
                }
            }
        },
        "months": {
            "selector": {
                "select": {
                    "options": labelled(texts, "months", _MONTHS),
                    "multiple": True,
                    "mode": "list",
                    "translation_key": "months",
                }
            }
        },
        "price": {"selector": {"number": {"min": 0, "max": 100000, "step": "any", "mode": "box"}}},
    }


def _tariff_fields() -> dict[Any, Any]:
    """What every source has: which of its labels are peaks, and where holidays come from."""
    return {
        vol.Optional(const.CONF_PEAK_LABELS): TextSelector(TextSelectorConfig(multiple=True)),
        vol.Optional(const.CONF_HOLIDAYS): EntitySelector(EntitySelectorConfig(domain="calendar")),
    }


def source_step_schema(mode: TouMode, texts: Mapping[str, str]) -> vol.Schema:
    """The form of one source: only the fields it needs."""
    fields: dict[Any, Any]
    if mode is TouMode.BANDS:
        fields = {
            vol.Optional(const.CONF_BANDS): _ObjectsSelector(
                ObjectSelectorConfig(
                    fields=_bands_fields(texts),
                    multiple=True,
                    label_field="label",
                    translation_key="bands",
                )
            )
        }
    elif mode is TouMode.URDB_JSON:
        fields = {
            vol.Optional(const.CONF_URDB_JSON): TextSelector(TextSelectorConfig(multiline=True)),
            vol.Optional(const.CONF_URDB_LABEL): TextSelector(),
        }
    else:
        fields = {
            vol.Optional(const.CONF_URDB_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            vol.Optional(const.CONF_URDB_LABEL): TextSelector(),
        }
    return vol.Schema(fields | _tariff_fields())


def clock(value: object) -> str | None:
    """A time of day as stored: "HH:MM" ("HH:MM:SS" where seconds are given), "24:00" for an
    end at midnight; None for anything else."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hour, minute, second) != (24, 0, 0) and not (hour < 24 and minute < 60 and second < 60):
        return None
    return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if match[3] else "")


def shown_bands(bands: object) -> object:
    """Stored bands as their form takes them back: months as the select's "1".."12", and
    times as a person writes them (stored plans have seconds)."""
    if not isinstance(bands, list):
        return bands
    shown = []
    for stored in bands:
        band = dict(stored) if isinstance(stored, dict) else stored
        if isinstance(band, dict):
            if isinstance(band.get("months"), list):
                band["months"] = [str(m) for m in band["months"]]
            for key in ("start", "end"):
                written = clock(band.get(key))
                if written is not None:
                    band[key] = written.removesuffix(":00") if len(written) == 8 else written
        shown.append(band)
    return shown


def _bands(items: object) -> list[dict[str, Any]] | None:
    """The bands to store, each cut to its fields, its days in the week's order and its
    months in the year's; None for what cannot be bands or exceeds the bounds."""
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
        if days and all(day in _DAYS for day in days):
            band["days"] = sorted(set(days), key=_DAYS.index)
        if months:
            band["months"] = sorted({int(m) for m in months})
        bands.append(band)
    return bands


def _check_times(
    bands: list[dict[str, Any]], errors: dict[str, str], placeholders: dict[str, str]
) -> None:
    """Each band's start and end written as a time of day (stored as `clock` gives it)."""
    for band in bands:
        for key in ("start", "end"):
            text = clock(band.get(key))
            if text is None:
                errors[const.CONF_BANDS] = "invalid_band_time"
                placeholders |= {"band": str(band.get("label", "")), "time": str(band.get(key))}
                return
            band[key] = text


def _month(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().isdigit() and len(value.strip()) <= 2
    return isinstance(value, int) and not isinstance(value, bool)


def _peak_labels(user_input: Mapping[str, Any], errors: dict[str, str]) -> list[str]:
    labels = [label.strip() for label in user_input.get(const.CONF_PEAK_LABELS) or [] if label]
    if len(labels) > MAX_PEAK_LABELS or any(len(label) > MAX_TEXT_LENGTH for label in labels):
        errors[const.CONF_PEAK_LABELS] = "invalid_peak_labels"
    return labels


def _is_calendar(hass: HomeAssistant, entity_id: object) -> bool:
    return (
        isinstance(entity_id, str)
        and entity_id.startswith("calendar.")
        and hass.states.get(entity_id) is not None
    )


async def check_tou(
    hass: HomeAssistant,
    mode: TouMode,
    user_input: Mapping[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> dict[str, Any]:
    """The options to store of the source `mode` (its form's input); of a URDB rate (fetched
    once, here) only what the plan uses. An error's details (an expired rate's dates, a band
    time that is none) go into `placeholders`."""
    if mode is TouMode.NONE:
        return {const.CONF_TOU_MODE: mode.value}
    labels = _peak_labels(user_input, errors)
    found: dict[str, Any] = {const.CONF_TOU_MODE: mode.value, const.CONF_PEAK_LABELS: labels}
    timezone = dt_util.get_default_time_zone()
    label = (user_input.get(const.CONF_URDB_LABEL) or "").strip() or None
    if holidays := user_input.get(const.CONF_HOLIDAYS):
        if not _is_calendar(hass, holidays):
            errors[const.CONF_HOLIDAYS] = "not_a_calendar"
        else:
            found[const.CONF_HOLIDAYS] = holidays
    if mode is TouMode.BANDS:
        bands = _bands(user_input.get(const.CONF_BANDS))
        if bands is not None:
            _check_times(bands, errors, placeholders)
        if const.CONF_BANDS not in errors:
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
