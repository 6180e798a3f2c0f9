"""The safety rules every change of a miner's mode must pass.

* **Minimum times.** A miner stays uncurtailed at least `min_on` before it is curtailed, and
  curtailed at least `min_off` before it runs uncurtailed again. The same holds for hashing
  versus stopped: a miner that started hashing (even under a limit) hashes at least `min_on`
  before it stops, and a stopped miner stays stopped at least `min_off`. Changing the limit
  of an already limited miner is not a cycle.
* **Maximum length.** A window (some miner curtailed all along) lasts at most
  `max_curtailment`. A miner joins a window, or stops inside one, only if its `min_off` ends
  before the window's deadline, so it can always be back by then. Restarts start early enough
  that, one per stagger, the last is back at the deadline. From the release on, nothing is
  curtailed further, no minimum time holds a miner's way out past the deadline (the maximum
  is absolute, whatever the settings became mid-window), and after the deadline (or after
  the late release, if no decision came in time) the fleet rests (runs) for
  `PlanSettings.rest_after_max_length` whatever the feeds say.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Hold
from .settings import PlanSettings
from .state import MinerMode, MinerState

_DEPTH = {MinerMode.ON: 0, MinerMode.LIMITED: 1, MinerMode.STOPPED: 2}


def is_restart(before: MinerMode, after: MinerMode) -> bool:
    """Whether a change adds load the way a restart does (what the stagger spaces out)."""
    return (before.curtailed and after is MinerMode.ON) or (
        before is MinerMode.STOPPED and after is MinerMode.LIMITED
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Gate:
    """The rules above, for one decision."""

    now: datetime
    min_on: timedelta
    min_off: timedelta
    max_length: timedelta | None
    deadline: datetime | None
    frozen: bool

    @classmethod
    def for_decision(
        cls, now: datetime, settings: PlanSettings, *, deadline: datetime | None, frozen: bool
    ) -> Gate:
        return cls(
            now=now,
            min_on=settings.min_on,
            min_off=settings.min_off,
            max_length=settings.max_curtailment,
            deadline=deadline,
            frozen=frozen,
        )

    def _elapsed(self, since: datetime | None, need: timedelta, *, lighter: bool) -> bool:
        """Whether the minimum time is over; one that would hold a miner's way out of a
        window past its deadline (a minimum raised mid-window) ends at the deadline."""
        if since is None:
            return True
        ends = since + need
        if lighter and self.deadline is not None:
            ends = min(ends, self.deadline)
        return self.now >= ends

    def check(self, before: MinerState, after: MinerMode) -> Hold | None:
        """`None` if the miner may go from its state to `after` now, else what holds it."""
        current = before.mode
        if after is current:
            return None
        if self.frozen and _DEPTH[after] > _DEPTH[current]:
            return Hold.MAX_LENGTH
        lighter = _DEPTH[after] < _DEPTH[current]
        if current.curtailed != after.curtailed:
            need = self.min_off if current.curtailed else self.min_on
            if not self._elapsed(before.curtail_changed_at, need, lighter=lighter):
                return Hold.MIN_OFF_TIME if current.curtailed else Hold.MIN_ON_TIME
        if current.hashing != after.hashing:
            need = self.min_on if current.hashing else self.min_off
            if not self._elapsed(before.power_changed_at, need, lighter=lighter):
                return Hold.MIN_ON_TIME if current.hashing else Hold.MIN_OFF_TIME
        starts_off_time = (not current.curtailed and after.curtailed) or (
            current.hashing and not after.hashing
        )
        if starts_off_time and self.max_length is not None:
            deadline = self.deadline or self.now + self.max_length
            if self.now + self.min_off > deadline:
                return Hold.MAX_LENGTH
        return None

    def unlocks(self, before: MinerState) -> Iterator[datetime]:
        """Instants at which a minimum time of this miner ends."""
        for since in (before.curtail_changed_at, before.power_changed_at):
            if since is not None:
                yield since + self.min_on
                yield since + self.min_off
