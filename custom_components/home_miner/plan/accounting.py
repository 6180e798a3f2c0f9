"""Energy and cost avoided, booked from what the miners confirm, never from the targets."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..curtailment import Decision, TargetAction
from .actuator import miner_coordinator
from .memory import PlanMemory, finite

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator


def avoided_w(plan: PlanCoordinator, decision: Decision) -> float:
    """Power the plan is seen to avoid: for each miner it curtailed and that confirmed it
    (its command read back), its full power less what it is measured to draw now. A
    miner that ignores commands, is unreachable or not loaded avoids nothing."""
    if plan.config.observe_only:
        return 0.0
    total = 0.0
    for target in decision.targets:
        miner_id = target.miner_id
        actuator = plan.actuators.get(miner_id)
        if (
            not target.curtailed
            or plan.overrides.left_to_user(miner_id)
            or actuator is None
            or actuator.applied is None
            or actuator.applied.action is TargetAction.RUN
        ):
            continue
        coordinator = miner_coordinator(plan.hass, miner_id)
        if coordinator is None or not coordinator.last_update_success:
            continue
        snapshot = coordinator.data
        if snapshot is None or snapshot.power_w is None:
            continue
        full = decision.state.miner(miner_id).full_power_w or 0.0
        total += max(full - snapshot.power_w, 0.0)
    return total


def book(memory: PlanMemory, now: datetime) -> None:
    """Add what was avoided since the last booking, at the power avoided then."""
    if memory.accounted_at is not None and memory.avoided_w > 0 and now > memory.accounted_at:
        kwh = memory.avoided_w * (now - memory.accounted_at).total_seconds() / 3_600_000
        if finite(kwh) is not None:
            memory.energy_kwh += kwh
            if memory.price is not None and finite(kwh * memory.price) is not None:
                memory.cost += kwh * memory.price
    memory.accounted_at = now
