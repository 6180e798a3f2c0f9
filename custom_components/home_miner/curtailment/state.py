"""What a plan remembers between decisions; the glue persists it as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ._convert import as_datetime, as_float, as_mapping, as_str
from .errors import StateFormatError
from .model import Reason

STATE_VERSION = 1
# A miner's setting changes remembered: the last hour's, at most this many.
CHANGES_WINDOW = timedelta(hours=1)
MAX_CHANGES_KEPT = 60


class MinerMode(StrEnum):
    """`ON` runs uncurtailed; `LIMITED` hashes under a power limit; `STOPPED` does not hash."""

    ON = "on"
    LIMITED = "limited"
    STOPPED = "stopped"

    @property
    def curtailed(self) -> bool:
        return self is not MinerMode.ON

    @property
    def hashing(self) -> bool:
        return self is not MinerMode.STOPPED


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerState:
    """A miner's mode and since when: `curtail_changed_at` is when it last went between
    uncurtailed and curtailed, `power_changed_at` when it last started or stopped hashing
    (`None`: long enough ago not to matter). `price_latched` remembers which side of the
    hysteresis band the price was on; `full_power_w` the last draw seen while uncurtailed."""

    mode: MinerMode = MinerMode.ON
    limit_w: float | None = None
    curtail_changed_at: datetime | None = None
    power_changed_at: datetime | None = None
    price_latched: bool = False
    full_power_w: float | None = None
    # The last draw seen while it did not hash (a stopped miner stays plugged in).
    idle_power_w: float | None = None
    # Turned down for lack of surplus (mining on surplus only): its intended state.
    surplus_idle: bool = False
    # When its setting (mode or limit) changed, within the hour before the last change: how
    # often following the surplus may still change it (`FlexSettings.max_changes_per_hour`).
    changed_at: tuple[datetime, ...] = ()

    def changes_in_hour(self, now: datetime) -> tuple[datetime, ...]:
        """Its setting changes in the hour up to `now`."""
        return tuple(when for when in self.changed_at if when > now - CHANGES_WINDOW)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanState:
    """The plan's memory. `window_start` is when the current curtailment window began (some
    miner has been curtailed ever since); `rest_until` ends the forced run after a window hit
    its maximum length; `last_restart_at` spaces restarts by the stagger."""

    miners: Mapping[str, MinerState] = field(default_factory=dict)
    window_start: datetime | None = None
    window_reason: Reason = Reason.NONE
    last_restart_at: datetime | None = None
    rest_until: datetime | None = None
    # The surplus target as followed (flex.py) and when it last moved.
    surplus_target_w: float | None = None
    surplus_changed_at: datetime | None = None
    # The import limit's room for the fleet as held (flex.py), and when it last moved.
    import_room_w: float | None = None
    import_changed_at: datetime | None = None

    def miner(self, miner_id: str) -> MinerState:
        return self.miners.get(miner_id) or MinerState()

    def to_dict(self) -> dict[str, object]:
        def stamp(when: datetime | None) -> str | None:
            return None if when is None else when.isoformat()

        return {
            "version": STATE_VERSION,
            "window_start": stamp(self.window_start),
            "window_reason": self.window_reason.value,
            "last_restart_at": stamp(self.last_restart_at),
            "rest_until": stamp(self.rest_until),
            "surplus_target_w": self.surplus_target_w,
            "surplus_changed_at": stamp(self.surplus_changed_at),
            "import_room_w": self.import_room_w,
            "import_changed_at": stamp(self.import_changed_at),
            "miners": {
                miner_id: {
                    "mode": miner.mode.value,
                    "limit_w": miner.limit_w,
                    "curtail_changed_at": stamp(miner.curtail_changed_at),
                    "power_changed_at": stamp(miner.power_changed_at),
                    "price_latched": miner.price_latched,
                    "full_power_w": miner.full_power_w,
                    "idle_power_w": miner.idle_power_w,
                    "surplus_idle": miner.surplus_idle,
                    "changed_at": [when.isoformat() for when in miner.changed_at],
                }
                for miner_id, miner in sorted(self.miners.items())
            },
        }

    @classmethod
    def from_dict(cls, data: object) -> PlanState:
        """Restore `to_dict` output. Raises `StateFormatError`."""
        try:
            root = as_mapping(data, "plan state")
            if root.get("version") != STATE_VERSION:
                raise ValueError(f"unknown version {root.get('version')!r}")
            miners = {
                miner_id: _miner(as_mapping(value, f"miner {miner_id}"))
                for miner_id, value in as_mapping(root.get("miners", {}), "miners").items()
            }
            return cls(
                miners=miners,
                window_start=_when(root.get("window_start"), "window_start"),
                window_reason=Reason(as_str(root.get("window_reason", "none"), "window_reason")),
                last_restart_at=_when(root.get("last_restart_at"), "last_restart_at"),
                rest_until=_when(root.get("rest_until"), "rest_until"),
                surplus_target_w=_optional_float(root.get("surplus_target_w"), "surplus_target_w"),
                surplus_changed_at=_when(root.get("surplus_changed_at"), "surplus_changed_at"),
                import_room_w=_optional_float(root.get("import_room_w"), "import_room_w"),
                import_changed_at=_when(root.get("import_changed_at"), "import_changed_at"),
            )
        except ValueError as err:
            raise StateFormatError(f"Cannot restore plan state: {err}") from err


def _when(value: object, what: str) -> datetime | None:
    return None if value is None else as_datetime(value, what)


def _optional_float(value: object, what: str) -> float | None:
    return None if value is None else as_float(value, what)


def _miner(data: Mapping[str, object]) -> MinerState:
    latched, idle = data.get("price_latched", False), data.get("surplus_idle", False)
    if not isinstance(latched, bool) or not isinstance(idle, bool):
        raise ValueError("price_latched and surplus_idle must be true or false")
    changed = data.get("changed_at", [])
    if not isinstance(changed, list) or len(changed) > MAX_CHANGES_KEPT:
        raise ValueError(f"changed_at must be a list of at most {MAX_CHANGES_KEPT} times")
    return MinerState(
        mode=MinerMode(as_str(data.get("mode"), "mode")),
        limit_w=_optional_float(data.get("limit_w"), "limit_w"),
        curtail_changed_at=_when(data.get("curtail_changed_at"), "curtail_changed_at"),
        power_changed_at=_when(data.get("power_changed_at"), "power_changed_at"),
        price_latched=latched,
        full_power_w=_optional_float(data.get("full_power_w"), "full_power_w"),
        idle_power_w=_optional_float(data.get("idle_power_w"), "idle_power_w"),
        surplus_idle=idle,
        changed_at=tuple(as_datetime(when, "changed_at") for when in changed),
    )
