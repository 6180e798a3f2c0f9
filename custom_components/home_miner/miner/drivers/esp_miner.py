"""ESP-Miner / AxeOS (Bitaxe) and its NerdQAxe++ fork: read and driven through their HTTP API.

pyasic knows how to read ESP-Miner but has no stop, resume, power limit or fan control for it,
and its `get_data` costs several HTTP requests where one `GET /api/system/info` has everything.
So this driver reads that one document and talks to the firmware directly:
- stop/resume: ESP-Miner 2.14+ `POST /api/system/pause|resume`; the NerdQAxe++ (fork release
  1.0.36+) only has `POST /api/system/shutdown` (ASICs and their regulators off, kept in RAM),
  left by `POST /api/system/restart`, a reboot;
- power limit: the ASIC frequency (`PATCH /api/system {"frequency": f}`), chosen among the
  frequencies `GET /api/system/asic` offers, using watts per MHz measured on this miner;
- fan: `PATCH /api/system` with `autofanspeed` (mode), the manual speed and the temperature
  the automatic fan holds, under each firmware's own keys.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError
from ..model import (
    FAN_AUTO,
    FAN_MANUAL,
    Board,
    Capabilities,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
    PowerLimitRange,
)
from .base import Driver, version_tuple

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

# Typical watts per MHz of one chip at its default voltage (Bitaxe Max, Ultra, Supra, Gamma).
NOMINAL_W_PER_MHZ = {"BM1397": 0.028, "BM1366": 0.023, "BM1368": 0.027, "BM1370": 0.032}
PAUSE_SINCE = (2, 14)
IDENTIFY_SINCE = (2, 12)
# bitaxeorg/ESP-Miner: `manualFanSpeed` replaced `fanspeed` as the manual speed's key in 2.11
# (main/nvs_config.c); the NVS table bounds it 0-100 % and `temptarget` 35-66 °C, the range
# AxeOS's slider had since `temptarget` came in 2.7 (components/edit/edit.component.html).
FAN_PERCENT = (0, 100)
TEMP_TARGET_C = (35, 66)
# shufps/ESP-Miner-NerdQAxePlus, its own release numbers: the power-management task applies a
# PATCHed frequency live since 1.0.29 (checkAsicFrequencyChanged), shutdown came in 1.0.36
# (main/http_server/handler_shutdown.cpp). Since 1.0.29 its fan modes are 0 manual and 2 PID
# with `pidTargetTemp` (1, the old automatic curve, is migrated to manual at boot:
# nvs_config.cpp migrate_config; before, `autofanspeed` was a JSON boolean and there was no
# target); the manual speed's key is `fanspeed` until 1.0.35 renamed it `manualFanSpeed`.
# AxeOS's edit page bounds the PID's target to 30-80 °C.
FORK_LIVE_FREQUENCY_SINCE = (1, 0, 29)
FORK_SHUTDOWN_SINCE = (1, 0, 36)
FORK_MODES = {FAN_MANUAL: 0, FAN_AUTO: 2}
FORK_TARGET_C = (30, 80)
GH_PER_TH = 1000.0
_WATT = 1e-6


def _num(info: dict[str, Any], key: str) -> float | None:
    value = info.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def is_fork(info: dict[str, Any]) -> bool:
    """A NerdQAxe-family fork: it names itself in `deviceModel` ("NerdQAxe++"); official
    boards say "Gamma", "Supra"..."""
    return str(info.get("deviceModel") or "").lower().startswith("nerd")


# A Bitaxe's draw with its ASICs paused (ESP32, fan, regulators), until its own is known:
# high for one (3-5 W), so that a power limit errs on the low side.
TYPICAL_IDLE_W = 5.0


class EspMinerDriver(Driver):
    """Bitaxe and its forks."""

    family = Family.ESP_MINER

    def __init__(self) -> None:
        self._frequencies: tuple[int, ...] = ()
        # The board's draw: what it draws paused (its ESP32, fan and regulators; learned the
        # first time it is seen paused) plus the ASICs' share, in proportion to the frequency.
        self._watts_per_mhz: float | None = None
        self._idle_w: float | None = None
        self._seen: tuple[float, float] | None = None  # (MHz, W) of the last hashing reading
        self._fork = False
        self._manual_key = "manualFanSpeed"

    async def _info(self, miner: AnyMiner) -> dict[str, Any]:
        info = await self.http.request("GET", "/api/system/info", command="info")
        if not isinstance(info, dict) or "hashRate" not in info:
            raise MinerConnectionError("the miner's answer is not AxeOS system info")
        return info

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        info = await self._info(miner)
        mac = info.get("macAddr")
        if not isinstance(mac, str) or not mac:
            raise MinerConnectionError("the miner did not report its MAC address")
        fork = self._fork = is_fork(info)
        device_model = str(info.get("deviceModel") or "")
        board = str(miner.raw_model or device_model or info.get("ASICModel") or "")
        identity = MinerIdentity(
            host=host,
            mac=mac.upper(),
            hostname=str(info.get("hostname") or "") or None,
            make="NerdAxe" if fork else "Bitaxe",
            model=device_model if fork else f"Bitaxe {board}".strip(),
            firmware="ESP-Miner",
            firmware_version=str(info.get("version") or "") or None,
            family=self.family,
        )
        try:
            asic = await self.http.request("GET", "/api/system/asic", command="asic")
        except MinerCommandError:  # firmware before the endpoint existed
            asic = {}
        options = asic.get("frequencyOptions") if isinstance(asic, dict) else None
        self._frequencies = tuple(
            sorted(int(f) for f in options or [] if isinstance(f, (int, float)))
        )
        power = _num(info, "power")
        frequency = _num(info, "frequency")
        if power and frequency and (_num(info, "hashRate") or 0) > 0:
            self._watts_per_mhz = max(power - self._idle(), 0.1) / frequency
            self._seen = (frequency, power)
        else:
            if power and (info.get("miningPaused") is True or info.get("shutdown") is True):
                self._idle_w = power
            # Paused or just booted: start from the chip's typical draw, per ASIC.
            per_chip = NOMINAL_W_PER_MHZ.get(str(info.get("ASICModel", "")))
            chips = _num(asic, "asicCount") if isinstance(asic, dict) else None
            chips = chips or _num(info, "asicCount") or 1
            self._watts_per_mhz = per_chip * chips if per_chip else None
        version = version_tuple(identity.firmware_version)
        # With one-time passwords on, the fork takes settings only with a code a person types.
        settable = not (fork and info.get("otp") is True)
        power_limit = None
        live = not fork or version >= FORK_LIVE_FREQUENCY_SINCE
        if self._frequencies and self._watts_per_mhz and live and settable:
            low, high = self._frequencies[0], self._frequencies[-1]
            # As the limit a poll reports at each end: choosing the maximum keeps the top
            # frequency (the fork's default), and no lower limit than the lowest frequency's.
            power_limit = PowerLimitRange(
                minimum=self._limit(low), maximum=self._limit(high), step=1
            )
        fan_modes, manual, target = self._fan_capabilities(info) if settable else ((), None, None)
        caps = Capabilities(
            can_stop=version >= (FORK_SHUTDOWN_SINCE if fork else PAUSE_SINCE),
            resume_reboots=fork,
            # The fork has no identify; the firmware's says "Hi!" on the screen for 30 s.
            can_identify=not fork and version >= IDENTIFY_SINCE,
            identify_by="screen",
            power_limit=power_limit,
            can_reboot=True,
            hashrate_unit="GH/s",
            # ESP-Miner's own overheat protection trips at an ASIC temperature of 75 °C.
            overheat_c=75.0,
            boards=1,
            fans=1,
            fan_modes=fan_modes,
            manual_fan_speed=manual,
            target_temperature=target,
        )
        self.keep_for_first_poll(self._snapshot(info, caps))
        return identity, caps

    def _fan_capabilities(
        self, info: dict[str, Any]
    ) -> tuple[tuple[str, ...], tuple[int, int] | None, tuple[int, int] | None]:
        """Fan modes, manual-speed and target-temperature bounds, from the keys the firmware
        reports (each came in with the setting it reads back)."""
        if "autofanspeed" not in info or (self._fork and "pidTargetTemp" not in info):
            return (), None, None
        self._manual_key = "manualFanSpeed" if "manualFanSpeed" in info else "fanspeed"
        if self._fork:
            pid_target = _num(info, "pidTargetTemp")
            has_pid = pid_target is not None and pid_target >= 0  # -1: the board has no PID
            return (
                (FAN_AUTO, FAN_MANUAL) if has_pid else (),
                FAN_PERCENT,
                FORK_TARGET_C if has_pid else None,
            )
        return (FAN_AUTO, FAN_MANUAL), FAN_PERCENT, TEMP_TARGET_C if "temptarget" in info else None

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        return self._snapshot(await self._info(miner), caps)

    def _snapshot(self, info: dict[str, Any], caps: Capabilities) -> MinerSnapshot:
        hashrate_gh = _num(info, "hashRate")
        stopped = info.get("miningPaused") is True or info.get("shutdown") is True
        frequency = _num(info, "frequency")
        expected_gh = _num(info, "expectedHashrate")
        cores, chips = _num(info, "smallCoreCount"), _num(info, "asicCount")
        if expected_gh is None and cores and chips and frequency:
            # Not reported before ESP-Miner 2.8, nor by the fork: ESP-Miner's own formula.
            expected_gh = 0.0 if stopped else frequency * cores * chips / 1000
        temps = [t for t in (_num(info, "temp"), _num(info, "vrTemp")) if t is not None and t > 0]
        url = info.get("stratumURL")
        pool = None
        if isinstance(url, str) and url:
            port = info.get("stratumPort")
            pool = Pool(
                url=f"stratum+tcp://{url}:{port}" if port else url,
                user=str(info.get("stratumUser") or "") or None,
                accepted=int(_num(info, "sharesAccepted") or 0),
                rejected=int(_num(info, "sharesRejected") or 0),
            )
        hashrate = hashrate_gh / GH_PER_TH if hashrate_gh is not None else None
        asic_temp = _num(info, "temp")
        power = _num(info, "power")
        if stopped and power:
            self._paused(power)
        elif hashrate and power and frequency and self._watts_per_mhz:
            self._learn(frequency, power)
        power_limit = None
        if self._watts_per_mhz and frequency:
            power_limit = self._limit(frequency)
        fan_mode, manual_speed, target = self._fan_state(info)
        return MinerSnapshot(
            is_mining=bool(hashrate) and not stopped,
            hashrate_ths=hashrate,
            expected_hashrate_ths=expected_gh / GH_PER_TH if expected_gh else None,
            power_w=_num(info, "power"),
            power_limit_w=power_limit,
            temperature_avg=asic_temp,
            temperature_max=max(temps) if temps else None,
            env_temperature=None,
            uptime_s=int(_num(info, "uptimeSeconds") or 0),
            boards=(
                Board(
                    index=0,
                    hashrate_ths=hashrate,
                    temperature=asic_temp,
                    chip_temperature=asic_temp,
                    chips=int(_num(info, "asicCount") or 1),
                    expected_chips=int(_num(info, "asicCount") or 1),
                    active=bool(hashrate),
                ),
            ),
            fans=(int(_num(info, "fanrpm") or 0),),
            pool=pool,
            overheat_c=caps.overheat_c,
            fan_mode=fan_mode if caps.fan_modes else None,
            manual_fan_speed=manual_speed if caps.manual_fan_speed else None,
            target_temperature=target if caps.target_temperature else None,
        )

    def _fan_state(self, info: dict[str, Any]) -> tuple[str | None, int | None, float | None]:
        mode_value = _num(info, "autofanspeed")
        if self._fork:
            modes = {value: mode for mode, value in FORK_MODES.items()}
            mode = modes.get(int(mode_value)) if mode_value is not None else None
            target = _num(info, "pidTargetTemp")
        else:
            mode = None if mode_value is None else FAN_AUTO if mode_value else FAN_MANUAL
            target = _num(info, "temptarget")
        speed = _num(info, "manualFanSpeed")
        if speed is None and mode == FAN_MANUAL:
            # Before ESP-Miner 2.11 (the fork's 1.0.35) the manual speed is not reported, but
            # in manual mode the fan runs at it (`fanspeed` is the fan's duty).
            speed = _num(info, "fanspeed")
        return mode, None if speed is None else round(speed), target

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        # The firmware answers writes with an empty body or a line of text, which pyasic's
        # client reports as an error although the command went through.
        await self.http.request(method, f"/api/{path}", command=path.rsplit("/", 1)[-1], body=body)

    async def stop(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/shutdown" if self._fork else "system/pause")

    async def resume(self, miner: AnyMiner) -> None:
        if not self._fork:
            await self._send("POST", "system/resume")
        elif (await self._info(miner)).get("shutdown") is True:
            # Only a reboot leaves the fork's shutdown; a miner not shut down is not rebooted.
            await self._send("POST", "system/restart")

    async def reboot(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/restart")

    async def identify(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/identify")

    def power_levels(self) -> tuple[int, ...]:
        """Each frequency's limit as a poll reports it: asking for it gets that frequency."""
        if not self._frequencies or not self._watts_per_mhz:
            return ()
        return tuple(sorted({self._limit(f) for f in self._frequencies}))

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        if not self._frequencies or not self._watts_per_mhz:
            raise MinerCommandError("power_limit", "not supported by this miner")
        # The highest frequency whose limit, as a poll reports it, fits: asking for the limit
        # a poll reported gives that frequency back, and the board draws no more.
        fitting = [f for f in self._frequencies if self._limit(f) <= watts]
        frequency = fitting[-1] if fitting else self._frequencies[0]
        await self._send("PATCH", "system", {"frequency": frequency})
        return self._limit(frequency)

    def _limit(self, frequency: float) -> int:
        """The power limit a poll reports at this frequency: its draw, rounded up."""
        return math.ceil(self._draw(frequency) - _WATT)

    def _paused(self, power: float) -> None:
        """Seen paused: what it draws so is the board's own; the ASICs' share per MHz is
        what the last hashing reading drew above it."""
        self._idle_w = power
        if self._seen is not None:
            frequency, hashing = self._seen
            self._watts_per_mhz = max(hashing - power, 0.1) / frequency

    def _learn(self, frequency: float, power: float) -> None:
        """Two readings at different frequencies give both the board's own draw and the
        ASICs' per MHz (ESP-Miner keeps the core voltage across frequency steps)."""
        seen, self._seen = self._seen, (frequency, power)
        if seen is not None and abs(seen[0] - frequency) >= 1:
            per_mhz = (power - seen[1]) / (frequency - seen[0])
            if per_mhz > 0 and power - per_mhz * frequency >= 0:
                self._watts_per_mhz = per_mhz
                self._idle_w = power - per_mhz * frequency
                return
        self._watts_per_mhz = max(power - self._idle(), 0.1) / frequency

    def _idle(self) -> float:
        """What the board draws paused; before it has been seen paused, a typical Bitaxe's."""
        return self._idle_w if self._idle_w is not None else TYPICAL_IDLE_W

    def _draw(self, frequency: float) -> float:
        assert self._watts_per_mhz is not None
        return self._idle() + self._watts_per_mhz * frequency

    def _mode_value(self, mode: str) -> int:
        # Numbers, not JSON booleans: the fork takes `autofanspeed` only where ArduinoJson's
        # is<uint16_t>() holds.
        return FORK_MODES[mode] if self._fork else int(mode == FAN_AUTO)

    async def set_fan_mode(self, miner: AnyMiner, mode: str) -> None:
        await self._send("PATCH", "system", {"autofanspeed": self._mode_value(mode)})

    async def set_manual_fan_speed(self, miner: AnyMiner, percent: int) -> None:
        # A manual speed is the fan's speed only in manual mode: setting one selects it.
        await self._send(
            "PATCH",
            "system",
            {"autofanspeed": self._mode_value(FAN_MANUAL), self._manual_key: percent},
        )

    async def set_target_temperature(self, miner: AnyMiner, celsius: int) -> None:
        # The target is held only by the automatic fan: setting one selects it.
        key = "pidTargetTemp" if self._fork else "temptarget"
        await self._send(
            "PATCH", "system", {"autofanspeed": self._mode_value(FAN_AUTO), key: celsius}
        )
