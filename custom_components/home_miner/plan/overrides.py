"""What a person does to a plan's miners, and what the plan sees them do (the closed loop).

A person's change through a miner's entities (any service path) is theirs: a stop stays, window
or not, until they run the miner again; any change during a window lasts until it ends. Each
poll is compared with what the plan told the miner: a miner that rebooted out of its pause is
stopped again; one changed outside Home Assistant without a reboot is left to the person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..curtailment import Decision, TargetAction
from . import const
from .actuator import RUN, miner_coordinator

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator


class MinerOverrides:
    """One plan's overrides and closed loop."""

    def __init__(self, plan: PlanCoordinator) -> None:
        self.plan = plan
        self._uptimes: dict[str, int | None] = {}
        self._resent_at: dict[str, datetime] = {}
        self._drift: dict[str, tuple[int, bool]] = {}

    def expire(self, now: datetime) -> None:
        """Overrides whose time is up end before the decision, which then drives them."""
        memory = self.plan.memory
        for miner_id, until in list(memory.miner_overrides.items()):
            if now >= until:
                self._end(miner_id)

    def _end(self, miner_id: str) -> None:
        memory = self.plan.memory
        del memory.miner_overrides[miner_id]
        memory.surplus_overrides.discard(miner_id)
        limited = memory.import_limited.pop(miner_id, None) is not None
        if (actuator := self.plan.actuators.get(miner_id)) is not None and not limited:
            # As the person left it (the import limit's stop or limit is the plan's to undo).
            actuator.applied = RUN

    def end_overrides(self, now: datetime, decision: Decision) -> None:
        """Overrides last until the window really ends (min-off, stagger and all); then the
        plan drives the miner again, restoring its own limit if the plan had set one."""
        memory = self.plan.memory
        overrides = memory.miner_overrides
        for miner_id, until in list(overrides.items()):
            surplus = miner_id in memory.surplus_overrides
            if now >= until or (decision.state.window_start is None and not surplus):
                self._end(miner_id)

    def left_to_user(self, miner_id: str, *, curtailing: bool = True) -> bool:
        memory = self.plan.memory
        return miner_id in memory.miner_overrides or (
            curtailing and miner_id in memory.user_stopped
        )

    @callback
    def async_user_changed(self, miner_id: str, change: str, mining: bool | None) -> None:
        """A person changed a miner through its entities (never the plan's own commands).
        Stopped by them, it stays stopped, window or not, until they (or the miner itself)
        run it again; any change during a window is theirs until the window ends."""
        if mining is False:
            self.plan.memory.user_stopped.add(miner_id)
            # Whatever the plan had told the miner, its stop is now the person's.
            self.plan.actuators[miner_id].release()
            self.plan.actuators[miner_id].applied = RUN
        elif mining is True:
            self.plan.memory.user_stopped.discard(miner_id)
        LOGGER.info(
            "Plan %s: %s changed by a person (%s)",
            self.plan.config_entry.title,
            self.plan.miner_name(miner_id),
            change,
        )
        state = self.plan.memory.state
        if state.window_start is not None or state.miner(miner_id).surplus_idle:
            self.async_override_miner(miner_id)
        else:
            self.plan.save()

    @callback
    def async_miner_polled(self, miner_id: str) -> None:
        """The closed loop: what a poll shows against what the plan wants of the miner.

        A miner the user stopped that mines again (its own web UI) is the plan's again. A
        miner the plan stopped that mines again after a reboot (ESP-Miner keeps its pause in
        RAM) is stopped again; without a reboot that is a person's doing, and theirs until
        the window ends. Re-sending is bounded to one try per `RESEND_INTERVAL`."""
        coordinator = miner_coordinator(self.plan.hass, miner_id)
        if coordinator is None or not coordinator.last_update_success or coordinator.data is None:
            return
        snapshot = coordinator.data
        rebooted = self._rebooted(miner_id, snapshot.uptime_s)
        if miner_id in self.plan.memory.user_stopped:
            if snapshot.is_mining:
                self.plan.memory.user_stopped.discard(miner_id)
                self.plan.async_decide()
            return
        actuator = self.plan.actuators.get(miner_id)
        if (
            actuator is None
            or actuator.busy
            or self.plan.stopped
            or self.plan.config.observe_only
            or miner_id in self.plan.memory.miner_overrides
            or actuator.applied is None
            or actuator.applied.action is not TargetAction.STOP
            or not coordinator.client.capabilities.can_stop
            or not snapshot.is_mining
        ):
            self._drift.pop(miner_id, None)
            return
        # Seen twice in a row: a poll read before the plan's own stop landed is no drift.
        seen, rebooted_before = self._drift.get(miner_id, (0, False))
        rebooted = rebooted or rebooted_before
        self._drift[miner_id] = (seen + 1, rebooted)
        if seen < 1:
            return
        del self._drift[miner_id]
        if not rebooted:
            LOGGER.info(
                "Plan %s: %s mines again, not by the plan: left to the person",
                self.plan.config_entry.title,
                self.plan.miner_name(miner_id),
            )
            self.async_override_miner(miner_id)
            return
        now = dt_util.utcnow()
        last = self._resent_at.get(miner_id)
        if last is not None and now - last < const.RESEND_INTERVAL:
            return
        self._resent_at[miner_id] = now
        LOGGER.info(
            "Plan %s: %s rebooted and mines again; stopping it again",
            self.plan.config_entry.title,
            self.plan.miner_name(miner_id),
        )
        wanted = actuator.desired or actuator.applied
        actuator.applied = None
        actuator.want(wanted)

    def _rebooted(self, miner_id: str, uptime_s: int | None) -> bool:
        """Whether the miner booted since its last poll (its uptime went back)."""
        before, self._uptimes[miner_id] = self._uptimes.get(miner_id), uptime_s
        return before is not None and uptime_s is not None and uptime_s < before

    @callback
    def async_override_miner(self, miner_id: str) -> None:
        """The user changed a miner during a window: leave it alone until the window ends.
        Changed while it idled for lack of surplus: theirs for the rest of the day."""
        now = self.plan.now()
        memory = self.plan.memory
        idle = memory.state.miner(miner_id).surplus_idle
        if (memory.state.window_start is None and not idle) or miner_id not in self.plan.actuators:
            return
        self.plan.actuators[miner_id].release()
        if memory.state.window_start is None:
            tomorrow = dt_util.as_local(now).date() + timedelta(days=1)
            memory.miner_overrides[miner_id] = dt_util.as_utc(
                datetime.combine(tomorrow, datetime.min.time(), dt_util.get_default_time_zone())
            )
            memory.surplus_overrides.add(miner_id)
        else:
            # Ends with the window; this is only a backstop should the window never end.
            start, max_length = memory.state.window_start, self.plan.config.max_curtailment
            memory.miner_overrides[miner_id] = (
                start + max_length if max_length is not None else now + timedelta(days=1)
            )
        LOGGER.info(
            "Plan %s: %s overridden by the user",
            self.plan.config_entry.title,
            self.plan.miner_name(miner_id),
        )
        self.plan.async_decide(now)
