"""The decision, reason by reason, with hand-checked targets."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from custom_components.home_miner.curtailment import (
    BandTariff,
    CurtailAction,
    CurtailMode,
    DrEvent,
    DrSignal,
    DrSource,
    ManualOverride,
    MinerPlan,
    MinerStatus,
    MissingPrice,
    OverrideKind,
    PlanSettings,
    PlanState,
    PricePoint,
    PriceSeries,
    PriceThreshold,
    Reason,
    TargetAction,
    ThresholdMode,
    TouBand,
    decide,
)
from custom_components.home_miner.curtailment.policy import Decision

from .factories import T0, hours, miner, minutes

PEAK = BandTariff(
    bands=(TouBand(label="peak", price=0.40, start=time(17), end=time(21)),),
    timezone=UTC,
    default_label="off-peak",
    default_price=0.20,
)


QUARTER = timedelta(minutes=15)


def flat_prices(*values: float, start: datetime = T0, step: timedelta = QUARTER) -> PriceSeries:
    return PriceSeries.from_points(
        [
            PricePoint(start=start + i * step, end=start + (i + 1) * step, price=value)
            for i, value in enumerate(values)
        ]
    )


def dr(
    signal: DrSignal,
    value: float | None = None,
    *,
    start: datetime = T0,
    end: datetime | None = None,
    priority: int | None = None,
    event_id: str = "e",
) -> DrEvent:
    return DrEvent(
        event_id=event_id,
        source=DrSource.OPENADR,
        signal=signal,
        start=start,
        end=end if end is not None else start + hours(2),
        value=value,
        priority=priority,
    )


def actions(decision: Decision) -> dict[str, tuple[TargetAction, float | None]]:
    return {t.miner_id: (t.action, t.power_limit_w) for t in decision.targets}


def test_tou_peak_curtails_until_the_band_ends() -> None:
    fleet = [miner("a"), miner("b")]
    before = decide(
        now=T0.replace(hour=16),
        settings=PlanSettings(),
        fleet=fleet,
        state=PlanState(),
        tariff=PEAK,
    )
    assert before.reason is Reason.NONE
    assert before.next_check == T0.replace(hour=17)
    peak = decide(
        now=T0.replace(hour=17),
        settings=PlanSettings(),
        fleet=fleet,
        state=before.state,
        tariff=PEAK,
    )
    assert actions(peak) == {"a": (TargetAction.STOP, None), "b": (TargetAction.STOP, None)}
    assert (peak.reason, peak.next_check, peak.expected_power_w) == (
        Reason.TOU_PEAK,
        T0.replace(hour=21),
        0,
    )
    assert peak.state.window_start == T0.replace(hour=17)
    ended = decide(
        now=T0.replace(hour=21), settings=PlanSettings(), fleet=fleet, state=peak.state, tariff=PEAK
    )
    assert not ended.curtailed
    assert ended.state.window_start is None


def test_curtailed_action_follows_each_miners_capabilities() -> None:
    fleet = [
        miner("limit-w", limit_range=(400, 1200)),
        miner("limit-pct", rated_power_w=1200, limit_range=(300, 1200)),
        miner("limit-but-cannot"),
        miner("stop-but-cannot", can_stop=False, limit_range=(250, 1000)),
        miner("helpless", can_stop=False),
    ]
    settings = PlanSettings(
        tou_labels=frozenset({"PEAK"}),
        miners={
            "limit-w": MinerPlan(action=CurtailAction(mode=CurtailMode.LIMIT_W, value=300)),
            "limit-pct": MinerPlan(action=CurtailAction(mode=CurtailMode.LIMIT_PERCENT, value=50)),
            "limit-but-cannot": MinerPlan(
                action=CurtailAction(mode=CurtailMode.LIMIT_W, value=500)
            ),
        },
    )
    decision = decide(
        now=T0.replace(hour=18), settings=settings, fleet=fleet, state=PlanState(), tariff=PEAK
    )
    assert actions(decision) == {
        "limit-w": (TargetAction.LIMIT, 400),
        "limit-pct": (TargetAction.LIMIT, 600),
        "limit-but-cannot": (TargetAction.STOP, None),
        "stop-but-cannot": (TargetAction.LIMIT, 250),
        "helpless": (TargetAction.RUN, None),
    }
    assert decision.expected_power_w == 400 + 600 + 250 + 1000


def test_fixed_threshold_with_hysteresis() -> None:
    settings = PlanSettings(threshold=PriceThreshold(price=0.25), hysteresis=0.02)
    prices = flat_prices(0.24, 0.30, 0.26, 0.24, 0.23, 0.26)
    state, seen = PlanState(), []
    for step in range(6):
        decision = decide(
            now=T0 + step * minutes(15),
            settings=settings,
            fleet=[miner("a")],
            state=state,
            prices=prices,
        )
        state = decision.state
        seen.append(decision.targets[0].action)
        assert decision.threshold == 0.25
        assert decision.next_check == T0 + (step + 1) * minutes(15)
    run, stop = TargetAction.RUN, TargetAction.STOP
    assert seen == [run, stop, stop, stop, run, stop]


def test_break_even_threshold_is_per_miner() -> None:
    # 0.05 per TH/s per day: break-even 0.104 at 20 J/TH and 0.052 at 40 J/TH.
    settings = PlanSettings(threshold=PriceThreshold(mode=ThresholdMode.BREAK_EVEN, hashprice=0.05))
    fleet = [miner("efficient", efficiency_jth=20), miner("old", efficiency_jth=40)]
    decision = decide(
        now=T0, settings=settings, fleet=fleet, state=PlanState(), prices=flat_prices(0.08)
    )
    assert actions(decision) == {
        "efficient": (TargetAction.RUN, None),
        "old": (TargetAction.STOP, None),
    }
    assert decision.reason is Reason.PRICE_ABOVE_THRESHOLD
    # The fleet (2000 W for 75 TH/s) breaks even at 0.05 * 75 / 48 kWh.
    assert decision.threshold == pytest.approx(0.05 * 75 / 48)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (MissingPrice.RUN, TargetAction.RUN),
        (MissingPrice.CURTAIL, TargetAction.STOP),
        (MissingPrice.TARIFF, TargetAction.STOP),
    ],
)
def test_missing_price(policy: MissingPrice, expected: TargetAction) -> None:
    settings = PlanSettings(
        threshold=PriceThreshold(price=0.3), on_missing_price=policy, tou_labels=frozenset()
    )
    decision = decide(
        now=T0.replace(hour=18),
        settings=settings,
        fleet=[miner("a")],
        state=PlanState(),
        tariff=PEAK,
        prices=PriceSeries(),
    )
    assert decision.targets[0].action is expected


def test_dr_events() -> None:
    settings = PlanSettings(
        miners={"a": MinerPlan(action=CurtailAction(mode=CurtailMode.LIMIT_W, value=500))}
    )
    fleet = [miner("a", limit_range=(300, 1200)), miner("b")]
    calendar = DrEvent(
        event_id="cal",
        source=DrSource.CALENDAR,
        signal=DrSignal.CURTAIL,
        start=T0,
        end=T0 + hours(1),
    )
    curtailed = decide(now=T0, settings=settings, fleet=fleet, state=PlanState(), events=[calendar])
    assert actions(curtailed) == {"a": (TargetAction.LIMIT, 500), "b": (TargetAction.STOP, None)}
    assert (curtailed.reason, curtailed.next_check) == (Reason.DR_EVENT, T0 + hours(1))
    alert = decide(
        now=T0,
        settings=settings,
        fleet=fleet,
        state=PlanState(),
        events=[calendar, dr(DrSignal.STOP)],
    )
    assert actions(alert)["a"] == (TargetAction.STOP, None)
    upcoming = decide(
        now=T0,
        settings=settings,
        fleet=fleet,
        state=PlanState(),
        events=[dr(DrSignal.STOP, start=T0 + minutes(5))],
    )
    assert (upcoming.curtailed, upcoming.next_check) == (False, T0 + minutes(5))


def test_price_event_replaces_the_price_feed() -> None:
    settings = PlanSettings(threshold=PriceThreshold(price=0.25))
    decision = decide(
        now=T0,
        settings=settings,
        fleet=[miner("a")],
        state=PlanState(),
        prices=flat_prices(0.1),
        events=[dr(DrSignal.PRICE, 0.9)],
    )
    assert (decision.price, decision.reason) == (0.9, Reason.PRICE_ABOVE_THRESHOLD)


def capacity_fleet() -> list[MinerStatus]:
    return [
        miner("a", power_w=3000, efficiency_jth=35, limit_range=(1000, 3000)),
        miner("b", power_w=3000, efficiency_jth=25),
        miner("c", power_w=1000, efficiency_jth=50),
        miner("d", power_w=1000, efficiency_jth=20),
    ]


@pytest.mark.parametrize(
    ("cap_kw", "expected", "total"),
    [
        # 1500 W too much: c (50 J/TH) stops, a (35 J/TH) is limited by the remaining 500 W.
        (6.5, {"a": (TargetAction.LIMIT, 2500), "c": (TargetAction.STOP, None)}, 6500),
        # 3500 W too much: c stops; a's limit range saves only 2000 of 2500, so a stops too.
        (4.5, {"a": (TargetAction.STOP, None), "c": (TargetAction.STOP, None)}, 4000),
        (0, dict.fromkeys("abcd", (TargetAction.STOP, None)), 0),
        (9, {}, 8000),
    ],
)
def test_capacity_limit_turns_down_least_efficient_first(
    cap_kw: float, expected: dict[str, tuple[TargetAction, float | None]], total: float
) -> None:
    decision = decide(
        now=T0,
        settings=PlanSettings(),
        fleet=capacity_fleet(),
        state=PlanState(),
        events=[dr(DrSignal.CAPACITY_LIMIT, cap_kw)],
    )
    running = dict.fromkeys("abcd", (TargetAction.RUN, None))
    assert actions(decision) == running | expected
    assert decision.expected_power_w == total
    assert decision.power_budget_w == cap_kw * 1000
    assert decision.reason is (Reason.CAPACITY_LIMIT if expected else Reason.NONE)


def test_simple_level_fraction_and_event_priority() -> None:
    level_1_high = dr(DrSignal.POWER_FRACTION, 0.75, priority=0, event_id="hi")
    level_3_low = dr(DrSignal.POWER_FRACTION, 0.0, priority=5, event_id="lo")
    decision = decide(
        now=T0,
        settings=PlanSettings(),
        fleet=capacity_fleet(),
        state=PlanState(),
        events=[level_1_high, level_3_low],
    )
    assert decision.power_budget_w == 6000
    assert decision.expected_power_w <= 6000
    assert decision.reason is Reason.DR_EVENT
    normal = decide(
        now=T0,
        settings=PlanSettings(),
        fleet=capacity_fleet(),
        state=PlanState(),
        events=[dr(DrSignal.POWER_FRACTION, 1.0)],
    )
    assert (normal.curtailed, normal.power_budget_w, normal.requested) == (False, None, Reason.NONE)


def test_unknown_efficiency_is_turned_down_first() -> None:
    mystery = MinerStatus(miner_id="mystery", power_w=0.0, rated_power_w=1000)
    decision = decide(
        now=T0,
        settings=PlanSettings(),
        fleet=[miner("old", efficiency_jth=60), mystery],
        state=PlanState(),
        events=[dr(DrSignal.CAPACITY_LIMIT, 1.0)],
    )
    assert actions(decision) == {
        "old": (TargetAction.RUN, None),
        "mystery": (TargetAction.STOP, None),
    }


def test_full_power_is_rated_then_measured_then_remembered() -> None:
    settings = PlanSettings()
    running = decide(now=T0, settings=settings, fleet=[miner("a", power_w=1400)], state=PlanState())
    assert running.state.miner("a").full_power_w == 1400
    stop = decide(
        now=T0,
        settings=settings,
        fleet=[miner("a", power_w=1400)],
        state=running.state,
        events=[dr(DrSignal.STOP)],
    )
    assert stop.state.miner("a").full_power_w == 1400
    stopped_now = miner("a", power_w=0.0)
    capped = decide(
        now=T0 + minutes(1),
        settings=settings,
        fleet=[stopped_now, miner("b", power_w=100)],
        state=stop.state,
        events=[dr(DrSignal.CAPACITY_LIMIT, 1.5)],
    )
    assert capped.power_budget_w == 1500
    assert capped.expected_power_w == 1400 + 100
    assert actions(capped)["a"] == (TargetAction.RUN, None)


def test_manual_override() -> None:
    until = T0 + hours(1)
    curtail = PlanSettings(
        override=ManualOverride(
            kind=OverrideKind.CURTAIL,
            until=until,
            action=CurtailAction(mode=CurtailMode.LIMIT_PERCENT, value=50),
        )
    )
    fleet = [miner("a", limit_range=(200, 1000)), miner("b")]
    manual = decide(now=T0, settings=curtail, fleet=fleet, state=PlanState())
    assert actions(manual) == {"a": (TargetAction.LIMIT, 500), "b": (TargetAction.STOP, None)}
    assert (manual.reason, manual.next_check) == (Reason.MANUAL, until)
    expired = decide(now=until, settings=curtail, fleet=fleet, state=manual.state)
    assert not expired.curtailed
    resume = PlanSettings(override=ManualOverride(kind=OverrideKind.RESUME))
    ignored = decide(
        now=T0.replace(hour=18),
        settings=resume,
        fleet=fleet,
        state=PlanState(),
        tariff=PEAK,
        events=[dr(DrSignal.STOP, start=T0.replace(hour=18))],
    )
    assert (ignored.curtailed, ignored.requested) == (False, Reason.NONE)


def test_duplicate_miners_and_naive_time_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        decide(now=T0, settings=PlanSettings(), fleet=[miner("a"), miner("a")], state=PlanState())
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(now=T0.replace(tzinfo=None), settings=PlanSettings(), fleet=[], state=PlanState())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_on": -minutes(1)}, "min_on must not be negative"),
        ({"hysteresis": -1}, "hysteresis"),
        ({"max_curtailment": timedelta(0)}, "positive"),
        ({"max_curtailment": minutes(10), "min_off": minutes(20)}, "at least min_off"),
    ],
)
def test_settings_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlanSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CurtailAction(mode=CurtailMode.LIMIT_W), "needs a non-negative value"),
        (lambda: CurtailAction(mode=CurtailMode.LIMIT_PERCENT, value=120), "at most 100"),
        (PriceThreshold, "needs a price"),
        (lambda: PriceThreshold(mode=ThresholdMode.BREAK_EVEN), "hashprice"),
        (
            lambda: ManualOverride(kind=OverrideKind.CURTAIL, until=datetime(2025, 1, 1)),
            "timezone-aware",
        ),
    ],
)
def test_setting_parts_are_checked(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_a_1_5_kw_cap_keeps_the_s21_limited_rather_than_stopping_every_big_miner() -> None:
    """Found: a 1.5 kW cap on an S19 (3250 W, no limit), an S21 (3500 W, limit 1500-3500 W)
    and a Bitaxe (15 W) stopped both big miners and kept 1.2 TH/s (the Bitaxe); limiting the
    S21 to 1500 W alone keeps about 85 TH/s inside the cap."""
    fleet = [
        MinerStatus(miner_id="s19", power_w=3250, hashrate_ths=94.2),
        MinerStatus(
            miner_id="s21",
            power_w=3500,
            hashrate_ths=200,
            power_limit_min_w=1500,
            power_limit_max_w=3500,
        ),
        MinerStatus(miner_id="bitaxe", power_w=15, hashrate_ths=1.2),
    ]
    decision = decide(
        now=T0,
        settings=PlanSettings(),
        fleet=fleet,
        state=PlanState(),
        events=[dr(DrSignal.CAPACITY_LIMIT, 1.5)],
    )
    assert actions(decision) == {
        "s19": (TargetAction.STOP, None),
        "s21": (TargetAction.LIMIT, 1500),
        "bitaxe": (TargetAction.STOP, None),
    }
    assert decision.expected_power_w == 1500
    kept = 1500 / (3500 / 200)
    assert kept == pytest.approx(85.7, abs=0.1)
