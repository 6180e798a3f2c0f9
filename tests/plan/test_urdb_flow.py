"""A URDB rate on the plan's time-of-use form, pasted or fetched as OpenEI serves it, and the
repair issue raised before a stored rate ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.home_miner.const import DOMAIN
from tests.curtailment.test_urdb import tou_rate

from .conftest import NO_PRICE, SAFETY_NONE, AddPlan, Fleet, miner_id, plan_of

RATES = Path(__file__).parents[1] / "curtailment" / "urdb"
USED_FIELDS = {
    "label",
    "name",
    "utility",
    "energyratestructure",
    "energytoulabels",
    "energyweekdayschedule",
    "energyweekendschedule",
}


def rate_text(name: str) -> str:
    """A rate's JSON exactly as copied from OpenEI (tests/curtailment/urdb/)."""
    return (RATES / f"{name}.json").read_text()


def api_answer(description: str = "") -> dict[str, Any]:
    """A current rate as the API answers `getpage`, with the fields the plan has no use for."""
    rate = tou_rate() | {
        "uri": f"https://apps.openei.org/IURDB/rate/view/{tou_rate()['label']}",
        "description": description or "Peak 4 p.m. to 9 p.m. weekdays, June to September.",
        "revisions": [1704153600, 1704240000],
    }
    return {"items": [rate]}


def integration_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name.startswith("custom_components")
    ]


AtTou = Callable[..., Awaitable[str]]


@pytest.fixture
def at_tou(hass: HomeAssistant, fleet: Fleet) -> AtTou:
    """A new plan's flow (for a miner of its own) at the form of a time-of-use source
    ("urdb_json" or "urdb_fetch"); returns the flow id."""

    async def _start(source: str = "urdb_json") -> str:
        (miner,) = await fleet("Gamma 601")
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "plan"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"name": "Evening", "miners": [{"miner": miner_id(miner), "action": "stop"}]},
        )
        assert result["step_id"] == "plan_tou", result
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"tou_mode": source}
        )
        assert result["step_id"] == f"plan_tou_{source}", result
        return str(result["flow_id"])

    return _start


async def paste(hass: HomeAssistant, flow_id: str, text: str, **more: Any) -> FlowResult:
    return await hass.config_entries.flow.async_configure(flow_id, {"urdb_json": text, **more})


async def finish(hass: HomeAssistant, result: FlowResult) -> ConfigEntry:
    """From the price form on, with nothing more than the defaults."""
    assert result["step_id"] == "plan_price", result
    for step in (NO_PRICE, {}, {}, SAFETY_NONE):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], step)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


@pytest.fixture
async def openei(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict]:
    """OpenEI's utility_rates API on 127.0.0.1, answering `getpage` with the rates put in the
    returned mapping (label → the API's answer)."""
    answers: dict[str, Any] = {}

    async def rates(request: web.Request) -> web.Response:
        answer = answers.get(request.query.get("getpage", ""), {"items": []})
        return web.Response(text=answer if isinstance(answer, str) else json.dumps(answer))

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
    yield answers
    await runner.cleanup()


def fetch(label: str) -> dict[str, str]:
    return {"urdb_api_key": "key", "urdb_label": label}


async def test_expired_rate_is_refused_on_the_form(
    hass: HomeAssistant, at_tou: AtTou, openei: dict[str, Any]
) -> None:
    """FPL's RS-1 ended in 2015: a plan on it would never curtail. Pasted or fetched, it is
    refused; a current rate then goes through."""
    flow_id = await at_tou()
    result = await paste(hass, flow_id, rate_text("fpl_rs1_2015"))
    assert result["errors"] == {"urdb_json": "urdb_expired"}
    dates = result["description_placeholders"]
    assert dates["urdb_end"].startswith("201"), "the message says when the rate ended"
    assert dates["urdb_start"] <= dates["urdb_end"]
    entry = await finish(hass, await paste(hass, flow_id, json.dumps(tou_rate())))
    assert entry.options["urdb_rate"]["label"] == tou_rate()["label"]

    flow_id = await at_tou("urdb_fetch")
    openei["5550d6fd5457a3187e8b4567"] = {"items": [json.loads(rate_text("fpl_rs1_2015"))]}
    result = await hass.config_entries.flow.async_configure(
        flow_id, fetch("5550d6fd5457a3187e8b4567")
    )
    assert result["errors"] == {"urdb_label": "urdb_expired"}
    openei[tou_rate()["label"]] = api_answer()
    entry = await finish(
        hass, await hass.config_entries.flow.async_configure(flow_id, fetch(tou_rate()["label"]))
    )
    assert entry.options["urdb_label"] == tou_rate()["label"]


async def test_inverted_dates_are_accepted_with_one_warning(
    hass: HomeAssistant, at_tou: AtTou, caplog: pytest.LogCaptureFixture
) -> None:
    """APS's R-3 as OpenEI has it ends the day before it starts: its schedule is used, the
    dates are not, and the log says so once (not again at every setup)."""
    flow_id = await at_tou()
    entry = await finish(hass, await paste(hass, flow_id, rate_text("aps_r3_inverted_dates")))
    stored = entry.options["urdb_rate"]
    assert "startdate" not in stored
    assert "enddate" not in stored
    tariff = plan_of(entry).config.tariff
    assert tariff is not None
    now = dt_util.utcnow()
    assert {p.label for p in tariff.periods(now, now + timedelta(days=7))} & {
        "Summer On-Peak",
        "Winter On-Peak",
    }
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    warnings = [r for r in caplog.records if "not after its startdate" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert integration_errors(caplog) == []


async def test_price_overflow_is_refused_and_broken_demand_charges_are_ignored(
    hass: HomeAssistant, at_tou: AtTou
) -> None:
    flow_id = await at_tou()
    overflow = tou_rate()
    overflow["energyratestructure"][1] = [{"rate": 1e308, "adj": 1e308, "unit": "kWh"}]
    result = await paste(hass, flow_id, json.dumps(overflow))
    assert result["errors"] == {"urdb_json": "urdb_invalid_price"}
    broken_demand = tou_rate() | {"demandratestructure": [[{"rate": "see tariff sheet"}]]}
    entry = await finish(hass, await paste(hass, flow_id, json.dumps(broken_demand)))
    assert set(entry.options["urdb_rate"]) == USED_FIELDS | {"startdate"}
    assert plan_of(entry).config.tariff is not None


async def test_deeply_nested_json_is_refused_without_an_error_logged(
    hass: HomeAssistant, at_tou: AtTou, caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = await at_tou()
    result = await paste(hass, flow_id, "[" * 100_000 + "]" * 100_000)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"urdb_json": "urdb_too_deep"}
    assert integration_errors(caplog) == []
    await finish(hass, await paste(hass, flow_id, rate_text("aps_r3_inverted_dates")))


async def test_oversized_json_is_refused_and_only_the_used_part_is_stored(
    hass: HomeAssistant, at_tou: AtTou, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5 MB paste is refused; a large but plausible one (a long description) is read, and
    the entry keeps only what the plan uses, not the description."""
    flow_id = await at_tou()
    result = await paste(hass, flow_id, json.dumps(api_answer("Rate sheet. " * 450_000)))
    assert result["errors"] == {"urdb_json": "urdb_too_large"}
    entry = await finish(
        hass, await paste(hass, flow_id, json.dumps(api_answer("Rate sheet. " * 60_000)))
    )
    assert set(entry.options["urdb_rate"]) == USED_FIELDS | {"startdate"}
    assert len(json.dumps(dict(entry.options))) < 10_000
    assert integration_errors(caplog) == []


async def test_fetched_rate_is_stored_without_the_rest_of_the_answer(
    hass: HomeAssistant, at_tou: AtTou, openei: dict[str, Any]
) -> None:
    flow_id = await at_tou("urdb_fetch")
    label = tou_rate()["label"]
    openei[label] = api_answer()
    openei["deep"] = "[" * 50_000 + "]" * 50_000
    result = await hass.config_entries.flow.async_configure(flow_id, fetch("deep"))
    assert result["errors"] == {"urdb_label": "urdb_too_deep"}
    entry = await finish(
        hass, await hass.config_entries.flow.async_configure(flow_id, fetch(label))
    )
    assert set(entry.options["urdb_rate"]) == USED_FIELDS | {"startdate"}
    assert entry.options["urdb_label"] == label
    assert entry.options["urdb_api_key"] == "key"


def _ending_in(days: float) -> str:
    end = dt_util.utcnow() + timedelta(days=days)
    return json.dumps(tou_rate() | {"enddate": int(end.timestamp())})


def _issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"urdb_rate_ends_{entry.entry_id}")


async def test_repair_issue_14_days_before_the_stored_rate_ends(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    tou = {"tou_mode": "urdb_json", "urdb_json": _ending_in(30)}
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=tou)
    end = dt_util.utc_from_timestamp(entry.options["urdb_rate"]["enddate"])
    assert _issue(hass, entry) is None

    async_fire_time_changed(hass, end - timedelta(days=14, minutes=-1))
    await hass.async_block_till_done()
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "urdb_rate_ending"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.learn_more_url == f"https://apps.openei.org/IURDB/rate/view/{tou_rate()['label']}"
    assert issue.translation_placeholders == {
        "plan": "Test plan",
        "rate": "E-TOU Residential Time-of-Use",
        "utility": "Example Electric Co",
        "end": dt_util.as_local(end).date().isoformat(),
    }

    async_fire_time_changed(hass, end + timedelta(minutes=1))
    await hass.async_block_till_done()
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "urdb_rate_ended"
    assert issue.severity is ir.IssueSeverity.ERROR

    await hass.config_entries.async_unload(entry.entry_id)
    assert _issue(hass, entry) is None


async def test_repair_issue_at_setup_for_a_rate_ending_soon_or_ended(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan
) -> None:
    (miner,) = await fleet("Gamma 601")
    tou = {"tou_mode": "urdb_json", "urdb_json": _ending_in(10)}
    entry = await add_plan([{"miner": miner_id(miner), "action": "stop"}], tou=tou)
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "urdb_rate_ending"

    # The rate ended while Home Assistant was off: the stored entry is set up again.
    ended = {**entry.options["urdb_rate"], "enddate": int(dt_util.utcnow().timestamp()) - 3600}
    hass.config_entries.async_update_entry(entry, options={**entry.options, "urdb_rate": ended})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "urdb_rate_ended"

    current = {k: v for k, v in entry.options["urdb_rate"].items() if k != "enddate"}
    hass.config_entries.async_update_entry(entry, options={**entry.options, "urdb_rate": current})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry) is None
