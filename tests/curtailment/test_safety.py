"""Minimum on/off times, maximum window length, restart stagger and persisted state."""

from __future__ import annotations

from datetime import datetime, timedelta
import json

import pytest

from custom_components.home_miner.curtailment import (
    DrEvent,
    DrSignal,
    DrSource,
    Hold,
    MinerMode,
    MinerPlan,
    MinerState,
    MinerStatus,
    PlanSettings,
    PlanState,
    PriceThreshold,
    Reason,
    StateFormatError,
    TargetAction,
    decide,
)
from custom_components.home_miner.curtailment.policy import Decision

from .factories import T0, hours, miner, minutes


def stop_between(start: datetime, end: datetime | None) -> DrEvent:
    return DrEvent(
        event_id="cal", source=DrSource.CALENDAR, signal=DrSignal.CURTAIL, start=start, end=end
    )


def test_minimum_on_time_delays_curtailment() -> None:
    settings = PlanSettings(min_on=minutes(10))
    state = PlanState(
        miners={
            "a": MinerState(
                mode=MinerMode.ON,
                curtail_changed_at=T0 - minutes(4),
                power_changed_at=T0 - minutes(4),
            )
        }
    )
    held = decide(
        now=T0, settings=settings, fleet=[miner("a")], state=state, events=[stop_between(T0, None)]
    )
    target = held.targets[0]
    assert (target.action, target.hold, target.reason) == (
        TargetAction.RUN,
        Hold.MIN_ON_TIME,
        Reason.DR_EVENT,
    )
    assert (held.reason, held.requested) == (Reason.NONE, Reason.DR_EVENT)
    assert held.next_check == T0 + minutes(6)
    later = decide(
        now=T0 + minutes(6),
        settings=settings,
        fleet=[miner("a")],
        state=held.state,
        events=[stop_between(T0, None)],
    )
    assert later.targets[0].action is TargetAction.STOP


def test_minimum_off_time_delays_resumption() -> None:
    settings = PlanSettings(min_off=minutes(15))
    event = stop_between(T0, T0 + minutes(5))
    curtailed = decide(
        now=T0, settings=settings, fleet=[miner("a")], state=PlanState(), events=[event]
    )
    held = decide(
        now=T0 + minutes(5),
        settings=settings,
        fleet=[miner("a")],
        state=curtailed.state,
        events=[event],
    )
    target = held.targets[0]
    assert (target.action, target.hold, held.reason) == (
        TargetAction.STOP,
        Hold.MIN_OFF_TIME,
        Reason.DR_EVENT,
    )
    assert held.next_check == T0 + minutes(15)
    back = decide(
        now=T0 + minutes(15),
        settings=settings,
        fleet=[miner("a")],
        state=held.state,
        events=[event],
    )
    assert back.targets[0].action is TargetAction.RUN


def test_a_stopped_miner_restarting_under_a_limit_also_waits() -> None:
    settings = PlanSettings(min_off=minutes(15))
    fleet = [miner("a", limit_range=(300, 1000))]
    stop = DrEvent(
        event_id="alert",
        source=DrSource.OPENADR,
        signal=DrSignal.STOP,
        start=T0,
        end=T0 + minutes(5),
    )
    cap = DrEvent(
        event_id="cap",
        source=DrSource.OPENADR,
        signal=DrSignal.CAPACITY_LIMIT,
        start=T0 + minutes(5),
        end=T0 + hours(1),
        value=0.5,
    )
    stopped = decide(now=T0, settings=settings, fleet=fleet, state=PlanState(), events=[stop, cap])
    held = decide(
        now=T0 + minutes(5), settings=settings, fleet=fleet, state=stopped.state, events=[stop, cap]
    )
    assert (held.targets[0].action, held.targets[0].hold) == (TargetAction.STOP, Hold.MIN_OFF_TIME)
    limited = decide(
        now=T0 + minutes(15), settings=settings, fleet=fleet, state=held.state, events=[stop, cap]
    )
    assert (limited.targets[0].action, limited.targets[0].power_limit_w) == (
        TargetAction.LIMIT,
        500,
    )


def test_restarts_are_staggered_in_priority_order() -> None:
    settings = PlanSettings(
        restart_stagger=minutes(2),
        miners={"a": MinerPlan(priority=3), "b": MinerPlan(priority=1), "c": MinerPlan(priority=2)},
    )
    fleet = [miner("a"), miner("b"), miner("c")]
    event = stop_between(T0, T0 + hours(1))
    decision = decide(now=T0, settings=settings, fleet=fleet, state=PlanState(), events=[event])
    order: list[tuple[timedelta, list[str]]] = []
    now = T0 + hours(1)
    while decision.curtailed or not order:
        decision = decide(
            now=now, settings=settings, fleet=fleet, state=decision.state, events=[event]
        )
        running = [t.miner_id for t in decision.targets if t.action is TargetAction.RUN]
        order.append((now - T0 - hours(1), running))
        held = [t.hold for t in decision.targets if t.action is not TargetAction.RUN]
        assert set(held) <= {Hold.RESTART_STAGGER}
        assert decision.next_check is None or decision.next_check == now + minutes(2)
        now = decision.next_check or now
    assert order == [(minutes(0), ["b"]), (minutes(2), ["b", "c"]), (minutes(4), ["a", "b", "c"])]


def run(
    settings: PlanSettings, fleet: list[MinerStatus], events: list[DrEvent], until: datetime
) -> list[tuple[datetime, Decision]]:
    """Follow `next_check` from T0 until `until`."""
    now, state = T0, PlanState()
    log: list[tuple[datetime, Decision]] = []
    while now < until:
        decision = decide(now=now, settings=settings, fleet=fleet, state=state, events=events)
        log.append((now, decision))
        state = decision.state
        if decision.next_check is None:
            break
        now = decision.next_check
    return log


def test_maximum_length_releases_staggered_and_rests() -> None:
    settings = PlanSettings(
        max_curtailment=hours(2), restart_stagger=minutes(5), min_on=minutes(20)
    )
    fleet = [miner("a"), miner("b"), miner("c")]
    log = run(settings, fleet, [stop_between(T0, None)], T0 + hours(5))
    curtailed = [(when - T0, sum(t.curtailed for t in d.targets)) for when, d in log]
    assert curtailed[:6] == [
        (minutes(0), 3),
        (minutes(110), 2),
        (minutes(115), 1),
        (minutes(120), 0),
        (minutes(140), 3),
        (minutes(250), 2),
    ]
    released = log[3][1]
    assert {t.hold for t in released.targets} == {Hold.MAX_LENGTH}
    assert released.state.rest_until == T0 + minutes(140)
    assert released.requested is Reason.DR_EVENT


def test_no_miner_joins_a_window_it_could_not_leave_in_time() -> None:
    settings = PlanSettings(
        max_curtailment=hours(3), min_off=minutes(15), threshold=PriceThreshold(price=0.2)
    )
    window_start = T0 - hours(2) - minutes(50)
    state = PlanState(
        miners={
            "a": MinerState(
                mode=MinerMode.STOPPED,
                curtail_changed_at=window_start,
                power_changed_at=window_start,
            ),
            "b": MinerState(mode=MinerMode.ON),
        },
        window_start=window_start,
        window_reason=Reason.DR_EVENT,
    )
    event = stop_between(window_start, None)
    decision = decide(
        now=T0, settings=settings, fleet=[miner("a"), miner("b")], state=state, events=[event]
    )
    b = decision.target("b")
    assert b is not None
    assert (b.action, b.hold) == (TargetAction.RUN, Hold.MAX_LENGTH)
    assert decision.next_check == T0 + minutes(10)


def test_state_survives_json_and_a_restart() -> None:
    settings = PlanSettings(
        min_off=minutes(30), restart_stagger=minutes(1), max_curtailment=hours(4)
    )
    fleet = [miner("a"), miner("b", limit_range=(100, 1000))]
    event = stop_between(T0, T0 + hours(1))
    decision = decide(now=T0, settings=settings, fleet=fleet, state=PlanState(), events=[event])
    stored = json.loads(json.dumps(decision.state.to_dict()))
    restored = PlanState.from_dict(stored)
    assert restored == decision.state
    later = T0 + minutes(61)
    assert decide(
        now=later, settings=settings, fleet=fleet, state=restored, events=[event]
    ) == decide(now=later, settings=settings, fleet=fleet, state=decision.state, events=[event])


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"version": 2},
        {"version": 1, "miners": {"a": {"mode": "sleeping"}}},
        {"version": 1, "miners": {"a": {"mode": "on", "price_latched": "yes"}}},
        {"version": 1, "window_start": "noon"},
        {"version": 1, "window_reason": "boredom"},
        {"version": 1, "miners": []},
    ],
)
def test_bad_state_raises(data: object) -> None:
    with pytest.raises(StateFormatError, match="Cannot restore plan state"):
        PlanState.from_dict(data)


def test_a_minimum_raised_mid_window_ends_at_the_deadline() -> None:
    """Found: min-off raised in the options mid-window held a miner that had joined the window
    late past its deadline (the gate applied min-off even at the deadline)."""
    settings = PlanSettings(min_off=minutes(50), max_curtailment=minutes(60))
    state = PlanState(
        window_start=T0,
        window_reason=Reason.DR_EVENT,
        miners={
            "early": MinerState(mode=MinerMode.STOPPED, curtail_changed_at=T0, power_changed_at=T0),
            "late": MinerState(
                mode=MinerMode.STOPPED,
                curtail_changed_at=T0 + minutes(20),
                power_changed_at=T0 + minutes(20),
            ),
        },
    )
    fleet = [miner("early"), miner("late")]
    event = [stop_between(T0, T0 + hours(3))]
    before = decide(now=T0 + minutes(59), settings=settings, fleet=fleet, state=state, events=event)
    assert {t.action for t in before.targets} == {TargetAction.STOP}
    at = decide(now=T0 + minutes(60), settings=settings, fleet=fleet, state=state, events=event)
    assert {t.miner_id: t.action for t in at.targets} == {
        "early": TargetAction.RUN,
        "late": TargetAction.RUN,
    }, "every miner runs at window start + maximum"
