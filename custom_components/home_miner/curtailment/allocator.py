"""Keep the most hashrate within a power budget: every miner's setting, chosen together.

A miner offers some of: a stop (0 W), discrete power levels (Avalon levels, Antminer work
modes), a continuous limit range (a Braiins power target, ESP-Miner frequency steps), and
always what it is set to now (its *ceiling*: a budget turns miners down, never up). Its
hashrate at a power is that power over its efficiency (J/TH) as measured.

Choosing is a knapsack with semi-continuous items. Given which option each miner takes
(its *mode*), the best powers follow at once: every range at its low end, then the budget
left given to the ranges in order of efficiency (a linear programme with one constraint).
The modes are found by branch and bound over the miners, most efficient first, bounded by
the fractional relaxation (every miner continuous from its lowest setting), starting from a
greedy answer; the search is exact (to a millionth) and, for the fleets of a home, visits a
few hundred nodes. It stops after `MAX_NODES` nodes (fewer for a large fleet: `MAX_WORK`)
with the best found (never over the budget). When even the lowest setting of every miner
exceeds the budget, each miner takes its lowest.

Following a target that moves all day (surplus), re-packing the fleet at every move would
change settings for a sliver of hashrate. With `stay_w`, a miner left at its setting now
(`current_w`) counts `stay_w` watts' worth of its hashrate extra: where the budget binds, a
change must gain more than that (where every miner fits as asked, each is as asked).

Pure: no I/O, no clock, no Home Assistant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math

MAX_NODES = 5_000
# And at most this many miner visits in all (a node's bound looks at every miner), so a large
# fleet's decision stays within tens of milliseconds.
MAX_WORK = 150_000
# A branch that cannot beat the best found by more than this fraction is not searched.
_GAP = 1e-6
_TOLERANCE = 1e-6
# Among settings of equal hashrate, more power kept on wins (a miner of unknown efficiency
# is not stopped for nothing), and a more important miner keeps more: tiny, below any real
# difference in hashrate.
_KEEP_ON = 1e-9


@dataclass(frozen=True, kw_only=True, slots=True)
class MinerOptions:
    """What one miner can be set to, as far as the budget may choose.

    `ceiling_w` is what it is set to draw now; every option above it is left out. `levels_w`
    are discrete settings, `range_w` a continuous one (low, high); `can_stop` adds 0 W.
    `importance` breaks ties: the higher, the later it is turned down. `current_w` is the
    setting it has now (before this decision), if it keeps one.
    """

    miner_id: str
    efficiency_jth: float
    ceiling_w: float
    can_stop: bool = False
    levels_w: tuple[float, ...] = ()
    range_w: tuple[float, float] | None = None
    importance: float = 0.0
    current_w: float | None = None

    @property
    def rate(self) -> float:
        """TH/s per W, and the tie-breaks."""
        efficiency = self.efficiency_jth
        hashing = 1 / efficiency if efficiency > 0 and math.isfinite(efficiency) else 0.0
        return hashing + _KEEP_ON * (1 + self.importance)

    def hashrate(self, watts: float) -> float:
        efficiency = self.efficiency_jth
        if watts <= 0 or not (efficiency > 0 and math.isfinite(efficiency)):
            return 0.0
        return watts / efficiency


@dataclass(frozen=True, slots=True)
class _Mode:
    """One option of a miner: a fixed power, or a range (low, high)."""

    low: float
    high: float

    @property
    def fixed(self) -> bool:
        return self.high - self.low <= _TOLERANCE


def _modes(miner: MinerOptions) -> list[_Mode]:
    ceiling = max(miner.ceiling_w, 0.0)
    fixed = {ceiling}
    if miner.can_stop:
        fixed.add(0.0)
    fixed.update(level for level in miner.levels_w if 0 <= level <= ceiling)
    modes = [_Mode(watts, watts) for watts in sorted(fixed)]
    if miner.range_w is not None:
        low, high = miner.range_w
        high = min(high, ceiling)
        if low < high - _TOLERANCE:
            modes.append(_Mode(max(low, 0.0), high))
    return modes


@dataclass(slots=True)
class _Search:
    miners: list[MinerOptions]
    modes: list[list[_Mode]]
    budget: float
    # What is left of the budget, at best, after miner i: each later miner at its lowest.
    lowest_after: list[float]
    # What staying at its setting now is worth for each miner (0: nothing).
    stay: list[float]
    stay_after: list[float] = field(default_factory=list)
    best_value: float = -math.inf
    best: list[float] = field(default_factory=list)
    nodes: int = 0
    lows: list[float] = field(default_factory=list)
    highs: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lows = [min(mode.low for mode in modes) for modes in self.modes]
        self.highs = [max(mode.high for mode in modes) for modes in self.modes]
        self.stay_after = [sum(self.stay[i:]) for i in range(len(self.miners) + 1)]

    def _stays(self, i: int, low: float, high: float) -> bool:
        current = self.miners[i].current_w
        return current is not None and low - _TOLERANCE <= current <= high + _TOLERANCE

    def fill(self, chosen: Sequence[_Mode]) -> tuple[float, list[float]] | None:
        """The best powers for these modes: ranges at their low end, the rest of the budget
        to the ranges by efficiency. `None` if the modes do not fit."""
        powers = [mode.low for mode in chosen]
        left = self.budget - sum(powers)
        if left < -_TOLERANCE:
            return None
        ranges = sorted(
            (i for i, mode in enumerate(chosen) if not mode.fixed),
            key=lambda i: -self.miners[i].rate,
        )
        for i in ranges:
            if left <= 0:
                break
            more = min(chosen[i].high - chosen[i].low, left)
            powers[i] += more
            left -= more
        value = sum(m.rate * watts for m, watts in zip(self.miners, powers, strict=True))
        value += sum(
            bonus
            for i, (bonus, watts) in enumerate(zip(self.stay, powers, strict=True))
            if bonus and self._stays(i, watts, watts)
        )
        return value, powers

    def bound(self, index: int, chosen: Sequence[_Mode]) -> float:
        """What any completion can reach at most: the chosen fixed, their ranges and every
        later miner continuous from its lowest setting, filled by efficiency (the miners
        are in order of efficiency, so the fill goes in index order)."""
        value = self.stay_after[index]
        left = self.budget
        rooms: list[tuple[float, float]] = []
        for i, mode in enumerate(chosen):
            rate = self.miners[i].rate
            if self.stay[i] and self._stays(i, mode.low, mode.high):
                value += self.stay[i]
            value += rate * mode.low
            left -= mode.low
            if not mode.fixed:
                rooms.append((rate, mode.high - mode.low))
        for i in range(index, len(self.miners)):
            rate = self.miners[i].rate
            value += rate * self.lows[i]
            left -= self.lows[i]
            rooms.append((rate, self.highs[i] - self.lows[i]))
        if left < -_TOLERANCE:
            return -math.inf
        for rate, room in rooms:
            if left <= 0:
                break
            more = min(room, left)
            value += rate * more
            left -= more
        return value

    def greedy(self) -> None:
        """A first answer, so the bound cuts from the start: each miner in order of
        efficiency at the richest setting that leaves the rest room for their lowest."""
        chosen: list[_Mode] = []
        used = 0.0
        for index, modes in enumerate(self.modes):
            fitting = [m for m in modes if used + m.low <= self.lowest_after[index] + _TOLERANCE]
            mode = max(fitting, key=lambda m: m.high)
            chosen.append(mode)
            used += mode.low
        if (found := self.fill(chosen)) is not None:
            self.best_value, self.best = found

    def search(self, index: int, chosen: list[_Mode], used: float) -> None:
        self.nodes += 1
        if index == len(self.miners):
            if (found := self.fill(chosen)) is not None and found[0] > self.best_value:
                self.best_value, self.best = found
            return
        if self.nodes > min(MAX_NODES, MAX_WORK // len(self.miners)):
            return
        if self.bound(index, chosen) <= self.best_value * (1 + _GAP) + 1e-12:
            return
        # The richest option first: good solutions early make the bound cut more.
        for mode in sorted(self.modes[index], key=lambda m: -m.high):
            if used + mode.low > self.lowest_after[index] + _TOLERANCE:
                continue
            chosen.append(mode)
            self.search(index + 1, chosen, used + mode.low)
            chosen.pop()


def allocate(
    budget_w: float, miners: Sequence[MinerOptions], *, stay_w: float = 0.0
) -> Mapping[str, float]:
    """Each miner's power (0 = stopped; its ceiling = as it is) keeping the most hashrate
    with the fleet at most `budget_w` (a miner staying at its setting now worth `stay_w`
    watts of its hashrate more); the lowest setting of each when nothing fits."""
    if not miners:
        return {}
    modes = [_modes(miner) for miner in miners]
    stay = [m.rate * stay_w if stay_w > 0 and m.current_w is not None else 0.0 for m in miners]
    if sum(max(m.ceiling_w, 0.0) for m in miners) <= budget_w + _TOLERANCE:
        return {m.miner_id: max(m.ceiling_w, 0.0) for m in miners}
    lowest = [min(mode.low for mode in options) for options in modes]
    if sum(lowest) > budget_w + _TOLERANCE:
        return {m.miner_id: low for m, low in zip(miners, lowest, strict=True)}
    order = sorted(range(len(miners)), key=lambda i: (-miners[i].rate, miners[i].miner_id))
    ordered = [miners[i] for i in order]
    ordered_modes = [modes[i] for i in order]
    ordered_stay = [stay[i] for i in order]
    lowest_after = [
        budget_w - sum(min(mode.low for mode in m) for m in ordered_modes[i + 1 :])
        for i in range(len(ordered))
    ]
    search = _Search(ordered, ordered_modes, budget_w, lowest_after, ordered_stay)
    search.greedy()
    search.search(0, [], 0.0)
    if not search.best:
        return {m.miner_id: low for m, low in zip(miners, lowest, strict=True)}
    return {m.miner_id: watts for m, watts in zip(ordered, search.best, strict=True)}


def kept_hashrate(miners: Sequence[MinerOptions], powers: Mapping[str, float]) -> float:
    """TH/s of the fleet at these powers."""
    return sum(m.hashrate(powers.get(m.miner_id, 0.0)) for m in miners)
