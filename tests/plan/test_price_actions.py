"""Price forecasts that only an action gives: core Nord Pool, Tibber and EnergyZero.

Their libraries (pynordpool, pyTibber, energyzero) are not installed beside the test Home
Assistant, so each action is registered under its integration's domain with the schema and the
answer of the core integration's own `services.py` (Home Assistant 2026.10), answering in the
shapes home-assistant/core pins in its tests:
- `tests/components/nordpool/snapshots/test_services.ambr`: `{"SE3": [{"start": ...,
  "end": ..., "price": 250.73}, ...]}` in currency/MWh, times as `isoformat()` in UTC;
  `{"SE3": []}` (test_empty_response_returns_empty_list) before the day is published.
- `tests/components/tibber/test_services.py`: `{"prices": {"first_home": [{"start_time":
  ..., "price": 0.36914}, ...], "second_home": [...]}}`, one list per home.
- `tests/components/energyzero/snapshots/test_services.ambr`: `{"prices": [{"price":
  0.20349175, "timestamp": "2026-04-09 22:00:00+00:00"}, ...]}` (2026.10 adds `start` and
  `end` beside `timestamp`), the day of `start` read in Home Assistant's time zone.
The plan entries are written directly: the price form does not offer these presets yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    async_fire_time_changed,
    mock_config_flow,
    mock_integration,
    mock_platform,
)
import voluptuous as vol

from custom_components.home_miner.const import DOMAIN
from custom_components.home_miner.plan import PlanCoordinator
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import SAFETY_NONE, Fleet, miner_id, plan_of, settle

OSLO = dt_util.get_time_zone("Europe/Oslo")
CHEAP_MWH, EXPENSIVE_MWH = 61.69, 2512.65  # SE3 prices in the Nord Pool snapshot
CHEAP_KWH, EXPENSIVE_KWH = 0.19964395, 0.399000525  # EnergyZero's snapshot
PRICE_LOGGER = "custom_components.home_miner"


def hours(start: datetime, end: datetime) -> list[datetime]:
    """The hours from `start` to `end` in UTC (23 or 25 of them on a DST day)."""
    found, at = [], dt_util.as_utc(start)
    while at < end:
        found.append(at)
        at += timedelta(hours=1)
    return found


class PriceService:
    """One integration's price action: what it was asked, and the days it has prices of."""

    domain: str
    service: str
    schema: vol.Schema

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.calls: list[dict[str, Any]] = []
        self.published: set[date] = set()
        self.expensive: set[datetime] = set()
        # A failure or a foreign answer in place of the integration's.
        self.fails: Exception | None = None
        self.answer: ServiceResponse | None = None

    def install(self) -> None:
        """The integration, registering its action at setup as the core one does."""

        async def setup(hass: HomeAssistant, _: dict[str, Any]) -> bool:
            hass.services.async_register(
                self.domain,
                self.service,
                self._handle,
                schema=self.schema,
                supports_response=SupportsResponse.ONLY,
            )
            return True

        async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
            return True

        mock_integration(
            self.hass,
            MockModule(
                self.domain,
                async_setup=setup,
                async_setup_entry=setup_entry,
                async_unload_entry=setup_entry,
            ),
        )
        mock_platform(self.hass, f"{self.domain}.config_flow", None)

    async def add_entry(self, **data: Any) -> MockConfigEntry:
        """The integration's config entry, set up."""
        entry = MockConfigEntry(domain=self.domain, title=self.domain, data=data)
        entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.LOADED
        return entry

    def price(self, at: datetime, cheap: float, expensive: float) -> float:
        return expensive if at in self.expensive else cheap

    async def _handle(self, call: ServiceCall) -> ServiceResponse:
        self.calls.append(dict(call.data))
        if self.fails is not None:
            raise self.fails
        if self.answer is not None:
            return self.answer
        return self.respond(call)

    def respond(self, call: ServiceCall) -> ServiceResponse:
        raise NotImplementedError

    def days_asked(self) -> list[date]:
        raise NotImplementedError


class NordPool(PriceService):
    """`nordpool.get_prices_for_date`: the CET delivery day's prices per area."""

    domain, service = "nordpool", "get_prices_for_date"
    schema = vol.Schema(
        {
            vol.Required("config_entry"): str,
            vol.Required("date"): cv.date,
            vol.Optional("areas", default=[]): vol.All(cv.ensure_list, [vol.Upper]),
            vol.Optional("currency"): vol.All(
                str, vol.Upper, vol.In(["DKK", "EUR", "NOK", "PLN", "SEK"])
            ),
        }
    )

    def respond(self, call: ServiceCall) -> ServiceResponse:
        entry = service.async_get_config_entry(self.hass, self.domain, call.data["config_entry"])
        areas = call.data["areas"] or entry.data["areas"]
        day: date = call.data["date"]
        if day not in self.published:
            return {area: [] for area in areas}
        start = datetime.combine(day, time(), tzinfo=OSLO)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=OSLO)
        return {
            area: [
                {
                    "start": at.isoformat(),
                    "end": (at + timedelta(hours=1)).isoformat(),
                    "price": self.price(at, CHEAP_MWH, EXPENSIVE_MWH),
                }
                for at in hours(start, end)
            ]
            for area in areas
        }

    def days_asked(self) -> list[date]:
        return [call["date"] for call in self.calls]


class Tibber(PriceService):
    """`tibber.get_prices`: each home's prices from `start` to `end` (default: today)."""

    domain, service = "tibber", "get_prices"
    schema = vol.Schema({vol.Optional("start"): str, vol.Optional("end"): str})
    homes = ("first_home", "second_home")

    def respond(self, call: ServiceCall) -> ServiceResponse:
        if not self.hass.config_entries.async_loaded_entries(self.domain):
            raise ServiceValidationError(translation_domain="tibber", translation_key="no_entry")
        midnight = dt_util.start_of_local_day()
        start = dt_util.as_local(dt_util.parse_datetime(call.data.get("start", "")) or midnight)
        end = dt_util.parse_datetime(call.data.get("end", "")) or start + timedelta(days=1)
        known = [at for at in hours(start, end) if at.astimezone(OSLO).date() in self.published]
        return {
            "prices": {
                home: [
                    {
                        "start_time": at.astimezone(OSLO).isoformat(),
                        "price": self.price(at, 0.36914, 0.46914),
                    }
                    for at in known
                ]
                for home in self.homes
            }
        }

    def days_asked(self) -> list[date]:
        return [
            dt_util.parse_datetime(call["start"], raise_on_error=True).astimezone(OSLO).date()
            for call in self.calls
        ]


class EnergyZero(PriceService):
    """`energyzero.get_energy_prices`: the prices of the home's day from `start` to `end`."""

    domain, service = "energyzero", "get_energy_prices"
    schema = vol.Schema(
        {
            vol.Required("config_entry"): str,
            vol.Required("incl_vat"): bool,
            vol.Optional("start"): str,
            vol.Optional("end"): str,
            vol.Optional("price_type", default="market"): vol.In(("market", "all_in")),
            vol.Optional("interval", default="hour"): vol.In(("hour", "quarter")),
        }
    )

    def respond(self, call: ServiceCall) -> ServiceResponse:
        service.async_get_config_entry(self.hass, self.domain, call.data["config_entry"])
        day = self._day(call.data["start"])
        if day not in self.published or self._day(call.data["end"]) != day:
            raise ServiceValidationError(translation_domain="energyzero", translation_key="no_data")
        start = dt_util.start_of_local_day(day)
        return {
            "prices": [
                {
                    "price": self.price(at, CHEAP_KWH, EXPENSIVE_KWH),
                    "timestamp": str(at),
                    "start": str(at),
                    "end": str(at + timedelta(hours=1)),
                }
                for at in hours(start, dt_util.start_of_local_day(day + timedelta(days=1)))
            ]
        }

    @staticmethod
    def _day(text: str) -> date:
        return dt_util.as_local(dt_util.parse_datetime(text, raise_on_error=True)).date()

    def days_asked(self) -> list[date]:
        return [self._day(call["start"]) for call in self.calls]


class IntegrationFlow(ConfigFlow):
    """The integrations' own flows need their libraries: their entries are added directly."""

    VERSION = 1


@pytest.fixture(autouse=True)
def integration_flows() -> Iterator[None]:
    with (
        mock_config_flow("nordpool", IntegrationFlow),
        mock_config_flow("tibber", IntegrationFlow),
        mock_config_flow("energyzero", IntegrationFlow),
    ):
        yield


@pytest.fixture
def nord_pool(hass: HomeAssistant) -> NordPool:
    action = NordPool(hass)
    action.install()
    return action


@pytest.fixture
def tibber(hass: HomeAssistant) -> Tibber:
    action = Tibber(hass)
    action.install()
    return action


@pytest.fixture
def energyzero(hass: HomeAssistant) -> EnergyZero:
    action = EnergyZero(hass)
    action.install()
    return action


async def add_action_plan(
    hass: HomeAssistant, miner: BitaxeMiner, price: dict[str, Any]
) -> PlanCoordinator:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test plan",
        data={"entry_type": "plan"},
        options={
            "miners": [{"miner": miner_id(miner), "action": "stop"}],
            "tou_mode": "none",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0.0,
            "on_missing_price": "run",
            **price,
            **SAFETY_NONE,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    plan = plan_of(entry)
    await settle(hass, plan)
    return plan


def next_hour(hours_ahead: int) -> datetime:
    return (dt_util.utcnow() + timedelta(hours=hours_ahead)).replace(
        minute=0, second=0, microsecond=0
    )


async def schedule(hass: HomeAssistant, plan: PlanCoordinator) -> list[tuple[datetime, str]]:
    """The plan's windows as `home_miner.get_schedule` gives them."""
    answer: Any = await hass.services.async_call(
        DOMAIN,
        "get_schedule",
        {"config_entry_id": plan.config_entry.entry_id},
        blocking=True,
        return_response=True,
    )
    return [
        (dt_util.parse_datetime(window["start"], raise_on_error=True), window["reason"])
        for window in answer["windows"]
    ]


def oslo_today() -> date:
    return dt_util.utcnow().astimezone(OSLO).date()


async def test_nord_pool_answer_plans_the_expensive_hour(
    hass: HomeAssistant, fleet: Fleet, nord_pool: NordPool
) -> None:
    """Core Nord Pool's sensor gives the price now; its action the hours ahead."""
    nord_pool_entry = await nord_pool.add_entry(areas=["SE3", "SE4"], currency="EUR")
    expensive = next_hour(2)
    nord_pool.expensive.add(expensive)
    nord_pool.published |= {oslo_today(), oslo_today() + timedelta(days=1)}
    hass.states.async_set(
        "sensor.nord_pool_se3_current_price", "0.06169", {"unit_of_measurement": "EUR/kWh"}
    )
    (miner,) = await fleet("Gamma 601")

    plan = await add_action_plan(
        hass,
        miner,
        {
            "price_entity": "sensor.nord_pool_se3_current_price",
            "price_preset": "nordpool_action",
            "price_action_entry": nord_pool_entry.entry_id,
            "price_action_area": "se3",
        },
    )

    assert nord_pool.calls[0] == {
        "config_entry": nord_pool_entry.entry_id,
        "date": oslo_today(),
        "areas": ["SE3"],
    }
    assert (expensive, "price_above_threshold") in await schedule(hass, plan)
    assert not miner.paused
    assert plan.data.decision.next_check is not None
    assert plan.data.decision.next_check <= expensive
    # The hour comes, and the sensor with it.
    plan.async_decide(expensive + timedelta(minutes=1))
    hass.states.async_set(
        "sensor.nord_pool_se3_current_price", "2.51265", {"unit_of_measurement": "EUR/kWh"}
    )
    await settle(hass, plan)
    assert miner.paused
    assert plan.data.decision.price == pytest.approx(2.51265)


async def test_nord_pool_is_asked_for_tomorrow_when_it_is_published(
    hass: HomeAssistant, fleet: Fleet, nord_pool: NordPool
) -> None:
    """Before 13:00 (Oslo) tomorrow's prices are not asked for; at 13:00 they are."""
    await nord_pool.add_entry(areas=["SE3"], currency="SEK")
    nord_pool.published.add(oslo_today())
    (miner,) = await fleet("Gamma 601")
    plan = await add_action_plan(hass, miner, {"price_preset": "nordpool_action"})
    assert oslo_today() in nord_pool.days_asked()

    # The next publication, and a day after it whose 03:00 is expensive.
    now = dt_util.utcnow().astimezone(OSLO)
    published = datetime.combine(now.date(), time(13), tzinfo=OSLO)
    if published <= now:
        published += timedelta(days=1)
    day_after = published.date() + timedelta(days=1)
    expensive = dt_util.as_utc(datetime.combine(day_after, time(3), tzinfo=OSLO))
    nord_pool.expensive.add(expensive)
    assert (expensive, "price_above_threshold") not in await schedule(hass, plan)
    assert day_after not in nord_pool.days_asked()

    nord_pool.published |= {published.date(), day_after}
    async_fire_time_changed(hass, published)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert day_after in nord_pool.days_asked()
    assert (expensive, "price_above_threshold") in await schedule(hass, plan)
    # Without a price entity the plan's prices are in the unit of the entry's currency.
    assert plan.feeds.unit() == "SEK/kWh"


async def test_tibber_failing_leaves_the_plan_on_its_sensor_then_the_hourly_call_works(
    hass: HomeAssistant, fleet: Fleet, tibber: Tibber, caplog: pytest.LogCaptureFixture
) -> None:
    await tibber.add_entry()
    tibber.published |= {oslo_today(), oslo_today() + timedelta(days=1)}
    expensive = next_hour(3)
    tibber.expensive.add(expensive)
    tibber.fails = HomeAssistantError("Tibber did not answer: 503")
    hass.states.async_set(
        "sensor.electricity_price_home", "0.25", {"unit_of_measurement": "NOK/kWh"}
    )
    (miner,) = await fleet("Gamma 601")
    with caplog.at_level(logging.INFO, PRICE_LOGGER):
        plan = await add_action_plan(
            hass,
            miner,
            {
                "price_entity": "sensor.electricity_price_home",
                "price_preset": "tibber",
                "price_action_area": "second_home",
                "threshold": 0.40,
            },
        )
        assert tibber.calls
        assert await schedule(hass, plan) == []
        # The plan goes on with its sensor alone.
        hass.states.async_set(
            "sensor.electricity_price_home", "0.45", {"unit_of_measurement": "NOK/kWh"}
        )
        await settle(hass, plan)
        assert miner.paused
        hass.states.async_set(
            "sensor.electricity_price_home", "0.25", {"unit_of_measurement": "NOK/kWh"}
        )
        await settle(hass, plan)
        assert not miner.paused

        asked = len(tibber.calls)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(tibber.calls) > asked, "asked again an hour later"
        warnings = [r for r in caplog.records if "has no Tibber prices" in r.getMessage()]
        assert len(warnings) == 1, "the same failure is logged once"
        assert "503" in warnings[0].getMessage()

        tibber.fails = None
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=2, seconds=2))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert (expensive, "price_above_threshold") in await schedule(hass, plan)
    assert "reads Tibber prices again" in caplog.text
    assert (
        tibber.calls[-1]["start"]
        == datetime.combine(tibber.days_asked()[-1], time(), tzinfo=OSLO).isoformat()
    )


async def test_energyzero_without_a_sensor_gives_the_price_now(
    hass: HomeAssistant, fleet: Fleet, energyzero: EnergyZero
) -> None:
    """Without a price entity the answer is the price now too: the current hour is expensive,
    the miner stops at once. The only EnergyZero entry is the one called."""
    energyzero_entry = await energyzero.add_entry()
    today = dt_util.now().date()
    energyzero.published.add(today)
    energyzero.expensive.add(next_hour(0))
    (miner,) = await fleet("Gamma 601")

    plan = await add_action_plan(
        hass, miner, {"price_preset": "energyzero", "price_action_incl_vat": False}
    )

    midnight = dt_util.start_of_local_day(today).isoformat()
    assert energyzero.calls[0] == {
        "config_entry": energyzero_entry.entry_id,
        "incl_vat": False,
        "start": midnight,
        "end": midnight,
        "price_type": "market",
        "interval": "hour",
    }
    assert miner.paused
    assert plan.data.decision.price == pytest.approx(EXPENSIVE_KWH)
    assert plan.feeds.unit() == "€/kWh"


@pytest.mark.parametrize(
    ("answer", "logged"),
    [
        pytest.param({"SE3": "soon"}, "must be a list", id="not-a-list"),
        pytest.param({"SE3": [], "SE4": []}, "choose one", id="two-areas"),
        pytest.param(
            {"SE3": [{"start": "2026-01-01T00:00:00+00:00", "end": "x", "price": 1.0}] * 5000},
            "more than prices need",
            id="too-large",
        ),
        pytest.param(None, "KeyError", id="integration-bug"),
    ],
)
async def test_a_malformed_answer_gives_no_forecast(
    hass: HomeAssistant,
    fleet: Fleet,
    nord_pool: NordPool,
    caplog: pytest.LogCaptureFixture,
    answer: dict[str, Any] | None,
    logged: str,
) -> None:
    await nord_pool.add_entry(areas=["SE3"], currency="EUR")
    nord_pool.published.add(oslo_today())
    nord_pool.expensive.add(next_hour(0))
    if answer is None:
        nord_pool.fails = KeyError("SE3")
    else:
        nord_pool.answer = answer
    hass.states.async_set("sensor.price", "0.10", {"unit_of_measurement": "EUR/kWh"})
    (miner,) = await fleet("Gamma 601")
    with caplog.at_level(logging.WARNING, PRICE_LOGGER):
        plan = await add_action_plan(
            hass, miner, {"price_entity": "sensor.price", "price_preset": "nordpool_action"}
        )
    assert nord_pool.calls
    assert logged in caplog.text
    assert not miner.paused
    assert plan.data.decision.price == pytest.approx(0.10)
    assert await schedule(hass, plan) == []
    hass.states.async_set("sensor.price", "0.50", {"unit_of_measurement": "EUR/kWh"})
    await settle(hass, plan)
    assert miner.paused, "the plan still follows its sensor"


async def test_prices_come_when_the_integration_loads_after_the_plan(
    hass: HomeAssistant, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    """At start-up the plan may load before Nord Pool: no action, no prices (and no price
    now, the plan runs as `on_missing_price` says); once Nord Pool's entry loads, it is
    asked at once."""
    (miner,) = await fleet("Gamma 601")
    with caplog.at_level(logging.WARNING, PRICE_LOGGER):
        plan = await add_action_plan(hass, miner, {"price_preset": "nordpool_action"})
    assert "nordpool.get_prices_for_date action is not available" in caplog.text
    assert plan.data.decision.price is None
    assert not miner.paused

    nord_pool = NordPool(hass)
    nord_pool.published.add(oslo_today())
    nord_pool.expensive.add(next_hour(0))
    nord_pool.install()
    await nord_pool.add_entry(areas=["SE3"], currency="EUR")
    await hass.async_block_till_done(wait_background_tasks=True)
    await settle(hass, plan)
    assert nord_pool.calls
    assert plan.data.decision.price == pytest.approx(EXPENSIVE_MWH / 1000)
    assert miner.paused


async def test_an_unloaded_plan_calls_no_more(
    hass: HomeAssistant, fleet: Fleet, nord_pool: NordPool
) -> None:
    await nord_pool.add_entry(areas=["SE3"], currency="EUR")
    (miner,) = await fleet("Gamma 601")
    plan = await add_action_plan(hass, miner, {"price_preset": "nordpool_action"})
    asked = len(nord_pool.calls)
    assert asked
    assert await hass.config_entries.async_unload(plan.config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(days=1, hours=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(nord_pool.calls) == asked


async def test_the_price_form_offers_the_actions_and_asks_for_the_integration(
    hass: HomeAssistant, fleet: Fleet, nord_pool: NordPool
) -> None:
    """The price step of the plan form: Nord Pool's action is a preset, its entry, area and
    currency in a collapsed section, stored flat; without the integration set up the form
    says so (the action is the feed)."""
    (miner,) = await fleet("Gamma 601")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "plan"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Nord Pool plan", "miners": [{"miner": miner_id(miner), "action": "stop"}]},
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"tou_mode": "none"})
    assert result["step_id"] == "plan_price"
    preset = next(v for k, v in result["data_schema"].schema.items() if k == "price_preset")
    assert {"nordpool_action", "tibber", "energyzero"} <= set(preset.config["options"])
    price = {
        "price_preset": "nordpool_action",
        "threshold_mode": "fixed",
        "threshold": 0.3,
        "hysteresis": 0,
        "on_missing_price": "run",
        "price_action": {"price_action_area": "SE3", "price_action_currency": "EUR"},
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], price)
    assert result["errors"] == {"price_preset": "price_action_missing"}
    assert result["description_placeholders"] == {"integration": "Nord Pool"}

    # Set up meanwhile: the only entry, which the plan asks when none is chosen.
    await nord_pool.add_entry(areas=["SE3"], currency="EUR")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], price)
    assert result["step_id"] == "plan_dr", result.get("errors")
    for step in ({}, {}, SAFETY_NONE):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], step)
    options = result["result"].options
    assert options["price_preset"] == "nordpool_action"
    assert "price_action_entry" not in options
    assert options["price_action_area"] == "SE3"
    assert options["price_action_currency"] == "EUR"
    assert "price_action" not in options
    assert "price_entity" not in options, "the action gives the price now too"
