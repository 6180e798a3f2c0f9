"""How a miner's readings are shown: rounded, hashrate in the unit that suits its size.

The miner's own sensors and a plan's fleet totals show the same numbers: a total is the sum
of what each miner's entity shows.
"""

from __future__ import annotations

from .miner import Capabilities, MinerSnapshot

GH_PER_TH = 1000.0


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def shown_hashrate(value_ths: float | None, caps: Capabilities) -> float | None:
    """A hashrate as its sensor shows it: GH/s for a Bitaxe-sized miner, else TH/s."""
    if value_ths is None:
        return None
    if caps.hashrate_unit == "GH/s":
        return round(value_ths * GH_PER_TH, 1)
    return round(value_ths, 3)


def shown_hashrate_ths(snapshot: MinerSnapshot, caps: Capabilities) -> float | None:
    """The hashrate its sensor shows, in TH/s."""
    shown = shown_hashrate(snapshot.hashrate_ths, caps)
    if shown is None or caps.hashrate_unit != "GH/s":
        return shown
    return shown / GH_PER_TH


def shown_power(snapshot: MinerSnapshot) -> float | None:
    return rounded(snapshot.power_w)
