"""What the miner layer hands to Home Assistant: plain, frozen data, no pyasic types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import re


class Family(StrEnum):
    """Firmware families; each has its own quirks in `drivers`."""

    ESP_MINER = "esp_miner"
    AVALON_NANO = "avalon_nano"
    AVALON_HOME = "avalon_home"
    ANTMINER_STOCK = "antminer_stock"
    LUXOS = "luxos"
    BRAIINS = "braiins"
    WHATSMINER = "whatsminer"
    VNISH = "vnish"
    GENERIC = "generic"


@dataclass(frozen=True, kw_only=True)
class PowerLimitRange:
    """Bounds of the power-limit control, in watts."""

    minimum: int
    maximum: int
    step: int = 1


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What this model and firmware can do; entities exist only for what is True here."""

    can_stop: bool = False
    power_limit: PowerLimitRange | None = None
    work_modes: tuple[str, ...] = ()
    sleep_mode: str | None = None
    """The work mode in which the miner does not hash (stock Antminer's sleep), if any."""
    can_identify: bool = False
    identify_by: str | None = None
    """How the miner shows itself when identified: "light" (a blinking LED) or "screen"."""
    can_reboot: bool = False
    hashrate_unit: str = "TH/s"
    boards: int = 0
    fans: int = 0
    has_env_temp: bool = False
    power_estimated: bool = False
    """The firmware reports no power; it is estimated from hashrate and nominal efficiency."""
    overheat_c: float = 95.0
    """Chip temperature at which the firmware itself would start to protect the hardware."""
    resume_reboots: bool = False
    """Resuming restarts the miner (the NerdQAxe++ has no other way out of its shutdown)."""
    fan_modes: tuple[str, ...] = ()
    """Fan modes the firmware can be set to (FAN_AUTO, FAN_MANUAL)."""
    manual_fan_speed: tuple[int, int] | None = None
    """Bounds (%) of the manual fan speed, where it can be set."""
    target_temperature: tuple[int, int] | None = None
    """Bounds (°C) of the temperature the automatic fan holds, where it can be set."""


FAN_AUTO = "auto"
FAN_MANUAL = "manual"


@dataclass(frozen=True, kw_only=True)
class MinerIdentity:
    """Who the miner is; read once when it is first reached."""

    host: str
    mac: str
    hostname: str | None
    make: str
    model: str
    firmware: str
    firmware_version: str | None
    family: Family

    @property
    def name(self) -> str:
        """The device's name: its hostname, unless that is the factory default.

        Every stock Antminer calls itself `Antminer` and every new Bitaxe `bitaxe`; a fleet
        of them would be devices of one name (and `sensor.antminer_hashrate_17`), so those
        are named by model ("Antminer S19j Pro", "Bitaxe Gamma": drivers give models that
        say what the miner is) and the end of the MAC instead.
        """
        hostname = (self.hostname or "").strip()
        if hostname and re.sub(r"[^a-z0-9]", "", hostname.lower()) not in FACTORY_HOSTNAMES:
            return hostname
        return f"{self.model} {self.mac.replace(':', '').replace('-', '')[-4:].upper()}"


FACTORY_HOSTNAMES = frozenset(
    {
        "antminer",
        "avalon",
        "avalonnano",
        "bitaxe",
        "braiinsos",
        "localhost",
        "miner",
        "nerdaxe",
        "nerdqaxe",
        "whatsminer",
    }
)
"""Hostnames firmware gives every unit it ships (compared lowercase, letters and digits only)."""


@dataclass(frozen=True, kw_only=True)
class Board:
    """One hashboard (or the single ASIC group of a small miner)."""

    index: int
    hashrate_ths: float | None
    temperature: float | None
    chip_temperature: float | None
    chips: int | None
    expected_chips: int | None
    active: bool | None


@dataclass(frozen=True, kw_only=True)
class Pool:
    """The pool the miner is hashing on."""

    url: str
    user: str | None
    accepted: int | None = None
    rejected: int | None = None


@dataclass(frozen=True, kw_only=True)
class MinerSnapshot:
    """One poll's worth of readings."""

    is_mining: bool
    hashrate_ths: float | None
    expected_hashrate_ths: float | None
    power_w: float | None
    power_limit_w: float | None
    temperature_avg: float | None
    temperature_max: float | None
    env_temperature: float | None
    uptime_s: int | None
    boards: tuple[Board, ...] = ()
    fans: tuple[int | None, ...] = ()
    pool: Pool | None = None
    errors: tuple[str, ...] = ()
    fault_light: bool | None = None
    work_mode: str | None = None
    missing_boards: int = 0
    overheat_c: float = 95.0
    fan_mode: str | None = None
    manual_fan_speed: int | None = None
    target_temperature: float | None = None

    @property
    def efficiency_j_th(self) -> float | None:
        if not self.power_w or not self.hashrate_ths:
            return None
        return self.power_w / self.hashrate_ths

    @property
    def problem(self) -> bool:
        """Errors reported, a board missing, or a board too hot to be healthy."""
        too_hot = any(
            (b.chip_temperature or b.temperature or 0) >= self.overheat_c for b in self.boards
        )
        return bool(self.errors) or self.missing_boards > 0 or too_hot


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """Login for firmware that needs one."""

    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, kw_only=True)
class FoundMiner:
    """A miner seen by a network scan."""

    host: str
    mac: str | None
    model: str
    hostname: str | None
    extra: dict[str, str] = field(default_factory=dict)
