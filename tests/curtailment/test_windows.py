"""Predicted curtailment windows for the plan's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from custom_components.home_miner.curtailment import (
    BandTariff,
    CurtailmentWindow,
    DrEvent,
    DrSignal,
    DrSource,
    ManualOverride,
    MinerMode,
    MinerState,
    OverrideKind,
    PlanSettings,
    PlanState,
    PricePoint,
    PriceSeries,
    PriceThreshold,
    Reason,
    TouBand,
    windows,
)

from .factories import T0, hours, miner, minutes

MIDNIGHT = T0.replace(hour=0)


def evening_peak(tz: ZoneInfo | None = None) -> BandTariff:
    return BandTariff(
        bands=(TouBand(label="peak", price=0.4, start=time(17), end=time(21)),),
        timezone=tz or UTC,
        default_label="off-peak",
    )


def event(
    signal: DrSignal, start: datetime, end: datetime | None, value: float | None = None
) -> DrEvent:
    return DrEvent(
        event_id=f"{signal}-{start}",
        source=DrSource.OPENADR,
        signal=signal,
        start=start,
        end=end,
        value=value,
    )


def spans(found: tuple[CurtailmentWindow, ...]) -> list[tuple[float, float, Reason]]:
    def at(when: datetime) -> float:
        return (when - MIDNIGHT) / hours(1)

    return [(at(w.start), at(w.end), w.reason) for w in found]


def test_tou_prices_and_events_merge_into_windows() -> None:
    prices = PriceSeries.from_points(
        [
            PricePoint(
                start=MIDNIGHT + hours(h),
                end=MIDNIGHT + hours(h + 1),
                price=0.5 if h in {10, 11, 21} else 0.1,
            )
            for h in range(48)
        ]
    )
    settings = PlanSettings(threshold=PriceThreshold(price=0.3))
    found = windows(
        now=MIDNIGHT,
        settings=settings,
        tariff=evening_peak(),
        prices=prices,
        events=[event(DrSignal.STOP, MIDNIGHT + hours(30), MIDNIGHT + hours(31))],
    )
    assert spans(found) == [
        (10, 12, Reason.PRICE_ABOVE_THRESHOLD),
        (17, 22, Reason.TOU_PEAK),
        (30, 31, Reason.DR_EVENT),
        (41, 45, Reason.TOU_PEAK),
    ]
    assert found[1].reasons == frozenset({Reason.TOU_PEAK, Reason.PRICE_ABOVE_THRESHOLD})


def test_budgets_only_count_when_they_bind() -> None:
    fleet = [miner("a", power_w=1000), miner("b", power_w=1000)]
    cap_high = event(DrSignal.CAPACITY_LIMIT, MIDNIGHT + hours(2), MIDNIGHT + hours(3), 5.0)
    cap_low = event(DrSignal.CAPACITY_LIMIT, MIDNIGHT + hours(4), MIDNIGHT + hours(5), 1.0)
    normal = event(DrSignal.POWER_FRACTION, MIDNIGHT + hours(6), MIDNIGHT + hours(7), 1.0)
    half = event(DrSignal.POWER_FRACTION, MIDNIGHT + hours(8), None, 0.5)
    found = windows(
        now=MIDNIGHT,
        settings=PlanSettings(),
        events=[cap_high, cap_low, normal, half],
        fleet=fleet,
        horizon=hours(12),
    )
    assert spans(found) == [(4, 5, Reason.CAPACITY_LIMIT), (8, 12, Reason.DR_EVENT)]


def test_long_windows_are_cut_at_the_maximum_length_with_a_rest() -> None:
    settings = PlanSettings(max_curtailment=hours(2), min_on=minutes(30))
    found = windows(
        now=MIDNIGHT,
        settings=settings,
        events=[event(DrSignal.STOP, MIDNIGHT + hours(1), MIDNIGHT + hours(7))],
        horizon=hours(12),
    )
    assert spans(found) == [
        (1, 3, Reason.DR_EVENT),
        (3.5, 5.5, Reason.DR_EVENT),
        (6, 7, Reason.DR_EVENT),
    ]


def test_a_window_under_way_counts_from_its_start() -> None:
    settings = PlanSettings(max_curtailment=hours(2))
    state = PlanState(
        miners={"a": MinerState(mode=MinerMode.STOPPED)}, window_start=MIDNIGHT - hours(1)
    )
    found = windows(
        now=MIDNIGHT,
        settings=settings,
        events=[event(DrSignal.STOP, MIDNIGHT - hours(1), None)],
        state=state,
        horizon=hours(4),
    )
    assert spans(found) == [
        (0, 1, Reason.DR_EVENT),
        (1.25, 3.25, Reason.DR_EVENT),
        (3.5, 4, Reason.DR_EVENT),
    ]
    overdue = PlanState(
        miners={"a": MinerState(mode=MinerMode.STOPPED)}, window_start=MIDNIGHT - hours(3)
    )
    late = windows(
        now=MIDNIGHT,
        settings=settings,
        events=[event(DrSignal.STOP, MIDNIGHT - hours(3), None)],
        state=overdue,
        horizon=hours(3),
    )
    assert spans(late)[0] == (0.25, 2.25, Reason.DR_EVENT)


def test_manual_overrides() -> None:
    resume = PlanSettings(
        override=ManualOverride(kind=OverrideKind.RESUME, until=MIDNIGHT + hours(18))
    )
    found = windows(now=MIDNIGHT, settings=resume, tariff=evening_peak(), horizon=hours(24))
    assert spans(found) == [(18, 21, Reason.TOU_PEAK)]
    curtail = PlanSettings(
        override=ManualOverride(kind=OverrideKind.CURTAIL, until=MIDNIGHT + hours(2))
    )
    assert spans(windows(now=MIDNIGHT, settings=curtail, horizon=hours(24))) == [
        (0, 2, Reason.MANUAL)
    ]


def test_windows_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2025, 3, 29, 12, tzinfo=berlin)
    found = windows(now=now, settings=PlanSettings(), tariff=evening_peak(berlin))
    assert [(w.start.astimezone(berlin).hour, w.end - w.start) for w in found] == [
        (17, timedelta(hours=4)),
        (17, timedelta(hours=4)),
    ]
    assert found[1].start - found[0].start == timedelta(hours=23)
