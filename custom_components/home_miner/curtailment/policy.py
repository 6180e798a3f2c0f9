"""The decision: feeds, fleet, settings and the last state in; each miner's target out.

1. The feeds give each miner its wish: curtailed (its configured action, or a stop for an
   OpenADR alert) when any reason holds — manual override, a DR event, a TOU peak label, or
   the price above its threshold (with hysteresis) — else run. Manual resume silences every
   feed.
2. The safety rules (`safety.Gate`) may hold a miner in its current mode.
3. A power budget (IMPORT_CAPACITY_LIMIT in kW, or a SIMPLE level's fraction of the fleet's
   full power) is met by turning down the least efficient miners first: a power limit just
   deep enough where that suffices, else a stop. Miners the safety rules hold count as they
   are, so a cap can only be met with the miners free to change.
4. Restarts (curtailed to running, stopped to limited) go one per `restart_stagger`, most
   important (lowest priority number) first.

`next_check` is the earliest instant after `now` at which any input or rule changes the
answer: a tariff, price or event boundary, the end of an override, a minimum time, the next
stagger slot, a window's release, deadline or rest. `None` means nothing known will change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ._convert import require_aware
from .breakeven import break_even_price
from .events import DrEvent
from .fleet import (
    Following,
    MinerWork,
    as_held,
    curtailed_mode,
    fleet_efficiency,
    full_power,
    meet_budget,
    next_state,
    stagger_restarts,
)
from .flex import FlexSettings, Followed, HouseReading, flex_budget
from .model import (
    Hold,
    MinerStatus,
    MinerTarget,
    Reason,
    TargetAction,
    dominant_reason,
)
from .prices import PriceSeries
from .safety import Gate
from .settings import CurtailAction, PlanSettings, ThresholdMode
from .signals import Signals, power_budget, price_latch, read_signals, wish_reasons
from .state import CHANGES_WINDOW, MinerMode, MinerState, PlanState
from .tariff import Tariff

_ACTIONS = {
    MinerMode.ON: TargetAction.RUN,
    MinerMode.LIMITED: TargetAction.LIMIT,
    MinerMode.STOPPED: TargetAction.STOP,
}
_STOP = CurtailAction()


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """Targets for every miner, why, when to look again and the state to keep.

    `reason` is the dominant reason among curtailed miners (`NONE` when none is);
    `requested` what the feeds ask for even where a safety rule holds miners back.
    """

    targets: tuple[MinerTarget, ...]
    reason: Reason
    requested: Reason
    next_check: datetime | None
    state: PlanState
    price: float | None
    threshold: float | None
    power_budget_w: float | None
    expected_power_w: float
    # What the house allows the fleet now (surplus target, import limit), if it follows one.
    fleet_target_w: float | None = None

    @property
    def curtailed(self) -> bool:
        return any(target.curtailed for target in self.targets)

    def target(self, miner_id: str) -> MinerTarget | None:
        return next((t for t in self.targets if t.miner_id == miner_id), None)


def _in_window(mode: MinerMode, surplus_idle: bool) -> bool:
    """Part of a curtailment window: turned down for a reason other than lack of surplus."""
    return mode.curtailed and not surplus_idle


def plan_threshold(
    settings: PlanSettings, fleet: Sequence[MinerStatus], fulls: Mapping[str, float]
) -> float | None:
    """The plan's price threshold: the fixed one, or the fleet's break-even price."""
    threshold = settings.threshold
    if threshold is None:
        return None
    if threshold.mode is ThresholdMode.BREAK_EVEN and threshold.hashprice is not None:
        efficiency = fleet_efficiency((fulls[s.miner_id], s.efficiency) for s in fleet)
        return break_even_price(hashprice=threshold.hashprice, efficiency_jth=efficiency)
    return threshold.price


@dataclass(frozen=True, kw_only=True, slots=True)
class _Frame:
    """Where the plan stands in its current window at `now`."""

    window_start: datetime | None
    deadline: datetime | None
    rest_until: datetime | None

    @classmethod
    def at(cls, now: datetime, settings: PlanSettings, state: PlanState, curtailed: int) -> _Frame:
        window_start = (state.window_start or now) if curtailed else None
        max_length = settings.max_curtailment
        deadline = window_start + max_length if window_start and max_length else None
        rest_until = state.rest_until if state.rest_until and now < state.rest_until else None
        if deadline is not None and now >= deadline - settings.restart_stagger * (curtailed - 1):
            released = max(deadline, now)
            rest_until = max(rest_until or released, released + settings.rest_after_max_length)
        return cls(window_start=window_start, deadline=deadline, rest_until=rest_until)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Wishes:
    """What the feeds ask, prepared once per decision: per miner only the price latch varies."""

    settings: PlanSettings
    signals: Signals
    fleet_threshold: float | None
    without_price: Reason
    with_price: Reason
    action: CurtailAction | None

    @classmethod
    def prepare(
        cls, settings: PlanSettings, signals: Signals, fleet_threshold: float | None
    ) -> _Wishes:
        action = None
        if signals.dr_stop:
            action = _STOP
        elif signals.manual:
            action = signals.manual_action
        return cls(
            settings=settings,
            signals=signals,
            fleet_threshold=fleet_threshold,
            without_price=dominant_reason(wish_reasons(signals, latched=False)),
            with_price=dominant_reason(wish_reasons(signals, latched=True)),
            action=action,
        )

    def miner(self, status: MinerStatus, before: MinerState, full_w: float) -> MinerWork:
        plan = self.settings.miner_plan(status.miner_id)
        threshold = self.settings.threshold
        latched = threshold is not None and price_latch(
            self.signals.price,
            threshold.for_miner(status, self.fleet_threshold),
            latched=before.price_latched,
            hysteresis=self.settings.hysteresis,
            missing_curtails=self.signals.price_missing_curtails,
        )
        reason = self.with_price if latched else self.without_price
        mode, limit_w = MinerMode.ON, None
        if reason is not Reason.NONE:
            mode, limit_w = curtailed_mode(status, self.action or plan.action, full_w)
        return MinerWork(
            status=status,
            plan=plan,
            before=before,
            full_w=full_w,
            latched=latched,
            reason=reason,
            mode=mode,
            limit_w=limit_w,
        )


def _next_check(
    now: datetime,
    *,
    settings: PlanSettings,
    tariff: Tariff | None,
    prices: PriceSeries | None,
    events: Sequence[DrEvent],
    miners: Sequence[MinerWork],
    gate: Gate,
    state: PlanState,
) -> datetime | None:
    candidates: list[datetime | None] = [
        tariff.next_change(now) if tariff is not None else None,
        prices.next_change(now) if prices is not None else None,
        settings.override.until if settings.override is not None else None,
        state.rest_until,
    ]
    for event in events:
        candidates.extend((event.start, event.end))
    stagger = settings.restart_stagger
    for miner in miners:
        if miner.hold in (Hold.MIN_ON_TIME, Hold.MIN_OFF_TIME):
            candidates.extend(gate.unlocks(miner.before))
        if miner.hold is Hold.RESTART_STAGGER and state.last_restart_at is not None:
            candidates.append(state.last_restart_at + stagger)
    if settings.flex is not None:
        for changed in (state.surplus_changed_at, state.import_changed_at):
            if changed is not None:
                candidates.append(changed + settings.flex.settle)
        # A miner out of changes may follow the surplus again when its oldest is an hour old.
        for miner_state in state.miners.values():
            recent = miner_state.changes_in_hour(now)
            if len(recent) >= settings.flex.max_changes_per_hour - 1:
                candidates.append(min(recent) + CHANGES_WINDOW)
    if state.window_start is not None and settings.max_curtailment is not None:
        deadline = state.window_start + settings.max_curtailment
        curtailed = sum(1 for miner in miners if miner.mode.curtailed)
        candidates.extend((deadline, deadline - stagger * (curtailed - 1)))
    return min((c for c in candidates if c is not None and c > now), default=None)


def _meet_house(
    miners: Sequence[MinerWork],
    budget_w: float,
    reason: Reason,
    gate: Gate,
    flex: FlexSettings | None,
) -> None:
    """Meet what the house allows the fleet. Following the surplus, settings change only as
    often as the flex settings allow; the import limit outranks the minimum times, and turns
    a miner a person holds down too, from the way they left it (never on, never up)."""
    held = [m for m in miners if m.status.held_by_person]
    driven = [m for m in miners if not m.status.held_by_person]
    limiting = reason is Reason.IMPORT_LIMIT
    # Each miner a person holds, as they left it, and whether that runs.
    shadows: list[tuple[MinerWork, MinerWork, bool]] = []
    if limiting:
        for miner in held:
            shadow = as_held(miner)
            shadows.append((miner, shadow, shadow.mode is MinerMode.ON))
    held_w = 0.0 if limiting else sum(m.status.power_w for m in held)
    following = None
    if flex is not None and reason is Reason.SURPLUS:
        following = Following(
            stay_w=flex.deadband_w, max_changes_per_hour=flex.max_changes_per_hour
        )
    meet_budget(
        [*driven, *(shadow for _, shadow, _ in shadows)],
        budget_w - held_w,
        reason,
        gate,
        min_times=not limiting,
        following=following,
    )
    for miner, shadow, was_running in shadows:
        if was_running and shadow.mode is not MinerMode.ON:
            miner.mode, miner.limit_w, miner.hold = shadow.mode, shadow.limit_w, None
            miner.reason = Reason.IMPORT_LIMIT


def decide(
    *,
    now: datetime,
    settings: PlanSettings,
    fleet: Sequence[MinerStatus],
    state: PlanState,
    tariff: Tariff | None = None,
    prices: PriceSeries | None = None,
    events: Sequence[DrEvent] = (),
    house: HouseReading | None = None,
) -> Decision:
    """Decide every miner's target at `now` (timezone-aware). Pure: same inputs, same answer."""
    require_aware(now)
    now = now.astimezone(UTC)
    if len({status.miner_id for status in fleet}) != len(fleet):
        raise ValueError("miner ids in the fleet must be unique")
    period = tariff.period_at(now) if tariff is not None else None
    signals = read_signals(
        now,
        settings,
        tou_label=period.label if period else None,
        tariff_price=period.price if period else None,
        feed_price=prices.price_at(now) if prices is not None else None,
        events=events,
    )
    befores = {status.miner_id: state.miner(status.miner_id) for status in fleet}
    frame = _Frame.at(
        now, settings, state, sum(1 for b in befores.values() if _in_window(b.mode, b.surplus_idle))
    )
    gate = Gate.for_decision(
        now, settings, deadline=frame.deadline, frozen=frame.rest_until is not None
    )
    fulls = {s.miner_id: full_power(s, befores[s.miner_id]) for s in fleet}
    fleet_threshold = plan_threshold(settings, fleet, fulls)

    wishes = _Wishes.prepare(settings, signals, fleet_threshold)
    miners: list[MinerWork] = []
    requested: set[Reason] = set()
    for status in fleet:
        miner = wishes.miner(status, befores[status.miner_id], fulls[status.miner_id])
        requested.add(miner.reason)
        if frame.rest_until is not None and miner.mode.curtailed:
            miner.mode, miner.limit_w, miner.hold = MinerMode.ON, None, Hold.MAX_LENGTH
        hold = gate.check(miner.before, miner.mode)
        if hold is not None:
            miner.keep(hold)
        miners.append(miner)

    fleet_full_w = sum(fulls.values())
    budget, budget_reason = power_budget(signals, fleet_full_w)
    if budget is not None:
        if budget < fleet_full_w:
            requested.add(budget_reason)
        if frame.rest_until is None:
            held = [m for m in miners if m.status.held_by_person]
            held_w = sum(m.status.power_w for m in held)
            driven = [m for m in miners if not m.status.held_by_person]
            meet_budget(driven, budget - held_w, budget_reason, gate)
    flex = flex_budget(
        settings.flex,
        house or HouseReading(),
        miners_w=sum(status.power_w for status in fleet),
        price=signals.price,
        followed=Followed(target_w=state.surplus_target_w, changed_at=state.surplus_changed_at),
        held=Followed(target_w=state.import_room_w, changed_at=state.import_changed_at),
        now=now,
    )
    if flex.budget_w is not None:
        # The house's limits hold in a rest after a maximum-length window too.
        _meet_house(miners, flex.budget_w, flex.reason, gate, settings.flex)
    hard = frame.deadline is not None and now >= frame.deadline
    last_restart = stagger_restarts(miners, now, state, settings, hard)

    surplus_only = settings.flex is not None and settings.flex.surplus_only
    for miner in miners:
        if miner.mode.curtailed and miner.reason is Reason.NONE:
            # Held as it was (a minimum time, the stagger): for the reason it was.
            idle = surplus_only and miner.before.surplus_idle and not flex.boosting
            miner.reason = Reason.SURPLUS if idle else state.window_reason
    reason = dominant_reason(m.reason for m in miners if m.mode.curtailed)
    if reason is Reason.NONE and flex.boosting:
        reason = Reason.BOOST
    in_window = any(_in_window(m.mode, m.reason is Reason.SURPLUS) for m in miners)
    window_start = (frame.window_start or now) if in_window else None
    new_state = PlanState(
        miners={m.status.miner_id: next_state(m, now) for m in miners},
        window_start=window_start,
        window_reason=(reason if reason is not Reason.NONE else state.window_reason)
        if window_start
        else Reason.NONE,
        last_restart_at=last_restart,
        rest_until=frame.rest_until,
        surplus_target_w=flex.followed.target_w,
        surplus_changed_at=flex.followed.changed_at,
        import_room_w=flex.held.target_w,
        import_changed_at=flex.held.changed_at,
    )
    return Decision(
        targets=tuple(
            MinerTarget(
                miner_id=m.status.miner_id,
                action=_ACTIONS[m.mode],
                power_limit_w=m.limit_w if m.mode is MinerMode.LIMITED else None,
                reason=m.reason,
                hold=m.hold,
                expected_power_w=m.power_w,
            )
            for m in miners
        ),
        reason=reason,
        requested=dominant_reason(requested),
        next_check=_next_check(
            now,
            settings=settings,
            tariff=tariff,
            prices=prices,
            events=events,
            miners=miners,
            gate=gate,
            state=new_state,
        ),
        state=new_state,
        price=signals.price,
        threshold=fleet_threshold,
        power_budget_w=budget,
        expected_power_w=sum(m.power_w for m in miners),
        fleet_target_w=flex.budget_w,
    )
