"""The plan's steps, shared by the config flow (a new plan) and the options flow (edit one).

Steps run in order: miners → time of use (its source, then that source's form) → price →
demand response → safety. A step's input is checked before the next step shows; nothing is
saved before the last one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
import json
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.data_entry_flow import FlowHandler
import voluptuous as vol

from . import const, form, form_miners, form_tou
from .const import TouMode
from .form_house import check_house, house_schema


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

    def _shown(self, user_input: Mapping[str, Any] | None) -> dict[str, Any]:
        """What a form shows: what was sent back, else this flow's choices, else the stored."""
        return {**self._plan_defaults, **self._plan, **(user_input or {})}

    def _plan_form(
        self,
        step_id: str,
        schema: vol.Schema,
        shown: Mapping[str, Any],
        errors: dict[str, str],
        placeholders: Mapping[str, str] | None = None,
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, shown),
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
        choices = form_miners.miner_choices(self.hass, self._plan_entry_id)
        if not choices:
            return self.async_abort(reason="no_miners")
        if all(choice.plan is not None for choice in choices):
            return self.async_abort(reason="no_free_miners")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            miners = form_miners.check_miners(
                choices, user_input.get(const.CONF_MINERS), errors, placeholders
            )
            if with_name:
                form.check_name(user_input.get(const.CONF_NAME, ""), errors)
            if not errors:
                self._plan[const.CONF_MINERS] = miners
                if with_name:
                    self._plan[const.CONF_NAME] = user_input[const.CONF_NAME].strip()
                return await self.async_step_plan_tou()
        shown = self._shown(user_input)
        rows = shown.get(const.CONF_MINERS)
        shown[const.CONF_MINERS] = (
            form_miners.first_rows(choices)
            if rows is None
            else form_miners.shown_rows(choices, rows)
        )
        texts = await form.async_selector_texts(self.hass)
        schema = form_miners.miners_schema(choices, texts, with_name=with_name)
        return self._plan_form(step_id, schema, shown, errors, placeholders)

    async def async_step_plan_tou(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Time of use: where its periods come from; then that source's own form."""
        if user_input is not None:
            mode = TouMode(user_input[const.CONF_TOU_MODE])
            if mode is TouMode.NONE:
                self._store_tou({const.CONF_TOU_MODE: mode.value})
                return await self.async_step_plan_price()
            return await self._async_tou_source(mode, None)
        return self._plan_form("plan_tou", form_tou.source_schema(), self._shown(None), {})

    async def async_step_plan_tou_bands(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Bands entered in the form."""
        return await self._async_tou_source(TouMode.BANDS, user_input)

    async def async_step_plan_tou_urdb_json(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A URDB rate, pasted."""
        return await self._async_tou_source(TouMode.URDB_JSON, user_input)

    async def async_step_plan_tou_urdb_fetch(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A URDB rate fetched from OpenEI with the user's key."""
        return await self._async_tou_source(TouMode.URDB_FETCH, user_input)

    async def _async_tou_source(
        self, mode: TouMode, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            found = await form_tou.check_tou(self.hass, mode, user_input, errors, placeholders)
            if not errors:
                self._store_tou(found)
                return await self.async_step_plan_price()
        shown = self._shown(user_input)
        if const.CONF_BANDS in shown:
            shown[const.CONF_BANDS] = form_tou.shown_bands(shown[const.CONF_BANDS])
        if const.CONF_URDB_RATE in shown and const.CONF_URDB_JSON not in shown:
            shown[const.CONF_URDB_JSON] = json.dumps(shown[const.CONF_URDB_RATE])
        texts = await form.async_selector_texts(self.hass)
        schema = form_tou.source_step_schema(mode, texts)
        return self._plan_form(f"plan_tou_{mode.value}", schema, shown, errors, placeholders)

    def _store_tou(self, found: Mapping[str, Any]) -> None:
        for key in form_tou.TOU_KEYS:
            self._plan.pop(key, None)
        self._plan.update(found)

    async def async_step_plan_price(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A price entity and the threshold above which to curtail."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            found = form.check_price(
                self.hass, user_input, errors, placeholders, stored=self._plan_defaults
            )
            if not errors:
                for key in (
                    const.CONF_PRICE_ENTITY,
                    const.CONF_THRESHOLD,
                    const.CONF_HASHPRICE,
                    const.CONF_HASHPRICE_ENTITY,
                    *form.PRICE_ACTION_KEYS,
                ):
                    self._plan.pop(key, None)
                self._plan.update(found)
                return await self.async_step_plan_dr()
        shown = form.shown_price(self._shown(user_input))
        schema = form.price_schema(self.hass, [shown.get(const.CONF_PRICE_ENTITY)])
        return self._plan_form("plan_price", schema, shown, errors, placeholders)

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
                return await self.async_step_plan_house()
        return self._plan_form("plan_dr", form.dr_schema(), self._shown(user_input), errors)

    async def async_step_plan_house(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The house: solar surplus, an import limit, boost."""
        errors: dict[str, str] = {}
        if user_input is not None:
            found = check_house(self.hass, user_input, errors)
            if not errors:
                for key in house_schema().schema:
                    self._plan.pop(str(key), None)
                self._plan.update(found)
                return await self.async_step_plan_safety()
        return self._plan_form("plan_house", house_schema(), self._shown(user_input), errors)

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
        return self._plan_form("plan_safety", form.safety_schema(), self._shown(user_input), errors)


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
