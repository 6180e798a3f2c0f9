"""Simulated miners that speak the real protocols on their own loopback addresses.

`FAMILIES` maps a family name (as used by the fleet spec and the CLI) to its class.
"""

from __future__ import annotations

from .antminer import AntminerStockMiner
from .avalon import AvalonNanoMiner
from .base import SimulatedMiner
from .esp_miner import BitaxeMiner

FAMILIES: dict[str, type[SimulatedMiner]] = {
    "bitaxe": BitaxeMiner,
    "avalon_nano": AvalonNanoMiner,
    "antminer": AntminerStockMiner,
}

__all__ = ["FAMILIES", "AntminerStockMiner", "AvalonNanoMiner", "BitaxeMiner", "SimulatedMiner"]
