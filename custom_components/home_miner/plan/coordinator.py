"""A plan at run time: feeds in, the engine's decision, commands out, state kept.

Event-driven: a decision is made when a price or DR entity changes, at the engine's
`next_check` (a point-in-time listener), when the VTN brings new events, when a miner joins,
leaves or goes unavailable, and when the user acts. Nothing polls the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from ..coordinator import MinerCoordinator
from ..curtailment import (
    CurtailmentWindow,
    Decision,
    DrEvent,
    DrSignal,
    DrSource,
    ManualOverride,
    MinerStatus,
    MinerTarget,
    OverrideKind,
    PlanSettings,
    PlanState,
    PriceSeries,
    Reason,
    StateFormatError,
    TargetAction,
    break_even_price,
    decide,
    windows,
)
from ..curtailment.fleet import fleet_efficiency
from ..curtailment.flex import boost_windows
from ..curtailment.tariff import WallClockTariff
from . import const
from .accounting import avoided_w, book
from .actuator import RUN, Command, MinerActuator, miner_coordinator
from .announce import announce
from .config import PlanConfig
from .feeds import Feeds
from .handback import async_hand_back, hand_back_pending
from .memory import MinerCaps, PlanMemory
from .overrides import MinerOverrides
from .owed import owed_hand_backs
from .triggers import PlanTriggers

type PlanConfigEntry = ConfigEntry[PlanCoordinator]

# The event that carries `home_miner.curtail`'s target power to the engine as a fleet budget.
MANUAL_BUDGET_EVENT = "home_miner.curtail"

# When a decision itself fails, try again this soon rather than wait for a feed to change.
RETRY_DECISION = timedelta(seconds=60)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanData:
    """What the plan's entities show."""

    decision: Decision
    enabled: bool
    windows: tuple[CurtailmentWindow, ...]
    break_even: float | None
    energy_kwh: float
    cost: float
    overridden: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Inputs:
    settings: PlanSettings
    fleet: tuple[MinerStatus, ...]
    prices: PriceSeries | None
    events: tuple[DrEvent, ...]


class PlanCoordinator(DataUpdateCoordinator[PlanData]):
    """One curtailment plan."""

    config_entry: PlanConfigEntry

    def __init__(self, hass: HomeAssistant, config_entry: PlanConfigEntry) -> None:
        super().__init__(
            hass, LOGGER, config_entry=config_entry, name=f"{DOMAIN} plan {config_entry.title}"
        )
        self.config = self._configured = PlanConfig.from_options(
            config_entry.options, dt_util.get_default_time_zone()
        )
        self.feeds = Feeds(hass, self.config)
        self._holidays: frozenset[date] = frozenset()
        self.memory = PlanMemory()
        self.actuators: dict[str, MinerActuator] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, const.STORAGE_VERSION, f"{DOMAIN}.plan.{config_entry.entry_id}"
        )
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self.stopped = False
        self._memory_lost = False
        self.overrides = MinerOverrides(self)
        self._decided_at = datetime.min.replace(tzinfo=UTC)
        # Miners the plan no longer acts on but left curtailed: given back, then forgotten.
        self.handing_back: set[str] = set()
        self.boosting = False
        # The tariff's next peak past the schedule, as the Next change sensor last found it.
        self.next_peak: tuple[object, datetime | None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    async def _async_setup(self) -> None:
        memory = self.memory = await self._async_load_memory()
        # What a miner was told is unknown after lost memory: each is handed back (run).
        unknown = None if self._memory_lost else RUN
        owed = owed_hand_backs(self.hass)
        for miner_id in {*self.config.miners, *memory.applied, *memory.restore_limits}:
            # A command that was on its way when Home Assistant stopped may or may not have
            # landed: what the miner was told is unknown, the next decision tells it again.
            applied = None if miner_id in memory.sending else memory.applied.get(miner_id, unknown)
            restore_limit = memory.restore_limits.get(miner_id)
            debt = owed.take(miner_id) if owed and miner_id in self.config.miners else None
            if debt is not None and applied in (None, RUN) and restore_limit is None:
                # A gone plan left it curtailed: this plan starts from there.
                applied, restore_limit = debt.applied, debt.restore_limit_w
            actuator = MinerActuator(
                self.hass,
                self.config_entry,
                miner_id,
                applied=applied,
                restore_limit_w=restore_limit,
                on_change=self.save,
                write_ahead=self.async_save_now,
            )
            configured = miner_id in self.config.miners
            if not configured or self.config.observe_only:
                if actuator.handed_back:
                    if not configured:
                        continue
                else:
                    self.handing_back.add(miner_id)
            self.actuators[miner_id] = actuator
        for miner_id in list(memory.miner_overrides):
            if miner_id not in self.config.miners:
                del memory.miner_overrides[miner_id]
        memory.user_stopped &= set(self.config.miners)
        memory.surplus_overrides &= set(memory.miner_overrides)
        memory.import_limited = {
            k: v for k, v in memory.import_limited.items() if k in memory.miner_overrides
        }
        now = dt_util.utcnow()
        self.feeds.last_seen = {
            entity_id: State(entity_id, value, last_changed=changed)
            for entity_id, (value, changed) in memory.feeds_seen.items()
        }
        if memory.state.window_start is not None:
            self.feeds.grace_until = now + const.RESTART_GRACE
        await self.feeds.async_refresh_calendars(now)
        await self.feeds.async_refresh_boost_sessions(now)
        await self.async_read_holidays(now)
        await self.feeds.async_poll_vtn(now)

    async def _async_load_memory(self) -> PlanMemory:
        """The stored memory, or the safe state with a repair issue saying what was lost."""
        try:
            return PlanMemory.from_dict(await self._store.async_load())
        except (StateFormatError, HomeAssistantError) as err:
            self._memory_lost = True
            LOGGER.warning(
                "Plan %s starts afresh, its stored state is unreadable: %s",
                self.config_entry.title,
                err,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"plan_state_lost_{self.config_entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="plan_state_lost",
                translation_placeholders={"plan": self.config_entry.title, "error": str(err)},
            )
            return PlanMemory()

    async def _async_update_data(self) -> PlanData:
        return self._decide(dt_util.utcnow())

    @callback
    def async_start(self) -> None:
        """Listen to everything that calls for a decision (after the first one)."""
        PlanTriggers(self).async_start()

    @callback
    def async_stop(self) -> None:
        """No decision timer outlives the entry (registered before the first refresh)."""
        self.stopped = True
        self._schedule(None)

    async def async_save_now(self) -> None:
        await self._store.async_save(self._memory_dict())

    # ---- the decision ----------------------------------------------------------------------
    @callback
    def async_decide(self, now: datetime | None = None) -> None:
        """Decide now (or at an injected instant) and act on it; a stopped plan decides
        nothing (it is handing its miners back, or gone)."""
        if self.stopped:
            return
        try:
            data = self._decide(now or self.now())
        except Exception:
            LOGGER.exception("Plan %s could not decide", self.config_entry.title)
            retry = dt_util.utcnow() + RETRY_DECISION
            if self._timer_at is None or retry < self._timer_at:
                self._schedule(retry)
            return
        self.async_set_updated_data(data)

    def _inputs(self, now: datetime, override: ManualOverride | None) -> _Inputs:
        if not self.memory.enabled:
            override = ManualOverride(kind=OverrideKind.RESUME)
        return _Inputs(
            settings=self.config.settings(hashprice=self.feeds.hashprice(), override=override),
            fleet=tuple(self._status(miner_id) for miner_id in self.config.miners),
            prices=self.feeds.prices(now),
            events=self._events(now),
        )

    def now(self) -> datetime:
        """The wall clock, never earlier than the last decision: a clock stepped back (or a
        decision made ahead of time) must not reopen or close a window by itself."""
        return max(dt_util.utcnow(), self._decided_at)

    def _decide(self, now: datetime) -> PlanData:
        self._decided_at = now
        memory = self.memory
        if memory.override is not None and not memory.override.active(now):
            memory.override = None
        self.overrides.expire(now)
        inputs = self._inputs(now, memory.override)
        before = memory.state
        decision = decide(
            now=now,
            settings=inputs.settings,
            fleet=inputs.fleet,
            state=before,
            tariff=self.config.tariff,
            prices=inputs.prices,
            events=inputs.events,
            house=self.feeds.house(),
        )
        book(self.memory, now)
        memory.state = decision.state
        self.overrides.end_overrides(now, decision)
        if not self.config.observe_only:
            statuses = {status.miner_id: status for status in inputs.fleet}
            for target in decision.targets:
                self._command(target, statuses[target.miner_id])
        hand_back_pending(self)
        announce(self, decision, before.window_reason)
        memory.avoided_w = avoided_w(self, decision)
        memory.price = decision.price if decision.price is not None else self._tariff_price(now)
        next_check = decision.next_check
        if self.feeds.waiting(now) and self.feeds.grace_until is not None:
            # Entities not loaded yet are read as last seen until then, and missing after.
            next_check = min(next_check or self.feeds.grace_until, self.feeds.grace_until)
        self._schedule(next_check)
        self.save()
        return PlanData(
            decision=decision,
            enabled=memory.enabled,
            windows=self._windows(now, inputs, decision.state),
            break_even=self._break_even(decision),
            energy_kwh=memory.energy_kwh,
            cost=memory.cost,
            overridden=frozenset(memory.miner_overrides),
        )

    def _command(self, target: MinerTarget, status: MinerStatus) -> None:
        """Tell a miner what the decision wants of it, unless a person holds it. A miner the
        user stopped is not curtailed, though its limit is restored. One a person holds is
        turned down by the import limit alone, and given back when the house has room."""
        miner_id, memory = target.miner_id, self.memory
        actuator = self.actuators[miner_id]
        if not self.overrides.left_to_user(miner_id, curtailing=target.curtailed):
            memory.import_limited.pop(miner_id, None)
            actuator.want(Command.from_target(target))
        elif target.reason is Reason.IMPORT_LIMIT and target.action is not TargetAction.RUN:
            if miner_id not in memory.import_limited:
                # What it does now is the person's, whatever the plan told it before.
                memory.import_limited[miner_id] = status.power_w
                actuator.applied, actuator.restore_limit_w = None, None
            actuator.want(Command.from_target(target))
        elif memory.import_limited.pop(miner_id, None) is not None:
            actuator.want(RUN)

    def _windows(
        self, now: datetime, inputs: _Inputs, state: PlanState
    ) -> tuple[CurtailmentWindow, ...]:
        """The curtailment windows ahead and, for a plan with a boost, its boosts."""
        found = windows(
            now=now,
            settings=inputs.settings,
            tariff=self.config.tariff,
            prices=inputs.prices,
            events=inputs.events,
            fleet=inputs.fleet,
            state=state,
            horizon=const.SCHEDULE_HORIZON,
        )
        boosts = boost_windows(
            self.config.flex,
            inputs.prices,
            self.feeds.boost_sessions,
            now=now,
            horizon=const.SCHEDULE_HORIZON,
        )
        return tuple(sorted((*found, *boosts), key=lambda w: w.start)) if boosts else found

    def _status(self, miner_id: str) -> MinerStatus:
        """The miner as the engine sees it. What it can do comes from its capabilities (or,
        while its entry is not loaded, those remembered), never from whether a poll worked."""
        remembered = self.memory.efficiency.get(miner_id)
        coordinator = miner_coordinator(self.hass, miner_id)
        caps = self._capabilities(miner_id, coordinator)
        status = MinerStatus(
            miner_id=miner_id,
            efficiency_jth=remembered,
            can_stop=True if caps is None else caps.can_stop,
            power_limit_min_w=None if caps is None else caps.limit_min_w,
            power_limit_max_w=None if caps is None else caps.limit_max_w,
            power_levels_w=() if caps is None else caps.levels_w,
            held_by_person=self.overrides.left_to_user(miner_id),
            held_power_w=self.memory.import_limited.get(miner_id),
        )
        if coordinator is None or not coordinator.last_update_success or coordinator.data is None:
            return status
        snapshot = coordinator.data
        if snapshot.is_mining and snapshot.efficiency_j_th:
            remembered = self.memory.efficiency[miner_id] = snapshot.efficiency_j_th
        power = snapshot.power_w or 0.0
        memory = self.memory
        if miner_id in memory.miner_overrides and miner_id not in memory.user_stopped:
            # Taken over during a window (run or turned up): counted at its full power before
            # a poll shows it there, so a budget is met by the others at once.
            power = max(power, memory.state.miner(miner_id).full_power_w or 0.0)
        return replace(
            status,
            power_w=power,
            hashrate_ths=snapshot.hashrate_ths or 0.0,
            efficiency_jth=remembered,
        )

    def _capabilities(
        self, miner_id: str, coordinator: MinerCoordinator | None
    ) -> MinerCaps | None:
        if coordinator is None:
            return self.memory.capabilities.get(miner_id)
        caps = coordinator.client.capabilities
        limit = caps.power_limit
        known = MinerCaps(
            can_stop=caps.can_stop,
            limit_min_w=None if limit is None else limit.minimum,
            limit_max_w=None if limit is None else limit.maximum,
            levels_w=coordinator.client.power_levels,
        )
        self.memory.capabilities[miner_id] = known
        return known

    def _tariff_price(self, now: datetime) -> float | None:
        period = self.config.tariff.period_at(now) if self.config.tariff else None
        return None if period is None else period.price

    def _break_even(self, decision: Decision) -> float | None:
        hashprice = self.feeds.hashprice()
        if hashprice is None:
            return None
        efficiency = fleet_efficiency(
            (decision.state.miner(miner_id).full_power_w or 0.0, efficiency)
            for miner_id, efficiency in self.memory.efficiency.items()
            if miner_id in self.config.miners
        )
        return break_even_price(hashprice=hashprice, efficiency_jth=efficiency)

    def miner_name(self, miner_id: str) -> str:
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id)
        return entry.title if entry is not None else miner_id

    def _schedule(self, when: datetime | None) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        self._timer_at = when
        if when is not None and not self.stopped:
            self._unsub_timer = async_track_point_in_utc_time(self.hass, self._on_timer, when)

    async def async_hand_back(self) -> None:
        await async_hand_back(self)

    async def async_forget_miner(self, miner_id: str, coordinator: MinerCoordinator) -> None:
        """A miner entry is being removed: hand it back through its (last) coordinator."""
        if (actuator := self.actuators.get(miner_id)) is None:
            return
        await actuator.async_hand_back_through(coordinator)
        self.memory.miner_overrides.pop(miner_id, None)

    # ---- overrides ----------------------------------------------------------------------
    @callback
    def async_user_changed(self, miner_id: str, change: str, mining: bool | None) -> None:
        self.overrides.async_user_changed(miner_id, change, mining)

    @callback
    def async_miner_polled(self, miner_id: str) -> None:
        self.overrides.async_miner_polled(miner_id)

    # ---- actions ---------------------------------------------------------------------------
    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        self.memory.enabled = enabled
        self.async_decide()

    @callback
    def async_curtail(self, duration: timedelta, target_w: float | None) -> None:
        """Curtail for `duration`: each miner's own action, or, with `target_w`, down to that
        fleet power (the engine's budget: least efficient miners first, stopped where needed)."""
        now = self.now()
        until = now + duration
        if target_w is None:
            self._clear_budget()
            self.memory.override = ManualOverride(kind=OverrideKind.CURTAIL, until=until)
        else:
            self.memory.override = None
            self.memory.budget_w, self.memory.budget_until = target_w, until
        self.async_decide(now)

    def _clear_budget(self) -> None:
        self.memory.budget_w = self.memory.budget_until = None

    def _events(self, now: datetime) -> tuple[DrEvent, ...]:
        events = self.feeds.events(now)
        memory = self.memory
        if memory.budget_w is None or memory.budget_until is None:
            return events
        if now >= memory.budget_until:
            self._clear_budget()
            return events
        budget = DrEvent(
            event_id=MANUAL_BUDGET_EVENT,
            source=DrSource.ENTITY,
            signal=DrSignal.CAPACITY_LIMIT,
            start=min(now, memory.budget_until - timedelta(seconds=1)),
            end=memory.budget_until,
            value=memory.budget_w / 1000,
            name=MANUAL_BUDGET_EVENT,
        )
        return (*events, budget)

    @callback
    def async_resume(self, duration: timedelta | None) -> None:
        """Run every miner for `duration`, else until the current window would end."""
        now = self.now()
        self.memory.override = None
        self._clear_budget()
        until = now + duration if duration is not None else None
        if until is None:
            upcoming = self._windows(now, self._inputs(now, None), self.memory.state)
            until = next(
                (w.end for w in upcoming if w.start <= now < w.end and w.reason != Reason.BOOST),
                None,
            )
        if until is not None:
            self.memory.override = ManualOverride(kind=OverrideKind.RESUME, until=until)
        self.async_decide(now)

    @callback
    def _on_timer(self, when: datetime) -> None:
        self._unsub_timer = self._timer_at = None
        self.async_decide(when)

    async def async_refresh_calendars(self) -> None:
        now = dt_util.utcnow()
        await self.feeds.async_refresh_calendars(now)
        await self.feeds.async_refresh_boost_sessions(now)
        await self.async_read_holidays(now)
        self.async_decide()

    async def async_read_holidays(self, now: datetime) -> None:
        """The tariff bills the holiday calendar's days ahead as weekends (unreadable: as it
        did)."""
        days = await self.feeds.async_read_holidays(now)
        if days is not None:
            self._holidays = days
            self.config = self._configured.with_holidays(days)

    @callback
    def async_time_zone_changed(self) -> None:
        """Home Assistant's time zone is set anew: the tariff's bands and URDB schedule are
        the home's wall clock, so they follow it."""
        zone = dt_util.get_default_time_zone()
        tariff = self.config.tariff
        if not isinstance(tariff, WallClockTariff) or tariff.tz == zone:
            return
        self._configured = PlanConfig.from_options(self.config_entry.options, zone)
        self.config = self._configured.with_holidays(self._holidays)
        self.async_decide()

    async def async_poll_vtn(self) -> None:
        if await self.feeds.async_poll_vtn(dt_util.utcnow()):
            self.async_decide()

    @callback
    def async_account_energy(self, now: datetime) -> None:
        """Add the energy avoided since the last tick (while curtailed)."""
        book(self.memory, now)
        # Booked from here on at what the miners are now seen to avoid.
        avoided, before = avoided_w(self, self.data.decision), self.memory.avoided_w
        self.memory.avoided_w = avoided
        if avoided <= 0 and before <= 0:
            return
        self.save()
        self.async_set_updated_data(
            replace(self.data, energy_kwh=self.memory.energy_kwh, cost=self.memory.cost)
        )

    # ---- persistence -----------------------------------------------------------------------
    def _memory_dict(self) -> dict[str, Any]:
        self.memory.applied = {
            miner_id: actuator.applied
            for miner_id, actuator in self.actuators.items()
            if actuator.applied is not None
            and (miner_id in self.config.miners or not actuator.handed_back)
        }
        self.memory.feeds_seen = {
            entity_id: (state.state, state.last_changed)
            for entity_id, state in self.feeds.last_seen.items()
        }
        self.memory.sending = {
            miner_id: actuator.sending
            for miner_id, actuator in self.actuators.items()
            if actuator.sending is not None
        }
        self.memory.restore_limits = {
            miner_id: actuator.restore_limit_w
            for miner_id, actuator in self.actuators.items()
            if actuator.restore_limit_w is not None
        }
        return self.memory.to_dict()

    @callback
    def save(self) -> None:
        self._store.async_delay_save(self._memory_dict, const.SAVE_DELAY)
