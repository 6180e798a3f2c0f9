"""What a plan tells the bus: a curtailment window starting or ending, a boost starting or
ending (for people's own automations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..curtailment import Decision, Reason
from . import const

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator


def announce(plan: PlanCoordinator, decision: Decision, reason_before: Reason) -> None:
    _windows(plan, decision, reason_before)
    _boost(plan, decision)


def _windows(plan: PlanCoordinator, decision: Decision, reason_before: Reason) -> None:
    curtailed = decision.curtailed
    now_curtailed = [t.miner_id for t in decision.targets if t.curtailed]
    if curtailed == plan.memory.curtailed:
        if curtailed:
            known = plan.memory.curtailed_miners
            known.extend(m for m in now_curtailed if m not in known)
        return
    plan.memory.curtailed = curtailed
    if curtailed:
        event, reason = const.EVENT_CURTAILMENT_STARTED, decision.reason
        miners = plan.memory.curtailed_miners = now_curtailed
    else:
        event, reason = const.EVENT_CURTAILMENT_ENDED, reason_before
        miners = [m for m in plan.memory.curtailed_miners if m in plan.config.miners]
        plan.memory.curtailed_miners = []
    plan.hass.bus.async_fire(
        event,
        {
            "plan": plan.config_entry.title,
            "config_entry_id": plan.config_entry.entry_id,
            "reason": reason.value,
            "miners": [plan.miner_name(miner_id) for miner_id in miners],
            "miner_ids": miners,
            "observe_only": plan.config.observe_only,
        },
    )


def _boost(plan: PlanCoordinator, decision: Decision) -> None:
    """A boost (free power) starting or ending is an event on the bus, like a window."""
    boosting = decision.reason is Reason.BOOST
    if boosting == plan.boosting:
        return
    plan.boosting = boosting
    plan.hass.bus.async_fire(
        const.EVENT_BOOST_STARTED if boosting else const.EVENT_BOOST_ENDED,
        {
            "plan": plan.config_entry.title,
            "config_entry_id": plan.config_entry.entry_id,
            "miners": [plan.miner_name(miner_id) for miner_id in plan.config.miners],
            "miner_ids": list(plan.config.miners),
        },
    )
