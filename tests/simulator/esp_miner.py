"""A Bitaxe (or NerdQAxe++) running ESP-Miner / AxeOS, served over HTTP on port 80.

What is modelled follows bitaxeorg/ESP-Miner `main/http_server/` across releases:

- `GET /` is the AxeOS single-page app (gzip-encoded `index.html`, `<title>AxeOS</title>`);
  any other non-API path redirects to `/` (the captive-portal fallback).
- `GET /api/system/info`: telemetry and settings. Fields and types change with the release:
  `asicCount` is in it only before v2.9.0 (afterwards only in `/api/system/asic`),
  `expectedHashrate` since v2.8.0, `bestDiff` is a string such as "4.29G" before v2.11.0 and a
  number afterwards, `temptarget` since v2.7.0, `manualFanSpeed`/`fan2rpm` since v2.11.0,
  `miningPaused` since v2.14.0.
- `PATCH /api/system`: settings are written to NVS; frequency and core voltage are applied live
  by the power-management task (no restart needed since v2.5). The reply is an empty 200 body.
  Keys are looked up with cJSON's case-insensitive `cJSON_GetObjectItem`. From v2.11.0
  (`check_settings_and_update` in http_server.c) every value is type- and range-checked
  against the NVS table and a bad one rejects the whole request with 400 "Wrong API input";
  earlier releases take what they understand, reading numbers through cJSON's `valueint`.
  The manual fan speed key is `fanspeed` before v2.11.0 and
  `manualFanSpeed` afterwards; `autofanspeed` 1 is the automatic fan (fan_controller_task.c:
  a PID holding `temptarget`, never below `minFanSpeed`; 30 % while paused), 0 manual.
- `POST /api/system/restart`: answers, then reboots about a second later. The answer is plain
  text "System will restart shortly." before v2.13.0 and `{"message": ...}` JSON afterwards.
- `POST /api/system/pause` / `resume` (v2.14.0+): ASIC power cut, hashrate 0, idle watts.
  The pause is RAM state: a reboot resumes mining.
- `POST /api/system/identify` (v2.12.0+), `GET /api/system/statistics`, `GET /api/system/asic`.
- Unknown `/api/*` routes: 404 `{"error": "unknown route"}`; requests refused by the firmware's
  private-network check (the `wrong_credentials` fault here) get 401 "Unauthorized".

The NerdQAxe++ (`model="NerdQAxe++"`) runs shufps/ESP-Miner-NerdQAxePlus, a fork with its own
version numbers (default "v1.0.36"): its page is titled "Nerd*axe Dashboard" (no "AxeOS"),
`asicCount` and `deviceModel` are in `/api/system/info`, `bestDiff` is a string, and
(main/http_server/, release v1.0.36):
- `PATCH /api/system` (handler_system.cpp `PATCH_update_settings`) reads each key with
  ArduinoJson, case-sensitive, and takes a number only where `is<uint16_t>()` holds (an
  integer 0-65535), ignoring what does not; with one-time passwords on it answers 401
  "OTP/Session required". Fan keys (since v1.0.29): `autofanspeed` (0 manual, 2 PID; 1, the
  old automatic curve, is set back to manual 100 % at boot by nvs_config.cpp
  `migrate_config`), `pidTargetTemp` (the PID's target; reported -1 where the board has
  none), and the manual speed: `fanspeed` until v1.0.35 made it `manualFanSpeed` (reported
  since then; before, the info's `fanspeed` is only the fan's duty). Releases before v1.0.29
  are modelled without `pidTargetTemp`.
  Frequency and voltage are applied live by the power-management task since v1.0.29 (before,
  only after a restart), never while shut down.
- `POST /api/system/shutdown` (handler_shutdown.cpp, since v1.0.36) answers "System will
  shutdown shortly." as plain text, then a second later turns the buck and the ASICs' LDOs off
  (PowerManagementTask::shutdown, RAM state): `shutdown` is true in the info, hashrates are 0,
  the buck's input `power` reads 0. Only `POST /api/system/restart` (plain text too) ends it.
- There is no pause, resume or identify: a POST to a route it does not have is answered by its
  404 handler with a 302 to "/" (http_server.cpp `http_404_error_handler`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import gzip
import json
import re
import time
from typing import Any

from aiohttp import web

from .base import SimulatedMiner

# Espressif Inc. (IEEE MA-L); the ESP32-S3 on a Bitaxe reports its station MAC under it.
ESPRESSIF_OUI = "24:58:7C"


@dataclass(frozen=True)
class AsicSpec:
    """One ASIC type as ESP-Miner's `device_config.h` describes it."""

    name: str
    small_core_count: int
    default_frequency: int
    frequency_options: tuple[int, ...]
    default_voltage: int
    voltage_options: tuple[int, ...]
    hash_domains: int
    watts_per_mhz_v2: float
    """ASIC power per chip = this * MHz * V^2 (fitted to typical stock readings)."""


BM1397 = AsicSpec(
    "BM1397",
    672,
    425,
    (400, 425, 450, 475, 485, 500, 525, 550, 575, 600),
    1400,
    (1100, 1150, 1200, 1250, 1300, 1350, 1400, 1450, 1500),
    1,
    0.0144,
)
BM1366 = AsicSpec(
    "BM1366",
    894,
    485,
    (400, 425, 450, 475, 485, 500, 525, 550, 575),
    1200,
    (1100, 1150, 1200, 1250, 1300),
    4,
    0.0165,
)
BM1368 = AsicSpec(
    "BM1368",
    1276,
    490,
    (400, 425, 450, 475, 485, 490, 500, 525, 550, 575),
    1166,
    (1100, 1150, 1166, 1200, 1250, 1300),
    4,
    0.0165,
)
BM1370 = AsicSpec(
    "BM1370",
    2040,
    525,
    (400, 490, 525, 550, 600, 625),
    1150,
    (1000, 1060, 1100, 1150, 1200, 1250),
    4,
    0.0187,
)


@dataclass(frozen=True)
class BoardSpec:
    """A board: its family name (`deviceModel`), board version, ASICs and power supply."""

    device_model: str
    board_version: str
    asic: AsicSpec
    asic_count: int
    max_power: int
    nominal_voltage: int
    swarm_color: str
    idle_w: float
    """ESP32, display, fan and regulators with the ASIC power cut."""
    fan_max_rpm: int
    flavour: str = "esp-miner"
    default_frequency: int | None = None
    frequency_options: tuple[int, ...] | None = None
    voltage_options: tuple[int, ...] | None = None


# boards/nerdqaxeplus2.cpp: BM1370 x4, 500-600 MHz, 1120-1200 mV, 52-100 W, PID target 55 °C.
NERDQAXE_PP = BoardSpec(
    "NerdQAxe++",
    "6.1",
    BM1370,
    4,
    100,
    12,
    "#e700d8",
    6.5,
    4500,
    flavour="nerdqaxe",
    default_frequency=600,
    frequency_options=(500, 515, 525, 550, 575, 590, 600),
    voltage_options=(1120, 1130, 1140, 1150, 1160, 1170, 1180, 1190, 1200),
)

MODELS: dict[str, BoardSpec] = {
    "Max 102": BoardSpec("Max", "102", BM1397, 1, 25, 5, "red", 2.8, 6000),
    "Ultra 204": BoardSpec("Ultra", "204", BM1366, 1, 25, 5, "purple", 2.8, 6000),
    "Supra 401": BoardSpec("Supra", "401", BM1368, 1, 40, 5, "blue", 2.8, 6000),
    "Gamma 601": BoardSpec("Gamma", "601", BM1370, 1, 40, 5, "green", 3.0, 6000),
    "Gamma 602": BoardSpec("Gamma", "602", BM1370, 1, 40, 5, "green", 3.0, 6000),
    "GammaTurbo 801": BoardSpec("GammaTurbo", "801", BM1370, 2, 60, 12, "cyan", 4.5, 5000),
    "Hex 302": BoardSpec("Hex", "302", BM1366, 6, 90, 12, "orange", 6.0, 5000),
    "SupraHex 701": BoardSpec("SupraHex", "701", BM1368, 6, 120, 12, "darkblue", 6.0, 5000),
    "NerdQAxe++": NERDQAXE_PP,
}

INDEX_HTML = """<!doctype html>
<html lang="en">

<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <base href="/">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" type="image/x-icon" href="favicon.ico">
<link rel="stylesheet" href="styles.css"></head>

<body>
  <app-root></app-root>
<script src="polyfills.js" type="module"></script>
<script src="main.js" type="module"></script></body>

</html>
"""

U16_MAX = 65535
NVS_STR_LIMIT = 3999


def parse_version(version: str) -> tuple[int, int, int]:
    """'v2.14.0', '2.13.0b1', 'v1.0.36' → (major, minor, patch)."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        return (0, 0, 0)
    return (int(match[1]), int(match[2]), int(match[3] or 0))


def suffix_string(value: float) -> str:
    """The firmware's human difficulty string ("4.29G") used before bestDiff became a number."""
    for power, suffix in ((18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if value >= 10**power:
            return f"{value / 10**power:.2f}{suffix}"
    return str(int(value))


@dataclass(frozen=True)
class Setting:
    """A row of ESP-Miner's NVS settings table (v2.14): REST name, type and bounds."""

    name: str
    kind: str  # "str" | "u16" | "float" | "bool" | "i32"
    low: int
    high: int


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting("hostname", "str", 1, 32),
    Setting("stratumURL", "str", 0, NVS_STR_LIMIT),
    Setting("stratumPort", "u16", 0, U16_MAX),
    Setting("stratumUser", "str", 0, NVS_STR_LIMIT),
    Setting("stratumPassword", "str", 0, NVS_STR_LIMIT),
    Setting("stratumSuggestedDifficulty", "u16", 0, U16_MAX),
    Setting("fallbackStratumURL", "str", 0, NVS_STR_LIMIT),
    Setting("fallbackStratumPort", "u16", 0, U16_MAX),
    Setting("fallbackStratumUser", "str", 0, NVS_STR_LIMIT),
    Setting("fallbackStratumPassword", "str", 0, NVS_STR_LIMIT),
    Setting("useFallbackStratum", "bool", 0, 1),
    Setting("frequency", "float", 1, U16_MAX),
    Setting("coreVoltage", "u16", 1, U16_MAX),
    Setting("overclockEnabled", "bool", 0, 1),
    Setting("autofanspeed", "bool", 0, 1),
    Setting("manualFanSpeed", "u16", 0, 100),
    Setting("minFanSpeed", "u16", 0, 99),
    Setting("temptarget", "u16", 35, 66),
    Setting("displayTimeout", "i32", -1, U16_MAX),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class Nvs:
    """The settings the firmware keeps in flash (they survive a reboot)."""

    hostname: str
    stratumURL: str
    stratumPort: int
    stratumUser: str
    stratumPassword: str
    fallbackStratumURL: str
    fallbackStratumPort: int
    fallbackStratumUser: str
    fallbackStratumPassword: str
    frequency: float
    coreVoltage: int
    stratumSuggestedDifficulty: int = 1000
    useFallbackStratum: bool = False
    overclockEnabled: bool = False
    autofanspeed: int = 1
    """ESP-Miner: 1 automatic, 0 manual. The fork: 2 PID, 0 manual (its factory setting)."""
    manualFanSpeed: int = 100
    minFanSpeed: int = 25
    temptarget: int = 60
    pidTargetTemp: int = 55
    displayTimeout: int = -1


class BitaxeMiner(SimulatedMiner):
    """A Bitaxe / NerdQAxe++ on ESP-Miner (AxeOS), detected by pyasic as `BitAxe*`."""

    family = "bitaxe"
    oui = ESPRESSIF_OUI
    http_port = 80

    # A realistic mix for fleets (cycled per address). The NerdQAxe++ is left out because
    # pyasic's scan cannot find it (only this integration's own scan does); ask for it
    # explicitly ("bitaxe:NerdQAxe++@ip").
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Gamma 601", "firmware": "v2.14.0"},
        {"model": "Supra 401", "firmware": "v2.9.0"},
        {"model": "Gamma 602", "firmware": "v2.13.0"},
        {"model": "Ultra 204", "firmware": "v2.12.0"},
        {"model": "GammaTurbo 801", "firmware": "v2.14.0"},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Gamma 601",
        firmware: str | None = None,
        asic_count: int | None = None,
        small_core_count: int | None = None,
        frequency: float | None = None,
        core_voltage: int | None = None,
        stratum_url: str = "public-pool.io",
        stratum_port: int = 21496,
        stratum_user: str = "bc1qsimulatedminer0000000000000000000000.bitaxe",
        stratum_password: str = "x",
        fallback_stratum_url: str = "solo.ckpool.org",
        fallback_stratum_port: int = 3333,
        fallback_stratum_user: str = "bc1qsimulatedminer0000000000000000000000.bitaxe",
        pool_difficulty: int = 1000,
        best_diff: int = 1_234_567_890,
        hashrate_ratio: float = 0.985,
        ambient_c: float = 25.0,
        idle_w: float | None = None,
        wifi_ssid: str = "HomeWifi",
        wifi_rssi: int = -58,
        otp: bool = False,
        **kwargs: Any,
    ) -> None:
        """Configure the board.

        `model` is a key of `MODELS` ("Gamma 601", "Supra 401", "NerdQAxe++", ...);
        `asic_count`, `small_core_count`, `frequency` (MHz), `core_voltage` (mV) and
        `idle_w` override the board's values; `firmware` is the version string the device
        reports (default "v2.14.0", or "v1.0.36" for the NerdQAxe++); `otp` turns on the
        fork's one-time passwords.
        """
        super().__init__(ip, **kwargs)
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        self.model = model
        self.board = MODELS[model]
        self.flavour = self.board.flavour
        self.firmware = firmware or ("v1.0.36" if self.flavour == "nerdqaxe" else "v2.14.0")
        self.version = parse_version(self.firmware)
        self.asic_count = asic_count or self.board.asic_count
        self.small_core_count = small_core_count or self.board.asic.small_core_count
        self.default_frequency = self.board.default_frequency or self.board.asic.default_frequency
        self.default_voltage = self.board.asic.default_voltage
        self.pool_difficulty = pool_difficulty
        self.hashrate_ratio = hashrate_ratio
        self.ambient_c = ambient_c
        self.idle_w = self.board.idle_w if idle_w is None else idle_w
        self.wifi_ssid = wifi_ssid
        self.wifi_rssi = wifi_rssi
        self.nvs = Nvs(
            hostname=self.hostname,
            stratumURL=stratum_url,
            stratumPort=stratum_port,
            stratumUser=stratum_user,
            stratumPassword=stratum_password,
            fallbackStratumURL=fallback_stratum_url,
            fallbackStratumPort=fallback_stratum_port,
            fallbackStratumUser=fallback_stratum_user,
            fallbackStratumPassword=stratum_password,
            frequency=float(frequency if frequency is not None else self.default_frequency),
            coreVoltage=core_voltage if core_voltage is not None else self.default_voltage,
            stratumSuggestedDifficulty=pool_difficulty,
            autofanspeed=0 if self.flavour == "nerdqaxe" else 1,
        )
        self.otp = otp
        self.best_diff = best_diff
        # Running state (RAM): what the power-management task has applied.
        self.frequency = self.nvs.frequency
        self.core_voltage = self.nvs.coreVoltage
        self.paused = False
        """ASICs off, in RAM: ESP-Miner's pause, the fork's shutdown."""
        self.identify_until = 0.0
        self._shares = 0.0
        self.shares_accepted = 0
        self.shares_rejected = 0

    # ---- firmware capabilities -------------------------------------------------------------
    @property
    def nerdqaxe(self) -> bool:
        return self.flavour == "nerdqaxe"

    def since(self, major: int, minor: int, patch: int = 0) -> bool:
        """ESP-Miner release at least this one (always False for the NerdQAxe fork)."""
        return not self.nerdqaxe and self.version >= (major, minor, patch)

    def fork_since(self, major: int, minor: int, patch: int = 0) -> bool:
        """NerdQAxe fork release at least this one (always False for ESP-Miner)."""
        return self.nerdqaxe and self.version >= (major, minor, patch)

    @property
    def has_pause(self) -> bool:
        return self.since(2, 14)

    @property
    def has_shutdown(self) -> bool:
        return self.fork_since(1, 0, 36)

    @property
    def live_frequency(self) -> bool:
        return not self.nerdqaxe or self.fork_since(1, 0, 29)

    # ---- physics ---------------------------------------------------------------------------
    @property
    def mining(self) -> bool:
        return self.powered and not self.paused

    @property
    def expected_hashrate_ghs(self) -> float:
        """ESP-Miner's own formula: MHz * small cores * ASICs / 1000, in GH/s."""
        if not self.mining:
            return 0.0
        return self.frequency * self.small_core_count * self.asic_count / 1000

    @property
    def hashrate_ghs(self) -> float:
        return self.expected_hashrate_ghs * self.hashrate_ratio

    @property
    def asic_power_w(self) -> float:
        if not self.mining:
            return 0.0
        volts = self.core_voltage / 1000
        return self.board.asic.watts_per_mhz_v2 * self.frequency * volts**2 * self.asic_count

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        return self.idle_w + self.asic_power_w

    @property
    def chip_temp_c(self) -> float:
        """ASIC temperature: a pure function of the power per chip (no jitter)."""
        return self.ambient_c + 2.4 * self.asic_power_w / self.asic_count

    @property
    def vr_temp_c(self) -> float:
        return self.ambient_c + 6.0 + 1.4 * self.asic_power_w / self.asic_count

    @property
    def fan_mode(self) -> str:
        """ "auto", "manual" or (the fork in a mode it no longer has) "unknown"."""
        mode = self.nvs.autofanspeed
        if mode == 0:
            return "manual"
        if not self.nerdqaxe or mode == 2 or (mode == 1 and not self.fork_since(1, 0, 31)):
            return "auto"
        return "unknown"

    @property
    def fan_percent(self) -> int:
        """The fan's duty. The automatic fan is a PID on the chip temperature; the chip
        temperature here does not depend on the fan, so a proportional stand-in: the hotter
        above the target, the faster."""
        nvs = self.nvs
        if self.nerdqaxe:
            if nvs.autofanspeed == 0:
                return nvs.manualFanSpeed
            if nvs.autofanspeed == 1 and not self.fork_since(1, 0, 31):
                floor, target = 25, 60  # the automatic curve, dropped in v1.0.31
            elif nvs.autofanspeed != 2:  # fan_controller: an unknown mode runs at 100 %
                return 100
            else:
                floor, target = 15, nvs.pidTargetTemp  # the PID's output limits: 15-100 %
        else:
            if self.paused and self.has_pause:
                return 30
            if not nvs.autofanspeed:
                return nvs.manualFanSpeed
            floor = nvs.minFanSpeed
            target = nvs.temptarget if self.since(2, 7) else 60
        auto = floor + (self.chip_temp_c - target + 20.0) * 3.0
        return int(max(floor, min(100.0, auto)))

    @property
    def fan_rpm(self) -> int:
        return self.fan_percent * self.board.fan_max_rpm // 100

    @property
    def input_voltage_mv(self) -> float:
        nominal = self.board.nominal_voltage * 1000
        return round(nominal * 1.03 - 40 * self.power_w / self.board.nominal_voltage, 2)

    @property
    def input_current_ma(self) -> float:
        return round(self.power_w / (self.input_voltage_mv / 1000) * 1000, 2)

    @property
    def core_voltage_actual_mv(self) -> int:
        return int(self.core_voltage - 6) if self.mining else 0

    def _integrate(self) -> None:
        now = time.monotonic()
        if self.powered:
            hashes = self.hashrate_ghs * 1e9 * (now - self._energy_at)
            self._shares += hashes / (self.pool_difficulty * 2**32)
            self.shares_accepted = int(self._shares)
            self.shares_rejected = self.shares_accepted // 400
        super()._integrate()

    @property
    def best_session_diff(self) -> int:
        self._integrate()
        if self.shares_accepted == 0:
            return 0
        return int(self.pool_difficulty * 40 * self.shares_accepted**0.8)

    def on_boot(self) -> None:
        if self.fork_since(1, 0, 31) and self.nvs.autofanspeed == 1:
            self.nvs.autofanspeed, self.nvs.manualFanSpeed = 0, 100
        self.best_diff = max(self.best_diff, self.best_session_diff)
        self.frequency = self.nvs.frequency
        self.core_voltage = self.nvs.coreVoltage
        self.hostname = self.nvs.hostname
        self.paused = False
        self.identify_until = 0.0
        self._shares = 0.0
        self.shares_accepted = 0
        self.shares_rejected = 0

    def status(self) -> dict[str, Any]:
        status = super().status()
        status.update(
            model=self.model,
            device_model=self.board.device_model,
            asic_model=self.board.asic.name,
            firmware=self.firmware,
            http_port=self.http_port,
            mining=self.mining,
            paused=self.paused,
            frequency_mhz=self.frequency,
            fan_mode=self.fan_mode,
            core_voltage_mv=self.core_voltage,
            hashrate_ghs=round(self.hashrate_ghs, 3),
            expected_hashrate_ghs=round(self.expected_hashrate_ghs, 3),
            chip_temp_c=round(self.chip_temp_c, 2),
            vr_temp_c=round(self.vr_temp_c, 2),
            fan_percent=self.fan_percent,
            fan_rpm=self.fan_rpm,
            uptime_s=self.uptime_s if self.powered else 0,
            energy_wh=round(self.energy_wh, 4),
            shares_accepted=self.shares_accepted,
            identifying=self.identify_until > time.monotonic(),
            stratum=f"{self.nvs.stratumURL}:{self.nvs.stratumPort}",
            stratum_user=self.nvs.stratumUser,
            faults={k: v for k, v in vars(self.faults).items() if v},
        )
        return status

    # ---- JSON documents --------------------------------------------------------------------
    def system_info(self) -> dict[str, Any]:
        """`GET /api/system/info` as the running release builds it."""
        if self.nerdqaxe:
            return self._nerdqaxe_info()
        self._integrate()
        nvs = self.nvs
        best: int | str = self.best_diff
        session: int | str = self.best_session_diff
        best = max(int(best), int(session))
        if not self.since(2, 11):
            best, session = suffix_string(best), suffix_string(int(session))
        freq: float | int = int(nvs.frequency) if nvs.frequency.is_integer() else nvs.frequency
        info: dict[str, Any] = {
            "power": round(self.power_w, 4),
            "voltage": self.input_voltage_mv,
            "current": self.input_current_ma,
            "temp": round(self.chip_temp_c, 4),
        }
        if self.since(2, 10):
            info["temp2"] = round(self.chip_temp_c, 4) if self.asic_count > 1 else 0
        info.update(
            vrTemp=round(self.vr_temp_c, 4),
            maxPower=self.board.max_power,
            nominalVoltage=self.board.nominal_voltage,
            hashRate=round(self.hashrate_ghs, 4),
        )
        if self.since(2, 12):
            info.update(
                hashRate_1m=round(self.hashrate_ghs, 4),
                hashRate_10m=round(self.hashrate_ghs, 4),
                hashRate_1h=round(self.hashrate_ghs, 4),
            )
        if self.since(2, 8):
            info["expectedHashrate"] = round(self.expected_hashrate_ghs, 4)
        if self.since(2, 14):
            info["actualFrequency"] = self.frequency if self.mining else 50
        if self.since(2, 11):
            info["errorPercentage"] = round((1 - self.hashrate_ratio) * 100, 4)
        info.update(
            bestDiff=best,
            bestSessionDiff=session,
            poolDifficulty=self.pool_difficulty,
            isUsingFallbackStratum=int(nvs.useFallbackStratum),
            isPSRAMAvailable=1,
            freeHeap=8_123_456,
            coreVoltage=nvs.coreVoltage,
            coreVoltageActual=self.core_voltage_actual_mv,
            frequency=freq,
            ssid=self.wifi_ssid,
            macAddr=self.mac,
            hostname=nvs.hostname,
            ipv4=self.ip,
            wifiStatus="Connected!",
            wifiRSSI=self.wifi_rssi,
            apEnabled=0,
            sharesAccepted=self.shares_accepted,
            sharesRejected=self.shares_rejected,
            sharesRejectedReasons=(
                [{"message": "Above target", "count": self.shares_rejected}]
                if self.shares_rejected
                else []
            ),
            uptimeSeconds=self.uptime_s,
        )
        if not self.since(2, 9):
            info["asicCount"] = self.asic_count
        info.update(
            smallCoreCount=self.small_core_count,
            ASICModel=self.board.asic.name,
            stratumURL=nvs.stratumURL,
            stratumPort=nvs.stratumPort,
            stratumUser=nvs.stratumUser,
            stratumSuggestedDifficulty=nvs.stratumSuggestedDifficulty,
            stratumExtranonceSubscribe=0,
            fallbackStratumURL=nvs.fallbackStratumURL,
            fallbackStratumPort=nvs.fallbackStratumPort,
            fallbackStratumUser=nvs.fallbackStratumUser,
            fallbackStratumSuggestedDifficulty=nvs.stratumSuggestedDifficulty,
            fallbackStratumExtranonceSubscribe=0,
            responseTime=23.4,
            version=self.firmware,
            axeOSVersion=self.firmware,
            idfVersion="v5.5.1" if self.since(2, 12) else "v5.4.1",
            boardVersion=self.board.board_version,
            runningPartition="ota_0",
            overheat_mode=0,
            overclockEnabled=int(nvs.overclockEnabled),
            display="SSD1306 (128x32)",
            rotation=0,
            invertscreen=0,
            displayTimeout=nvs.displayTimeout,
            autofanspeed=int(nvs.autofanspeed),
            fanspeed=self.fan_percent,
        )
        if self.since(2, 11):
            info.update(
                manualFanSpeed=nvs.manualFanSpeed,
                minFanSpeed=nvs.minFanSpeed,
                fan2rpm=0,
            )
        if self.since(2, 7):
            info["temptarget"] = nvs.temptarget
        info.update(fanrpm=self.fan_rpm, statsFrequency=0)
        if self.since(2, 14):
            info.update(
                miningPaused=self.paused,
                cpuUsage=18.5,
                resetReason="Software reset via esp_restart",
            )
        return info

    def _nerdqaxe_info(self) -> dict[str, Any]:
        self._integrate()
        nvs = self.nvs
        info: dict[str, Any] = {
            "asicCount": self.asic_count,
            "smallCoreCount": self.small_core_count,
            "deviceModel": self.board.device_model,
            "hostip": self.ip,
            "macAddr": self.mac,
            "wifiRSSI": self.wifi_rssi,
            # The buck's input power: with the buck off it reads 0.
            "power": round(self.power_w, 4) if not self.paused else 0.0,
            "maxPower": self.board.max_power,
            "minPower": 52,
            "maxVoltage": 13,
            "minVoltage": 11,
            "current": self.input_current_ma,
            "temp": round(self.chip_temp_c, 4),
            "vrTemp": round(self.vr_temp_c, 4),
            "hashRateTimestamp": int(time.time()),
            # PowerManagementTask::shutdown: hashrates read 0 while shut down.
            "hashRate": round(self.hashrate_ghs, 4),
            "hashRate_1m": round(self.hashrate_ghs, 4),
            "hashRate_10m": round(self.hashrate_ghs, 4),
            "hashRate_1h": round(self.hashrate_ghs, 4),
            "hashRate_1d": round(self.hashrate_ghs, 4),
            "coreVoltage": nvs.coreVoltage,
            "defaultCoreVoltage": self.default_voltage,
            "coreVoltageActual": self.core_voltage_actual_mv,
            "fanspeed": self.fan_percent,
            "manualFanSpeed": nvs.manualFanSpeed,
            "fanrpm": self.fan_rpm,
            "shutdown": self.paused,
            "poolDifficulty": self.pool_difficulty,
            "sharesAccepted": self.shares_accepted,
            "sharesRejected": self.shares_rejected,
            "bestDiff": suffix_string(max(self.best_diff, self.best_session_diff)),
            "bestSessionDiff": suffix_string(self.best_session_diff),
            "hostname": nvs.hostname,
            "ssid": self.wifi_ssid,
            "stratumURL": nvs.stratumURL,
            "stratumPort": nvs.stratumPort,
            "stratumUser": nvs.stratumUser,
            "fallbackStratumURL": nvs.fallbackStratumURL,
            "fallbackStratumPort": nvs.fallbackStratumPort,
            "fallbackStratumUser": nvs.fallbackStratumUser,
            "voltage": self.input_voltage_mv,
            # board->getAsicFrequency(): the setting, reloaded by every PATCH; the ASICs run
            # it at once only since v1.0.29 (before, from the next boot).
            "frequency": int(nvs.frequency),
            "defaultFrequency": self.default_frequency,
            "jobInterval": 500,
            "pidTargetTemp": nvs.pidTargetTemp,
            "pidP": 6.0,
            "pidI": 0.1,
            "pidD": 10.0,
            "autofanspeed": nvs.autofanspeed,
            "otp": self.otp,
            "ASICModel": self.board.asic.name,
            "uptimeSeconds": self.uptime_s,
            "lastResetReason": "Software reset",
            "wifiStatus": "Connected!",
            "freeHeap": 7_812_345,
            "version": self.firmware,
            "runningPartition": "ota_0",
        }
        if not self.fork_since(1, 0, 35):
            del info["manualFanSpeed"]
        if not self.fork_since(1, 0, 29):
            for key in ("pidTargetTemp", "pidP", "pidI", "pidD"):
                del info[key]
        return info

    def asic_info(self) -> dict[str, Any]:
        board = self.board
        return {
            "ASICModel": board.asic.name,
            "deviceModel": board.device_model,
            "swarmColor": board.swarm_color,
            "asicCount": self.asic_count,
            "hashDomains": board.asic.hash_domains,
            "defaultFrequency": self.default_frequency,
            "frequencyOptions": list(board.frequency_options or board.asic.frequency_options),
            "defaultVoltage": self.default_voltage,
            "voltageOptions": list(board.voltage_options or board.asic.voltage_options),
        }

    # ---- settings --------------------------------------------------------------------------
    def _lookup(self, body: dict[str, Any], name: str) -> tuple[bool, Any]:
        """cJSON_GetObjectItem is case-insensitive; the NerdQAxe's ArduinoJson is not."""
        if name in body:
            return True, body[name]
        if not self.nerdqaxe:
            lowered = name.lower()
            for key, value in body.items():
                if key.lower() == lowered:
                    return True, value
        return False, None

    def _parse_settings(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The NVS writes a PATCH body asks for, or None when the firmware rejects it."""
        if self.nerdqaxe:
            return self._parse_fork(body)
        if self.since(2, 11):
            return self._parse_checked(body)
        return self._parse_lenient(body)

    def _parse_fork(self, body: dict[str, Any]) -> dict[str, Any]:
        """handler_system.cpp PATCH_update_settings: strings where `is<const char*>()`,
        numbers where `is<uint16_t>()` (frequency and voltage only when above 0)."""
        updates: dict[str, Any] = {}
        for name in ("hostname", "stratumURL", "stratumUser", "stratumPassword"):
            if isinstance(body.get(name), str):
                updates[name] = body[name]
        speed_key = "manualFanSpeed" if self.fork_since(1, 0, 35) else "fanspeed"
        numbers = ["stratumPort", speed_key]
        if self.fork_since(1, 0, 29):
            numbers += ["autofanspeed", "pidTargetTemp"]
        elif isinstance(body.get("autofanspeed"), bool):  # is<bool>() before v1.0.29
            updates["autofanspeed"] = int(body["autofanspeed"])
        for name in (*numbers, "frequency", "coreVoltage"):
            value = body.get(name)
            if not (isinstance(value, int) and not isinstance(value, bool)):
                continue
            if 0 <= value <= U16_MAX and (name in numbers or value > 0):
                target = "manualFanSpeed" if name == "fanspeed" else name
                updates[target] = float(value) if name == "frequency" else value
        return updates

    def _parse_checked(self, body: dict[str, Any]) -> dict[str, Any] | None:
        updates: dict[str, Any] = {}
        valid = True
        for setting in SETTINGS_TABLE:
            found, value = self._lookup(body, setting.name)
            if not found:
                continue
            if setting.kind == "str":
                ok = isinstance(value, str) and setting.low <= len(value) <= setting.high
            elif setting.kind == "bool":
                ok = isinstance(value, bool) or (
                    _is_number(value) and setting.low <= int(value) <= setting.high
                )
                value = bool(value)
            else:
                ok = _is_number(value) and setting.low <= value <= setting.high
                if ok and setting.kind != "float":
                    value = int(value)
                elif ok:
                    value = float(value)
            valid = valid and ok
            updates[setting.name] = value
        return updates if valid else None

    def _parse_lenient(self, body: dict[str, Any]) -> dict[str, Any]:
        updates: dict[str, Any] = {}
        strings = ["hostname", "stratumURL", "stratumUser", "stratumPassword"]
        strings += ["fallbackStratumURL", "fallbackStratumUser", "fallbackStratumPassword"]
        numbers = ["stratumPort", "fallbackStratumPort", "stratumSuggestedDifficulty"]
        numbers += ["temptarget", "displayTimeout"] if self.since(2, 7) else ["displayTimeout"]
        flags = ["autofanspeed", "overclockEnabled"]
        fan_key = "fanspeed"
        for name in strings:
            found, value = self._lookup(body, name)
            if found and isinstance(value, str):
                updates[name] = value
        for name in [*numbers, *flags, fan_key]:
            found, value = self._lookup(body, name)
            # cJSON's valueint: the number, or 1 for a JSON true and 0 for false.
            if found and (_is_number(value) or isinstance(value, bool)):
                target = "manualFanSpeed" if name == "fanspeed" else name
                updates[target] = int(value)
        for name in ("frequency", "coreVoltage"):
            found, value = self._lookup(body, name)
            if found and _is_number(value) and value > 0:
                updates[name] = float(value) if name == "frequency" else int(value)
        return updates

    def _write_settings(self, updates: dict[str, Any]) -> Callable[[], None]:
        def change() -> None:
            for name, value in updates.items():
                setattr(self.nvs, name, value)
            if "hostname" in updates:
                self.hostname = updates["hostname"]
            if self.live_frequency:
                # The power-management loop notices the NVS change and applies it live.
                self.frequency = self.nvs.frequency
                self.core_voltage = self.nvs.coreVoltage

        return change

    # ---- HTTP ------------------------------------------------------------------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()
        app.on_response_prepare.append(_esp_httpd_headers)
        route = app.router.add_route
        route("GET", "/api/system/info", self._get_info)
        route("GET", "/api/system/asic", self._get_asic)
        route("GET", "/api/system/statistics", self._get_statistics)
        route("POST", "/api/system/restart", self._post_restart)
        route("PATCH", "/api/system", self._patch_system)
        if self.has_pause:
            route("POST", "/api/system/pause", self._post_pause)
            route("POST", "/api/system/resume", self._post_resume)
        if self.has_shutdown:
            route("POST", "/api/system/shutdown", self._post_shutdown)
        if self.since(2, 12):
            route("POST", "/api/system/identify", self._post_identify)
        route("OPTIONS", "/api/{tail:.*}", self._options)
        if self.nerdqaxe:
            route("POST", "/api/{tail:.*}", self._redirect_home)
        route("*", "/api/{tail:.*}", self._unknown_api)
        route("GET", "/", self._index)
        route("GET", "/{tail:.*}", self._redirect_home)
        return app

    def _json(self, data: Any, status: int = 200) -> web.Response:
        if self.version < (2, 13) or self.nerdqaxe:
            text = json.dumps(data, indent="\t")
        else:
            text = json.dumps(data, separators=(",", ":"))
        return web.Response(
            text=text, status=status, content_type="application/json", headers=_CORS
        )

    def _refused(self, request: web.Request) -> web.Response | None:
        """The firmware's private-network check failed: 401 for every API call."""
        if self.faults.wrong_credentials:
            return web.Response(status=401, text="Unauthorized", content_type="text/html")
        return None

    async def _index(self, request: web.Request) -> web.Response:
        title = "Nerd*axe Dashboard" if self.nerdqaxe else "AxeOS"
        body = gzip.compress(INDEX_HTML.format(title=title).encode(), mtime=0)
        return web.Response(
            body=body,
            content_type="text/html",
            headers={"Content-Encoding": "gzip"},
        )

    async def _redirect_home(self, request: web.Request) -> web.Response:
        return web.Response(
            status=302,
            text="Redirect to the captive portal",
            headers={"Location": "/"},
            content_type="text/html",
        )

    async def _options(self, request: web.Request) -> web.Response:
        return self._refused(request) or web.Response(headers=_CORS, content_type="text/html")

    async def _unknown_api(self, request: web.Request) -> web.Response:
        return self._refused(request) or self._json({"error": "unknown route"}, status=404)

    async def _get_info(self, request: web.Request) -> web.Response:
        return self._refused(request) or self._json(self.system_info())

    async def _get_asic(self, request: web.Request) -> web.Response:
        return self._refused(request) or self._json(self.asic_info())

    async def _get_statistics(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        # statsFrequency is 0 (the factory setting): no samples are being collected.
        labels = ["hashrate", "asicTemp", "vrTemp", "power", "fanSpeed", "timestamp"]
        return self._json(
            {
                "currentTimestamp": int(self.uptime_s * 1000),
                "labels": labels,
                "statistics": [],
            }
        )

    async def _post_restart(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        rec = self.record("http", "restart")
        self.apply(rec, self.reboot, delay=min(1.0, self.command_delay))
        if self.since(2, 13):
            return self._json({"message": "System will restart shortly."})
        return web.Response(text="System will restart shortly.", content_type="text/html")

    async def _post_pause(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        rec = self.record("http", "pause")
        self.apply(rec, self._set_paused(True))
        return self._json({"message": "Mining paused"})

    async def _post_resume(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        rec = self.record("http", "resume")
        self.apply(rec, self._set_paused(False))
        return self._json({"message": "Mining resumed"})

    async def _post_shutdown(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        rec = self.record("http", "shutdown")
        # The answer goes first; a second later the buck and the LDOs go off.
        self.apply(rec, self._set_paused(True), delay=min(1.0, self.command_delay))
        return web.Response(text="System will shutdown shortly.", content_type="text/html")

    def _set_paused(self, paused: bool) -> Callable[[], None]:
        def change() -> None:
            self.paused = paused

        return change

    async def _post_identify(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        self.record("http", "identify")
        if self.identify_until > time.monotonic():
            self.identify_until = 0.0
            return self._json({"message": 'The device no longer says "Hi!".'})
        self.identify_until = time.monotonic() + 30
        return self._json({"message": 'The device says "Hi!" for 30 seconds.'})

    async def _patch_system(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        raw = await request.read()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError, UnicodeDecodeError:
            body = None
        if not isinstance(body, dict):
            return web.Response(status=400, text="Invalid JSON", content_type="text/html")
        rec = self.record("http", "patch_system", **body)
        if self.otp:
            rec.applied = False
            return web.Response(status=401, text="OTP/Session required", content_type="text/html")
        updates = self._parse_settings(body)
        if updates is None:
            rec.applied = False
            return web.Response(status=400, text="Wrong API input", content_type="text/html")
        self.apply(rec, self._write_settings(updates))
        # httpd_resp_send_chunk(req, NULL, 0): a 200 with an empty body.
        return web.Response(status=200, content_type="text/html", headers=_CORS)


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


async def _esp_httpd_headers(request: web.Request, response: web.StreamResponse) -> None:
    # esp_http_server sends no Server header.
    response.headers.popall("Server", None)
