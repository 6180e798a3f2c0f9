"""Builders shared by the curtailment tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.home_miner.curtailment import MinerStatus

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def miner(
    miner_id: str,
    *,
    power_w: float = 1000.0,
    efficiency_jth: float = 30.0,
    can_stop: bool = True,
    limit_range: tuple[float, float] | None = None,
    rated_power_w: float | None = None,
) -> MinerStatus:
    """A running miner drawing `power_w` at `efficiency_jth`."""
    return MinerStatus(
        miner_id=miner_id,
        power_w=power_w,
        hashrate_ths=power_w / efficiency_jth,
        efficiency_jth=efficiency_jth,
        can_stop=can_stop,
        power_limit_min_w=limit_range[0] if limit_range else None,
        power_limit_max_w=limit_range[1] if limit_range else None,
        rated_power_w=rated_power_w,
    )


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def hours(count: float) -> timedelta:
    return timedelta(hours=count)
