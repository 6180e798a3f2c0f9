"""The fleet as the home's flexible load: surplus following, the import limit, boost."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from custom_components.home_miner.curtailment import (
    MinerStatus,
    PlanSettings,
    PlanState,
    Reason,
    TargetAction,
    decide,
)
from custom_components.home_miner.curtailment.flex import FlexSettings, HouseReading
from custom_components.home_miner.curtailment.policy import Decision
from custom_components.home_miner.curtailment.state import MinerMode, MinerState

from .factories import T0, miner, minutes

SURPLUS = FlexSettings(surplus_only=True, deadband_w=30, settle=timedelta(seconds=30))
# Three miners that can follow a target: 1000 W limitable from 300 W, 500 W stop-only,
# 15 W stop-only (a Bitaxe).
FLEET = (
    miner("big", power_w=1000, efficiency_jth=20, limit_range=(300, 1000)),
    miner("mid", power_w=500, efficiency_jth=30),
    miner("axe", power_w=15, efficiency_jth=15),
)


def _decide(
    fleet: tuple[MinerStatus, ...],
    house: HouseReading,
    *,
    flex: FlexSettings = SURPLUS,
    state: PlanState | None = None,
    now=T0,
    **settings: object,
) -> Decision:
    return decide(
        now=now,
        settings=PlanSettings(flex=flex, **settings),  # type: ignore[arg-type]
        fleet=fleet,
        state=state or PlanState(),
        house=house,
    )


def _powers(decision: Decision) -> dict[str, float]:
    return {t.miner_id: t.expected_power_w for t in decision.targets}


def test_the_fleet_takes_what_the_house_exports_and_no_more() -> None:
    """The meter includes the miners: 1515 W drawn and 300 W still exported is 1815 W of
    surplus; with a 500 W reserve the fleet may draw 1315 W: the most hashrate in it is the
    big miner limited to 800 W beside the other two, not the big one flat out alone."""
    decision = _decide(FLEET, HouseReading(grid_w=-300), flex=replace(SURPLUS, reserve_w=500))
    assert decision.fleet_target_w == 1315
    assert _powers(decision) == {"big": 800, "mid": 500, "axe": 15}
    assert decision.target("big").action is TargetAction.LIMIT
    assert decision.reason is Reason.SURPLUS
    assert not decision.curtailed


def test_idle_for_lack_of_surplus_is_no_curtailment_window() -> None:
    """At night: importing 1515 W, all of it the miners'. They idle with reason `surplus`,
    which is their intended state: no curtailment window, no maximum length counting."""
    decision = _decide(FLEET, HouseReading(grid_w=1515), max_curtailment=minutes(30))
    assert decision.fleet_target_w == 0
    assert {t.action for t in decision.targets} == {TargetAction.STOP}
    assert decision.reason is Reason.SURPLUS
    assert not decision.curtailed
    assert decision.state.window_start is None
    # Hours later, still no surplus: still idle, nothing forced on by a maximum.
    idle = [replace(m, power_w=0.0, hashrate_ths=0.0) for m in FLEET]
    later = _decide(
        tuple(idle),
        HouseReading(grid_w=0),
        state=decision.state,
        now=T0 + timedelta(hours=5),
        max_curtailment=minutes(30),
    )
    assert {t.action for t in later.targets} == {TargetAction.STOP}
    assert later.state.window_start is None


def test_the_target_follows_the_meter_but_not_while_settling() -> None:
    first = _decide(FLEET, HouseReading(grid_w=-300))
    assert first.fleet_target_w == 1815
    # 20 W more export a minute later: the target follows (the deadband is the miners').
    more = _decide(FLEET, HouseReading(grid_w=-320), state=first.state, now=T0 + minutes(1))
    assert more.fleet_target_w == 1835
    # 500 W less, 10 s after a move: still settling (the meter and the polls lag).
    settling = _decide(
        FLEET,
        HouseReading(grid_w=200),
        state=more.state,
        now=T0 + minutes(1) + timedelta(seconds=10),
    )
    assert settling.fleet_target_w == 1835
    assert settling.next_check == T0 + minutes(1) + timedelta(seconds=30)


# A Nano (levels 74, 99, 133 W) at its middle level beside a Bitaxe, following the surplus.
NANO = replace(
    miner("nano", power_w=99, efficiency_jth=20, limit_range=(74, 133)),
    power_levels_w=(74, 99, 133),
    rated_power_w=133,
)
AXE = miner("axe", power_w=15, efficiency_jth=15)
AT_99 = MinerState(mode=MinerMode.LIMITED, limit_w=99, full_power_w=133)


def _changed(count: int, *, before: MinerState = AT_99) -> PlanState:
    """The Nano after `count` setting changes in the last hour."""
    return PlanState(
        miners={
            "nano": replace(before, changed_at=tuple(T0 - minutes(50 - i) for i in range(count)))
        }
    )


@pytest.mark.parametrize(
    ("changes", "grid_w", "nano_w"),
    [
        # Surplus for the top level: up, while a change is left for the way back down.
        (4, -40, 133),
        (5, -40, 99),
        # Less surplus: down while any change is left, then as it is (the house imports).
        (5, 30, 74),
        (6, 30, 99),
    ],
)
def test_a_miner_changes_at_most_six_times_an_hour_following_the_surplus(
    changes: int, grid_w: float, nano_w: float
) -> None:
    decision = _decide((NANO, AXE), HouseReading(grid_w=grid_w), state=_changed(changes))
    assert decision.target("nano").expected_power_w == nano_w
    after = decision.state.miner("nano").changed_at
    assert len(after) == changes + (nano_w != 99)


def test_the_import_limit_changes_a_miner_out_of_changes_all_the_same() -> None:
    """The household's limit outranks the rate of following: the Nano goes down though it
    changed six times this hour."""
    flex = replace(SURPLUS, surplus_only=False, import_limit_w=1000)
    decision = _decide((NANO, AXE), HouseReading(grid_w=1030), flex=flex, state=_changed(6))
    assert decision.target("nano").expected_power_w == 74
    assert decision.reason is Reason.IMPORT_LIMIT


def test_a_miner_out_of_changes_is_looked_at_again_when_its_oldest_is_an_hour_old() -> None:
    first = _decide((NANO, AXE), HouseReading(grid_w=30), state=_changed(6))
    held = _decide(
        (NANO, AXE), HouseReading(grid_w=30), state=first.state, now=T0 + timedelta(seconds=30)
    )
    assert held.target("nano").expected_power_w == 99
    assert held.next_check == T0 + minutes(10), "its change of 50 minutes ago expires"


def test_changes_older_than_an_hour_are_forgotten() -> None:
    """Six changes from 50 to 45 minutes ago: 12 minutes on, three are over an hour old and
    the Nano may follow the surplus down again; it keeps the last hour's three and this one."""
    now = T0 + minutes(12)
    later = _decide((NANO, AXE), HouseReading(grid_w=30), state=_changed(6), now=now)
    assert later.target("nano").expected_power_w == 74
    kept = later.state.miner("nano").changed_at
    assert kept == (T0 - minutes(47), T0 - minutes(46), T0 - minutes(45), now)


def test_below_the_battery_floor_the_miners_do_not_drain_it() -> None:
    flex = replace(SURPLUS, battery_floor_pct=40)
    low = _decide(FLEET, HouseReading(grid_w=-300, battery_pct=35), flex=flex)
    assert low.fleet_target_w == 0
    high = _decide(FLEET, HouseReading(grid_w=-300, battery_pct=45), flex=flex)
    assert high.fleet_target_w == 1815


def test_the_import_limit_is_met_at_once_even_inside_the_minimum_on_time() -> None:
    """House load 9 kW (grid 10.515 kW with the miners' 1515 W), a 10 kW main fuse: the
    miners may draw 1 kW, now, whatever their minimum on time."""
    flex = FlexSettings(import_limit_w=10_000)
    state = _decide(FLEET, HouseReading(grid_w=5000), flex=flex).state
    decision = _decide(
        FLEET,
        HouseReading(grid_w=10_515),
        flex=flex,
        state=state,
        now=T0 + timedelta(seconds=5),
        min_on=minutes(10),
    )
    assert decision.fleet_target_w == 1000
    assert sum(_powers(decision).values()) <= 1000
    assert decision.reason is Reason.IMPORT_LIMIT
    assert decision.curtailed


def test_a_boost_mines_flat_out_without_surplus() -> None:
    by_price = decide(
        now=T0,
        settings=PlanSettings(flex=replace(SURPLUS, boost_price=0.0)),
        fleet=FLEET,
        state=PlanState(),
        house=HouseReading(grid_w=1515),
        prices=None,
    )
    assert by_price.fleet_target_w == 0, "no price known: no boost"
    boost = _decide(FLEET, HouseReading(grid_w=1515, boost=True))
    assert {t.action for t in boost.targets} == {TargetAction.RUN}
    assert boost.reason is Reason.BOOST
    assert boost.fleet_target_w is None
