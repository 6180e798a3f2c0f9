"""What a plan keeps across Home Assistant restarts, as JSON in its `Store`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..curtailment import (
    CurtailAction,
    CurtailMode,
    ManualOverride,
    OverrideKind,
    PlanState,
    StateFormatError,
)
from .actuator import Command


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


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerCaps:
    """What a miner could do when the plan last saw it loaded (kept for when it is not)."""

    can_stop: bool
    limit_min_w: int | None = None
    limit_max_w: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"can_stop": self.can_stop, "min": self.limit_min_w, "max": self.limit_max_w}

    @classmethod
    def from_dict(cls, data: object) -> MinerCaps | None:
        if not isinstance(data, dict):
            return None
        low, high = data.get("min"), data.get("max")
        return cls(
            can_stop=bool(data.get("can_stop", False)),
            limit_min_w=int(low) if isinstance(low, int | float) else None,
            limit_max_w=int(high) if isinstance(high, int | float) else None,
        )


@dataclass(kw_only=True)
class PlanMemory:
    """The engine's state plus the glue's own: switch, overrides, what each miner was told,
    and the energy and cost avoided so far."""

    state: PlanState = field(default_factory=PlanState)
    enabled: bool = True
    override: ManualOverride | None = None
    miner_overrides: dict[str, datetime] = field(default_factory=dict)
    applied: dict[str, Command] = field(default_factory=dict)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.to_dict(),
            "enabled": self.enabled,
            "override": _override_to_dict(self.override),
            "miner_overrides": {k: v.isoformat() for k, v in self.miner_overrides.items()},
            "applied": {k: v.to_dict() for k, v in self.applied.items()},
            "restore_limits": self.restore_limits,
            "efficiency": self.efficiency,
            "capabilities": {k: v.to_dict() for k, v in self.capabilities.items()},
            "budget_w": self.budget_w,
            "budget_until": _stamp(self.budget_until),
            "curtailed_miners": self.curtailed_miners,
            "curtailed": self.curtailed,
            "energy_kwh": self.energy_kwh,
            "cost": self.cost,
            "avoided_w": self.avoided_w,
            "price": self.price,
            "accounted_at": _stamp(self.accounted_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PlanMemory:
        if not data:
            return cls()
        try:
            state = PlanState.from_dict(data.get("state"))
        except StateFormatError as err:
            LOGGER.warning("Starting the plan afresh: %s", err)
            return cls()
        try:
            override = _override_from_dict(data.get("override"))
        except KeyError, ValueError, TypeError:
            override = None
        applied = {k: Command.from_dict(v) for k, v in data.get("applied", {}).items()}
        overrides = {k: _when(v) for k, v in data.get("miner_overrides", {}).items()}
        return cls(
            state=state,
            enabled=bool(data.get("enabled", True)),
            override=override,
            miner_overrides={k: v for k, v in overrides.items() if v is not None},
            applied={k: v for k, v in applied.items() if v is not None},
            restore_limits={k: int(v) for k, v in data.get("restore_limits", {}).items()},
            efficiency={k: float(v) for k, v in data.get("efficiency", {}).items()},
            capabilities={
                k: caps
                for k, v in data.get("capabilities", {}).items()
                if (caps := MinerCaps.from_dict(v)) is not None
            },
            budget_w=float(budget)
            if isinstance(budget := data.get("budget_w"), int | float)
            else None,
            budget_until=_when(data.get("budget_until")),
            curtailed_miners=[str(m) for m in data.get("curtailed_miners", [])],
            curtailed=bool(data.get("curtailed", False)),
            energy_kwh=float(data.get("energy_kwh", 0.0)),
            cost=float(data.get("cost", 0.0)),
            avoided_w=float(data.get("avoided_w", 0.0)),
            price=data.get("price"),
            accounted_at=_when(data.get("accounted_at")),
        )
