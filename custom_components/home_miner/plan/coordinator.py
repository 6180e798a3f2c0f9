"""A plan at run time: feeds in, the engine's decision, commands out, state kept.

Event-driven: a decision is made when a price or DR entity changes, at the engine's
`next_check` (a point-in-time listener), when the VTN brings new events, when a miner joins,
leaves or goes unavailable, and when the user acts. Nothing polls the decision.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
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
    OverrideKind,
    PlanSettings,
    PriceSeries,
    Reason,
    StateFormatError,
    TargetAction,
    break_even_price,
    decide,
    windows,
)
from ..curtailment.fleet import fleet_efficiency
from . import const
from .actuator import RUN, Command, MinerActuator, miner_coordinator
from .config import PlanConfig
from .feeds import Feeds
from .memory import MinerCaps, PlanMemory, finite
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
        self.config = PlanConfig.from_options(config_entry.options, dt_util.get_default_time_zone())
        self.feeds = Feeds(hass, self.config)
        self.memory = PlanMemory()
        self.actuators: dict[str, MinerActuator] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, const.STORAGE_VERSION, f"{DOMAIN}.plan.{config_entry.entry_id}"
        )
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._stopped = False
        self._memory_lost = False
        self._uptimes: dict[str, int | None] = {}
        self._resent_at: dict[str, datetime] = {}
        self._drift: dict[str, tuple[int, bool]] = {}
        self._decided_at = datetime.min.replace(tzinfo=UTC)
        # Miners the plan no longer acts on but left curtailed: given back, then forgotten.
        self._handing_back: set[str] = set()

    # ---- lifecycle -------------------------------------------------------------------------
    async def _async_setup(self) -> None:
        memory = self.memory = await self._async_load_memory()
        # What a miner was told is unknown after lost memory: each is handed back (run).
        unknown = None if self._memory_lost else RUN
        for miner_id in {*self.config.miners, *memory.applied, *memory.restore_limits}:
            # A command that was on its way when Home Assistant stopped may or may not have
            # landed: what the miner was told is unknown, the next decision tells it again.
            applied = None if miner_id in memory.sending else memory.applied.get(miner_id, unknown)
            actuator = MinerActuator(
                self.hass,
                self.config_entry,
                miner_id,
                applied=applied,
                restore_limit_w=memory.restore_limits.get(miner_id),
                on_change=self._save,
                write_ahead=self.async_save_now,
            )
            configured = miner_id in self.config.miners
            if not configured or self.config.observe_only:
                if actuator.handed_back:
                    if not configured:
                        continue
                else:
                    self._handing_back.add(miner_id)
            self.actuators[miner_id] = actuator
        for miner_id in list(memory.miner_overrides):
            if miner_id not in self.config.miners:
                del memory.miner_overrides[miner_id]
        memory.user_stopped &= set(self.config.miners)
        now = dt_util.utcnow()
        self.feeds.last_seen = {
            entity_id: State(entity_id, value, last_changed=changed)
            for entity_id, (value, changed) in memory.feeds_seen.items()
        }
        if memory.state.window_start is not None:
            self.feeds.grace_until = now + const.RESTART_GRACE
        await self.feeds.async_refresh_calendars(now)
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
        self._stopped = True
        self._schedule(None)

    async def async_save_now(self) -> None:
        await self._store.async_save(self._memory_dict())

    # ---- the decision ----------------------------------------------------------------------
    @callback
    def async_decide(self, now: datetime | None = None) -> None:
        """Decide now (or at an injected instant) and act on it; a stopped plan decides
        nothing (it is handing its miners back, or gone)."""
        if self._stopped:
            return
        try:
            data = self._decide(now or self._now())
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

    def _now(self) -> datetime:
        """The wall clock, never earlier than the last decision: a clock stepped back (or a
        decision made ahead of time) must not reopen or close a window by itself."""
        return max(dt_util.utcnow(), self._decided_at)

    def _decide(self, now: datetime) -> PlanData:
        self._decided_at = now
        memory = self.memory
        if memory.override is not None and not memory.override.active(now):
            memory.override = None
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
        )
        self._account(now)
        memory.state = decision.state
        self._end_overrides(now, decision)
        if not self.config.observe_only:
            for target in decision.targets:
                # A miner the user stopped is not curtailed, though its limit is restored.
                if not self._left_to_user(target.miner_id, curtailing=target.curtailed):
                    self.actuators[target.miner_id].want(Command.from_target(target))
        self._hand_back_pending()
        self._announce(decision, before.window_reason)
        memory.avoided_w = self._avoided_w(decision)
        memory.price = decision.price if decision.price is not None else self._tariff_price(now)
        next_check = decision.next_check
        if self.feeds.waiting(now) and self.feeds.grace_until is not None:
            # Entities not loaded yet are read as last seen until then, and missing after.
            next_check = min(next_check or self.feeds.grace_until, self.feeds.grace_until)
        self._schedule(next_check)
        self._save()
        return PlanData(
            decision=decision,
            enabled=memory.enabled,
            windows=windows(
                now=now,
                settings=inputs.settings,
                tariff=self.config.tariff,
                prices=inputs.prices,
                events=inputs.events,
                fleet=inputs.fleet,
                state=decision.state,
                horizon=const.SCHEDULE_HORIZON,
            ),
            break_even=self._break_even(decision),
            energy_kwh=memory.energy_kwh,
            cost=memory.cost,
            overridden=frozenset(memory.miner_overrides),
        )

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
        )
        if coordinator is None or not coordinator.last_update_success or coordinator.data is None:
            return status
        snapshot = coordinator.data
        if snapshot.is_mining and snapshot.efficiency_j_th:
            remembered = self.memory.efficiency[miner_id] = snapshot.efficiency_j_th
        return replace(
            status,
            power_w=snapshot.power_w or 0.0,
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

    def _avoided_w(self, decision: Decision) -> float:
        """Power the plan is seen to avoid: for each miner it curtailed and that confirmed it
        (its command read back), its full power less what it is measured to draw now. A
        miner that ignores commands, is unreachable or not loaded avoids nothing."""
        if self.config.observe_only:
            return 0.0
        total = 0.0
        for target in decision.targets:
            miner_id = target.miner_id
            actuator = self.actuators.get(miner_id)
            if (
                not target.curtailed
                or self._left_to_user(miner_id)
                or actuator is None
                or actuator.applied is None
                or actuator.applied.action is TargetAction.RUN
            ):
                continue
            coordinator = miner_coordinator(self.hass, miner_id)
            if coordinator is None or not coordinator.last_update_success:
                continue
            snapshot = coordinator.data
            if snapshot is None or snapshot.power_w is None:
                continue
            full = decision.state.miner(miner_id).full_power_w or 0.0
            total += max(full - snapshot.power_w, 0.0)
        return total

    def _account(self, now: datetime) -> None:
        memory = self.memory
        if memory.accounted_at is not None and memory.avoided_w > 0 and now > memory.accounted_at:
            kwh = memory.avoided_w * (now - memory.accounted_at).total_seconds() / 3_600_000
            if finite(kwh) is not None:
                memory.energy_kwh += kwh
                if memory.price is not None and finite(kwh * memory.price) is not None:
                    memory.cost += kwh * memory.price
        memory.accounted_at = now

    def _announce(self, decision: Decision, reason_before: Reason) -> None:
        curtailed = decision.curtailed
        now_curtailed = [t.miner_id for t in decision.targets if t.curtailed]
        if curtailed == self.memory.curtailed:
            if curtailed:
                known = self.memory.curtailed_miners
                known.extend(m for m in now_curtailed if m not in known)
            return
        self.memory.curtailed = curtailed
        if curtailed:
            event, reason = const.EVENT_CURTAILMENT_STARTED, decision.reason
            miners = self.memory.curtailed_miners = now_curtailed
        else:
            event, reason = const.EVENT_CURTAILMENT_ENDED, reason_before
            miners = [m for m in self.memory.curtailed_miners if m in self.config.miners]
            self.memory.curtailed_miners = []
        self.hass.bus.async_fire(
            event,
            {
                "plan": self.config_entry.title,
                "config_entry_id": self.config_entry.entry_id,
                "reason": reason.value,
                "miners": [self._miner_name(miner_id) for miner_id in miners],
                "miner_ids": miners,
                "observe_only": self.config.observe_only,
            },
        )

    def _miner_name(self, miner_id: str) -> str:
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, miner_id)
        return entry.title if entry is not None else miner_id

    def _schedule(self, when: datetime | None) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        self._timer_at = when
        if when is not None and not self._stopped:
            self._unsub_timer = async_track_point_in_utc_time(self.hass, self._on_timer, when)

    # ---- handing miners back -------------------------------------------------------------
    def _hand_back_pending(self) -> None:
        """Give back, as soon as they are reachable, miners the plan left curtailed and no
        longer acts on (removed from the plan, or the plan turned observe-only)."""
        for miner_id in list(self._handing_back):
            actuator = self.actuators[miner_id]
            if actuator.handed_back:
                self._handing_back.discard(miner_id)
                if miner_id not in self.config.miners:
                    del self.actuators[miner_id]
                continue
            actuator.want(RUN)

    async def async_hand_back(self) -> None:
        """The plan stops acting on its miners (disabled, deleted): run every miner it left
        curtailed again, with its own power limit, before it goes. Restarts follow the
        plan's priorities and stagger (spread over `HAND_BACK_SPREAD` at most)."""
        self.async_stop()
        order = {miner_id: plan.priority for miner_id, plan in self.config.miners.items()}
        actuators = sorted(
            (a for a in self.actuators.values() if not a.handed_back),
            key=lambda a: order.get(a.miner_id, 0),
        )
        stagger = self.config.settings(hashprice=None, override=None).restart_stagger
        if len(actuators) > 1:
            stagger = min(stagger, const.HAND_BACK_SPREAD / (len(actuators) - 1))

        async def _in_turn(index: int, actuator: MinerActuator) -> None:
            await asyncio.sleep(index * stagger.total_seconds())
            await actuator.async_hand_back()

        await asyncio.gather(*(_in_turn(i, actuator) for i, actuator in enumerate(actuators)))
        await self.async_save_now()

    async def async_forget_miner(self, miner_id: str, coordinator: MinerCoordinator) -> None:
        """A miner entry is being removed: hand it back through its (last) coordinator."""
        if (actuator := self.actuators.get(miner_id)) is None:
            return
        await actuator.async_hand_back_through(coordinator)
        self.memory.miner_overrides.pop(miner_id, None)

    # ---- overrides -------------------------------------------------------------------------
    def _end_overrides(self, now: datetime, decision: Decision) -> None:
        """Overrides last until the window really ends (min-off, stagger and all); then the
        plan drives the miner again, restoring its own limit if the plan had set one."""
        overrides = self.memory.miner_overrides
        for miner_id, until in list(overrides.items()):
            if decision.state.window_start is None or now >= until:
                del overrides[miner_id]
                if (actuator := self.actuators.get(miner_id)) is not None:
                    actuator.applied = RUN

    def _left_to_user(self, miner_id: str, *, curtailing: bool = True) -> bool:
        memory = self.memory
        return miner_id in memory.miner_overrides or (
            curtailing and miner_id in memory.user_stopped
        )

    @callback
    def async_user_changed(self, miner_id: str, change: str, mining: bool | None) -> None:
        """A person changed a miner through its entities (never the plan's own commands).
        Stopped by them, it stays stopped, window or not, until they (or the miner itself)
        run it again; any change during a window is theirs until the window ends."""
        if mining is False:
            self.memory.user_stopped.add(miner_id)
            # Whatever the plan had told the miner, its stop is now the person's.
            self.actuators[miner_id].release()
            self.actuators[miner_id].applied = RUN
        elif mining is True:
            self.memory.user_stopped.discard(miner_id)
        LOGGER.info(
            "Plan %s: %s changed by a person (%s)",
            self.config_entry.title,
            self._miner_name(miner_id),
            change,
        )
        if self.memory.state.window_start is not None:
            self.async_override_miner(miner_id)
        else:
            self._save()

    @callback
    def async_miner_polled(self, miner_id: str) -> None:
        """The closed loop: what a poll shows against what the plan wants of the miner.

        A miner the user stopped that mines again (its own web UI) is the plan's again. A
        miner the plan stopped that mines again after a reboot (ESP-Miner keeps its pause in
        RAM) is stopped again; without a reboot that is a person's doing, and theirs until
        the window ends. Re-sending is bounded to one try per `RESEND_INTERVAL`."""
        coordinator = miner_coordinator(self.hass, miner_id)
        if coordinator is None or not coordinator.last_update_success or coordinator.data is None:
            return
        snapshot = coordinator.data
        rebooted = self._rebooted(miner_id, snapshot.uptime_s)
        if miner_id in self.memory.user_stopped:
            if snapshot.is_mining:
                self.memory.user_stopped.discard(miner_id)
                self.async_decide()
            return
        actuator = self.actuators.get(miner_id)
        if (
            actuator is None
            or actuator.busy
            or self._stopped
            or self.config.observe_only
            or miner_id in self.memory.miner_overrides
            or actuator.applied is None
            or actuator.applied.action is not TargetAction.STOP
            or not coordinator.client.capabilities.can_stop
            or not snapshot.is_mining
        ):
            self._drift.pop(miner_id, None)
            return
        # Seen twice in a row: a poll read before the plan's own stop landed is no drift.
        seen, rebooted_before = self._drift.get(miner_id, (0, False))
        rebooted = rebooted or rebooted_before
        self._drift[miner_id] = (seen + 1, rebooted)
        if seen < 1:
            return
        del self._drift[miner_id]
        if not rebooted:
            LOGGER.info(
                "Plan %s: %s mines again, not by the plan: left to the person",
                self.config_entry.title,
                self._miner_name(miner_id),
            )
            self.async_override_miner(miner_id)
            return
        now = dt_util.utcnow()
        last = self._resent_at.get(miner_id)
        if last is not None and now - last < const.RESEND_INTERVAL:
            return
        self._resent_at[miner_id] = now
        LOGGER.info(
            "Plan %s: %s rebooted and mines again; stopping it again",
            self.config_entry.title,
            self._miner_name(miner_id),
        )
        wanted = actuator.desired or actuator.applied
        actuator.applied = None
        actuator.want(wanted)

    def _rebooted(self, miner_id: str, uptime_s: int | None) -> bool:
        """Whether the miner booted since its last poll (its uptime went back)."""
        before, self._uptimes[miner_id] = self._uptimes.get(miner_id), uptime_s
        return before is not None and uptime_s is not None and uptime_s < before

    @callback
    def async_override_miner(self, miner_id: str) -> None:
        """The user changed a miner during a window: leave it alone until the window ends."""
        now = self._now()
        if self.memory.state.window_start is None or miner_id not in self.actuators:
            return
        self.actuators[miner_id].release()
        # Ends with the window; this is only a backstop should the window never end.
        start, max_length = self.memory.state.window_start, self.config.max_curtailment
        self.memory.miner_overrides[miner_id] = (
            start + max_length if max_length is not None else now + timedelta(days=1)
        )
        LOGGER.info("Plan %s: %s overridden by the user", self.config_entry.title, miner_id)
        self.async_decide(now)

    # ---- actions ---------------------------------------------------------------------------
    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        self.memory.enabled = enabled
        self.async_decide()

    @callback
    def async_curtail(self, duration: timedelta, target_w: float | None) -> None:
        """Curtail for `duration`: each miner's own action, or, with `target_w`, down to that
        fleet power (the engine's budget: least efficient miners first, stopped where needed)."""
        now = dt_util.utcnow()
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
        now = dt_util.utcnow()
        self.memory.override = None
        self._clear_budget()
        until = now + duration if duration is not None else None
        if until is None:
            inputs = self._inputs(now, None)
            upcoming = windows(
                now=now,
                settings=inputs.settings,
                tariff=self.config.tariff,
                prices=inputs.prices,
                events=inputs.events,
                fleet=inputs.fleet,
                state=self.memory.state,
                horizon=const.SCHEDULE_HORIZON,
            )
            until = next((w.end for w in upcoming if w.start <= now < w.end), None)
        if until is not None:
            self.memory.override = ManualOverride(kind=OverrideKind.RESUME, until=until)
        self.async_decide(now)

    @callback
    def _on_timer(self, when: datetime) -> None:
        self._unsub_timer = self._timer_at = None
        self.async_decide(when)

    async def async_refresh_calendars(self) -> None:
        await self.feeds.async_refresh_calendars(dt_util.utcnow())
        self.async_decide()

    async def async_poll_vtn(self) -> None:
        if await self.feeds.async_poll_vtn(dt_util.utcnow()):
            self.async_decide()

    @callback
    def async_account_energy(self, now: datetime) -> None:
        """Add the energy avoided since the last tick (while curtailed)."""
        self._account(now)
        # Booked from here on at what the miners are now seen to avoid.
        avoided, before = self._avoided_w(self.data.decision), self.memory.avoided_w
        self.memory.avoided_w = avoided
        if avoided <= 0 and before <= 0:
            return
        self._save()
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
    def _save(self) -> None:
        self._store.async_delay_save(self._memory_dict, const.SAVE_DELAY)


async def async_hand_back_stored(
    hass: HomeAssistant, plan_entry: ConfigEntry, stored: dict[str, Any] | None
) -> None:
    """Hand back what a plan that is not loaded left curtailed, from its stored memory; if
    that cannot be read, every miner of the plan is told to run."""
    try:
        memory = PlanMemory.from_dict(stored)
        unknown: Command | None = RUN
    except StateFormatError:
        memory, unknown = PlanMemory(), None
    miners = {m["miner"] for m in plan_entry.options.get(const.CONF_MINERS, [])}
    actuators = [
        MinerActuator(
            hass,
            plan_entry,
            miner_id,
            applied=memory.applied.get(miner_id, unknown),
            restore_limit_w=memory.restore_limits.get(miner_id),
            on_change=lambda: None,
        )
        for miner_id in {*memory.applied, *memory.restore_limits, *miners}
    ]
    await asyncio.gather(*(actuator.async_hand_back() for actuator in actuators))
