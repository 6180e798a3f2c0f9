"""Benchmark of the curtailment engine.

One decision for 200 miners with 48 h of 15-minute prices, a TOU tariff and 10 DR events
(one of them a capacity cap, so the allocation runs), and the windows of the next 48 h.

    python -m bench.bench_engine [repeats]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
import random
import statistics
import sys
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.home_miner.curtailment import (
    BandTariff,
    CurtailAction,
    CurtailMode,
    DrEvent,
    DrSignal,
    DrSource,
    MinerPlan,
    MinerStatus,
    PlanSettings,
    PlanState,
    PricePoint,
    PriceSeries,
    PriceThreshold,
    TouBand,
    decide,
    windows,
)

NOW = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)
MINERS = 200
EVENTS = 10


def build() -> tuple[PlanSettings, list[MinerStatus], BandTariff, PriceSeries, list[DrEvent]]:
    rng = random.Random(4)
    fleet = [
        MinerStatus(
            miner_id=f"miner-{index:03d}",
            power_w=(power := rng.uniform(15, 3500)),
            hashrate_ths=power / (efficiency := rng.uniform(15, 40)),
            efficiency_jth=efficiency,
            can_stop=index % 7 != 0,
            power_limit_min_w=power * 0.3 if index % 3 == 0 else None,
            power_limit_max_w=power if index % 3 == 0 else None,
        )
        for index in range(MINERS)
    ]
    quarter = timedelta(minutes=15)
    prices = PriceSeries.from_points(
        [
            PricePoint(
                start=NOW + i * quarter, end=NOW + (i + 1) * quarter, price=rng.uniform(0, 0.5)
            )
            for i in range(48 * 4)
        ]
    )
    tariff = BandTariff(
        bands=(
            TouBand(
                label="peak", price=0.4, start=time(17), end=time(21), days=frozenset(range(5))
            ),
        ),
        timezone=ZoneInfo("Europe/Berlin"),
        default_label="off-peak",
        default_price=0.2,
    )
    signals = [DrSignal.CURTAIL, DrSignal.POWER_FRACTION, DrSignal.PRICE, DrSignal.STOP]
    events = [
        DrEvent(
            event_id=f"event-{index}",
            source=DrSource.OPENADR,
            signal=signals[index % len(signals)],
            start=NOW + timedelta(hours=4 * index + 1),
            end=NOW + timedelta(hours=4 * index + 2),
            value={DrSignal.POWER_FRACTION: 0.5, DrSignal.PRICE: 0.3}.get(
                signals[index % len(signals)]
            ),
            priority=index % 3,
        )
        for index in range(EVENTS - 1)
    ]
    events.append(
        DrEvent(
            event_id="cap",
            source=DrSource.OPENADR,
            signal=DrSignal.CAPACITY_LIMIT,
            start=NOW - timedelta(minutes=30),
            end=NOW + timedelta(hours=2),
            value=150.0,
        )
    )
    settings = PlanSettings(
        threshold=PriceThreshold(price=0.35),
        hysteresis=0.02,
        miners={
            m.miner_id: MinerPlan(
                action=CurtailAction(mode=CurtailMode.LIMIT_PERCENT, value=50)
                if index % 2
                else CurtailAction(),
                priority=index % 10,
            )
            for index, m in enumerate(fleet)
        },
        min_on=timedelta(minutes=10),
        min_off=timedelta(minutes=10),
        max_curtailment=timedelta(hours=4),
        restart_stagger=timedelta(seconds=30),
    )
    return settings, fleet, tariff, prices, events


def measure(run: Callable[[], object], repeats: int) -> list[float]:
    run()
    samples = []
    for _ in range(repeats):
        start = perf_counter()
        run()
        samples.append((perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{name:<44} median {statistics.median(samples):7.3f} ms   "
        f"p95 {p95:7.3f} ms   min {ordered[0]:7.3f} ms   ({len(samples)} runs)"
    )


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    settings, fleet, tariff, prices, events = build()
    inputs: dict[str, Any] = {
        "settings": settings,
        "fleet": fleet,
        "tariff": tariff,
        "prices": prices,
        "events": events,
    }
    state = decide(now=NOW - timedelta(minutes=20), state=PlanState(), **inputs).state
    decision = decide(now=NOW, state=state, **inputs)
    curtailed = sum(target.curtailed for target in decision.targets)
    print(
        f"{MINERS} miners, {len(prices.points)} price intervals, {len(events)} DR events; "
        f"{curtailed} curtailed ({decision.reason}), {decision.expected_power_w / 1000:.1f} kW "
        f"of a {(decision.power_budget_w or 0) / 1000:.0f} kW cap"
    )
    report(
        "decide, 200 miners, window under way",
        measure(lambda: decide(now=NOW, state=state, **inputs), repeats),
    )
    report(
        "decide, 200 miners, window starting",
        measure(lambda: decide(now=NOW, state=PlanState(), **inputs), repeats),
    )

    # A cap that binds: the allocator chooses every miner's setting (nine tenths of what the
    # fleet would draw in the window).
    tight = [e for e in events if e.event_id != "cap"]
    cap_kw = decision.expected_power_w * 0.9 / 1000
    tight.append(replace(next(e for e in events if e.event_id == "cap"), value=cap_kw))
    capped = {**inputs, "settings": replace(settings, max_curtailment=None), "events": tight}
    held = decide(now=NOW, state=PlanState(), **capped)
    print(
        f"binding cap: {held.expected_power_w / 1000:.1f} kW of a "
        f"{(held.power_budget_w or 0) / 1000:.1f} kW cap"
    )
    report(
        "decide, 200 miners, binding cap (allocator)",
        measure(lambda: decide(now=NOW, state=PlanState(), **capped), repeats),
    )

    def next_48_h() -> Any:
        return windows(now=NOW, state=state, **inputs)

    print(f"{len(next_48_h())} windows in the next 48 h")
    report("windows (48 h)", measure(next_48_h, max(repeats // 3, 1)))


if __name__ == "__main__":
    main()
