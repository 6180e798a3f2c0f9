"""Simulated miners that speak the real protocols on their own loopback addresses.

`FAMILIES` maps a family name (as used by the fleet spec and the CLI) to its class.
"""

from __future__ import annotations

from .antminer import AntminerStockMiner
from .avalon import AvalonNanoMiner
from .avalon_home import AvalonHomeMiner
from .base import SimulatedMiner
from .braiins import BraiinsMiner
from .esp_miner import BitaxeMiner
from .luxos import LuxOSMiner
from .vnish import VNishMiner
from .whatsminer import WhatsminerV2Miner, WhatsminerV3Miner

FAMILIES: dict[str, type[SimulatedMiner]] = {
    "bitaxe": BitaxeMiner,
    "avalon_nano": AvalonNanoMiner,
    "avalon_home": AvalonHomeMiner,
    "antminer": AntminerStockMiner,
    "luxos": LuxOSMiner,
    "braiins": BraiinsMiner,
    "whatsminer": WhatsminerV2Miner,
    "whatsminer_v3": WhatsminerV3Miner,
    "vnish": VNishMiner,
}

__all__ = [
    "FAMILIES",
    "AntminerStockMiner",
    "AvalonHomeMiner",
    "AvalonNanoMiner",
    "BitaxeMiner",
    "BraiinsMiner",
    "LuxOSMiner",
    "SimulatedMiner",
    "VNishMiner",
    "WhatsminerV2Miner",
    "WhatsminerV3Miner",
]
