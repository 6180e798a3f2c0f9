"""Break-even electricity price: above it, a miner spends more on power than it earns.

Hashprice is revenue per TH/s per day (in the currency of the electricity price). A miner of
efficiency E J/TH spends E W per TH/s, i.e. E x 24 / 1000 kWh per TH/s per day, so its
break-even price per kWh is hashprice / (E x 0.024) whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
import math

_KWH_PER_WATT_DAY = 24 / 1000
_BLOCKS_PER_DAY = 144
_TH_PER_EH = 1e6


def break_even_price(*, hashprice: float, efficiency_jth: float) -> float | None:
    """Price per kWh at which a miner of this efficiency earns nothing; `None` if unknown."""
    if not (math.isfinite(hashprice) and math.isfinite(efficiency_jth)) or efficiency_jth <= 0:
        return None
    return hashprice / (efficiency_jth * _KWH_PER_WATT_DAY)


def miner_break_even_price(
    *, hashprice: float, hashrate_ths: float, power_w: float
) -> float | None:
    """Break-even from a miner's hashrate and power (hashprice x hashrate / energy a day)."""
    if hashrate_ths <= 0 or power_w <= 0:
        return None
    return break_even_price(hashprice=hashprice, efficiency_jth=power_w / hashrate_ths)


def fleet_break_even_price(
    *, hashprice: float, miners: Iterable[tuple[float, float]]
) -> float | None:
    """Break-even of a fleet of `(hashrate TH/s, power W)`: total revenue over total energy."""
    hashrate = power = 0.0
    for miner_hashrate, miner_power in miners:
        if miner_hashrate > 0 and miner_power > 0:
            hashrate += miner_hashrate
            power += miner_power
    return miner_break_even_price(hashprice=hashprice, hashrate_ths=hashrate, power_w=power)


def hashprice_from_network(
    *,
    btc_price: float,
    network_hashrate_ehs: float,
    block_subsidy_btc: float = 3.125,
    fees_per_block_btc: float = 0.0,
) -> float:
    """Hashprice (currency per TH/s per day) from the bitcoin price and the network hashrate."""
    if network_hashrate_ehs <= 0:
        raise ValueError("network hashrate must be positive")
    daily_btc = _BLOCKS_PER_DAY * (block_subsidy_btc + fees_per_block_btc)
    return daily_btc * btc_price / (network_hashrate_ehs * _TH_PER_EH)
