"""Adding and editing a plan: every error is shown on its form and the user recovers."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio
import pytest

from custom_components.home_miner.const import DOMAIN
from tests.curtailment.test_urdb import tou_rate
from tests.curtailment.vtn import program

from .conftest import NO_PRICE, SAFETY_NONE, AddPlan, Fleet, miner_id, plan_of

PRICE_OK = {**NO_PRICE}
PEAK_BAND = {"label": "peak", "start": "17:00", "end": "20:00"}


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


def field_of(result: Any, name: str) -> dict[str, Any]:
    """A field of the form as the frontend receives it."""
    fields = probatio.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    (field,) = [f for f in fields if f["name"] == name]
    return dict(field)


def offered_entities(result: Any, name: str) -> list[str]:
    return list(field_of(result, name)["selector"]["entity"]["include_entities"])


def sub_field(result: Any, name: str, sub: str) -> dict[str, Any]:
    """A field of the dialog that edits one row of the object selector `name`."""
    return dict(field_of(result, name)["selector"]["object"]["fields"][sub]["selector"])


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

    result = await hass.config_entries.flow.async_configure(flow_id, {"tou_mode": "urdb_fetch"})
    assert result["step_id"] == "plan_tou_urdb_fetch"
    await _expect_error(hass, flow_id, {"urdb_label": "tou"}, "base", "urdb_key_and_label")
    await _expect_error(
        hass,
        flow_id,
        {"urdb_api_key": "bad", "urdb_label": "tou"},
        "urdb_api_key",
        "urdb_invalid_api_key",
    )
    await _expect_error(
        hass,
        flow_id,
        {"urdb_api_key": "good", "urdb_label": "other"},
        "urdb_label",
        "urdb_not_found",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"urdb_api_key": "good", "urdb_label": "tou", "peak_labels": ["On-Peak"]}
    )
    assert result["step_id"] == "plan_price"
    assert openei["getpage"] == "tou"

    price = {**PRICE_OK, "on_missing_price": "run"}
    assert offered_entities(result, "price_entity") == ["sensor.price"]
    # Offered while it was a price; a °C when the form comes back.
    hass.states.async_set("sensor.price", "12.5", {"unit_of_measurement": "°C"})
    await _expect_error(
        hass, flow_id, {**price, "price_entity": "sensor.price"}, "price_entity", "not_a_price"
    )
    hass.states.async_set("sensor.price", "0.25", {"unit_of_measurement": "EUR/kWh"})
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
    assert result["step_id"] == "plan_house"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result

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
    assert options["urdb_rate"]["label"] == "tou"
    assert options["vtn_program"] == "residential"
    await hass.async_block_till_done()
    plan = plan_of(result["result"])
    assert plan.config.tariff is not None
    assert hass.states.get("sensor.evening_break_even_price") is not None


def offered_miners(result: Any) -> list[dict[str, str]]:
    return list(sub_field(result, "miners", "miner")["select"]["options"])


async def test_miners_are_named_and_only_free_ones_offered(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """The plan forms showed miners as MAC addresses (the row shows its select's value),
    offered miners another plan drives, and a new plan opened with one blank row."""
    first, second, third = await fleet("Gamma 601", "Gamma 601", "Gamma 601")
    evening = await add_plan([{"miner": miner_id(first), "action": "stop"}], name="Evening")

    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, None)
    assert offered_miners(result) == [
        {"value": "axe3", "label": "axe3"},
        {"value": "axe4", "label": "axe4"},
    ]
    rows = field_of(result, "miners")
    assert rows["selector"]["object"]["label_field"] == "miner"
    assert shown(result)["miners"] == [
        {"miner": "axe3", "action": "stop"},
        {"miner": "axe4", "action": "stop"},
    ], "a new plan starts with the miners free to join"
    await _at_step(
        hass,
        hass.config_entries.flow,
        flow_id,
        [{"name": "Night", **shown(result)}, NO_TOU, NO_PRICE, {}],
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    night = result["result"]
    assert [row["miner"] for row in night.options["miners"]] == [
        miner_id(second),
        miner_id(third),
    ], "stored by MAC, which a rename does not change"
    await hass.async_block_till_done()

    # The options of the first plan: its own miner by name, no miner of the other plan.
    result = await hass.config_entries.options.async_init(evening.entry_id)
    assert offered_miners(result) == [{"value": "axe2", "label": "axe2"}]
    assert shown(result)["miners"] == [{"miner": "axe2", "action": "stop", "priority": 100}]
    hass.config_entries.options.async_abort(result["flow_id"])

    # Every miner is in a plan: a new one has nothing to drive.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_free_miners"


async def test_miners_of_one_name_are_told_apart(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """Two miners a person named alike are offered with their model and address."""
    first, second = await fleet("Gamma 601", "Gamma 601")
    for miner in (first, second):
        entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id(miner))
        assert entry is not None
        hass.config_entries.async_update_entry(entry, title="Shed")
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id(first))
    assert entry is not None
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.model

    result = await hass.config_entries.flow.async_configure(await _start(hass), None)
    names = [option["label"] for option in offered_miners(result)]
    assert names == [f"Shed ({device.model}, {first.ip})", f"Shed ({device.model}, {second.ip})"]
    entry = await add_plan([{"miner": names[1], "action": "stop"}])
    assert entry.options["miners"][0]["miner"] == miner_id(second)


async def test_a_miner_taken_meanwhile_is_named_with_its_plan(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, caplog: pytest.LogCaptureFixture
) -> None:
    """A form opened while the miner was free, sent after another plan took it: the error
    names the miner and that plan; the user recovers."""
    from tests.home_miner.test_config_flow import assert_quiet

    first, second = await fleet("Gamma 601", "Gamma 601")
    flow_id = await _start(hass)
    await add_plan([{"miner": miner_id(first), "action": "stop"}], name="Evening")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": "Night", "miners": [{"miner": "axe2", "action": "stop"}]}
    )
    assert result["errors"] == {"miners": "miner_in_other_plan"}
    assert result["description_placeholders"] == {"miner": "axe2", "plan": "Evening"}
    assert offered_miners(result) == [{"value": "axe3", "label": "axe3"}]
    await _at_step(
        hass,
        hass.config_entries.flow,
        flow_id,
        [
            {"name": "Night", "miners": [{"miner": "axe3", "action": "stop"}]},
            NO_TOU,
            NO_PRICE,
            {},
        ],
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["miners"][0]["miner"] == miner_id(second)
    assert_quiet(caplog)


async def test_the_price_picker_offers_prices(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """It listed every sensor (temperatures, "Active pool"). Prices are told by their unit,
    a currency per kWh or MWh: the core Nord Pool integration's have no device class."""
    (miner,) = await fleet("Gamma 601")
    prices = {
        "sensor.nord_pool_se3_current_price": "SEK/kWh",
        "sensor.entsoe_price": "€/kWh",
        "sensor.wholesale": "USD/MWh",
        "sensor.tibber_cents": "ct/kWh",
        "sensor.amber_general": "c/kWh",
        "sensor.octopus_rate": "GBP/kWh",
        "input_number.my_price": "EUR/kWh",
    }
    others = {
        "sensor.outdoor": "°C",
        "sensor.carbon_intensity": "gCO2eq/kWh",
        "sensor.axe2_energy": "kWh",
        "sensor.axe2_power": "W",
    }
    for entity_id, unit in {**prices, **others}.items():
        hass.states.async_set(entity_id, "0.2", {"unit_of_measurement": unit})
    hass.states.async_set("sensor.axe2_active_pool", "stratum+tcp://pool.example:3333")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": "P", "miners": [{"miner": "axe2", "action": "stop"}]}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, NO_TOU)
    assert offered_entities(result, "price_entity") == sorted(prices)
    hass.config_entries.flow.async_abort(flow_id)

    # A chosen price that lost its unit (its integration is down) stays selectable.
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}],
        price={**NO_PRICE, "price_entity": "sensor.nord_pool_se3_current_price"},
    )
    hass.states.async_set("sensor.nord_pool_se3_current_price", "unavailable")
    form = await _options_at_tou(hass, entry)
    result = await hass.config_entries.options.async_configure(form["flow_id"], NO_TOU)
    assert shown(result)["price_entity"] == "sensor.nord_pool_se3_current_price"
    assert "sensor.nord_pool_se3_current_price" in offered_entities(result, "price_entity")
    result = await hass.config_entries.options.async_configure(form["flow_id"], shown(result))
    assert result["step_id"] == "plan_dr"


@pytest.mark.parametrize(
    ("source", "bad", "errors", "good"),
    [
        ("bands", {"bands": []}, {"bands": "invalid_bands"}, {"bands": [PEAK_BAND]}),
        (
            "bands",
            {"bands": [{**PEAK_BAND, "end": "9 pm"}]},
            {"bands": "invalid_band_time"},
            {"bands": [PEAK_BAND]},
        ),
        (
            "urdb_json",
            {"urdb_json": "{not json"},
            {"urdb_json": "invalid_urdb"},
            {"urdb_json": json.dumps(tou_rate())},
        ),
        (
            "urdb_json",
            {"urdb_json": '{"a": 1}'},
            {"urdb_json": "invalid_urdb"},
            {"urdb_json": json.dumps(tou_rate())},
        ),
    ],
)
async def test_every_time_of_use_error_then_a_plan(
    hass: HomeAssistant,
    fleet: Fleet,
    source: str,
    bad: dict[str, Any],
    errors: dict[str, str],
    good: dict[str, Any],
) -> None:
    (miner,) = await fleet("Gamma 601")
    flow_id = await _start(hass)
    await _at_step(
        hass,
        hass.config_entries.flow,
        flow_id,
        [{"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}],
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {"tou_mode": source})
    assert result["step_id"] == f"plan_tou_{source}"
    result = await hass.config_entries.flow.async_configure(flow_id, bad)
    assert result["step_id"] == f"plan_tou_{source}"
    assert result["errors"] == errors
    await _at_step(hass, hass.config_entries.flow, flow_id, [good, NO_PRICE, {}])
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert plan_of(result["result"]).config.tariff is not None


async def test_options_flow_edits_the_plan(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}])
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "plan_miners"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"miners": [{"miner": "axe2", "action": "limit_w", "value": 10}]}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tou_mode": "bands"}
    )
    assert result["step_id"] == "plan_tou_bands"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"bands": [{"label": "peak", "start": "7:00", "end": "9:00", "days": ["tue", "mon"]}]},
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], NO_PRICE)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.options.async_configure(result["flow_id"], SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["miners"] == [
        {"miner": miner_id(miner), "action": "limit_w", "value": 10, "priority": 100}
    ]
    assert entry.options["bands"] == [
        {"label": "peak", "start": "07:00", "end": "09:00", "days": ["mon", "tue"]}
    ]
    assert plan_of(entry).config.tariff is not None
    assert json.dumps(dict(entry.options))


# The VTN step sends credentials only to the VTN's own origin or to the token URL the user
# entered, and only encrypted (plain http only to this machine).


@pytest.fixture
async def recorder(loopback: None) -> AsyncIterator[Any]:
    """A server on 127.0.0.2 that must never hear from the integration."""
    from tests.curtailment.vtn import Recorder

    found = Recorder(host="127.0.0.2")
    await found.start()
    yield found
    await found.stop()


async def _at_dr_step(hass: HomeAssistant, fleet: Fleet) -> str:
    (miner,) = await fleet("Gamma 601")
    flow_id = await _start(hass)
    for step in (
        {"name": "DR", "miners": [{"miner": miner_id(miner), "action": "stop"}]},
        {"tou_mode": "none"},
        NO_PRICE,
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, step)
        assert not result.get("errors"), result
    assert result["step_id"] == "plan_dr"
    return flow_id


async def test_vtn_step_sends_credentials_only_to_the_vtn_or_the_token_url_entered(
    hass: HomeAssistant, fleet: Fleet, vtn_factory, recorder: Any
) -> None:
    auth = await vtn_factory(host="127.0.0.3", credentials=("ven", "pw"))
    vtn = await vtn_factory(programs=[program("p1", "residential")], credentials=("ven", "pw"))
    vtn.token_url = f"{recorder.url}/auth/token"
    flow_id = await _at_dr_step(hass, fleet)
    login = {"vtn_url": vtn.base_url, "vtn_client_id": "ven", "vtn_client_secret": "pw"}

    await _expect_error(hass, flow_id, login, "vtn_token_url", "vtn_foreign_token_url")
    assert recorder.requests == []
    token_url = f"{auth.base_url}/auth/token"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**login, "vtn_token_url": token_url}
    )
    assert result["step_id"] == "plan_house", result
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    assert (auth.token_requests, vtn.token_requests) == (1, 0)
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["vtn_token_url"] == token_url
    await hass.async_block_till_done()
    plan = result["result"].runtime_data
    assert plan.config.vtn is not None
    assert plan.config.vtn.token_url == token_url, "the running plan uses it too"
    assert auth.token_requests == 2, "the plan's own poll logged in where the user said"
    assert recorder.requests == []


async def test_vtn_step_refuses_credentials_over_plain_http(
    hass: HomeAssistant, fleet: Fleet, vtn_factory
) -> None:
    vtn = await vtn_factory(programs=[program("p1", "residential")], credentials=("ven", "pw"))
    flow_id = await _at_dr_step(hass, fleet)
    login = {"vtn_client_id": "ven", "vtn_client_secret": "pw"}

    await _expect_error(
        hass,
        flow_id,
        {**login, "vtn_url": "http://vtn.invalid/openadr3"},
        "vtn_url",
        "vtn_insecure_url",
    )
    await _expect_error(
        hass,
        flow_id,
        {**login, "vtn_url": "https://vtn.invalid", "vtn_token_url": "http://auth.invalid/t"},
        "vtn_token_url",
        "vtn_insecure_url",
    )
    assert vtn.token_requests == 0
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**login, "vtn_url": vtn.base_url}
    )
    assert result["step_id"] == "plan_house", result
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vtn.token_requests >= 1


# A form never drops what was typed in without a word, and reconfigure edits a plan.


async def _at_step(hass: HomeAssistant, flow: Any, flow_id: str, steps: list[dict]) -> None:
    for step in steps:
        result = await flow.async_configure(flow_id, step)
        assert result["type"] is FlowResultType.FORM, result
        assert not result.get("errors"), result


def shown(result: Any) -> dict[str, Any]:
    """What the form shows in its fields: what the UI sends back when nothing is changed."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }


async def _options_at_tou(hass: HomeAssistant, entry: Any) -> dict[str, Any]:
    """The options' time-of-use form, after the miners form sent back unchanged."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], shown(result))
    assert result["step_id"] == "plan_tou", result
    return dict(result)


BANDS = [{"label": "peak", "start": "17:00:00", "end": "20:00:00"}]
NO_TOU = {"tou_mode": "none"}


async def test_each_time_of_use_source_asks_only_for_what_it_needs(
    hass: HomeAssistant, fleet: Fleet
) -> None:
    """The one form showed every field of every source (bands, pasted URDB, OpenEI key)."""
    (miner,) = await fleet("Gamma 601")
    every_source = {"peak_labels", "holiday_calendar"}
    for source, fields in (
        ("bands", {"bands"}),
        ("urdb_json", {"urdb_json", "urdb_label"}),
        ("urdb_fetch", {"urdb_api_key", "urdb_label"}),
    ):
        flow_id = await _start(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}
        )
        assert result["step_id"] == "plan_tou"
        assert {str(key) for key in result["data_schema"].schema} == {"tou_mode"}
        assert field_of(result, "tou_mode")["selector"]["select"]["mode"] == "list"
        result = await hass.config_entries.flow.async_configure(flow_id, {"tou_mode": source})
        assert result["step_id"] == f"plan_tou_{source}"
        assert {str(key) for key in result["data_schema"].schema} == fields | every_source
        hass.config_entries.flow.async_abort(flow_id)


async def test_turning_time_of_use_off_drops_the_bands(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.home_miner.test_config_flow import assert_quiet

    (miner,) = await fleet("Gamma 601")
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}], tou={"tou_mode": "bands", "bands": BANDS}
    )
    assert entry.options["bands"] == BANDS

    # The options show the stored source; choosing none goes on to the price, and drops them.
    form = await _options_at_tou(hass, entry)
    flow_id = form["flow_id"]
    assert shown(form) == {"tou_mode": "bands"}
    await _at_step(hass, hass.config_entries.options, flow_id, [NO_TOU, NO_PRICE, {}])
    result = await hass.config_entries.options.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.options.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "bands" not in entry.options
    assert plan_of(entry).config.tariff is None
    assert_quiet(caplog)


async def test_band_times_are_written_as_a_person_writes_them(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """The time selector asked for seconds. Times are text: 17:00, 7:30, an end of 24:00;
    what is not a time says which band and what was typed; a plan stored with seconds still
    loads, and its form shows the time without them."""
    (miner,) = await fleet("Gamma 601")
    flow_id = await _start(hass)
    await _at_step(
        hass,
        hass.config_entries.flow,
        flow_id,
        [{"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}],
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {"tou_mode": "bands"})
    start = sub_field(result, "bands", "start")
    assert list(start) == ["text"], "a text field, not a time selector with seconds"
    for bad in ("5 pm", "17:60", "25:00", "17h00"):
        band = {"label": "evening", "start": bad, "end": "21:00"}
        result = await hass.config_entries.flow.async_configure(flow_id, {"bands": [band]})
        assert result["errors"] == {"bands": "invalid_band_time"}, bad
        assert result["description_placeholders"] == {"band": "evening", "time": bad}
    bands = [
        {"label": "peak", "start": "17:00", "end": "21:00"},
        {"label": "night", "start": "7:30", "end": "24:00"},
    ]
    await _at_step(hass, hass.config_entries.flow, flow_id, [{"bands": bands}, NO_PRICE, {}])
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    entry = result["result"]
    assert [(b["start"], b["end"]) for b in entry.options["bands"]] == [
        ("17:00", "21:00"),
        ("07:30", "24:00"),
    ]
    await hass.async_block_till_done()
    assert plan_of(entry).config.tariff is not None

    # As the time selector stored it, seconds and all.
    old = [{"label": "peak", "start": "17:00:00", "end": "20:30:00", "days": ["mon"]}]
    hass.config_entries.async_update_entry(entry, options={**entry.options, "bands": old})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert plan_of(entry).config.tariff is not None
    form = await _options_at_tou(hass, entry)
    result = await hass.config_entries.options.async_configure(form["flow_id"], shown(form))
    assert shown(result)["bands"] == [
        {"label": "peak", "start": "17:00", "end": "20:30", "days": ["mon"]}
    ]
    await _at_step(
        hass, hass.config_entries.options, form["flow_id"], [shown(result), NO_PRICE, {}]
    )
    result = await hass.config_entries.options.async_configure(form["flow_id"], {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.options.async_configure(form["flow_id"], SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["bands"][0]["start"] == "17:00"


async def test_the_dialogs_show_translated_options_in_order(
    hass: HomeAssistant, fleet: Fleet
) -> None:
    """A select inside an object selector's dialog showed its raw keys (stop / limit_w /
    limit_percent; fri, mon, sat, ...): the dialog cannot translate them, so the options
    come labelled, the days in the week's order."""
    (miner,) = await fleet("Gamma 601")
    strings = json.loads(
        (Path(__file__).parents[2] / "custom_components/home_miner/strings.json").read_text()
    )
    selectors = strings["selector"]
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {"tou_mode": "bands"})
    days = sub_field(result, "bands", "days")["select"]
    assert days["options"] == [
        {"value": key, "label": label} for key, label in selectors["days"]["options"].items()
    ]
    assert [o["value"] for o in days["options"]] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
    assert days["options"][0]["label"] == "Monday"
    assert days["mode"] == "list", "checkboxes keep the week's order"
    months = sub_field(result, "bands", "months")["select"]
    assert [o["label"] for o in months["options"]][:2] == ["January", "February"]
    assert [o["value"] for o in months["options"]] == [str(m) for m in range(1, 13)]

    # Every field of the dialogs has its name and a description.
    fields = field_of(result, "bands")["selector"]["object"]
    assert fields["translation_key"] == "bands"
    for name in fields["fields"]:
        assert set(selectors["bands"]["fields"][name]) == {"name", "description"}, name


async def test_the_miner_dialog_shows_translated_actions(hass: HomeAssistant, fleet: Fleet) -> None:
    await fleet("Gamma 601")
    strings = json.loads(
        (Path(__file__).parents[2] / "custom_components/home_miner/strings.json").read_text()
    )
    selectors = strings["selector"]
    result = await hass.config_entries.flow.async_configure(await _start(hass), None)
    action = sub_field(result, "miners", "action")["select"]
    assert action["options"] == [
        {"value": key, "label": label} for key, label in selectors["action"]["options"].items()
    ]
    assert action["options"][0] == {"value": "stop", "label": "Stop mining"}
    rows = field_of(result, "miners")["selector"]["object"]
    assert rows["translation_key"] == "miners"
    for name in rows["fields"]:
        assert set(selectors["miners"]["fields"][name]) == {"name", "description"}, name


async def _at_price(hass: HomeAssistant, fleet: Fleet) -> str:
    (miner,) = await fleet("Gamma 601")
    hass.states.async_set("sensor.price", "0.25", {"unit_of_measurement": "EUR/kWh"})
    flow_id = await _start(hass)
    await _at_step(
        hass,
        hass.config_entries.flow,
        flow_id,
        [{"name": "P", "miners": [{"miner": miner_id(miner), "action": "stop"}]}, NO_TOU],
    )
    return flow_id


@pytest.mark.parametrize(
    "threshold",
    [
        {"threshold_mode": "fixed", "threshold": 0.3},
        {"threshold_mode": "break_even", "hashprice": 0.05},
    ],
)
async def test_a_threshold_needs_a_price_entity(
    hass: HomeAssistant,
    fleet: Fleet,
    caplog: pytest.LogCaptureFixture,
    threshold: dict[str, Any],
) -> None:
    """Without one, "curtail when the price is unavailable" curtailed at once, as if the
    price were above the threshold, until the maximum length."""
    from tests.home_miner.test_config_flow import assert_quiet

    flow_id = await _at_price(hass, fleet)
    price = {**NO_PRICE, **threshold, "on_missing_price": "curtail"}
    await _expect_error(hass, flow_id, price, "price_entity", "price_entity_required")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**price, "price_entity": "sensor.price"}
    )
    assert result["step_id"] == "plan_dr", result
    assert_quiet(caplog)


async def test_a_threshold_value_needs_a_threshold_mode(
    hass: HomeAssistant, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.home_miner.test_config_flow import assert_quiet

    flow_id = await _at_price(hass, fleet)
    price = {**NO_PRICE, "price_entity": "sensor.price", "threshold": 0.3}
    await _expect_error(hass, flow_id, price, "threshold_mode", "threshold_mode_required")
    await _at_step(
        hass, hass.config_entries.flow, flow_id, [{**price, "threshold_mode": "fixed"}, {}]
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(flow_id, SAFETY_NONE)
    entry = result["result"]
    assert entry.options["threshold"] == 0.3
    await hass.async_block_till_done()

    # Switching price curtailment off with the stored threshold still in the form drops it.
    flow_id = (await _options_at_tou(hass, entry))["flow_id"]
    result = await hass.config_entries.options.async_configure(flow_id, NO_TOU)
    assert shown(result)["threshold"] == 0.3
    await _at_step(
        hass,
        hass.config_entries.options,
        flow_id,
        [{**shown(result), "threshold_mode": "none"}, {}],
    )
    result = await hass.config_entries.options.async_configure(flow_id, {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.options.async_configure(flow_id, SAFETY_NONE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "threshold" not in entry.options
    assert plan_of(entry).config.price_threshold(None) is None
    assert_quiet(caplog)


async def test_reconfigure_a_plan(
    hass: HomeAssistant,
    hass_client: Any,
    fleet: Fleet,
    add_plan: AddPlan,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Home Assistant offers Reconfigure on every entry of the domain; on a plan it used to
    fail with KeyError: 'host' (HTTP 500). It edits the plan, its name included."""
    from homeassistant.setup import async_setup_component

    from tests.home_miner.test_config_flow import assert_quiet

    assert await async_setup_component(hass, "config", {})
    (miner,) = await fleet("Gamma 601")
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], name="Evening")
    client = await hass_client()
    response = await client.post(
        "/api/config/config_entries/flow",
        json={"handler": DOMAIN, "entry_id": entry.entry_id, "show_advanced_options": False},
    )
    assert response.status == 200, await response.text()
    shown = await response.json()
    assert shown["step_id"] == "plan_reconfigure"
    hass.config_entries.flow.async_abort(shown["flow_id"])

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )
    assert result["step_id"] == "plan_reconfigure"
    limited = [{"miner": miner_id(miner), "action": "limit_w", "value": 10}]
    await _at_step(
        hass,
        hass.config_entries.flow,
        result["flow_id"],
        [
            {"name": "Night", "miners": limited},
            {"tou_mode": "bands"},
            {"bands": BANDS},
            NO_PRICE,
            {},
        ],
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "plan_safety", result
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SAFETY_NONE)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.title == "Night"
    assert entry.options["miners"][0]["action"] == "limit_w"
    assert entry.options["bands"] == BANDS
    assert entry.state is config_entries.ConfigEntryState.LOADED
    assert plan_of(entry).config.tariff is not None
    assert_quiet(caplog)


async def test_the_options_sent_back_unchanged_pass_their_own_forms(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    """A stopped miner has no value (stored as None, which the value's number field refuses)
    and a band's months are stored as numbers (their select offers "1".."12"): the options,
    submitted as shown, used to fail their own schema."""
    (miner,) = await fleet("Gamma 601")
    bands = [{**PEAK_BAND, "days": ["mon", "fri"], "months": ["6", "7"]}]
    entry = await add_plan(
        [{"miner": miner_id(miner), "action": "stop"}], tou={"tou_mode": "bands", "bands": bands}
    )
    stored = dict(entry.options)
    assert stored["bands"][0]["months"] == [6, 7]
    assert stored["miners"][0]["value"] is None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    while result["type"] is FlowResultType.FORM:
        step = result["step_id"]
        result = await hass.config_entries.options.async_configure(result["flow_id"], shown(result))
        assert result.get("step_id") != step, result
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert dict(entry.options) == stored


STEPS = (
    "plan",
    "plan_tou",
    "plan_tou_bands",
    "plan_price",
    "plan_dr",
    "plan_house",
    "plan_safety",
)


@pytest.mark.parametrize(
    ("step", "user_input", "errors"),
    [
        ("plan", {"name": "x" * 101}, {"name": "too_long"}),
        ("plan", {"value": "nan", "action": "limit_w"}, {"miners": "invalid_miner_action"}),
        ("plan", {"priority": "nan"}, {"miners": "invalid_miner_action"}),
        (
            "plan_tou_bands",
            {"bands": [{**PEAK_BAND, "label": "x" * 33}]},
            {"bands": "invalid_bands"},
        ),
        ("plan_tou_bands", {"bands": [PEAK_BAND] * 49}, {"bands": "invalid_bands"}),
        (
            "plan_tou_bands",
            {"bands": [PEAK_BAND], "peak_labels": ["peak"] * 11},
            {"peak_labels": "invalid_peak_labels"},
        ),
        (
            "plan_tou_bands",
            {"bands": [{**PEAK_BAND, "start": "17:00:60"}]},
            {"bands": "invalid_band_time"},
        ),
        ("plan_price", {**NO_PRICE, "hysteresis": "nan"}, {"hysteresis": "invalid_number"}),
        (
            "plan_price",
            {**NO_PRICE, "hashprice_entity": "sensor.nothing"},
            {"hashprice_entity": "not_a_hashprice"},
        ),
        (
            "plan_safety",
            {**SAFETY_NONE, "min_on_minutes": "nan"},
            {"min_on_minutes": "invalid_number"},
        ),
        (
            "plan_safety",
            {**SAFETY_NONE, "max_length_minutes": 1e-9},
            {"max_length_minutes": "max_length_too_short"},
        ),
    ],
)
async def test_what_a_plan_cannot_use_is_an_error(
    hass: HomeAssistant,
    fleet: Fleet,
    caplog: pytest.LogCaptureFixture,
    step: str,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each was stored (a NaN, a 10 kB label, a limit that rounds to none) and failed later,
    in the engine or at setup, or not at all."""
    from tests.home_miner.test_config_flow import assert_quiet

    (miner,) = await fleet("Gamma 601")
    stop = {"miner": miner_id(miner), "action": "stop"}
    valid = [
        {"name": "P", "miners": [stop]},
        {"tou_mode": "bands"},
        {"bands": [PEAK_BAND]},
        NO_PRICE,
        {},
        {},
        SAFETY_NONE,
    ]
    flow_id = await _start(hass)
    index = STEPS.index(step)
    await _at_step(hass, hass.config_entries.flow, flow_id, valid[:index])
    if step == "plan":
        name = user_input.pop("name", "P")
        user_input = {"name": name, "miners": [{**stop, **user_input}]}
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["step_id"] == step
    assert result["errors"] == errors
    assert_quiet(caplog)


@pytest.fixture(autouse=True)
def _garbage_collected_first() -> None:
    """What earlier tests left to collect is logged in this test's setup, not in the log
    `assert_quiet` looks at."""
    import gc

    gc.collect()
