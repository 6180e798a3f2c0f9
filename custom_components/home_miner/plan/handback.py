"""Handing miners back: the plan stops acting on them and leaves each as it found it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..curtailment import StateFormatError
from . import const
from .actuator import RUN, Command, MinerActuator
from .memory import PlanMemory
from .owed import Owed, owed_hand_backs

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator


def hand_back_pending(plan: PlanCoordinator) -> None:
    """Give back, as soon as they are reachable, miners the plan left curtailed and no
    longer acts on (removed from the plan, or the plan turned observe-only)."""
    for miner_id in list(plan.handing_back):
        actuator = plan.actuators[miner_id]
        if actuator.handed_back:
            plan.handing_back.discard(miner_id)
            if miner_id not in plan.config.miners:
                del plan.actuators[miner_id]
            continue
        actuator.want(RUN)


async def async_hand_back(plan: PlanCoordinator) -> None:
    """The plan stops acting on its miners (disabled, deleted): run every miner it left
    curtailed again, with its own power limit, before it goes. Restarts follow the
    plan's priorities and stagger (spread over `HAND_BACK_SPREAD` at most)."""
    plan.async_stop()
    order = {miner_id: miner.priority for miner_id, miner in plan.config.miners.items()}
    actuators = sorted(
        (a for a in plan.actuators.values() if not a.handed_back),
        key=lambda a: order.get(a.miner_id, 0),
    )
    stagger = plan.config.settings(hashprice=None, override=None).restart_stagger
    if len(actuators) > 1:
        stagger = min(stagger, const.HAND_BACK_SPREAD / (len(actuators) - 1))

    async def _in_turn(index: int, actuator: MinerActuator) -> None:
        await asyncio.sleep(index * stagger.total_seconds())
        await actuator.async_hand_back()

    await asyncio.gather(*(_in_turn(i, actuator) for i, actuator in enumerate(actuators)))
    _owe_what_is_left(plan.hass, plan.config_entry, actuators)
    await plan.async_save_now()


def _owe_what_is_left(
    hass: HomeAssistant, plan_entry: ConfigEntry, actuators: list[MinerActuator]
) -> None:
    """Miners that could not be reached are handed back when they are (plan/owed.py)."""
    if (owed := owed_hand_backs(hass)) is None:
        return
    for actuator in actuators:
        if not actuator.handed_back:
            owed.owe(
                actuator.miner_id,
                Owed(
                    applied=actuator.applied,
                    restore_limit_w=actuator.restore_limit_w,
                    plan=plan_entry.title,
                ),
            )


async def async_hand_back_stored(
    hass: HomeAssistant, plan_entry: ConfigEntry, stored: dict[str, Any] | None
) -> None:
    """Hand back what a plan that is not loaded left curtailed, from its stored memory; if
    that cannot be read, every miner of the plan is told to run."""
    try:
        memory = PlanMemory.from_dict(stored)
        unknown: Command | None = RUN
    except StateFormatError:
        memory, unknown = PlanMemory(), None
    miners = {m["miner"] for m in plan_entry.options.get(const.CONF_MINERS, [])}
    actuators = [
        MinerActuator(
            hass,
            plan_entry,
            miner_id,
            applied=memory.applied.get(miner_id, unknown),
            restore_limit_w=memory.restore_limits.get(miner_id),
            on_change=lambda: None,
        )
        for miner_id in {*memory.applied, *memory.restore_limits, *miners}
    ]
    await asyncio.gather(*(actuator.async_hand_back() for actuator in actuators))
    _owe_what_is_left(hass, plan_entry, actuators)
