"""The plan's steps, shared by the config flow (a new plan) and the options flow (edit one).

Steps run in order: miners → time of use → price → demand response → safety. A step's
input is checked before the next step shows; nothing is saved before the last one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
import json
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.data_entry_flow import FlowHandler
import voluptuous as vol

from . import const, form, form_tou


def _items(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _as_shown(values: dict[str, Any]) -> dict[str, Any]:
    """Stored options as their selectors take them back: a form submitted unchanged must
    pass its own schema (a miner's empty value is stored as None, a number field refuses
    None; a band's months are stored as numbers, their select offers "1".."12")."""
    if const.CONF_MINERS in values:
        values[const.CONF_MINERS] = [
            {k: v for k, v in item.items() if v is not None}
            for item in _items(values[const.CONF_MINERS])
        ]
    if const.CONF_BANDS in values:
        values[const.CONF_BANDS] = [
            {**band, "months": [str(m) for m in band["months"]]}
            if isinstance(band.get("months"), list)
            else band
            for band in _items(values[const.CONF_BANDS])
        ]
    return values


class PlanSteps(FlowHandler[Any, ConfigFlowResult, str]):
    """The plan's forms; `_plan` collects the options step by step."""

    _plan: dict[str, Any]

    @property
    @abstractmethod
    def _plan_defaults(self) -> Mapping[str, Any]:
        """What the forms show before the user types (the options being edited)."""

    @abstractmethod
    async def _async_plan_done(self) -> ConfigFlowResult:
        """Store `_plan`."""

    @property
    def _plan_entry_id(self) -> str | None:
        """The plan being edited (its miners are not "in another plan")."""
        return None

    def _plan_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        placeholders: Mapping[str, str] | None = None,
    ) -> ConfigFlowResult:
        suggested = _as_shown({**self._plan_defaults, **self._plan, **(user_input or {})})
        if const.CONF_URDB_RATE in suggested and const.CONF_URDB_JSON not in suggested:
            suggested[const.CONF_URDB_JSON] = json.dumps(suggested[const.CONF_URDB_RATE])
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=dict(placeholders or {}),
        )

    async def async_step_plan(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new plan: its name and miners."""
        return await self._async_miners_step("plan", user_input, with_name=True)

    async def async_step_plan_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An existing plan's name and miners, then its other steps as in its options."""
        return await self._async_miners_step("plan_reconfigure", user_input, with_name=True)

    async def async_step_plan_miners(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which miners, what curtailing means for each, and their priority."""
        return await self._async_miners_step("plan_miners", user_input, with_name=False)

    async def _async_miners_step(
        self, step_id: str, user_input: dict[str, Any] | None, *, with_name: bool
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if not form.miner_options(self.hass):
            return self.async_abort(reason="no_miners")
        if user_input is not None:
            miners = form.check_miners(
                self.hass, user_input.get(const.CONF_MINERS), errors, plan_id=self._plan_entry_id
            )
            if with_name:
                form.check_name(user_input.get(const.CONF_NAME, ""), errors)
            if not errors:
                self._plan[const.CONF_MINERS] = miners
                if with_name:
                    self._plan[const.CONF_NAME] = user_input[const.CONF_NAME].strip()
                return await self.async_step_plan_tou()
        return self._plan_form(
            step_id, form.miners_schema(self.hass, with_name=with_name), user_input, errors
        )

    async def async_step_plan_tou(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Time-of-use: bands, or a URDB rate pasted or fetched from OpenEI."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            if form_tou.tou_without_source(user_input, self._plan_defaults):
                errors[const.CONF_TOU_MODE] = "tou_source_required"
            found = await form_tou.check_tou(self.hass, user_input, errors, placeholders)
            if not errors:
                for key in (
                    const.CONF_BANDS,
                    const.CONF_URDB_RATE,
                    const.CONF_URDB_LABEL,
                    const.CONF_HOLIDAYS,
                ):
                    self._plan.pop(key, None)
                self._plan.update(found)
                return await self.async_step_plan_price()
        return self._plan_form("plan_tou", form_tou.tou_schema(), user_input, errors, placeholders)

    async def async_step_plan_price(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A price entity and the threshold above which to curtail."""
        errors: dict[str, str] = {}
        if user_input is not None:
            found = form.check_price(self.hass, user_input, errors, stored=self._plan_defaults)
            if not errors:
                for key in (const.CONF_PRICE_ENTITY, const.CONF_THRESHOLD, const.CONF_HASHPRICE):
                    self._plan.pop(key, None)
                self._plan.pop(const.CONF_HASHPRICE_ENTITY, None)
                self._plan.update(found)
                return await self.async_step_plan_dr()
        return self._plan_form("plan_price", form.price_schema(), user_input, errors)

    async def async_step_plan_dr(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Demand response: calendars, on/off entities, an OpenADR 3 VTN."""
        errors: dict[str, str] = {}
        if user_input is not None:
            found = await form.check_dr(self.hass, user_input, errors)
            if not errors:
                for key in form.dr_schema().schema:
                    self._plan.pop(str(key), None)
                self._plan.update(found)
                return await self.async_step_plan_safety()
        return self._plan_form("plan_dr", form.dr_schema(), user_input, errors)

    async def async_step_plan_safety(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Minimum times, stagger, maximum length, observe-only."""
        errors: dict[str, str] = {}
        if user_input is not None:
            found = form.check_safety(user_input, errors)
            if not errors:
                self._plan.update(found)
                return await self._async_plan_done()
        return self._plan_form("plan_safety", form.safety_schema(), user_input, errors)


class PlanOptionsFlow(OptionsFlowWithReload, PlanSteps):
    """Edit a plan: the same steps, showing what is stored."""

    def __init__(self) -> None:
        self._plan = {}

    @property
    def _plan_defaults(self) -> Mapping[str, Any]:
        return self.config_entry.options

    @property
    def _plan_entry_id(self) -> str | None:
        return self.config_entry.entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self.async_step_plan_miners()

    async def _async_plan_done(self) -> ConfigFlowResult:
        return self.async_create_entry(data=self._plan)
