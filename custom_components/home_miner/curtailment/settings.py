"""A curtailment plan's settings, as the config flow stores them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from ._convert import require_aware
from .breakeven import break_even_price
from .flex import FlexSettings
from .model import MinerStatus

# After a window was cut at its maximum length the fleet runs at least this long, even with a
# shorter minimum on time: otherwise the next decision would start the same window again.
MIN_REST_AFTER_MAX_LENGTH = timedelta(minutes=15)
_PERCENT = 100.0


class CurtailMode(StrEnum):
    STOP = "stop"
    LIMIT_W = "limit_w"
    LIMIT_PERCENT = "limit_percent"


@dataclass(frozen=True, kw_only=True, slots=True)
class CurtailAction:
    """What curtailing means for a miner: stop, or a power limit in W or % of full power."""

    mode: CurtailMode = CurtailMode.STOP
    value: float | None = None

    def __post_init__(self) -> None:
        if self.mode is CurtailMode.STOP:
            return
        if self.value is None or self.value < 0:
            raise ValueError(f"{self.mode} needs a non-negative value")
        if self.mode is CurtailMode.LIMIT_PERCENT and self.value > _PERCENT:
            raise ValueError("a percentage limit is at most 100")


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerPlan:
    """Per-miner settings. A lower `priority` number is more important: such a miner comes
    back first after a window and is turned down last for a cap among equally efficient ones."""

    action: CurtailAction = field(default_factory=CurtailAction)
    priority: int = 100


class ThresholdMode(StrEnum):
    FIXED = "fixed"
    BREAK_EVEN = "break_even"


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceThreshold:
    """Curtail when the price is above `price`, or above each miner's break-even price for
    `hashprice` (currency per TH/s per day, the electricity price's currency)."""

    mode: ThresholdMode = ThresholdMode.FIXED
    price: float | None = None
    hashprice: float | None = None

    def __post_init__(self) -> None:
        if self.mode is ThresholdMode.FIXED and self.price is None:
            raise ValueError("a fixed threshold needs a price")
        if self.mode is ThresholdMode.BREAK_EVEN and (self.hashprice is None or self.hashprice < 0):
            raise ValueError("a break-even threshold needs a non-negative hashprice")

    def for_miner(self, miner: MinerStatus, fleet_price: float | None) -> float | None:
        if self.mode is ThresholdMode.FIXED:
            return self.price
        if self.hashprice is None:
            return None
        own = break_even_price(hashprice=self.hashprice, efficiency_jth=miner.efficiency)
        return own if own is not None else fleet_price


class MissingPrice(StrEnum):
    """What to do when the price feed has no price for now."""

    RUN = "run"
    CURTAIL = "curtail"
    TARIFF = "tariff"


class OverrideKind(StrEnum):
    CURTAIL = "curtail"
    RESUME = "resume"


@dataclass(frozen=True, kw_only=True, slots=True)
class ManualOverride:
    """`home_miner.curtail` / `home_miner.resume` until `until` (`None`: until cleared).

    Resume ignores every feed, demand response included: the user asked for it.
    """

    kind: OverrideKind
    until: datetime | None = None
    action: CurtailAction | None = None

    def __post_init__(self) -> None:
        if self.until is not None:
            require_aware(self.until, "override end")
            object.__setattr__(self, "until", self.until.astimezone(UTC))

    def active(self, when: datetime) -> bool:
        return self.until is None or when < self.until


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanSettings:
    """Everything about a plan that is not a feed or the clock.

    Times: a miner stays uncurtailed at least `min_on` and curtailed at least `min_off`
    (likewise hashing/stopped); no window lasts longer than `max_curtailment`; miners come back
    one per `restart_stagger`. `hysteresis` (price units) is how far below the threshold the
    price must fall before price curtailment ends.
    """

    threshold: PriceThreshold | None = None
    hysteresis: float = 0.0
    tou_labels: frozenset[str] = frozenset({"peak"})
    miners: Mapping[str, MinerPlan] = field(default_factory=dict)
    default_miner: MinerPlan = field(default_factory=MinerPlan)
    min_on: timedelta = timedelta(0)
    min_off: timedelta = timedelta(0)
    max_curtailment: timedelta | None = None
    restart_stagger: timedelta = timedelta(0)
    override: ManualOverride | None = None
    on_missing_price: MissingPrice = MissingPrice.RUN
    observe_only: bool = False
    # Following the house (surplus, import limit, boost): flex.py.
    flex: FlexSettings | None = None

    def __post_init__(self) -> None:
        for name in ("min_on", "min_off", "restart_stagger"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative")
        if self.hysteresis < 0:
            raise ValueError("hysteresis must not be negative")
        if self.max_curtailment is not None:
            if self.max_curtailment <= timedelta(0):
                raise ValueError("max_curtailment must be positive")
            if self.max_curtailment < self.min_off:
                raise ValueError("max_curtailment must be at least min_off")

    def miner_plan(self, miner_id: str) -> MinerPlan:
        return self.miners.get(miner_id, self.default_miner)

    @property
    def rest_after_max_length(self) -> timedelta:
        return max(self.min_on, MIN_REST_AFTER_MAX_LENGTH)

    def is_tou_peak(self, label: str | None) -> bool:
        if label is None:
            return False
        wanted = label.casefold()
        return any(wanted == candidate.casefold() for candidate in self.tou_labels)
