"""The miner layer: the only code that imports pyasic.

Everything above it sees `MinerClient` and the plain dataclasses of `model`.
"""

from .client import MinerClient, async_connect, async_scan, load_pyasic
from .errors import (
    MinerAddressError,
    MinerAuthError,
    MinerCommandError,
    MinerConnectionError,
    MinerError,
    UnsupportedMinerError,
)
from .model import (
    FAN_AUTO,
    FAN_MANUAL,
    Board,
    Capabilities,
    Credentials,
    Family,
    FoundMiner,
    MinerIdentity,
    MinerSnapshot,
    Pool,
    PowerLimitRange,
)

__all__ = [
    "FAN_AUTO",
    "FAN_MANUAL",
    "Board",
    "Capabilities",
    "Credentials",
    "Family",
    "FoundMiner",
    "MinerAddressError",
    "MinerAuthError",
    "MinerClient",
    "MinerCommandError",
    "MinerConnectionError",
    "MinerError",
    "MinerIdentity",
    "MinerSnapshot",
    "Pool",
    "PowerLimitRange",
    "UnsupportedMinerError",
    "async_connect",
    "async_scan",
    "load_pyasic",
]
