"""The plan's miners form: the miners free to join, named as a person knows them, and what
curtailing means for each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    ObjectSelectorConfig,
    ObjectSelectorField,
    SelectOptionDict,
    TextSelector,
)
import voluptuous as vol

from ..const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_MINER, ENTRY_TYPE_PLAN
from ..curtailment import CurtailMode
from . import const
from .form import _ObjectsSelector, labelled

DEFAULT_PRIORITY = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerChoice:
    """A miner as the form shows it."""

    unique_id: str
    name: str
    # The title of the other plan that drives it (two plans would undo each other).
    plan: str | None


def _items(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def miner_choices(hass: HomeAssistant, plan_id: str | None) -> list[MinerChoice]:
    """Every miner by its name, sorted; where two share a name, with model and address.

    `plan_id`: the plan being edited, whose own miners are free to stay in it."""
    entries = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_ENTRY_TYPE, ENTRY_TYPE_MINER) == ENTRY_TYPE_MINER
        and entry.unique_id is not None
    ]
    plans = {
        item.get(const.CONF_MINER): entry.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != plan_id and entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_PLAN
        for item in _items(entry.options.get(const.CONF_MINERS))
    }
    titles = Counter(entry.title for entry in entries)
    devices = dr.async_get(hass)
    names: dict[str, str] = {}
    for entry in entries:
        assert entry.unique_id is not None
        name = entry.title
        if titles[name] > 1:
            models = [d.model for d in dr.async_entries_for_config_entry(devices, entry.entry_id)]
            details = [d for d in (*models[:1], entry.data.get(CONF_HOST)) if d]
            name = f"{name} ({', '.join(details)})" if details else name
        names[entry.unique_id] = name
    # Still the same (one miner's entry moved to another's address): the MAC tells them apart.
    repeated = Counter(names.values())
    return sorted(
        (
            MinerChoice(
                unique_id=mac,
                name=name if repeated[name] == 1 else f"{name} {mac}",
                plan=plans.get(mac),
            )
            for mac, name in names.items()
        ),
        key=lambda choice: choice.name.casefold(),
    )


class _MinerRows(_ObjectsSelector):
    """The miner rows. A row's miner is checked by `check_miners` rather than by its select:
    that error names the miner and the plan it is in, and a client of the flow API may name
    a miner by the id a plan stores (its MAC) as well as by the name the form shows."""

    def __call__(self, data: Any) -> Any:
        fields: dict[str, ObjectSelectorField] = {
            **self.config["fields"],
            const.CONF_MINER: ObjectSelectorField(required=True, selector=TextSelector()),
        }
        _ObjectsSelector(ObjectSelectorConfig(fields=fields, multiple=True))(data)
        return data


def miners_schema(
    choices: list[MinerChoice], texts: Mapping[str, str], *, with_name: bool
) -> vol.Schema:
    """The plan's name and miners. A miner is offered by its name (the row shows the value of
    its select, and a person knows a miner by its name), and only while no other plan has it.
    """
    free = [SelectOptionDict(value=c.name, label=c.name) for c in choices if c.plan is None]
    fields: dict[str, Any] = {
        const.CONF_MINER: {
            "required": True,
            "selector": {"select": {"options": free, "mode": "dropdown"}},
        },
        const.CONF_ACTION: {
            "required": True,
            "default": CurtailMode.STOP.value,
            "selector": {
                "select": {
                    "options": labelled(texts, "action", [m.value for m in CurtailMode]),
                    "translation_key": "action",
                    "mode": "list",
                }
            },
        },
        const.CONF_VALUE: {"selector": {"number": {"min": 0, "max": 100000, "mode": "box"}}},
        const.CONF_PRIORITY: {
            "default": DEFAULT_PRIORITY,
            "selector": {"number": {"min": 0, "max": 1000, "step": 1, "mode": "box"}},
        },
    }
    schema: dict[Any, Any] = {}
    if with_name:
        schema[vol.Required(const.CONF_NAME)] = TextSelector()
    schema[vol.Required(const.CONF_MINERS)] = _MinerRows(
        ObjectSelectorConfig(
            fields=fields, multiple=True, label_field=const.CONF_MINER, translation_key="miners"
        )
    )
    return vol.Schema(schema)


def shown_rows(choices: list[MinerChoice], rows: object) -> list[dict[str, Any]]:
    """Stored rows (or rows sent back) as the form shows them: each miner by its name, and
    no empty value (a stopped miner's is stored as None, which a number field refuses)."""
    names = {choice.unique_id: choice.name for choice in choices}
    shown = []
    for row in _items(rows):
        miner = row.get(const.CONF_MINER)
        shown_row = {
            **row,
            const.CONF_MINER: names.get(miner, miner) if isinstance(miner, str) else miner,
        }
        shown.append({key: value for key, value in shown_row.items() if value is not None})
    return shown


def first_rows(choices: list[MinerChoice]) -> list[dict[str, Any]]:
    """A new plan starts with every miner free to join, each stopped when curtailed: the
    usual plan, and a person removes a row more easily than they fill one in."""
    return [
        {const.CONF_MINER: c.name, const.CONF_ACTION: CurtailMode.STOP.value}
        for c in choices
        if c.plan is None
    ]


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
    choices: list[MinerChoice],
    items: object,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> list[dict[str, Any]]:
    """The rows to store, each naming its miner by MAC. An empty, duplicated or incomplete
    list is an error, and so is a miner another plan drives (named, with that plan, in
    `placeholders`)."""
    known = {c.unique_id: c for c in choices} | {c.name: c for c in choices}
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else []:
        miner = item.get(const.CONF_MINER) if isinstance(item, dict) else None
        choice = known.get(miner) if isinstance(miner, str) else None
        if choice is None or choice.unique_id in seen:
            errors[const.CONF_MINERS] = "invalid_miners"
            return []
        if choice.plan is not None:
            errors[const.CONF_MINERS] = "miner_in_other_plan"
            placeholders |= {"miner": choice.name, "plan": choice.plan}
            return []
        seen.add(choice.unique_id)
        priority = item.get(const.CONF_PRIORITY, DEFAULT_PRIORITY)
        if not _miner_action_ok(item) or not _number_in(priority, 0, 1000):
            errors[const.CONF_MINERS] = "invalid_miner_action"
            return []
        found.append(
            {
                const.CONF_MINER: choice.unique_id,
                const.CONF_ACTION: item.get(const.CONF_ACTION, CurtailMode.STOP),
                const.CONF_VALUE: item.get(const.CONF_VALUE),
                const.CONF_PRIORITY: int(priority),
            }
        )
    if not found:
        errors[const.CONF_MINERS] = "no_miners_selected"
    return found
