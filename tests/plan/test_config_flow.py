"""Adding and editing a plan: every error is shown on its form and the user recovers."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from typing import Any

from aiohttp import web
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.home_miner.const import DOMAIN
from tests.curtailment.test_urdb import tou_rate
from tests.curtailment.vtn import program

from .conftest import NO_PRICE, SAFETY_NONE, AddPlan, Fleet, miner_id, plan_of

PRICE_OK = {**NO_PRICE}


@pytest.fixture
async def openei(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict]:
    """OpenEI's utility_rates API on 127.0.0.1: key "good" and label "tou" give a rate."""
    seen: dict[str, Any] = {}

    async def rates(request: web.Request) -> web.Response:
        seen.update(request.query)
        if request.query.get("api_key") != "good":
            return web.json_response({"error": {"code": "API_KEY_INVALID"}}, status=403)
        items = [{**tou_rate(), "label": "tou"}] if request.query.get("getpage") == "tou" else []
        return web.json_response({"items": items})

    app = web.Application()
    app.router.add_get("/utility_rates", rates)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monkeypatch.setattr(
        "custom_components.home_miner.plan.const.URDB_URL", f"http://127.0.0.1:{port}/utility_rates"
    )
    yield seen
    await runner.cleanup()


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert "plan" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    return str(result["flow_id"])


async def _expect_error(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any], field: str, error: str
) -> None:
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM, result
    assert result["errors"] == {field: error}


async def test_no_miner_no_plan(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_miners"


async def test_every_error_then_a_plan(
    hass: HomeAssistant, fleet: Fleet, openei: dict, vtn_factory
) -> None:
    (miner,) = await fleet("Gamma 601")
    mid = miner_id(miner)
    hass.states.async_set("sensor.outdoor", "12.5", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.price", "0.25", {"unit_of_measurement": "EUR/kWh"})
    vtn = await vtn_factory(programs=[program("p1", "residential")], credentials=("ven", "pw"))
    flow_id = await _start(hass)

    await _expect_error(hass, flow_id, {"name": "P", "miners": []}, "miners", "no_miners_selected")
    await _expect_error(
        hass,
        flow_id,
        {"name": "P", "miners": [{"miner": mid, "action": "limit_w"}]},
        "miners",
        "invalid_miner_action",
    )
    await _expect_error(
        hass,
        flow_id,
        {"name": "P", "miners": [{"miner": mid, "action": "stop"}] * 2},
        "miners",
        "invalid_miners",
    )
    await _expect_error(
        hass,
        flow_id,
        {"name": " ", "miners": [{"miner": mid, "action": "stop"}]},
        "name",
        "name_required",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"name": "Evening", "miners": [{"miner": mid, "action": "limit_percent", "value": 40}]},
    )
    assert result["step_id"] == "plan_tou"

    await _expect_error(hass, flow_id, {"tou_mode": "bands", "bands": []}, "bands", "invalid_bands")
    await _expect_error(
        hass,
        flow_id,
        {"tou_mode": "urdb_json", "urdb_json": "{not json"},
        "urdb_json",
        "invalid_urdb",
    )
    await _expect_error(
        hass,
        flow_id,
        {"tou_mode": "urdb_json", "urdb_json": '{"a": 1}'},
        "urdb_json",
        "invalid_urdb",
    )
    await _expect_error(
        hass, flow_id, {"tou_mode": "urdb_fetch", "urdb_label": "tou"}, "base", "urdb_key_and_label"
    )
    await _expect_error(
        hass,
        flow_id,
        {"tou_mode": "urdb_fetch", "urdb_api_key": "bad", "urdb_label": "tou"},
        "urdb_api_key",
        "urdb_invalid_api_key",
    )
    await _expect_error(
        hass,
        flow_id,
        {"tou_mode": "urdb_fetch", "urdb_api_key": "good", "urdb_label": "other"},
        "urdb_label",
        "urdb_not_found",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "tou_mode": "urdb_fetch",
            "urdb_api_key": "good",
            "urdb_label": "tou",
            "peak_labels": ["On-Peak"],
        },
    )
    assert result["step_id"] == "plan_price"
    assert openei["getpage"] == "tou"

    price = {**PRICE_OK, "on_missing_price": "run"}
    await _expect_error(
        hass, flow_id, {**price, "price_entity": "sensor.outdoor"}, "price_entity", "not_a_price"
    )
    await _expect_error(
        hass,
        flow_id,
        {**price, "price_entity": "sensor.price", "threshold_mode": "fixed"},
        "threshold",
        "threshold_required",
    )
    await _expect_error(
        hass,
        flow_id,
        {**price, "price_entity": "sensor.price", "threshold_mode": "break_even"},
        "hashprice",
        "hashprice_required",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            **price,
            "price_entity": "sensor.price",
            "threshold_mode": "break_even",
            "hashprice": 0.05,
        },
    )
    assert result["step_id"] == "plan_dr"

    await _expect_error(
        hass, flow_id, {"vtn_url": "http://127.0.0.1:9"}, "vtn_url", "vtn_cannot_connect"
    )
    await _expect_error(
        hass,
        flow_id,
        {"vtn_url": vtn.base_url, "vtn_client_id": "ven"},
        "vtn_client_secret",
        "vtn_credentials_pair",
    )
    await _expect_error(
        hass,
        flow_id,
        {"vtn_url": vtn.base_url, "vtn_client_id": "ven", "vtn_client_secret": "wrong"},
        "base",
        "vtn_invalid_auth",
    )
    good_vtn = {"vtn_url": vtn.base_url, "vtn_client_id": "ven", "vtn_client_secret": "pw"}
    await _expect_error(
        hass,
        flow_id,
        {**good_vtn, "vtn_program": "industrial"},
        "vtn_program",
        "vtn_program_not_found",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**good_vtn, "vtn_program": "residential"}
    )
    assert result["step_id"] == "plan_safety"

    await _expect_error(
        hass,
        flow_id,
        {**SAFETY_NONE, "min_off_minutes": 30, "max_length_minutes": 10},
        "max_length_minutes",
        "max_length_below_min_off",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**SAFETY_NONE, "max_length_minutes": 60}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Evening"
    assert result["data"] == {"entry_type": "plan"}
    options = result["options"]
    assert options["miners"] == [
        {"miner": mid, "action": "limit_percent", "value": 40, "priority": 100}
    ]
    assert options["urdb_rate"]["items"][0]["label"] == "tou"
    assert options["vtn_program"] == "residential"
    await hass.async_block_till_done()
    plan = plan_of(result["result"])
    assert plan.config.tariff is not None
    assert hass.states.get("sensor.evening_break_even_price") is not None


async def test_options_flow_edits_the_plan(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}])
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "plan_miners"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"miners": [{"miner": miner_id(miner), "action": "limit_w", "value": 10}]},
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"tou_mode": "bands", "bands": [{"label": "peak", "start": "7:00", "end": "9:00"}]},
    )
    assert result["errors"] == {"bands": "invalid_bands"} or result["step_id"] == "plan_price"
    if result["step_id"] == "plan_tou":
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "tou_mode": "bands",
                "bands": [
                    {"label": "peak", "start": "07:00:00", "end": "09:00:00", "days": ["mon"]}
                ],
            },
        )
    result = await hass.config_entries.options.async_configure(result["flow_id"], NO_PRICE)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    result = await hass.config_entries.options.async_configure(result["flow_id"], SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["miners"][0]["action"] == "limit_w"
    assert entry.options["bands"][0]["days"] == ["mon"] or entry.options["bands"][0]["start"]
    assert plan_of(entry).config.tariff is not None
    assert json.dumps(dict(entry.options))
