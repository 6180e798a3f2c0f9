"""Anything in any field of either flow: an error on its form, an abort, or an entry.

Every step gets random strings (long ones too), numbers (NaN and infinities too) and JSON
values, mixed into an input that would pass, as a client of the flow API can send them. An
input Home Assistant's schema refuses never reaches the step: `InvalidData`, the field's
error on the form (HTTP 400). Anything else must be the step's own answer, with error keys
the translations have, and nothing logged at ERROR. What is stored stays within bounds.
"""

from __future__ import annotations

import ipaddress
import json
import math
from pathlib import Path
from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from hypothesis import HealthCheck, event, given, settings, strategies as st
import pytest

from custom_components.home_miner.config_flow import MAX_LOGIN_LENGTH
from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.miner.address import MAX_HOSTNAME_LENGTH
from custom_components.home_miner.plan import form, form_tou
from tests.conftest import SimFactory
from tests.curtailment.strategies import json_like
from tests.curtailment.test_urdb import tou_rate
from tests.home_miner.conftest import AddMiner, add_miner, auto_enable_custom_integrations  # noqa: F401
from tests.home_miner.test_config_flow import (  # noqa: F401
    assert_quiet,
    collect_garbage_first,
    fake_dns,
)
from tests.plan.conftest import (  # noqa: F401
    NO_PRICE,
    SAFETY_NONE,
    early_morning,
    fast_commands,
)
from tests.simulator.antminer import AntminerStockMiner
from tests.simulator.esp_miner import BitaxeMiner

STRINGS = json.loads(
    (Path(__file__).parent.parent / "custom_components/home_miner/strings.json").read_text()
)
CONFIG = (set(STRINGS["config"]["error"]), set(STRINGS["config"]["abort"]))
OPTIONS = (set(STRINGS["options"]["error"]), set(STRINGS["options"].get("abort", {})))
MAX_ENTITY_ID = 255  # Home Assistant's own limit

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LONG = st.builds(lambda text, n: (text or "x") * n, st.text(max_size=4), st.integers(50, 3000))
SPECIAL = st.sampled_from(
    ["", " ", "\x00", "nan", "inf", "-1", "0", "1e309", "localhost", "[::1]:80", "::1"]
)
ANY = json_like(6) | st.text(max_size=30) | LONG | SPECIAL
# Numbers a number field's range may let through (NaN is in no range), and any others.
NUMBER = (
    st.floats(min_value=-1e6, max_value=1e6)
    | st.sampled_from([0, 1, 100, 101, 1440, 10080, math.nan, "nan", "5"])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**9), 10**9)
)
# Mostly within the range of the plan's number fields, to reach the step's own checks.
IN_RANGE = st.one_of(st.floats(min_value=0, max_value=1e4), st.just(math.nan), NUMBER)


def _elsewhere(value: object) -> bool:
    """An address off this machine: never probed, whatever the flow would do with it."""
    try:
        return not ipaddress.ip_address(str(value).strip()).is_loopback
    except ValueError:
        return False


def _scans_elsewhere(value: object) -> bool:
    """A subnet with addresses off this machine: never scanned."""
    try:
        network = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return False
    if isinstance(network, ipaddress.IPv4Network):
        return not network.subnet_of(ipaddress.IPv4Network("127.0.0.0/8"))
    return network != ipaddress.IPv6Network("::1/128")


HOST = (ANY | st.sampled_from(["127.0.12.9", "bitaxe.lan", "a" * 300, "127.0.0.1:1"])).filter(
    lambda host: not _elsewhere(host)
)
SUBNET = (ANY | st.sampled_from(["127.0.12.8/30", "::1/128", "127.0.0.0/21"])).filter(
    lambda subnet: not _scans_elsewhere(subnet)
)


async def _answer(
    hass: HomeAssistant, call: Any, step: str, translated: tuple[set[str], set[str]] = CONFIG
) -> dict[str, Any] | None:
    """The flow's answer to one input, checked against the errors and abort reasons that
    have a string; None when the schema refused the input."""
    try:
        result = dict(await call)
    except InvalidData as err:
        refused = err.schema_errors
    else:
        refused = None
    if refused is not None:
        assert refused, "a schema error names its field"
        event(f"{step}: refused by the schema")
        return None
    kind = result["type"]
    event(f"{step}: {kind} {result.get('errors') or result.get('reason') or ''}".strip())
    if kind is FlowResultType.FORM:
        errors = result.get("errors") or {}
        assert set(errors.values()) <= translated[0], result
        assert errors or result["step_id"] != step, f"{step} dropped its input: {result}"
    elif kind is FlowResultType.ABORT:
        assert result["reason"] in translated[1], result
    else:
        assert kind is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    return result


def _abort_open_flows(hass: HomeAssistant) -> None:
    for flow in hass.config_entries.flow.async_progress():
        hass.config_entries.flow.async_abort(flow["flow_id"])
    for flow in hass.config_entries.options.async_progress():
        hass.config_entries.options.async_abort(flow["flow_id"])


# ---- the miner flow --------------------------------------------------------------------


@pytest.fixture
async def fuzz_miners(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,  # noqa: F811
    fake_dns: dict[str, str],  # noqa: F811
) -> dict[str, Any]:
    """A Bitaxe and an Antminer with a login, both added; the Antminer's login is asked for."""
    bitaxe = await simulate(BitaxeMiner, "127.0.12.2", hostname="fuzz-axe")
    antminer = await simulate(AntminerStockMiner, "127.0.12.3", password="pw", hostname="s19")
    return {
        "antminer": antminer,
        "bitaxe_entry": await add_miner(bitaxe.ip),
        "antminer_entry": await add_miner(antminer.ip, username="root", password="pw"),
    }


async def _menu(hass: HomeAssistant, step: str) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    return str(result["flow_id"])


def _check_miner_entry(entry: ConfigEntry) -> None:
    assert len(entry.data[CONF_HOST]) <= MAX_HOSTNAME_LENGTH + 8
    for key in (CONF_USERNAME, CONF_PASSWORD):
        assert len(entry.data.get(key) or "") <= MAX_LOGIN_LENGTH


@FUZZ
@given(host=HOST, username=ANY, password=ANY, subnet=SUBNET, poll=NUMBER | ANY)
async def test_the_miner_flow_answers_anything(
    hass: HomeAssistant,
    fuzz_miners: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    host: Any,
    username: Any,
    password: Any,
    subnet: Any,
    poll: Any,
) -> None:
    _abort_open_flows(hass)
    caplog.clear()
    flows = hass.config_entries.flow
    login = {CONF_USERNAME: username, CONF_PASSWORD: password}
    await _answer(hass, flows.async_configure(await _menu(hass, "host"), {CONF_HOST: host}), "host")

    flow_id = await _menu(hass, "host")
    result = await flows.async_configure(flow_id, {CONF_HOST: fuzz_miners["antminer"].ip})
    assert result["step_id"] == "credentials"
    await _answer(hass, flows.async_configure(flow_id, login), "credentials")

    await _answer(
        hass, flows.async_configure(await _menu(hass, "scan"), {"subnet": subnet}), "scan"
    )

    entry: ConfigEntry = fuzz_miners["bitaxe_entry"]
    result = await flows.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    await _answer(hass, flows.async_configure(result["flow_id"], {CONF_HOST: host}), "reconfigure")

    reauth: ConfigEntry = fuzz_miners["antminer_entry"]
    result = await flows.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_REAUTH, "entry_id": reauth.entry_id},
        data=reauth.data,
    )
    await _answer(hass, flows.async_configure(result["flow_id"], login), "reauth_confirm")

    result = await hass.config_entries.options.async_init(entry.entry_id)
    options = hass.config_entries.options.async_configure(
        result["flow_id"], {"poll_interval": poll}
    )
    await _answer(hass, options, "init", OPTIONS)

    _abort_open_flows(hass)
    for found in hass.config_entries.async_entries(DOMAIN):
        _check_miner_entry(found)
        if found not in (entry, reauth):
            await hass.config_entries.async_remove(found.entry_id)
    assert entry.state is reauth.state is ConfigEntryState.LOADED
    assert_quiet(caplog)


# ---- the plan flow ---------------------------------------------------------------------


@pytest.fixture
async def plan_miner(
    hass: HomeAssistant,
    simulate: SimFactory,
    add_miner: AddMiner,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """One Bitaxe to plan for; OpenEI is a closed port on this machine."""
    monkeypatch.setattr(
        "custom_components.home_miner.plan.const.URDB_URL", "http://127.0.0.1:9/utility_rates"
    )
    hass.states.async_set("sensor.price", "0.25", {"unit_of_measurement": "EUR/kWh"})
    hass.states.async_set("sensor.outdoor", "12.5", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.hashprice", "0.05")
    miner = await simulate(
        BitaxeMiner, "127.0.12.20", firmware="v2.14.0", hostname="plan-axe", command_delay=0.05
    )
    await add_miner(miner.ip)
    return str(miner.mac.lower())


def _fields(strategies: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of a step's fields: values of the field's type that may or may not make sense
    (most get past the schema, to the step's own checks), or anything at all."""
    typed = st.fixed_dictionaries({}, optional=strategies)
    anything = st.fixed_dictionaries({}, optional=dict.fromkeys(strategies, ANY))
    return st.one_of(typed, typed, typed, anything)


TEXT = st.text(max_size=40) | LONG
TIME = (
    st.sampled_from(["00:00:00", "07:00:00", "17:00", "23:59:59", "7:00", "24:00", "24:01", "9 pm"])
    | TEXT
)
BAND = st.fixed_dictionaries(
    {"label": TEXT, "start": TIME, "end": TIME},
    optional={
        "days": st.lists(st.sampled_from(form_tou._DAYS), max_size=7, unique=True),
        "months": st.lists(st.sampled_from([str(m) for m in range(1, 13)]), max_size=12),
        "price": st.floats(min_value=0, max_value=1e5) | NUMBER,
    },
)
ENTITY = st.sampled_from(
    ["sensor.price", "sensor.outdoor", "sensor.hashprice", "sensor.none", "sensor." + "a" * 300]
)


def _miners(mid: str, name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Rows naming the miner as the form does (its name), as a plan stores it (its MAC), or
    not at all."""
    item = st.fixed_dictionaries(
        {"miner": st.sampled_from([name, mid, "00:00:00:00:00:00", "axe"]) | ANY},
        optional={
            "action": st.sampled_from(["stop", "limit_w", "limit_percent"]),
            "value": st.floats(min_value=0, max_value=1e5) | NUMBER,
            "priority": st.integers(0, 1000) | NUMBER,
        },
    )
    return _fields({"name": TEXT, "miners": st.lists(item, max_size=3)})


# The sources a walk can get through here (a fetch needs OpenEI, a closed port here: its form
# is fuzzed on its own).
WALKED_SOURCES = ("none", "bands", "urdb_json")
TOU_SOURCE = _fields({"tou_mode": st.sampled_from(WALKED_SOURCES)})
PEAK_LABELS = st.lists(st.text(max_size=40), max_size=12)
HOLIDAYS = st.sampled_from(["calendar.none", "sensor.price", "calendar." + "a" * 300])
TOU_BANDS = _fields(
    {"bands": st.lists(BAND, max_size=60), "peak_labels": PEAK_LABELS, "holiday_calendar": HOLIDAYS}
)
TOU_URDB_JSON = _fields(
    {
        "urdb_json": TEXT | st.just(json.dumps(tou_rate())),
        "urdb_label": TEXT,
        "peak_labels": PEAK_LABELS,
        "holiday_calendar": HOLIDAYS,
    }
)
TOU_URDB_FETCH = _fields(
    {
        "urdb_api_key": TEXT,
        "urdb_label": TEXT,
        "peak_labels": PEAK_LABELS,
        "holiday_calendar": HOLIDAYS,
    }
)
PRICE = _fields(
    {
        "price_entity": ENTITY,
        "price_preset": st.sampled_from(["none", "nordpool", "generic"]),
        "threshold_mode": st.sampled_from(["none", "fixed", "break_even"]),
        "threshold": IN_RANGE,
        "hashprice": IN_RANGE,
        "hashprice_entity": ENTITY,
        "hysteresis": IN_RANGE,
        "on_missing_price": st.sampled_from(["run", "curtail", "tariff"]),
    }
)
# The VTN fields are left out: they reach a server, and are the VTN step's own tests' job.
DR = _fields(
    {
        "calendars": st.lists(st.sampled_from(["calendar.none", "calendar.x"])),
        "calendar_match": TEXT,
        "dr_entities": st.lists(st.sampled_from(["binary_sensor.none", "switch.x"])),
    }
)
HOUSE = _fields(
    {
        "grid_power_entity": st.sampled_from(["sensor.none", "sensor.grid"]),
        "battery_soc_entity": st.sampled_from(["sensor.none", "sensor.battery"]),
        "surplus_only": st.booleans(),
        "reserve_w": IN_RANGE,
        "grid_allowance_w": IN_RANGE,
        "battery_floor_pct": IN_RANGE,
        "import_limit_kw": IN_RANGE,
        "boost_price": IN_RANGE,
        "boost_entities": st.lists(st.sampled_from(["binary_sensor.none", "calendar.x"])),
    }
)
SAFETY_NUMBERS = ("min_on_minutes", "min_off_minutes", "restart_stagger_seconds")
SAFETY = _fields(
    dict.fromkeys((*SAFETY_NUMBERS, "max_length_minutes"), IN_RANGE)
    | {"observe_only": st.booleans()}
)


def _check_plan_entry(entry: ConfigEntry) -> None:
    """The fields this flow bounds are within bounds; every number is finite."""
    options = entry.options
    json.dumps(dict(options), allow_nan=False)
    assert len(entry.title) <= form.MAX_NAME_LENGTH
    assert len(options["miners"]) == 1
    assert len(options.get("bands", [])) <= form_tou.MAX_BANDS
    for band in options.get("bands", []):
        assert set(band) <= set(form_tou._BAND_FIELDS)
        texts = [*(band.get(k) for k in ("label", "start", "end", "price")), *band.get("days", [])]
        assert all(len(t) <= form.MAX_TEXT_LENGTH for t in texts if isinstance(t, str))
    labels = options.get("peak_labels", [])
    assert len(labels) <= form_tou.MAX_PEAK_LABELS
    assert all(len(label) <= form.MAX_TEXT_LENGTH for label in labels)
    for key in ("price_entity", "hashprice_entity"):
        assert len(options.get(key) or "") <= MAX_ENTITY_ID


async def _remove_plans(hass: HomeAssistant) -> None:
    """Each example starts where the fixture left off, whatever the one before did."""
    _abort_open_flows(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get("entry_type") == "plan":
            await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()


def _miner_name(hass: HomeAssistant, mid: str) -> str:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, mid)
    assert entry is not None
    return entry.title


@settings(FUZZ, max_examples=80)
@given(data=st.data())
async def test_the_plan_flow_answers_anything(
    hass: HomeAssistant, plan_miner: str, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    await _remove_plans(hass)
    caplog.clear()
    name = _miner_name(hass, plan_miner)
    source = data.draw(st.sampled_from(WALKED_SOURCES), label="source")
    # Each form the walk can meet: what passes it, and what is thrown at it first.
    steps: dict[str, tuple[dict[str, Any], st.SearchStrategy[dict[str, Any]]]] = {
        "plan": (
            {"name": "Fuzz", "miners": [{"miner": name, "action": "stop"}]},
            _miners(plan_miner, name),
        ),
        "plan_tou": ({"tou_mode": source}, TOU_SOURCE),
        "plan_tou_bands": (
            {"bands": [{"label": "peak", "start": "17:00", "end": "20:00"}]},
            TOU_BANDS,
        ),
        "plan_tou_urdb_json": ({"urdb_json": json.dumps(tou_rate())}, TOU_URDB_JSON),
        "plan_price": ({**NO_PRICE, "on_missing_price": "run"}, PRICE),
        "plan_dr": ({}, DR),
        "plan_house": ({}, HOUSE),
        "plan_safety": (SAFETY_NONE, SAFETY),
    }
    flow_id = await _menu(hass, "plan")
    result: dict[str, Any] | None = dict(await hass.config_entries.flow.async_configure(flow_id))
    while result is not None and result["type"] is FlowResultType.FORM:
        step = result["step_id"]
        valid, fuzz = steps[step]
        extra = data.draw(fuzz, label=step)
        call = hass.config_entries.flow.async_configure(flow_id, {**valid, **extra})
        result = await _answer(hass, call, step)
        if result is None or result.get("step_id") == step:
            result = await _answer(
                hass, hass.config_entries.flow.async_configure(flow_id, valid), step
            )
            assert result is not None
            assert not result.get("errors"), result
    assert result is not None
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    await hass.async_block_till_done()
    _check_plan_entry(entry)
    assert entry.state is ConfigEntryState.LOADED, entry.reason
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert_quiet(caplog)


@FUZZ
@given(inputs=st.lists(TOU_URDB_FETCH, min_size=1, max_size=3))
async def test_the_urdb_fetch_form_answers_anything(
    hass: HomeAssistant,
    plan_miner: str,
    caplog: pytest.LogCaptureFixture,
    inputs: list[dict[str, Any]],
) -> None:
    """OpenEI cannot be reached here: whatever is sent, the form answers with an error."""
    await _remove_plans(hass)
    caplog.clear()
    flow_id = await _menu(hass, "plan")
    name = _miner_name(hass, plan_miner)
    for step in (
        {"name": "Fuzz", "miners": [{"miner": name, "action": "stop"}]},
        {"tou_mode": "urdb_fetch"},
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, step)
    assert result["step_id"] == "plan_tou_urdb_fetch"
    for user_input in inputs:
        call = hass.config_entries.flow.async_configure(flow_id, user_input)
        result = await _answer(hass, call, "plan_tou_urdb_fetch")
        assert result is None or result["errors"], result
    assert_quiet(caplog)
