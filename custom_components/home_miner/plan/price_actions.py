"""Price forecasts that only an action gives: the core Nord Pool, Tibber and EnergyZero
integrations.

Each such preset is one `PriceAction` in `PRICE_ACTIONS`: the integration, its action, and how
to ask it for one day's prices. Days are the ones the action answers for: the market's (Nord
Pool's delivery day is the CET day), or the home's (EnergyZero reads its dates in Home
Assistant's time zone).

A plan with one of these presets asks for today at setup and whenever one of the
integration's config entries loads (at start-up it may load after the plan); for tomorrow from
the time its day-ahead prices are usually out (`published`, in the market's zone: Nord Pool's
auction results come at about 12:45 CET, Tibber's own action expects them from 13:00,
EnergyZero's after 14:00); and every hour for those days it has no prices of yet. Each day's
last good answer is kept until the day is past.

An action that is missing, fails, takes longer than `PRICE_ACTION_TIMEOUT`, or answers
something unreadable or larger than days of prices can be gives no prices for that day; the
reason is logged once, until the action works again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_point_in_utc_time, async_track_time_interval
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import DOMAIN, LOGGER
from ..curtailment import PriceFormatError, PricePreset, PriceSeries, parse_prices
from . import const

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator

# A day of quarter-hours is 100 intervals at most (a 25-hour day); this leaves room for a
# few dozen areas or homes, and refuses an answer no price list explains.
MAX_ANSWER_VALUES: Final = 20_000
MAX_ANSWER_DEPTH: Final = 6
MAX_ANSWER_TEXT: Final = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceRequest:
    """What a plan asks its price action for one day."""

    day: date
    start: datetime
    end: datetime
    entry_id: str | None
    area: str | None
    currency: str | None
    incl_vat: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceAction:
    """One integration's price action."""

    title: str
    domain: str
    service: str
    data: Callable[[PriceRequest], dict[str, Any]]
    published: time
    market_zone: str
    # Whether its days are Home Assistant's, not the market's.
    home_days: bool = False
    # Whether the call names the integration's config entry (Tibber's takes its first one).
    takes_entry: bool = True
    # What the answer calls the chosen area or home, if it can hold several.
    select: Callable[[str], str] | None = None
    # The unit of its prices, from the currency asked for (or the entry's).
    unit: Callable[[str | None], str | None] = lambda _: None


def _nord_pool(request: PriceRequest) -> dict[str, Any]:
    data: dict[str, Any] = {"config_entry": request.entry_id, "date": request.day.isoformat()}
    if request.area:
        data["areas"] = [request.area.upper()]
    if request.currency:
        data["currency"] = request.currency.upper()
    return data


def _tibber(request: PriceRequest) -> dict[str, Any]:
    return {"start": request.start.isoformat(), "end": request.end.isoformat()}


def _energyzero(request: PriceRequest) -> dict[str, Any]:
    # The same start and end ask for that whole day: an end on the next day would ask for the
    # next day too, and the call fails while that day is not published.
    midnight = request.start.isoformat()
    return {
        "config_entry": request.entry_id,
        "incl_vat": request.incl_vat,
        "start": midnight,
        "end": midnight,
    }


PRICE_ACTIONS: Mapping[PricePreset, PriceAction] = MappingProxyType(
    {
        PricePreset.NORDPOOL_ACTION: PriceAction(
            title="Nord Pool",
            domain="nordpool",
            service="get_prices_for_date",
            data=_nord_pool,
            published=time(13, 0),
            market_zone="Europe/Oslo",
            select=str.upper,
            unit=lambda currency: f"{currency.upper()}/kWh" if currency else None,
        ),
        PricePreset.TIBBER: PriceAction(
            title="Tibber",
            domain="tibber",
            service="get_prices",
            data=_tibber,
            published=time(13, 5),
            market_zone="Europe/Oslo",
            takes_entry=False,
            select=str,
        ),
        PricePreset.ENERGYZERO: PriceAction(
            title="EnergyZero",
            domain="energyzero",
            service="get_energy_prices",
            data=_energyzero,
            published=time(14, 5),
            market_zone="Europe/Amsterdam",
            home_days=True,
            unit=lambda _: "€/kWh",
        ),
    }
)
# The presets whose prices come from an action, in the form's order.
ACTION_PRESETS: Final = tuple(preset.value for preset in PRICE_ACTIONS)


class _NoPrices(Exception):
    """Why a call gave no prices (a sentence for the log)."""


def too_large(answer: object) -> bool:
    """Whether an answer holds more values, deeper or longer texts than prices need."""
    budget = MAX_ANSWER_VALUES
    stack: list[tuple[object, int]] = [(answer, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > MAX_ANSWER_DEPTH:
            return True
        if isinstance(node, Mapping):
            stack.extend((key, depth + 1) for key in node)
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str) and len(node) > MAX_ANSWER_TEXT:
            return True
    return False


class PriceActionFeed:
    """Calls one plan's price action on its schedule and hands the answers to its feeds."""

    def __init__(self, plan: PlanCoordinator, preset: PricePreset, action: PriceAction) -> None:
        self.plan = plan
        self.hass = plan.hass
        self.preset = preset
        self.action = action
        options = plan.config_entry.options
        self._entry_id: str | None = options.get(const.CONF_PRICE_ACTION_ENTRY) or None
        self._area: str | None = options.get(const.CONF_PRICE_ACTION_AREA) or None
        self._currency: str | None = options.get(const.CONF_PRICE_ACTION_CURRENCY) or None
        self._incl_vat = bool(options.get(const.CONF_PRICE_ACTION_VAT, True))
        self._zone = dt_util.get_time_zone(action.market_zone) or dt_util.UTC
        self._lock = asyncio.Lock()
        self._problem: str | None = None
        self._unsub_published: CALLBACK_TYPE | None = None

    @classmethod
    def for_plan(cls, plan: PlanCoordinator) -> PriceActionFeed | None:
        preset = plan.config.price_preset
        action = PRICE_ACTIONS.get(preset) if preset is not None else None
        return None if preset is None or action is None else cls(plan, preset, action)

    # ---- the schedule ----------------------------------------------------------------------
    @callback
    def async_start(self) -> None:
        """Ask now, then on the schedule; every subscription ends when the plan unloads."""
        entry = self.plan.config_entry
        entry.async_on_unload(
            async_track_time_interval(self.hass, self._on_tick, const.PRICE_ACTION_INTERVAL)
        )
        entry.async_on_unload(
            async_dispatcher_connect(self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._on_entry)
        )
        entry.async_on_unload(self._stop_published_timer)
        self._arm_published_timer(dt_util.utcnow())
        self._refresh(dt_util.utcnow())

    def _published_at(self, day: date) -> datetime:
        return datetime.combine(day, self.action.published, tzinfo=self._zone)

    @callback
    def _arm_published_timer(self, now: datetime) -> None:
        day = now.astimezone(self._zone).date()
        at = self._published_at(day)
        if at <= now:
            at = self._published_at(day + timedelta(days=1))
        self._unsub_published = async_track_point_in_utc_time(self.hass, self._on_published, at)

    @callback
    def _stop_published_timer(self) -> None:
        if self._unsub_published is not None:
            self._unsub_published()
            self._unsub_published = None

    @callback
    def _on_published(self, when: datetime) -> None:
        self._unsub_published = None
        self._arm_published_timer(when)
        self._refresh(when)

    @callback
    def _on_tick(self, _: datetime) -> None:
        self._refresh(dt_util.utcnow())

    @callback
    def _on_entry(self, _: ConfigEntryChange, entry: ConfigEntry) -> None:
        if entry.domain == self.action.domain and entry.state is ConfigEntryState.LOADED:
            self._refresh(dt_util.utcnow())

    @callback
    def _refresh(self, now: datetime) -> None:
        self.plan.config_entry.async_create_background_task(
            self.hass, self.async_refresh(now), f"{DOMAIN} plan {self.action.domain} prices"
        )

    def _day_zone(self) -> tzinfo:
        return dt_util.get_default_time_zone() if self.action.home_days else self._zone

    def days_wanted(self, now: datetime) -> list[date]:
        """Today and, once the market's prices for tomorrow are usually out, tomorrow."""
        today = now.astimezone(self._day_zone()).date()
        if now >= self._published_at(now.astimezone(self._zone).date()):
            return [today, today + timedelta(days=1)]
        return [today]

    # ---- the calls -------------------------------------------------------------------------
    async def async_refresh(self, now: datetime) -> None:
        """Ask for each wanted day not answered yet; decide again if the forecast changed."""
        async with self._lock:
            feeds = self.plan.feeds
            answers: dict[date, PriceSeries] = {}
            problem: str | None = None
            missing = [day for day in self.days_wanted(now) if day not in feeds.price_answers]
            if not missing:
                return
            for day in missing:
                try:
                    series = await self._async_ask(day)
                except _NoPrices as err:
                    problem = problem or str(err)
                    continue
                if series:
                    answers[day] = series
                else:
                    LOGGER.debug("%s has no prices for %s yet", self.action.title, day)
            self._report(problem)
            today = now.astimezone(self._day_zone()).date()
            keep_from = today - timedelta(days=1)
            if feeds.store_price_answers(answers, keep_from=keep_from, unit=self._unit()):
                self.plan.async_decide()

    async def _async_ask(self, day: date) -> PriceSeries:
        """The day's prices (none yet: empty); raises `_NoPrices` with the reason."""
        action = self.action
        if not self.hass.services.has_service(action.domain, action.service):
            raise _NoPrices(
                f"the {action.domain}.{action.service} action is not available "
                f"(is the {action.title} integration set up?)"
            )
        entry = self._entry()
        zone = self._day_zone()
        request = PriceRequest(
            day=day,
            start=datetime.combine(day, time(), tzinfo=zone),
            end=datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
            entry_id=None if entry is None else entry.entry_id,
            area=self._area,
            currency=self._currency,
            incl_vat=self._incl_vat,
        )
        name = f"{action.domain}.{action.service}"
        try:
            async with asyncio.timeout(const.PRICE_ACTION_TIMEOUT):
                answer = await self.hass.services.async_call(
                    action.domain,
                    action.service,
                    action.data(request),
                    blocking=True,
                    return_response=True,
                )
        except TimeoutError:
            raise _NoPrices(
                f"{name} did not answer within {const.PRICE_ACTION_TIMEOUT:g} s"
            ) from None
        except (HomeAssistantError, vol.Invalid) as err:
            raise _NoPrices(f"{name} failed: {str(err) or type(err).__name__}") from None
        except Exception as err:  # the integration's own bug must not stop the plan
            raise _NoPrices(f"{name} failed: {err!r}") from None
        if too_large(answer):
            raise _NoPrices(f"{name} answered more than prices need")
        select = None if self._area is None or action.select is None else action.select(self._area)
        try:
            return parse_prices(
                answer,
                preset=self.preset,
                select=select,
                timezone=dt_util.get_default_time_zone(),
            )
        except PriceFormatError as err:
            raise _NoPrices(str(err)) from None

    def _entry(self) -> ConfigEntry | None:
        """The integration's config entry the call names: the chosen one, else its only one."""
        action = self.action
        config_entries = self.hass.config_entries
        if self._entry_id is not None:
            entry = config_entries.async_get_entry(self._entry_id)
            if entry is None or entry.domain != action.domain:
                raise _NoPrices(f"the chosen {action.title} entry is gone")
            return entry
        loaded = config_entries.async_loaded_entries(action.domain)
        if len(loaded) == 1 or (loaded and not action.takes_entry):
            return loaded[0]
        if not action.takes_entry:
            return None
        if loaded:
            raise _NoPrices(f"there are several {action.title} entries: choose one")
        raise _NoPrices(f"no {action.title} entry is loaded")

    def _unit(self) -> str | None:
        currency = self._currency
        if currency is None:
            try:
                entry = self._entry()
            except _NoPrices:
                entry = None
            found = None if entry is None else entry.data.get("currency")
            currency = found if isinstance(found, str) else None
        return self.action.unit(currency)

    def _report(self, problem: str | None) -> None:
        """Log a new reason for missing prices once, and the action working again."""
        title = self.plan.config_entry.title
        if problem is not None and problem != self._problem:
            LOGGER.warning("Plan %s has no %s prices: %s", title, self.action.title, problem)
        elif problem is None and self._problem is not None:
            LOGGER.info("Plan %s reads %s prices again", title, self.action.title)
        self._problem = problem
