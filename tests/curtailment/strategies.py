"""Hypothesis strategies: fleets, settings, feeds and arbitrary JSON-like input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from custom_components.home_miner.curtailment import (
    CurtailAction,
    CurtailMode,
    DrEvent,
    DrSignal,
    DrSource,
    MinerMode,
    MinerPlan,
    MinerState,
    MinerStatus,
    PlanSettings,
    PlanState,
    PricePoint,
    PriceSeries,
    PriceThreshold,
)

from .factories import T0

MINUTE = timedelta(minutes=1)


def json_like(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Anything JSON (and HA state attributes) can hold, NaN and infinities included."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=12)
        | st.sampled_from(["2025-06-02T16:00:00Z", "0001-01-01", "PT1H", "P9999Y", "SIMPLE", "on"])
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=10), children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def mutated(sample: Any) -> st.SearchStrategy[Any]:
    """A valid sample with one value somewhere replaced by arbitrary JSON."""

    def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [prefix]
        if isinstance(node, dict):
            for key, value in node.items():
                found += paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += paths(value, (*prefix, index))
        return found

    def replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
        if not path:
            return value
        head, *rest = path
        if isinstance(node, dict):
            return {**node, head: replace(node[head], tuple(rest), value)}
        copy = list(node)
        copy[head] = replace(node[head], tuple(rest), value)
        return copy

    return st.tuples(st.sampled_from(paths(sample)), json_like(8)).map(
        lambda pair: replace(sample, pair[0], pair[1])
    )


@st.composite
def miners(draw: st.DrawFn, miner_id: str) -> MinerStatus:
    power = draw(st.floats(min_value=50, max_value=4000))
    has_range = draw(st.booleans())
    low = draw(st.floats(min_value=10, max_value=power)) if has_range else None
    return MinerStatus(
        miner_id=miner_id,
        power_w=power,
        hashrate_ths=power / draw(st.floats(min_value=15, max_value=120)),
        efficiency_jth=draw(st.none() | st.floats(min_value=15, max_value=120)),
        can_stop=draw(st.booleans()) if has_range else draw(st.booleans() | st.just(True)),
        power_limit_min_w=low,
        power_limit_max_w=power if has_range else None,
        rated_power_w=power,
    )


@st.composite
def fleets(draw: st.DrawFn, max_size: int = 6) -> list[MinerStatus]:
    count = draw(st.integers(min_value=1, max_value=max_size))
    return [draw(miners(f"m{index}")) for index in range(count)]


def durations(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(min_value=low, max_value=high).map(lambda minutes: minutes * MINUTE)


@st.composite
def plan_settings(
    draw: st.DrawFn, fleet: list[MinerStatus], *, max_length: bool = True
) -> PlanSettings:
    min_on, min_off = draw(durations(0, 30)), draw(durations(0, 30))
    maximum = None
    if max_length and draw(st.booleans()):
        maximum = min_off + draw(durations(5, 180))
    actions = st.sampled_from(
        [
            CurtailAction(),
            CurtailAction(mode=CurtailMode.LIMIT_PERCENT, value=50),
            CurtailAction(mode=CurtailMode.LIMIT_W, value=300),
        ]
    )
    return PlanSettings(
        threshold=PriceThreshold(price=draw(st.floats(min_value=0, max_value=1))),
        hysteresis=draw(st.floats(min_value=0, max_value=0.2)),
        miners={
            m.miner_id: MinerPlan(action=draw(actions), priority=draw(st.integers(0, 5)))
            for m in fleet
        },
        min_on=min_on,
        min_off=min_off,
        max_curtailment=maximum,
        restart_stagger=draw(durations(0, 10)),
    )


_VALUES = {
    DrSignal.CURTAIL: st.none(),
    DrSignal.STOP: st.none(),
    DrSignal.POWER_FRACTION: st.sampled_from([0.0, 0.5, 0.75, 1.0]),
    DrSignal.CAPACITY_LIMIT: st.floats(min_value=0, max_value=20),
    DrSignal.PRICE: st.floats(min_value=-0.5, max_value=2),
}


@st.composite
def dr_events(draw: st.DrawFn, count: int = 4) -> list[DrEvent]:
    found = []
    for index in range(draw(st.integers(min_value=0, max_value=count))):
        signal = draw(st.sampled_from(list(DrSignal)))
        start = T0 + draw(durations(0, 360))
        length = draw(st.none() | durations(5, 240))
        end = None if length is None else start + length
        found.append(
            DrEvent(
                event_id=f"e{index}",
                source=DrSource.OPENADR,
                signal=signal,
                start=start,
                end=end,
                value=draw(_VALUES[signal]),
                priority=draw(st.none() | st.integers(0, 3)),
            )
        )
    return found


@st.composite
def price_series(draw: st.DrawFn, hours: int = 10) -> PriceSeries:
    values = draw(
        st.lists(st.floats(min_value=-0.2, max_value=1.5), min_size=hours, max_size=hours)
    )
    step = timedelta(minutes=draw(st.sampled_from([15, 60])))
    return PriceSeries.from_points(
        [
            PricePoint(start=T0 + i * step, end=T0 + (i + 1) * step, price=value)
            for i, value in enumerate(values)
        ]
    )


@st.composite
def plan_states(draw: st.DrawFn, fleet: list[MinerStatus]) -> PlanState:
    """A state as decide may leave it: each miner in some mode since some minutes ago."""
    miners_state = {}
    for status in fleet:
        mode = draw(st.sampled_from(list(MinerMode)))
        if mode is MinerMode.STOPPED and not status.can_stop:
            mode = MinerMode.ON
        if mode is MinerMode.LIMITED and not status.can_limit:
            mode = MinerMode.ON
        curtailed_since = T0 - draw(durations(0, 60))
        hashing_since = T0 - draw(durations(0, 60))
        limit = None
        if mode is MinerMode.LIMITED:
            limit = status.clamp_limit(draw(st.floats(min_value=0, max_value=status.power_w)))
        miners_state[status.miner_id] = MinerState(
            mode=mode,
            limit_w=limit,
            curtail_changed_at=curtailed_since,
            power_changed_at=hashing_since,
            full_power_w=status.rated_power_w,
        )
    curtailed = any(state.mode.curtailed for state in miners_state.values())
    return PlanState(
        miners=miners_state, window_start=T0 - draw(durations(0, 30)) if curtailed else None
    )
