"""The fleet during one decision: what each miner draws, what curtailing means for it,
meeting a power budget and spacing restarts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
import math

from .allocator import MinerOptions, allocate
from .model import Hold, MinerStatus, Reason, dominant_reason
from .safety import Gate, is_restart
from .settings import CurtailAction, CurtailMode, MinerPlan, PlanSettings
from .state import MAX_CHANGES_KEPT, MinerMode, MinerState, PlanState

_WATT_TOLERANCE = 1e-6
# A miner reading no hashrate idles only if it draws less than this share of its full power:
# one just started reads its full draw a poll or two before its first hashrate.
_IDLE_SHARE = 0.6


def idling(miner: MinerWork) -> bool:
    """The miner draws its idle power (stopped, plugged in), not its hashing power: it reads
    no hashrate and, where its full power is known, well under it."""
    status, before = miner.status, miner.before
    if status.hashrate_ths > 0 or status.power_w <= 0:
        return False
    full = status.rated_power_w or before.full_power_w or status.power_limit_max_w
    return full is None or status.power_w < _IDLE_SHARE * full


@dataclass(frozen=True, kw_only=True, slots=True)
class Following:
    """How a budget that follows the house (surplus) may change the miners: a change must
    gain more than `stay_w` watts' worth of hashrate, and a miner changes at most
    `max_changes_per_hour` times in any hour (a change up only while one is left for the
    way back down)."""

    stay_w: float
    max_changes_per_hour: int


@dataclass(slots=True)
class MinerWork:
    """One miner while a decision is being made: its wish, then what the rules allow."""

    status: MinerStatus
    plan: MinerPlan
    before: MinerState
    full_w: float
    latched: bool
    reason: Reason
    mode: MinerMode
    limit_w: float | None
    hold: Hold | None = None

    @property
    def power_w(self) -> float:
        return self._draw(self.mode, self.limit_w)

    @property
    def setting_w(self) -> float:
        """What it was set to draw before this decision."""
        before = self.before
        limit = before.limit_w
        if before.mode is MinerMode.LIMITED and limit is None:
            limit = self.status.clamp_limit(0.0)
        return self._draw(before.mode, limit)

    def _draw(self, mode: MinerMode, limit_w: float | None) -> float:
        if mode is MinerMode.ON:
            return self.full_w
        if mode is MinerMode.STOPPED:
            return 0.0
        return min(limit_w or 0.0, self.full_w)

    def keep(self, hold: Hold) -> None:
        self.mode = self.before.mode
        self.limit_w = self.before.limit_w
        if self.mode is MinerMode.LIMITED and self.limit_w is None:
            self.limit_w = self.status.clamp_limit(0.0)
        self.hold = hold


def as_held(miner: MinerWork) -> MinerWork:
    """A miner a person holds, for the import limit to turn down: running as they left it
    (what it drew then, or draws now), or stopped if they stopped it."""
    status = miner.status
    drawn = status.held_power_w if status.held_power_w is not None else status.power_w
    running = status.held_power_w is not None or (drawn > 0 and not idling(miner))
    return MinerWork(
        status=status,
        plan=miner.plan,
        before=miner.before,
        full_w=drawn if running else miner.full_w,
        latched=miner.latched,
        reason=Reason.NONE,
        mode=MinerMode.ON if running else MinerMode.STOPPED,
        limit_w=None,
    )


def full_power(status: MinerStatus, before: MinerState) -> float:
    """What a miner draws uncurtailed: rated, else measured while on, else remembered."""
    if status.rated_power_w is not None:
        return status.rated_power_w
    if before.mode is MinerMode.ON and status.power_w > 0 and status.hashrate_ths > 0:
        # Measured while hashing: a miner just told to run still reads as paused until its
        # next poll, and its idle draw is not what it draws running.
        return status.power_w
    if before.full_power_w is not None:
        return before.full_power_w
    if status.power_limit_max_w is not None:
        return status.power_limit_max_w
    return max(status.power_w, 0.0)


def fleet_efficiency(miners: Iterable[tuple[float, float]]) -> float:
    """J/TH of a fleet of `(full power W, J/TH)`: total power over total hashrate."""
    power = hashrate = 0.0
    for watts, efficiency in miners:
        if watts > 0 and math.isfinite(efficiency):
            power += watts
            hashrate += watts / efficiency
    return power / hashrate if hashrate > 0 else math.inf


def curtailed_mode(
    status: MinerStatus, action: CurtailAction, full_w: float
) -> tuple[MinerMode, float | None]:
    """What `action` means for this miner's capabilities (a stop falls back to the lowest
    limit, a limit to a stop; a miner that can do neither keeps running)."""
    if action.mode is CurtailMode.STOP:
        if status.can_stop:
            return MinerMode.STOPPED, None
        if status.can_limit:
            return MinerMode.LIMITED, status.clamp_limit(0.0)
        return MinerMode.ON, None
    value = action.value or 0.0
    watts = value if action.mode is CurtailMode.LIMIT_W else full_w * value / 100
    if status.can_limit:
        return MinerMode.LIMITED, status.clamp_limit(watts)
    if status.can_stop:
        return MinerMode.STOPPED, None
    return MinerMode.ON, None


def meet_budget(
    miners: Sequence[MinerWork],
    budget: float,
    reason: Reason,
    gate: Gate,
    *,
    min_times: bool = True,
    following: Following | None = None,
) -> None:
    """Turn the fleet down to at most `budget` W keeping the most hashrate (allocator.py):
    each miner to a limit, one of its levels, a stop, or left as it is, chosen together.
    A miner is never turned up, and the gate's rules decide what each may change to (but
    for the minimum times, without `min_times`: a house's import limit outranks them).
    A budget that follows the house changes settings only as `following` allows."""
    # A miner that does not hash still draws a little (its controller, fans), and will while
    # it stays stopped: that is budget too, and running it adds only what it draws above.
    idles = [_idle_w(miner) for miner in miners]
    options = [
        _above(_options(miner, gate if min_times else None, following), idle, miner.full_w)
        for miner, idle in zip(miners, idles, strict=True)
    ]
    powers = allocate(budget - sum(idles), options, stay_w=following.stay_w if following else 0.0)
    for miner, idle in zip(miners, idles, strict=True):
        watts = powers[miner.status.miner_id]
        current, watts = miner.power_w, watts + idle if watts > _WATT_TOLERANCE else 0.0
        if abs(current - watts) <= _WATT_TOLERANCE:
            continue
        if watts <= _WATT_TOLERANCE:
            miner.mode, miner.limit_w = MinerMode.STOPPED, None
        else:
            miner.mode, miner.limit_w = MinerMode.LIMITED, watts
        miner.hold = None
        miner.reason = dominant_reason((miner.reason, reason))


def _idle_w(miner: MinerWork) -> float:
    """What the miner draws, or will, while it does not hash: now, or as last seen."""
    status = miner.status
    if idling(miner):
        return status.power_w
    idle = miner.before.idle_power_w
    return idle if idle is not None and 0 < idle < miner.full_w else 0.0


def _above(options: MinerOptions, idle_w: float, full_w: float) -> MinerOptions:
    """The options of a miner drawing `idle_w` without hashing, as what each adds to it (its
    hashrate comes from that part: J/TH of the draw above idle)."""
    if idle_w <= 0 or full_w <= idle_w:
        return options

    def above(watts: float) -> float:
        return max(watts - idle_w, 0.0)

    range_w = options.range_w
    return replace(
        options,
        efficiency_jth=options.efficiency_jth * (full_w - idle_w) / full_w,
        ceiling_w=above(options.ceiling_w),
        levels_w=tuple(above(w) for w in options.levels_w if w > idle_w),
        range_w=None
        if range_w is None or range_w[1] <= idle_w
        else (above(range_w[0]), above(range_w[1])),
        current_w=None if options.current_w is None else above(options.current_w),
    )


def _options(miner: MinerWork, gate: Gate | None, following: Following | None) -> MinerOptions:
    """What the budget may set this miner to: down from what it draws now, as its
    capabilities, the safety rules and the rate of following allow."""
    status = miner.status
    current = miner.power_w
    setting = miner.setting_w
    if following is not None and gate is not None:
        left = following.max_changes_per_hour - len(miner.before.changes_in_hour(gate.now))
        if left <= 0:
            # No change left this hour: as it was set (lower, if the wish is).
            return MinerOptions(
                miner_id=status.miner_id,
                efficiency_jth=status.efficiency,
                ceiling_w=min(current, setting),
                current_w=setting,
            )
        if left == 1:
            current = min(current, setting)
    can_stop = status.can_stop and (
        gate is None or gate.check(miner.before, MinerMode.STOPPED) is None
    )
    can_limit = status.can_limit and (
        gate is None or gate.check(miner.before, MinerMode.LIMITED) is None
    )
    low = status.clamp_limit(0.0)
    levels: tuple[float, ...] = ()
    limit_range: tuple[float, float] | None = None
    if can_limit and status.power_levels_w:
        levels = tuple(w for w in status.power_levels_w if low <= w < current)
    elif can_limit and low < current:
        limit_range = (low, status.clamp_limit(current))
    return MinerOptions(
        miner_id=status.miner_id,
        efficiency_jth=status.efficiency,
        ceiling_w=current,
        can_stop=can_stop,
        levels_w=levels,
        range_w=limit_range,
        importance=-miner.plan.priority,
        current_w=setting,
    )


def stagger_restarts(
    miners: Sequence[MinerWork], now: datetime, state: PlanState, settings: PlanSettings, hard: bool
) -> datetime | None:
    """Let one restart through per stagger slot, most important first; hold the others.
    At a window's hard deadline (`hard`) every restart goes. Returns the last restart time."""
    restarting = sorted(
        (m for m in miners if is_restart(m.before.mode, m.mode)),
        key=lambda m: (m.plan.priority, m.status.miner_id),
    )
    if not restarting:
        return state.last_restart_at
    stagger = settings.restart_stagger
    if not stagger or hard:
        return now
    last = state.last_restart_at
    slot_open = last is None or now >= last + stagger
    for position, miner in enumerate(restarting):
        if position > 0 or not slot_open:
            miner.keep(Hold.RESTART_STAGGER)
    return now if slot_open else last


def next_state(miner: MinerWork, now: datetime) -> MinerState:
    """The miner's state to remember; the same object when nothing changed."""
    before, mode = miner.before, miner.mode
    measured = miner.status.power_w
    limit_w = miner.limit_w if mode is MinerMode.LIMITED else None
    hashing = miner.status.hashrate_ths > 0
    seen_running = before.mode is MinerMode.ON and measured > 0 and hashing
    full_w = measured if seen_running else before.full_power_w
    idle_w = measured if idling(miner) else before.idle_power_w
    idle = mode.curtailed and miner.reason is Reason.SURPLUS
    changed = (mode, limit_w) != (before.mode, before.limit_w)
    if not changed and (miner.latched, full_w, idle_w, idle) == (
        before.price_latched,
        before.full_power_w,
        before.idle_power_w,
        before.surplus_idle,
    ):
        return before
    changed_at = before.changed_at
    if changed:
        changed_at = before.changes_in_hour(now)[-MAX_CHANGES_KEPT + 1 :]
        changed_at = (*changed_at, now)
    return MinerState(
        mode=mode,
        limit_w=limit_w,
        curtail_changed_at=now
        if before.mode.curtailed != mode.curtailed
        else before.curtail_changed_at,
        power_changed_at=now if before.mode.hashing != mode.hashing else before.power_changed_at,
        price_latched=miner.latched,
        full_power_w=full_w,
        idle_power_w=idle_w,
        surplus_idle=idle,
        changed_at=changed_at,
    )
