"""What a plan keeps across Home Assistant restarts, as JSON in its `Store`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

from homeassistant.util import dt as dt_util

from ..curtailment import (
    CurtailAction,
    CurtailMode,
    ManualOverride,
    OverrideKind,
    PlanState,
    StateFormatError,
)
from .actuator import Command


def finite(value: object) -> float | None:
    """A number that is one: `nan`, `inf`, text and `None` are no number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _stamp(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _when(value: object) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


def _override_to_dict(override: ManualOverride | None) -> dict[str, Any] | None:
    if override is None:
        return None
    action = override.action
    return {
        "kind": override.kind.value,
        "until": _stamp(override.until),
        "action": None if action is None else {"mode": action.mode.value, "value": action.value},
    }


def _override_from_dict(data: object) -> ManualOverride | None:
    if not isinstance(data, dict):
        return None
    action = data.get("action")
    return ManualOverride(
        kind=OverrideKind(data["kind"]),
        until=_when(data.get("until")),
        action=CurtailAction(mode=CurtailMode(action["mode"]), value=action.get("value"))
        if isinstance(action, dict)
        else None,
    )


MAX_LEVELS = 64


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerCaps:
    """What a miner could do when the plan last saw it loaded (kept for when it is not)."""

    can_stop: bool
    limit_min_w: int | None = None
    limit_max_w: int | None = None
    levels_w: tuple[int, ...] = ()
    """The limits it really takes, where it takes only a few (client.power_levels)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "can_stop": self.can_stop,
            "min": self.limit_min_w,
            "max": self.limit_max_w,
            "levels": list(self.levels_w),
        }

    @classmethod
    def from_dict(cls, data: object) -> MinerCaps | None:
        if not isinstance(data, dict):
            return None
        low, high = finite(data.get("min")), finite(data.get("max"))
        levels = data.get("levels")
        found = (finite(w) for w in levels[:MAX_LEVELS]) if isinstance(levels, list) else ()
        return cls(
            can_stop=bool(data.get("can_stop", False)),
            limit_min_w=None if low is None else int(low),
            limit_max_w=None if high is None else int(high),
            levels_w=tuple(sorted({int(w) for w in found if w is not None and w > 0})),
        )


@dataclass(kw_only=True)
class PlanMemory:
    """The engine's state plus the glue's own: switch, overrides, what each miner was told,
    and the energy and cost avoided so far."""

    state: PlanState = field(default_factory=PlanState)
    enabled: bool = True
    override: ManualOverride | None = None
    miner_overrides: dict[str, datetime] = field(default_factory=dict)
    user_stopped: set[str] = field(default_factory=set)
    # Overrides of miners a person changed while they idled for lack of surplus: theirs until
    # the time in `miner_overrides` (the next midnight), window or not.
    surplus_overrides: set[str] = field(default_factory=set)
    # Miners a person holds that the import limit turned down, and what each drew as they
    # left it: given back when the house has room again.
    import_limited: dict[str, float] = field(default_factory=dict)
    applied: dict[str, Command] = field(default_factory=dict)
    sending: dict[str, Command] = field(default_factory=dict)
    restore_limits: dict[str, int] = field(default_factory=dict)
    efficiency: dict[str, float] = field(default_factory=dict)
    capabilities: dict[str, MinerCaps] = field(default_factory=dict)
    budget_w: float | None = None
    budget_until: datetime | None = None
    curtailed_miners: list[str] = field(default_factory=list)
    curtailed: bool = False
    energy_kwh: float = 0.0
    cost: float = 0.0
    avoided_w: float = 0.0
    price: float | None = None
    accounted_at: datetime | None = None
    # The last reported state of each price and DR entity: (state, last changed).
    feeds_seen: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.to_dict(),
            "enabled": self.enabled,
            "override": _override_to_dict(self.override),
            "miner_overrides": {k: v.isoformat() for k, v in self.miner_overrides.items()},
            "user_stopped": sorted(self.user_stopped),
            "surplus_overrides": sorted(self.surplus_overrides),
            "import_limited": {
                k: v for k, v in self.import_limited.items() if finite(v) is not None
            },
            "applied": {k: v.to_dict() for k, v in self.applied.items()},
            "sending": {k: v.to_dict() for k, v in self.sending.items()},
            "restore_limits": self.restore_limits,
            "efficiency": {k: v for k, v in self.efficiency.items() if finite(v) is not None},
            "capabilities": {k: v.to_dict() for k, v in self.capabilities.items()},
            "budget_w": finite(self.budget_w),
            "budget_until": _stamp(self.budget_until),
            "curtailed_miners": self.curtailed_miners,
            "curtailed": self.curtailed,
            "energy_kwh": finite(self.energy_kwh) or 0.0,
            "cost": finite(self.cost) or 0.0,
            "avoided_w": finite(self.avoided_w) or 0.0,
            "price": finite(self.price),
            "accounted_at": _stamp(self.accounted_at),
            "feeds_seen": {k: [v, when.isoformat()] for k, (v, when) in self.feeds_seen.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PlanMemory:
        """The stored memory; `StateFormatError` for anything that cannot be read whole
        (the caller then starts from the safe state rather than guess)."""
        if not data:
            return cls()
        try:
            return cls._from_dict(data)
        except StateFormatError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as err:
            raise StateFormatError(f"unreadable plan memory ({type(err).__name__}: {err})") from err

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> PlanMemory:
        state = PlanState.from_dict(data.get("state"))
        try:
            override = _override_from_dict(data.get("override"))
        except KeyError, ValueError, TypeError:
            override = None
        applied = {k: Command.from_dict(v) for k, v in data.get("applied", {}).items()}
        sending = {k: Command.from_dict(v) for k, v in data.get("sending", {}).items()}
        overrides = {k: _when(v) for k, v in data.get("miner_overrides", {}).items()}
        return cls(
            state=state,
            enabled=bool(data.get("enabled", True)),
            override=override,
            miner_overrides={k: v for k, v in overrides.items() if v is not None},
            user_stopped={str(m) for m in data.get("user_stopped", [])},
            surplus_overrides={str(m) for m in data.get("surplus_overrides", [])},
            import_limited={
                str(k): number
                for k, v in data.get("import_limited", {}).items()
                if (number := finite(v)) is not None
            },
            applied={k: v for k, v in applied.items() if v is not None},
            sending={k: v for k, v in sending.items() if v is not None},
            restore_limits={k: int(v) for k, v in data.get("restore_limits", {}).items()},
            efficiency={
                k: number
                for k, v in data.get("efficiency", {}).items()
                if (number := finite(v)) is not None
            },
            capabilities={
                k: caps
                for k, v in data.get("capabilities", {}).items()
                if (caps := MinerCaps.from_dict(v)) is not None
            },
            budget_w=finite(data.get("budget_w")),
            budget_until=_when(data.get("budget_until")),
            curtailed_miners=[str(m) for m in data.get("curtailed_miners", [])],
            curtailed=bool(data.get("curtailed", False)),
            energy_kwh=finite(data.get("energy_kwh")) or 0.0,
            cost=finite(data.get("cost")) or 0.0,
            avoided_w=finite(data.get("avoided_w")) or 0.0,
            price=finite(data.get("price")),
            accounted_at=_when(data.get("accounted_at")),
            feeds_seen={
                str(k): (str(v[0]), when)
                for k, v in data.get("feeds_seen", {}).items()
                if (when := _when(v[1])) is not None
            },
        )
