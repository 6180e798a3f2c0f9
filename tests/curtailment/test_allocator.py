"""The allocator against exhaustive search: the most hashrate within the budget.

The reference below is written apart from the allocator: every combination of each miner's
options, and for each combination the best powers worked out by hand-rolled greedy filling
of the continuous ranges (the optimum of a linear programme with one constraint).
"""

from __future__ import annotations

from dataclasses import replace
import itertools
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.home_miner.curtailment.allocator import (
    MinerOptions,
    allocate,
    kept_hashrate,
)

EXAMPLES = settings(max_examples=300, deadline=None)


def _reference(budget: float, miners: list[MinerOptions]) -> float:
    """The best hashrate any setting of the fleet keeps within `budget` (`-inf`: none fits)."""
    choices: list[list[tuple[float, float]]] = []
    for miner in miners:
        top = miner.ceiling_w
        options = [(top, top)]
        if miner.can_stop:
            options.append((0.0, 0.0))
        options += [(level, level) for level in miner.levels_w if level <= top]
        if miner.range_w is not None and miner.range_w[0] < min(miner.range_w[1], top):
            options.append((miner.range_w[0], min(miner.range_w[1], top)))
        choices.append(options)
    best = -math.inf
    for combination in itertools.product(*choices):
        left = budget - sum(low for low, _ in combination)
        if left < -1e-6:
            continue
        hashrate = sum(m.hashrate(low) for m, (low, _) in zip(miners, combination, strict=True))
        rooms = sorted(
            (
                (1 / m.efficiency_jth if math.isfinite(m.efficiency_jth) else 0.0, high - low)
                for m, (low, high) in zip(miners, combination, strict=True)
                if high > low
            ),
            reverse=True,
        )
        for rate, room in rooms:
            more = min(room, max(left, 0.0))
            hashrate += rate * more
            left -= more
        best = max(best, hashrate)
    return best


def _allowed(miner: MinerOptions, watts: float) -> bool:
    if abs(watts - miner.ceiling_w) < 1e-6 or (miner.can_stop and watts == 0):
        return True
    if any(abs(watts - level) < 1e-6 for level in miner.levels_w):
        return watts <= miner.ceiling_w + 1e-6
    if miner.range_w is not None:
        low, high = miner.range_w
        return low - 1e-6 <= watts <= min(high, miner.ceiling_w) + 1e-6
    return False


@st.composite
def _miner(draw: st.DrawFn, index: int) -> MinerOptions:
    full = draw(st.floats(10, 4000))
    kind = draw(st.sampled_from(["stop", "levels", "range", "fixed"]))
    levels: tuple[float, ...] = ()
    limit_range = None
    if kind == "levels":
        levels = tuple(
            sorted(draw(st.lists(st.floats(1, full), min_size=1, max_size=3, unique=True)))
        )
    elif kind == "range":
        low = draw(st.floats(0.05, 0.95)) * full
        limit_range = (low, full)
    return MinerOptions(
        miner_id=f"m{index}",
        efficiency_jth=draw(st.one_of(st.floats(12, 40), st.just(math.inf))),
        ceiling_w=full,
        can_stop=kind == "stop" or (kind != "fixed" and draw(st.booleans())),
        levels_w=levels,
        range_w=limit_range,
        importance=draw(st.integers(0, 5)),
    )


@st.composite
def _fleets(draw: st.DrawFn) -> tuple[float, list[MinerOptions]]:
    size = draw(st.integers(1, 6))
    miners = [draw(_miner(i)) for i in range(size)]
    total = sum(m.ceiling_w for m in miners)
    return draw(st.floats(0, 1.1)) * total, miners


@EXAMPLES
@given(_fleets())
def test_the_allocator_keeps_the_most_hashrate_within_the_budget(
    case: tuple[float, list[MinerOptions]],
) -> None:
    budget, miners = case
    powers = allocate(budget, miners)
    assert set(powers) == {m.miner_id for m in miners}
    for miner in miners:
        assert _allowed(miner, powers[miner.miner_id]), (miner, powers[miner.miner_id])
    optimum = _reference(budget, miners)
    if optimum == -math.inf:
        # Nothing fits: every miner as low as it goes.
        lowest = {m.miner_id: 0.0 if m.can_stop else None for m in miners}
        for miner in miners:
            if lowest[miner.miner_id] is not None:
                assert powers[miner.miner_id] == 0.0
        return
    assert sum(powers.values()) <= budget + 1e-6, "never over the budget"
    assert kept_hashrate(miners, powers) >= 0.99 * optimum - 1e-9


S19 = MinerOptions(miner_id="s19", efficiency_jth=34.5, ceiling_w=3250, can_stop=True)
S21 = MinerOptions(
    miner_id="s21", efficiency_jth=17.5, ceiling_w=3500, can_stop=True, range_w=(1500, 3500)
)
BITAXE = MinerOptions(miner_id="bitaxe", efficiency_jth=12.5, ceiling_w=15, can_stop=True)


def test_a_cap_of_1_5_kw_limits_the_s21_instead_of_stopping_it() -> None:
    """Found: with 1.5 kW on an S19, an S21 and a Bitaxe, the budget stopped both big
    miners and kept 1.2 TH/s; limiting the S21 to 1500 W alone keeps about 85 TH/s."""
    powers = allocate(1500, [S19, S21, BITAXE])
    assert powers == {"s19": 0.0, "s21": 1500.0, "bitaxe": 0.0}
    assert kept_hashrate([S19, S21, BITAXE], powers) == pytest.approx(85.7, abs=0.1)


def test_nothing_to_turn_down_under_a_budget_that_fits() -> None:
    assert allocate(10_000, [S19, S21, BITAXE]) == {"s19": 3250, "s21": 3500, "bitaxe": 15}


def test_a_budget_below_every_lowest_setting_turns_each_as_low_as_it_goes() -> None:
    fixed = MinerOptions(miner_id="fixed", efficiency_jth=30, ceiling_w=100)
    assert allocate(50, [fixed, S21]) == {"fixed": 100, "s21": 0.0}


@st.composite
def _followed_fleets(draw: st.DrawFn) -> tuple[float, float, list[MinerOptions]]:
    """A fleet where each miner has a setting now (one of its options), and a deadband."""
    budget, miners = draw(_fleets())
    settled = []
    for miner in miners:
        options = [miner.ceiling_w, *(lv for lv in miner.levels_w if lv <= miner.ceiling_w)]
        if miner.can_stop:
            options.append(0.0)
        settled.append(
            MinerOptions(
                miner_id=miner.miner_id,
                efficiency_jth=miner.efficiency_jth,
                ceiling_w=miner.ceiling_w,
                can_stop=miner.can_stop,
                levels_w=miner.levels_w,
                range_w=miner.range_w,
                importance=miner.importance,
                current_w=draw(st.sampled_from(options)),
            )
        )
    return budget, draw(st.floats(0, 50)), settled


@EXAMPLES
@given(_followed_fleets())
def test_a_deadband_costs_at_most_its_watts_worth_of_hashrate_per_miner(
    case: tuple[float, float, list[MinerOptions]],
) -> None:
    """Staying put is worth `stay_w` watts of each miner's hashrate: the answer is never
    over the budget, and gives up at most that much per miner against the optimum."""
    budget, stay_w, miners = case
    powers = allocate(budget, miners, stay_w=stay_w)
    for miner in miners:
        assert _allowed(miner, powers[miner.miner_id]), (miner, powers[miner.miner_id])
    optimum = _reference(budget, miners)
    if optimum == -math.inf:
        return
    assert sum(powers.values()) <= budget + 1e-6, "never over the budget"
    given_up = sum(m.hashrate(stay_w) for m in miners)
    assert kept_hashrate(miners, powers) >= 0.99 * (optimum - given_up) - 1e-9


NANO = MinerOptions(
    miner_id="nano", efficiency_jth=20, ceiling_w=133, can_stop=True, levels_w=(74, 99)
)
GAMMA = MinerOptions(miner_id="gamma", efficiency_jth=15, ceiling_w=15, can_stop=True)


@pytest.mark.parametrize(("stay_w", "expected"), [(0, {"nano": 133, "gamma": 0}), (20, None)])
def test_a_change_must_gain_more_than_the_deadband(
    stay_w: float, expected: dict[str, float] | None
) -> None:
    """A Nano at its middle level and a Bitaxe, 134 W to follow: the Nano at its top level
    alone keeps 0.7 TH/s more (14 W of the Nano's) at the price of two changes. With a 20 W
    deadband both stay as they are; with none, both change."""
    now = [replace(NANO, current_w=99), replace(GAMMA, current_w=15)]
    powers = allocate(134, now, stay_w=stay_w)
    assert powers == (expected or {"nano": 99, "gamma": 15})
