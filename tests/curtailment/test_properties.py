"""Invariants of the decision, checked on generated fleets, settings and feeds."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st

from custom_components.home_miner.curtailment import (
    DrEvent,
    DrSignal,
    DrSource,
    MinerMode,
    MinerState,
    MinerStatus,
    PlanSettings,
    PlanState,
    PriceSeries,
    TargetAction,
    decide,
    windows,
)
from custom_components.home_miner.curtailment.policy import Decision

from .factories import T0
from .strategies import (
    MINUTE,
    dr_events,
    durations,
    fleets,
    plan_settings,
    plan_states,
    price_series,
)

EXAMPLES = settings(max_examples=60, deadline=None)
_MODES = {
    TargetAction.RUN: MinerMode.ON,
    TargetAction.LIMIT: MinerMode.LIMITED,
    TargetAction.STOP: MinerMode.STOPPED,
}


def simulate(
    plan: PlanSettings,
    fleet: list[MinerStatus],
    events: list[DrEvent],
    prices: PriceSeries,
    steps: list[timedelta],
) -> list[tuple[datetime, Decision]]:
    """Decide at random moments, never later than the decision's own `next_check`."""
    now, state, log = T0, PlanState(), []
    for step in steps:
        decision = decide(
            now=now, settings=plan, fleet=fleet, state=state, prices=prices, events=events
        )
        log.append((now, decision))
        state = decision.state
        now = min(now + step, decision.next_check or now + step)
    return log


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[PlanSettings, list[MinerStatus], list[DrEvent], PriceSeries, list[timedelta]]:
    fleet = draw(fleets(max_size=4))
    return (
        draw(plan_settings(fleet)),
        fleet,
        draw(dr_events()),
        draw(price_series()),
        draw(st.lists(durations(1, 40), min_size=5, max_size=40)),
    )


@EXAMPLES
@given(scenarios())
def test_never_short_cycles_inside_the_minimum_times(scenario: tuple) -> None:  # type: ignore[type-arg]
    plan, fleet, events, prices, steps = scenario
    log = simulate(plan, fleet, events, prices, steps)
    for status in fleet:
        curtail_change: tuple[datetime, bool] | None = None
        power_change: tuple[datetime, bool] | None = None
        previous = MinerMode.ON
        for when, decision in log:
            target = decision.target(status.miner_id)
            assert target is not None
            mode = _MODES[target.action]
            if mode.curtailed != previous.curtailed:
                if curtail_change is not None:
                    since, was_curtailed = curtail_change
                    assert when - since >= (plan.min_off if was_curtailed else plan.min_on)
                curtail_change = (when, mode.curtailed)
            if mode.hashing != previous.hashing:
                if power_change is not None:
                    since, was_hashing = power_change
                    assert when - since >= (plan.min_on if was_hashing else plan.min_off)
                power_change = (when, mode.hashing)
            previous = mode


@EXAMPLES
@given(scenarios())
def test_a_window_ends_no_later_than_its_maximum_length(scenario: tuple) -> None:  # type: ignore[type-arg]
    plan, fleet, events, prices, steps = scenario
    if plan.max_curtailment is None:
        plan = PlanSettings(
            threshold=plan.threshold,
            miners=plan.miners,
            min_on=plan.min_on,
            min_off=plan.min_off,
            max_curtailment=plan.min_off + 20 * MINUTE,
            restart_stagger=plan.restart_stagger,
        )
    assert plan.max_curtailment is not None
    window_start: datetime | None = None
    for when, decision in simulate(plan, fleet, events, prices, steps):
        if decision.curtailed:
            window_start = window_start or when
            assert when < window_start + plan.max_curtailment
        else:
            window_start = None


def _oracle_modes(
    status: MinerStatus, before: MinerState, plan: PlanSettings, now: datetime
) -> set[MinerMode]:
    def elapsed(since: datetime | None, need: timedelta) -> bool:
        return since is None or now - since >= need

    allowed = {before.mode}
    for mode in MinerMode:
        if mode is MinerMode.STOPPED and not status.can_stop:
            continue
        if mode is MinerMode.LIMITED and not status.can_limit:
            continue
        curtail_ok = before.mode.curtailed == mode.curtailed or elapsed(
            before.curtail_changed_at, plan.min_off if before.mode.curtailed else plan.min_on
        )
        power_ok = before.mode.hashing == mode.hashing or elapsed(
            before.power_changed_at, plan.min_on if before.mode.hashing else plan.min_off
        )
        if curtail_ok and power_ok:
            allowed.add(mode)
    return allowed


def _lowest_power(status: MinerStatus, modes: set[MinerMode]) -> float:
    full = status.rated_power_w or 0.0
    lowest = {
        MinerMode.ON: full,
        MinerMode.LIMITED: min(status.power_limit_min_w or 0.0, full),
        MinerMode.STOPPED: 0.0,
    }
    return min(lowest[mode] for mode in modes)


@EXAMPLES
@given(st.data())
def test_a_cap_is_never_exceeded_when_it_can_be_met(data: st.DataObject) -> None:
    fleet = data.draw(fleets())
    plan = data.draw(plan_settings(fleet, max_length=False))
    state = data.draw(plan_states(fleet))
    cap_kw = data.draw(st.floats(min_value=0, max_value=15))
    cap = DrEvent(
        event_id="cap",
        source=DrSource.OPENADR,
        signal=DrSignal.CAPACITY_LIMIT,
        start=T0,
        value=cap_kw,
    )
    decision = decide(now=T0, settings=plan, fleet=fleet, state=state, events=[cap])
    achievable = sum(
        _lowest_power(m, _oracle_modes(m, state.miner(m.miner_id), plan, T0)) for m in fleet
    )
    drawn = 0.0
    for status in fleet:
        target = decision.target(status.miner_id)
        assert target is not None
        full = status.rated_power_w or 0.0
        if target.action is TargetAction.RUN:
            drawn += full
        elif target.action is TargetAction.LIMIT:
            assert target.power_limit_w is not None
            drawn += min(target.power_limit_w, full)
    assert abs(drawn - decision.expected_power_w) < 1e-6
    if achievable <= cap_kw * 1000:
        assert drawn <= cap_kw * 1000 + 1e-6


@EXAMPLES
@given(st.data())
def test_the_decision_is_a_pure_function_of_its_inputs(data: st.DataObject) -> None:
    fleet = data.draw(fleets())
    plan = data.draw(plan_settings(fleet))
    state = data.draw(plan_states(fleet))
    events = data.draw(dr_events())
    prices = data.draw(price_series())
    now = T0 + data.draw(durations(0, 400))
    inputs = {
        "now": now,
        "settings": plan,
        "fleet": fleet,
        "state": state,
        "prices": prices,
        "events": events,
    }
    kept = copy.deepcopy(inputs)
    first = decide(**inputs)  # type: ignore[arg-type]
    assert inputs == kept
    assert decide(**copy.deepcopy(inputs)) == first  # type: ignore[arg-type]
    assert decide(**inputs) == first  # type: ignore[arg-type]
    assert first.next_check is None or first.next_check > now


@EXAMPLES
@given(st.data())
def test_predicted_windows_respect_the_maximum_length(data: st.DataObject) -> None:
    fleet = data.draw(fleets())
    plan = data.draw(plan_settings(fleet))
    found = windows(
        now=T0,
        settings=plan,
        prices=data.draw(price_series()),
        events=data.draw(dr_events()),
        fleet=fleet,
        horizon=timedelta(hours=12),
    )
    for window in found:
        assert T0 <= window.start < window.end <= T0 + timedelta(hours=12)
        if plan.max_curtailment is not None:
            assert window.end - window.start <= plan.max_curtailment
    for earlier, later in itertools.pairwise(found):
        assert earlier.end <= later.start
