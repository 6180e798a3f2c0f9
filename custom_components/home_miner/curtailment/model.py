"""The fleet going into a decision and the targets coming out of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math


class Reason(StrEnum):
    """Why miners are curtailed; also the options of the plan's *reason* sensor."""

    MANUAL = "manual"
    DR_EVENT = "dr_event"
    CAPACITY_LIMIT = "capacity_limit"
    TOU_PEAK = "tou_peak"
    PRICE_ABOVE_THRESHOLD = "price_above_threshold"
    PRICE_UNAVAILABLE = "price_unavailable"
    IMPORT_LIMIT = "import_limit"
    # Not curtailments: mining on surplus only, a miner idle for lack of it; every miner
    # mining flat out in a boost (free power).
    SURPLUS = "surplus"
    BOOST = "boost"
    NONE = "none"


# When several reasons hold at once, the first of these is the one reported.
REASON_PRECEDENCE: tuple[Reason, ...] = (
    Reason.MANUAL,
    Reason.DR_EVENT,
    Reason.CAPACITY_LIMIT,
    Reason.IMPORT_LIMIT,
    Reason.TOU_PEAK,
    Reason.PRICE_ABOVE_THRESHOLD,
    Reason.PRICE_UNAVAILABLE,
    Reason.SURPLUS,
)


def dominant_reason(reasons: Iterable[Reason]) -> Reason:
    present = set(reasons)
    return next((reason for reason in REASON_PRECEDENCE if reason in present), Reason.NONE)


class TargetAction(StrEnum):
    RUN = "run"
    LIMIT = "limit"
    STOP = "stop"


class Hold(StrEnum):
    """Why a miner's target is not what the feeds ask for."""

    MIN_ON_TIME = "min_on_time"
    MIN_OFF_TIME = "min_off_time"
    RESTART_STAGGER = "restart_stagger"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerStatus:
    """One miner as the glue sees it now.

    `efficiency_jth` may come from the model's datasheet when the miner is stopped (its
    hashrate is then 0); `rated_power_w` is what it draws running flat out, if known.
    """

    miner_id: str
    power_w: float = 0.0
    hashrate_ths: float = 0.0
    efficiency_jth: float | None = None
    can_stop: bool = True
    power_limit_min_w: float | None = None
    power_limit_max_w: float | None = None
    rated_power_w: float | None = None
    # Discrete settings of its power limit (levels, work modes), if it takes no other value.
    power_levels_w: tuple[float, ...] = ()
    # A person holds the miner (switched it by hand during a window): the plan does not drive
    # it, and a power budget counts it at the power it draws. Only the household's import
    # limit turns it down (never on, never up); `held_power_w` is then what it drew as the
    # person left it, before the limit turned it down (None: as it draws now).
    held_by_person: bool = False
    held_power_w: float | None = None

    @property
    def can_limit(self) -> bool:
        return self.power_limit_min_w is not None and self.power_limit_max_w is not None

    @property
    def efficiency(self) -> float:
        """J/TH, measured if not given; unknown counts as the worst (`inf`)."""
        if self.efficiency_jth is not None and self.efficiency_jth > 0:
            return self.efficiency_jth
        if self.hashrate_ths > 0 and self.power_w > 0:
            return self.power_w / self.hashrate_ths
        return math.inf

    def clamp_limit(self, watts: float) -> float:
        low = self.power_limit_min_w if self.power_limit_min_w is not None else 0.0
        high = self.power_limit_max_w if self.power_limit_max_w is not None else watts
        return min(max(watts, low), high)


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerTarget:
    """What one miner should do now.

    `reason` is why the feeds want it curtailed (`NONE` if they do not), even when `hold`
    keeps it running for now; `expected_power_w` is the engine's estimate of its draw.
    """

    miner_id: str
    action: TargetAction
    power_limit_w: float | None = None
    reason: Reason = Reason.NONE
    hold: Hold | None = None
    expected_power_w: float = 0.0

    @property
    def curtailed(self) -> bool:
        """Turned down for a reason other than mining on surplus only (idle for lack of
        surplus is that miner's intended state, not a curtailment)."""
        return self.action is not TargetAction.RUN and self.reason is not Reason.SURPLUS


@dataclass(frozen=True, kw_only=True, slots=True)
class CurtailmentWindow:
    """A predicted stretch of curtailment, for the plan's calendar."""

    start: datetime
    end: datetime
    reason: Reason
    reasons: frozenset[Reason]
