"""Pick the driver for a detected pyasic miner."""

from __future__ import annotations

import importlib
from typing import Any

from .antminer import AntminerStockDriver
from .avalon import avalon_driver
from .base import Driver
from .braiins import BraiinsDriver
from .esp_miner import EspMinerDriver
from .luxos import LuxOSDriver
from .vnish import VNishDriver
from .whatsminer import WhatsminerV2Driver, WhatsminerV3Driver


def driver_for(miner: Any) -> Driver | None:
    """The driver for a detected pyasic miner, or None when it cannot be driven."""
    backends = importlib.import_module("pyasic.miners.backends")
    esp = importlib.import_module("pyasic.miners.backends.espminer")
    if isinstance(miner, esp.ESPMiner):
        return EspMinerDriver()
    if isinstance(miner, backends.AvalonMiner) and (avalon := avalon_driver(str(miner.raw_model))):
        return avalon
    if isinstance(miner, backends.AntminerModern) and str(miner.firmware) == "Stock":
        return AntminerStockDriver()
    if isinstance(miner, backends.BOSer):
        return BraiinsDriver()
    if isinstance(miner, backends.LUXMiner):
        return LuxOSDriver()
    if isinstance(miner, backends.BTMinerV2):
        return WhatsminerV2Driver()
    if isinstance(miner, backends.BTMinerV3):
        return WhatsminerV3Driver()
    if isinstance(miner, backends.VNish):
        return VNishDriver()
    if isinstance(miner, backends.UnknownMiner):
        return None
    return Driver()


__all__ = ["Driver", "driver_for"]
