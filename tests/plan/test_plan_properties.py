"""Random runs of a whole plan in Home Assistant against simulated miners.

Each seed drives one plan through a random sequence of feed values (numbers, `nan`, `inf`,
`unknown`, `unavailable`), options changes mid-window, restarts (the state saved and read back
at that point), miner reboots, refusals and a person switching miners. Whatever happens:

- no decision keeps a miner curtailed at or past `window start + maximum`, and the miners
  then really run (unless a person stopped them, or they refuse every command);
- once the feeds have asked for no curtailment for longer than min-off plus the stagger of
  the whole fleet, every miner the person did not switch off is mining.

Seeds instead of hypothesis: each step is real I/O with the simulators, in Home Assistant's
event loop. A failing seed reproduces exactly.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import random

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.home_miner.plan import PlanCoordinator, const as plan_const
from tests.simulator.esp_miner import BitaxeMiner

from .conftest import AddPlan, Fleet, miner_id, plan_of

PRICE = "sensor.price"
ALERT = "input_boolean.grid_alert"
UNIT = {"unit_of_measurement": "EUR/kWh"}
MAX = timedelta(minutes=30)
STAGGER = timedelta(seconds=60)
PRICES = ["0.10", "0.50", "nan", "inf", "-inf", "unknown", "unavailable", "cheap"]
STEPS = 14


async def _settle(hass: HomeAssistant, plan: PlanCoordinator) -> None:
    """Let commands run (a refusing miner's go on being retried: bounded wait)."""
    for _ in range(60):
        await hass.async_block_till_done()
        if not any(actuator.busy for actuator in plan.actuators.values()):
            return
        await asyncio.sleep(0.02)


def _running(miner: BitaxeMiner) -> bool:
    return not miner.paused


@pytest.mark.parametrize("seed", range(6))
async def test_random_runs_never_strand_a_miner(
    hass: HomeAssistant, fleet: Fleet, add_plan: AddPlan, tomorrow, seed: int
) -> None:
    rng = random.Random(seed)
    miners = await fleet("Gamma 601", "Gamma 601")
    for miner in miners:
        miner.reboot_seconds = 0.1
    hass.states.async_set(PRICE, "0.10", UNIT)
    hass.states.async_set(ALERT, "off")
    entry = await add_plan(
        [{"miner": miner_id(m), "action": "stop", "priority": i} for i, m in enumerate(miners)],
        price={
            "price_entity": PRICE,
            "price_preset": "none",
            "threshold_mode": "fixed",
            "threshold": 0.30,
            "hysteresis": 0,
            "on_missing_price": "curtail",
        },
        dr={"dr_entities": [ALERT]},
        safety={
            "max_length_minutes": MAX.total_seconds() / 60,
            "min_off_minutes": 5,
            "restart_stagger_seconds": STAGGER.total_seconds(),
        },
    )
    now = tomorrow(12)
    user_stopped: set[str] = set()
    log: list[str] = []

    for _ in range(STEPS):
        now += timedelta(minutes=rng.choice([0, 1, 3, 7, 12]))
        action = rng.choice(
            ["price", "price", "alert", "options", "restart", "reboot", "refuse", "person"]
        )
        miner = rng.choice(miners)
        if action == "price":
            hass.states.async_set(PRICE, rng.choice(PRICES), UNIT)
        elif action == "alert":
            hass.states.async_set(ALERT, rng.choice(["on", "off", "unavailable"]))
        elif action == "options":
            minutes = rng.choice([0, 5, 20, 45])
            hass.config_entries.async_update_entry(
                entry, options={**entry.options, plan_const.CONF_MIN_OFF: minutes}
            )
            assert await hass.config_entries.async_reload(entry.entry_id)
        elif action == "restart":
            assert await hass.config_entries.async_reload(entry.entry_id)
        elif action == "reboot":
            miner.reboot()
            await asyncio.sleep(0.3)
        elif action == "refuse":
            miner.faults.ignore_commands = not miner.faults.ignore_commands
        else:
            on = miner_id(miner) in user_stopped
            try:
                await hass.services.async_call(
                    "switch",
                    "turn_on" if on else "turn_off",
                    {"entity_id": f"switch.{miner.hostname}_mining"},
                    blocking=True,
                )
            except HomeAssistantError:
                pass  # a refusing miner: the person sees the error, nothing changed
            else:
                (user_stopped.discard if on else user_stopped.add)(miner_id(miner))
        await hass.async_block_till_done()
        plan = plan_of(entry)
        start = plan.memory.state.window_start
        plan.async_decide(now)
        await _settle(hass, plan)
        decision = plan.data.decision
        log.append(
            f"{now:%H:%M} {action} {miner.hostname}: curtailed={decision.curtailed} "
            f"since={start} paused={[m.paused for m in miners]} "
            f"refusing={[m.faults.ignore_commands for m in miners]} "
            f"user={sorted(user_stopped)}"
        )
        if start is not None and now >= start + MAX:
            assert not decision.curtailed, "\n".join(log)
            for m in miners:
                if miner_id(m) not in user_stopped and not m.faults.ignore_commands:
                    assert _running(m), "\n".join(log)

    # Calm: every feed asks for nothing, nothing refuses, and long enough passes.
    for m in miners:
        m.faults.ignore_commands = False
    hass.states.async_set(PRICE, "0.10", UNIT)
    hass.states.async_set(ALERT, "off")
    await hass.async_block_till_done()
    plan = plan_of(entry)
    min_off = plan.config.settings(hashprice=None).min_off
    calm = min_off + STAGGER * len(miners) + timedelta(minutes=1)
    for step in range(4):
        plan.async_decide(now + calm * (step + 1) / 4)
        await _settle(hass, plan)
    for m in miners:
        if miner_id(m) not in user_stopped:
            assert _running(m), "\n".join(log)
