"""Canaan Avalon Nano 3 and Nano 3s: Canaan's cgminer 4.11.1 API on TCP 4028, web UI on port 80.

What the simulator reproduces, and where it comes from:

* The API (`api.c` of Canaan's published Nano 3s firmware, Canaan-Creative/Avalon_Nano3s):
  one request per connection, the reply is JSON followed by a NUL and the connection is
  closed; commands joined with "+" answer `{"cmd":[{...,"id":1}],...,"id":1}`; `ascset` is
  not joinable ("Access denied"); there is no `restart` command ("Invalid command").
* `ascset|0,<option>,<setting>` goes to the driver's option table. The Nano 3s table has
  `workmode` (Low/Medium/High), `worklevel` (a level inside the mode, bounded by the
  firmware), `work_mode_lvl`, `reboot,<delay s>`, `fan-spd`, `ledmode`; there is no
  `softoff`/`softon`/`led` ("Unknown option", Canaan-Creative/Avalon_Nano3s issue #2).
  The Nano 3 (MM318 firmware 24071801) selects its three power levels with `worklevel`
  (ATA0..ATA2 in its estats) and has `led,get|setmode|setrgb` and `reboot,all`.
* The estats/stats `MM ID0` string is printed field by field the way each firmware does
  (Nano 3s: `avalon_api_stats()` in driver-avalon.c; Nano 3: replies posted by owners).
  The Nano 3 reports its watts in PS[5] and has a `Temp[]` board sensor and `Led[]`; the
  Nano 3s reports wall watts in PS[6], has no inlet sensor (`ITemp[-273]`) and prints
  `LED[mode-effect]`.
* `soft_off=True` simulates firmware that does accept the Avalon A-series soft power
  commands (`softoff,1:<unix time>` / `softon,1:<unix time>`, answered
  "success softoff:<time>" and carried out at that time on the device's clock).

Physics: the hash rate, power, fan and temperatures are pure functions of the power level
and of whether the hash board runs; the rolling "MHS" averages are computed exactly over the
rate history since boot, so they lag a change the way cgminer's do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import json
import time
from typing import Any

from aiohttp import web

from .base import CommandRecord, SimulatedMiner

CGMINER_VERSION = "4.11.1"
API_VERSION = "3.7"
DESCRIPTION = f"cgminer {CGMINER_VERSION}"
POOL_DIFFICULTY = 16384
DIFF1_HASHES = 2**32


@dataclass(frozen=True)
class Level:
    """One power level as the firmware calibrates it (its ATA entry)."""

    max_power: int
    """MPO: the power target in watts."""
    watts: int
    """What the wall meter reads while hashing at this level."""
    ghs: float
    """GHSmm: the theoretical rate of the chips' PLLs, GH/s."""
    target_c: int
    """TarT: the chip temperature the fan loop holds."""
    volt: int
    """The calibrated supply command (PS/ATA units of the model)."""
    freq: float


@dataclass(frozen=True)
class Spec:
    name: str
    prod: str
    model: str
    hwtype: str
    swtype: str
    driver: str
    dname: str
    firmware: str
    firmware_hw: str
    core: str
    chips: int
    levels: tuple[Level, ...]
    idle_watts: int
    selector: str
    """The `ascset` option that selects the Low/Medium/High power level."""
    worklevel_range: tuple[int, int]
    t_max_above_target: int


NANO3 = Spec(
    name="Avalon Nano 3",
    prod="Avalonnano",
    model="nano3",
    hwtype="PMMv1_X1",
    swtype="MM318_X2",
    driver="AVANANO",
    dname="avalonnano",
    firmware="24071801_42c628d",
    firmware_hw="24071801_b906c52_6223725",
    core="A3198S",
    chips=10,
    levels=(
        Level(60, 59, 2150.0, 80, 310, 0.0),
        Level(90, 89, 3200.0, 85, 324, 0.0),
        Level(125, 125, 4370.0, 90, 344, 0.0),
    ),
    idle_watts=6,
    selector="worklevel",
    worklevel_range=(0, 2),
    t_max_above_target=2,
)

NANO3S = Spec(
    name="Avalon Nano 3s",
    prod="Avalon Nano3s",
    model="Nano3s",
    hwtype="N_MM1v1_X1",
    swtype="MM319",
    driver="AVALON",
    dname="avalon",
    firmware="25021401_56abae7",
    firmware_hw="25021401_56abae7",
    core="A3197S",
    chips=12,
    levels=(
        Level(75, 74, 4100.0, 85, 3380, 300.12),
        Level(100, 99, 5400.0, 88, 3560, 382.50),
        Level(133, 133, 6780.0, 90, 3756, 464.89),
    ),
    idle_watts=7,
    selector="workmode",
    worklevel_range=(0, 0),
    t_max_above_target=5,
)

MODELS = {spec.name: spec for spec in (NANO3, NANO3S)}

DEFAULT_POOLS: tuple[dict[str, str], ...] = (
    {"url": "stratum+tcp://public-pool.io:21496", "user": "bc1qsimulatedhomeminer0000.nano"},
    {"url": "stratum+tcp://solo.ckpool.org:3333", "user": "bc1qsimulatedhomeminer0000.nano"},
)

# The per-chip temperature spread of a healthy board, relative to the hottest chip.
CHIP_SPREAD = (-2, -1, -1, 0, -3, -5, -1, -2, -1, -4, -3, -2)
CHIP_VOLT_SPREAD = (4, -1, 3, -2, 2, 1, -3, -5, -5, 0, 2, -4)
NETFAIL = "0 0 0 0 0 0 0 0"


class Raw(str):
    """A JSON token printed as is: cgminer prints each number with its own fixed format."""


def fixed(value: float, digits: int = 2) -> Raw:
    return Raw(f"{value:.{digits}f}")


def dump(obj: Any) -> str:
    """Compact JSON the way cgminer's `print_data` writes it (no spaces, fixed decimals)."""
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dump(v) for v in obj) + "]"
    raise TypeError(f"no cgminer format for {type(obj).__name__}; wrap floats in fixed()")


class HashMeter:
    """Exact averages of a piecewise-constant hash rate (GH/s) since boot."""

    def __init__(self, now: float, rate: float) -> None:
        self.start = now
        self.segments: list[tuple[float, float]] = [(now, rate)]

    @property
    def rate(self) -> float:
        return self.segments[-1][1]

    def set(self, now: float, rate: float) -> None:
        if rate != self.rate:
            self.segments.append((now, rate))

    def total(self, now: float, since: float | None = None) -> float:
        """GH hashed between `since` (default: boot) and `now`."""
        lo = self.start if since is None else max(since, self.start)
        done = 0.0
        for i, (t0, rate) in enumerate(self.segments):
            t1 = self.segments[i + 1][0] if i + 1 < len(self.segments) else now
            a, b = max(t0, lo), min(t1, now)
            if b > a:
                done += rate * (b - a)
        return done

    def average(self, now: float, window: float | None = None) -> float:
        since = self.start if window is None else max(self.start, now - window)
        span = now - since
        if span <= 0:
            return self.rate
        return self.total(now, since) / span


class AvalonNanoMiner(SimulatedMiner):
    """An Avalon Nano 3 or Nano 3s.

    `work_level` is the Low/Medium/High power level (0/1/2): WORKLEVEL on the Nano 3,
    WORKMODE on the Nano 3s. The Nano 3s also has a WORKLEVEL inside the mode, bounded by
    `worklevel_range` (a single level unless told otherwise); what a level inside a mode
    does to the hardware is not published, so it is reported but changes no physics.
    """

    family = "avalon_nano"
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Avalon Nano 3s"},
        {"model": "Avalon Nano 3", "work_level": 1},
        {"model": "Avalon Nano 3s", "work_level": 0},
        {"model": "Avalon Nano 3s", "soft_off": True},
    )
    """What a fleet cycles through: mostly Nano 3s, one firmware with soft power commands."""
    MODELS: dict[str, Spec] = MODELS
    NOT_JOINABLE = frozenset({"ascset", "check", "switchpool", "time", "setpool"})
    """Write commands that cgminer refuses inside a "+" joined request."""
    # The Wi-Fi module's vendor (Shenzhen Four Seas Global Link): real Nano 3s units and
    # the Mini 3 report E0:E1:A9 MACs; Canaan's own B4:A2:EB is on its wired A-series.
    oui = "E0:E1:A9"
    http_port: int | None = 80
    rpc_port: int | None = 4028

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Avalon Nano 3s",
        firmware: str | None = None,
        work_level: int = 2,
        worklevel: int = 0,
        worklevel_range: tuple[int, int] | None = None,
        pools: list[dict[str, str]] | None = None,
        ambient_c: float = 25.0,
        soft_off: bool = False,
        led_mode: int = 0,
        web_password: str = "root",
        web_minerinfo_paths: tuple[str, ...] = ("/get_minerinfo.cgi",),
        clock_offset: float = 0.0,
        dna: str | None = None,
        **kwargs: Any,
    ) -> None:
        if model not in self.MODELS:
            raise ValueError(f"unknown model {model!r}; one of {sorted(self.MODELS)}")
        super().__init__(ip, **kwargs)
        self.spec = self.MODELS[model]
        if not 0 <= work_level < len(self.spec.levels):
            raise ValueError(f"work_level must be 0..{len(self.spec.levels) - 1}")
        self.firmware = firmware or self.spec.firmware
        self.work_level = work_level
        self.worklevel_range = worklevel_range or self.spec.worklevel_range
        self.worklevel = work_level if self.spec.selector == "worklevel" else worklevel
        self.pools = [dict(p) for p in (pools if pools is not None else DEFAULT_POOLS)]
        self.ambient_c = ambient_c
        self.supports_soft_off = soft_off
        self.soft_off = False
        self.led_mode = led_mode
        self.led_rgb = (100, 255, 128, 0)
        """Nano 3 LED brightness and colour (setrgb)."""
        self.fan_override: int | None = None
        self.web_password = web_password
        self.web_minerinfo_paths = web_minerinfo_paths
        self.clock_offset = clock_offset
        self.dna = dna or "02010000" + hashlib.sha256(f"dna{ip}".encode()).hexdigest()[:8]
        self.meter = HashMeter(time.monotonic(), 0.0)

    # ---- physics ---------------------------------------------------------------------------
    @property
    def level(self) -> Level:
        return self.spec.levels[self.work_level]

    @property
    def hashing(self) -> bool:
        """The hash board is on (soft power off stops it; `powered` is the whole device)."""
        return not self.soft_off

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        return float(self.level.watts if self.hashing else self.spec.idle_watts)

    @property
    def theoretical_ghs(self) -> float:
        return self.level.ghs if self.hashing else 0.0

    @property
    def actual_ghs(self) -> float:
        """What the chips deliver: a few percent under the PLL estimate, as on real units."""
        return round(self.theoretical_ghs * 0.975, 2)

    @property
    def fan_pct(self) -> int:
        if self.fan_override is not None:
            return self.fan_override
        return min(100, round(10 + self.power_w * 0.32))

    @property
    def fan_rpm(self) -> int:
        return round(self.fan_pct * 78)

    @property
    def chip_avg_c(self) -> int:
        if self.hashing:
            return self.level.target_c
        return round(self.ambient_c + 3)

    @property
    def chip_max_c(self) -> int:
        return self.chip_avg_c + (self.spec.t_max_above_target if self.hashing else 1)

    @property
    def board_c(self) -> int:
        """The Nano 3's `Temp[]` sensor, warmed by the board it sits on."""
        return round(self.ambient_c + 0.15 * self.power_w)

    @property
    def outlet_c(self) -> int:
        rise = 0.18 if self.spec is NANO3 else 0.3
        return round(self.ambient_c + rise * self.power_w)

    def now_wall(self) -> int:
        """The device's clock (unix seconds)."""
        return int(time.time() + self.clock_offset)

    def _retarget(self) -> None:
        self.meter.set(time.monotonic(), self.actual_ghs)

    def on_boot(self) -> None:
        # A reboot wakes the hash board and forgets a manual fan speed; the power level,
        # LED and pools are saved settings.
        self.soft_off = False
        self.fan_override = None
        self.meter = HashMeter(time.monotonic(), self.actual_ghs)

    def status(self) -> dict[str, Any]:
        out = super().status()
        out.update(
            model=self.spec.name,
            firmware=self.firmware,
            work_level=self.work_level,
            worklevel=self.worklevel,
            soft_off=self.soft_off,
            hashing=self.powered and self.hashing,
            hashrate_ghs=self.actual_ghs if self.powered else 0.0,
            expected_ghs=self.theoretical_ghs if self.powered else 0.0,
            max_power_w=self.level.max_power,
            fan_rpm=self.fan_rpm if self.powered else 0,
            chip_max_c=self.chip_max_c if self.powered else None,
            led_mode=self.led_mode,
            uptime_s=self.uptime_s if self.powered else 0,
            energy_wh=round(self.energy_wh, 4),
        )
        return out

    # ---- shares, derived deterministically from the hashes done ---------------------------
    def _diff1(self, now: float) -> int:
        return int(self.meter.total(now) * 1e9 / DIFF1_HASHES)

    def _accepted(self, now: float) -> int:
        return self._diff1(now) // POOL_DIFFICULTY

    # ---- RPC -------------------------------------------------------------------------------
    async def handle_rpc(self, request: dict[str, Any]) -> bytes:
        when = self.now_wall()
        command = request.get("command")
        if command is None:
            return self._single(self._message("E", 24, "Missing JSON 'command'", when))
        if not isinstance(command, str):
            return self._single(self._invalid(when))
        raw_param = request.get("parameter")
        param: str | None
        if isinstance(raw_param, bool) or raw_param is None:
            param = None
        elif isinstance(raw_param, int):
            param = str(raw_param)
        elif isinstance(raw_param, float):
            param = f"{raw_param:f}"
        elif isinstance(raw_param, str):
            param = raw_param
        else:
            param = None

        if "+" not in command:
            handler = self._commands().get(command)
            if handler is None:
                return self._single(self._invalid(when))
            return self._single(handler(param, when))

        # Joined commands: each known one once, in order; parameters are not passed.
        parts: dict[str, Any] = {}
        for name in command.split("+"):
            if not name or name in parts:
                continue
            entry = self._commands().get(name)
            if entry is None:
                parts[name] = [{**self._invalid(when), "id": 1}]
            elif name in self.NOT_JOINABLE:
                deny = self._message("E", 45, f"Access denied to '{name}' command", when)
                parts[name] = [{**deny, "id": 1}]
            else:
                parts[name] = [{**entry(None, when), "id": 1}]
        parts["id"] = 1
        return dump(parts).encode() + b"\x00"

    def _commands(self) -> dict[str, Callable[[str | None, int], dict[str, Any]]]:
        return {
            "version": self._version,
            "config": self._config,
            "devs": self._devs,
            "edevs": self._devs,
            "pools": self._pools,
            "summary": self._summary,
            "devdetails": self._devdetails,
            "stats": self._stats,
            "estats": self._estats,
            "check": self._check,
            "coin": self._coin,
            "ascset": self._ascset,
        }

    @staticmethod
    def _single(section: dict[str, Any]) -> bytes:
        return dump({**section, "id": 1}).encode() + b"\x00"

    @staticmethod
    def _message(severity: str, code: int, msg: str, when: int) -> dict[str, Any]:
        status: dict[str, Any] = {"STATUS": severity, "When": when, "Code": code, "Msg": msg}
        # cgminer leaves out its description for unknown commands (random port probes).
        if code != 14:
            status["Description"] = DESCRIPTION
        return {"STATUS": [status]}

    def _invalid(self, when: int) -> dict[str, Any]:
        return self._message("E", 14, "Invalid command", when)

    def _version(self, param: str | None, when: int) -> dict[str, Any]:
        spec = self.spec
        info: dict[str, Any] = {
            "CGMiner": CGMINER_VERSION,
            "API": API_VERSION,
            "PROD": spec.prod,
            "MODEL": spec.model,
            "HWTYPE": spec.hwtype,
            "SWTYPE": spec.swtype,
        }
        if spec is NANO3:
            # The Nano 3 firmware does not report its MAC over the API.
            info.update(VERSION=self.firmware, HVERSION=spec.firmware_hw, UPAPI="2")
        else:
            info.update(
                LVERSION=self.firmware,
                BVERSION=self.firmware,
                CGVERSION=self.firmware,
                DNA=self.dna,
                MAC=self.mac.replace(":", "").lower(),
                UPAPI="2",
            )
        return {**self._message("S", 22, "CGMiner versions", when), "VERSION": [info]}

    def _config(self, param: str | None, when: int) -> dict[str, Any]:
        info = {
            "ASC Count": 1,
            "PGA Count": 0,
            "Pool Count": len(self.pools),
            "Strategy": "Failover",
            "Log Interval": 5,
            "Device Code": "AVA ",
            "OS": "Linux",
            "Hotplug": "None",
        }
        return {**self._message("S", 33, "CGMiner config", when), "CONFIG": [info]}

    def _rates(self, now: float) -> dict[str, float]:
        m = self.meter
        return {
            "av": m.average(now),
            "5s": m.average(now, 5),
            "1m": m.average(now, 60),
            "5m": m.average(now, 300),
            "15m": m.average(now, 900),
        }

    def _devs(self, param: str | None, when: int) -> dict[str, Any]:
        now = time.monotonic()
        rates = self._rates(now)
        elapsed = max(now - self.meter.start, 1e-9)
        accepted = self._accepted(now)
        rejected = accepted // 300
        diff1 = self._diff1(now)
        dev = {
            "ASC": 0,
            "Name": self.spec.driver,
            "ID": 0,
            "Enabled": "Y",
            "Status": "Alive",
            "Temperature": fixed(self.chip_max_c),
            "MHS av": fixed(rates["av"] * 1000),
            "MHS 5s": fixed(rates["5s"] * 1000),
            "MHS 1m": fixed(rates["1m"] * 1000),
            "MHS 5m": fixed(rates["5m"] * 1000),
            "MHS 15m": fixed(rates["15m"] * 1000),
            "Accepted": accepted,
            "Rejected": rejected,
            "Hardware Errors": 0,
            "Utility": fixed(accepted / elapsed * 60),
            "Last Share Pool": 0 if accepted else -1,
            "Last Share Time": when if accepted else 0,
            "Total MH": fixed(self.meter.total(now) * 1000, 4),
            "Diff1 Work": diff1,
            "Difficulty Accepted": fixed(accepted * POOL_DIFFICULTY, 8),
            "Difficulty Rejected": fixed(rejected * POOL_DIFFICULTY, 8),
            "Last Share Difficulty": fixed(POOL_DIFFICULTY if accepted else 0, 8),
            "Last Valid Work": when if self.hashing else 0,
            "Device Hardware%": fixed(0, 4),
            "Device Rejected%": fixed(rejected * POOL_DIFFICULTY / diff1 * 100 if diff1 else 0, 4),
            "Device Elapsed": int(elapsed),
        }
        return {**self._message("S", 9, "1 ASC(s)", when), "DEVS": [dev]}

    def _summary(self, param: str | None, when: int) -> dict[str, Any]:
        now = time.monotonic()
        rates = self._rates(now)
        elapsed = max(now - self.meter.start, 1e-9)
        accepted = self._accepted(now)
        rejected = accepted // 300
        diff1 = self._diff1(now)
        best = diff1 * 23 if diff1 else 0
        summary = {
            "Elapsed": int(elapsed),
            "MHS av": fixed(rates["av"] * 1000),
            "MHS 5s": fixed(rates["5s"] * 1000),
            "MHS 1m": fixed(rates["1m"] * 1000),
            "MHS 5m": fixed(rates["5m"] * 1000),
            "MHS 15m": fixed(rates["15m"] * 1000),
            "Found Blocks": 0,
            "Getworks": int(elapsed // 30),
            "Accepted": accepted,
            "Rejected": rejected,
            "Hardware Errors": 0,
            "Utility": fixed(accepted / elapsed * 60),
            "Discarded": 0,
            "Stale": 0,
            "Get Failures": 0,
            "Local Work": int(elapsed * 4),
            "Remote Failures": 0,
            "Network Blocks": int(elapsed // 600),
            "Total MH": fixed(self.meter.total(now) * 1000, 4),
            "Work Utility": fixed(diff1 / elapsed * 60),
            "Difficulty Accepted": fixed(accepted * POOL_DIFFICULTY, 8),
            "Difficulty Rejected": fixed(rejected * POOL_DIFFICULTY, 8),
            "Difficulty Stale": fixed(0, 8),
            "Best Share": best,
            "Device Hardware%": fixed(0, 4),
            "Device Rejected%": fixed(rejected * POOL_DIFFICULTY / diff1 * 100 if diff1 else 0, 4),
            "Pool Rejected%": fixed(100 / 301 if accepted >= 300 else 0, 4),
            "Pool Stale%": fixed(0, 4),
            "Last getwork": when if self.hashing else 0,
        }
        return {**self._message("S", 11, "Summary", when), "SUMMARY": [summary]}

    def _pools(self, param: str | None, when: int) -> dict[str, Any]:
        now = time.monotonic()
        accepted = self._accepted(now)
        rows = []
        for i, pool in enumerate(self.pools):
            active = i == 0
            mine = accepted if active else 0
            host = pool["url"].split("://", 1)[-1].split(":", 1)[0]
            rows.append(
                {
                    "POOL": i,
                    "URL": pool["url"],
                    "Status": "Alive",
                    "Priority": i,
                    "Quota": 1,
                    "Long Poll": "N",
                    "Getworks": int((now - self.meter.start) // 30) if active else 0,
                    "Accepted": mine,
                    "Rejected": mine // 300,
                    "Works": self._diff1(now) if active else 0,
                    "Discarded": 0,
                    "Stale": 0,
                    "Get Failures": 0,
                    "Remote Failures": 0,
                    "User": pool["user"],
                    "Last Share Time": when if mine else 0,
                    "Diff1 Shares": mine * POOL_DIFFICULTY,
                    "Proxy Type": "",
                    "Proxy": "",
                    "Difficulty Accepted": fixed(mine * POOL_DIFFICULTY, 8),
                    "Difficulty Rejected": fixed(mine // 300 * POOL_DIFFICULTY, 8),
                    "Difficulty Stale": fixed(0, 8),
                    "Last Share Difficulty": fixed(POOL_DIFFICULTY if mine else 0, 8),
                    "Work Difficulty": fixed(POOL_DIFFICULTY if active else 0, 8),
                    "Has Stratum": True,
                    "Stratum Active": active,
                    "Stratum URL": host if active else "",
                    "Stratum Difficulty": fixed(POOL_DIFFICULTY if active else 0, 8),
                    "Has Vmask": True,
                    "Has GBT": False,
                    "Best Share": self._diff1(now) * 23 if active else 0,
                    "Pool Rejected%": fixed(0, 4),
                    "Pool Stale%": fixed(0, 4),
                    "Bad Work": 0,
                    "Current Block Height": 903412 if active else 0,
                    "Current Block Version": 536870912 if active else 0,
                }
            )
        return {**self._message("S", 7, f"{len(self.pools)} Pool(s)", when), "POOLS": rows}

    def _devdetails(self, param: str | None, when: int) -> dict[str, Any]:
        row = {
            "DEVDETAILS": 0,
            "Name": self.spec.driver,
            "ID": 0,
            "Driver": self.spec.dname,
            "Kernel": "",
            "Model": "",
            "Device Path": "",
        }
        return {**self._message("S", 69, "Device Details", when), "DEVDETAILS": [row]}

    def _check(self, param: str | None, when: int) -> dict[str, Any]:
        if not param:
            return self._message("E", 71, "Missing check cmd", when)
        found = "Y" if param in self._commands() else "N"
        return {
            **self._message("S", 72, "Check command", when),
            "CHECK": [{"Exists": found, "Access": found}],
        }

    def _coin(self, param: str | None, when: int) -> dict[str, Any]:
        coin = {
            "Hash Method": "sha256",
            "Current Block Time": fixed(when - 212, 6),
            "Current Block Hash": "00000000000000000001a4f6c3f0d3b4"
            "e1f2a9c8d7e6f5a4b3c2d1e0f9a8b7c6",
            "LP": False,
            "Network Difficulty": fixed(129435235580344.8, 8),
        }
        return {**self._message("S", 78, "CGMiner coin", when), "COIN": [coin]}

    def _device_stats(self, when: int, number: int) -> dict[str, Any]:
        elapsed = int(time.monotonic() - self.meter.start)
        return {
            "STATS": number,
            "ID": f"{self.spec.driver}0",
            "Elapsed": elapsed,
            "Calls": 0,
            "Wait": fixed(0, 6),
            "Max": fixed(0, 6),
            "Min": fixed(99999999, 6),
            "MM ID0": self.mm_id0(),
            "MM Count": 1,
            "Nonce Mask": 1,
        }

    def _estats(self, param: str | None, when: int) -> dict[str, Any]:
        return {
            **self._message("S", 70, "CGMiner stats", when),
            "STATS": [self._device_stats(when, 0)],
        }

    def _stats(self, param: str | None, when: int) -> dict[str, Any]:
        now = time.monotonic()
        elapsed = int(now - self.meter.start)
        rows = [self._device_stats(when, 0)]
        for i, _pool in enumerate(self.pools):
            active = i == 0
            calls = elapsed // 30 if active else 0
            rows.append(
                {
                    "STATS": i + 1,
                    "ID": f"POOL{i}",
                    "Elapsed": elapsed,
                    "Calls": 0,
                    "Wait": fixed(0, 6),
                    "Max": fixed(0, 6),
                    "Min": fixed(99999999, 6),
                    "Pool Calls": 0,
                    "Pool Attempts": 0,
                    "Pool Wait": fixed(0, 6),
                    "Pool Max": fixed(0, 6),
                    "Pool Min": fixed(99999999, 6),
                    "Pool Av": fixed(0, 6),
                    "Work Had Roll Time": False,
                    "Work Can Roll": False,
                    "Work Had Expire": False,
                    "Work Roll Time": 0,
                    "Work Diff": fixed(POOL_DIFFICULTY if active else 0, 8),
                    "Min Diff": fixed(POOL_DIFFICULTY if active else 0, 8),
                    "Max Diff": fixed(POOL_DIFFICULTY if active else 0, 8),
                    "Min Diff Count": calls,
                    "Max Diff Count": calls,
                    "Times Sent": calls * 3,
                    "Bytes Sent": calls * 410,
                    "Times Recv": calls * 4,
                    "Bytes Recv": calls * 1630,
                    "Net Bytes Sent": calls * 410,
                    "Net Bytes Recv": calls * 1630,
                }
            )
        return {**self._message("S", 70, "CGMiner stats", when), "STATS": rows}

    # ---- the MM ID0 line -------------------------------------------------------------------
    def _chip_temps(self) -> list[int]:
        top = self.chip_max_c
        spread = CHIP_SPREAD[: self.spec.chips] if self.hashing else (0,) * self.spec.chips
        return [top + d for d in spread]

    def _chip_volts(self) -> list[int]:
        if not self.hashing:
            return [0] * self.spec.chips
        base = 300 if self.spec is NANO3S else self.level.volt - 10
        return [base + d for d in CHIP_VOLT_SPREAD[: self.spec.chips]]

    def mm_id0(self) -> str:
        now = time.monotonic()
        uptime = int(now - self.meter.start)
        spd = self.actual_ghs
        mm = self.theoretical_ghs
        avg = self.meter.average(now)
        wu = self._diff1(now) / max(now - self.meter.start, 1e-9) * 60
        lvl = self.level
        watts = round(self.power_w)
        temps = " ".join(f"{t:3d}" for t in self._chip_temps())
        volts = " ".join(str(v) for v in self._chip_volts())
        works = " ".join(str(int(avg * 1.4 * (1 + d / 40))) for d in CHIP_SPREAD[: self.spec.chips])
        state = 1 if self.hashing else 2
        if self.spec is NANO3:
            amps = int(watts / 27.92)
            ata = " ".join(
                f"ATA{i}[{lv.max_power}-{lv.target_c}-{lv.volt}-100:"
                f"{293 + 137 * i}:{313 + 137 * i}:{333 + 137 * i}]"
                for i, lv in enumerate(self.spec.levels)
            )
            fields = [
                f"HashStatus[{1 if self.hashing else 0}]",
                f"Ver[{self.spec.model}-{self.firmware}]",
                f"HVer[{self.spec.firmware_hw}] ",
                "DNA[0000000000000000] ",
                f"HDNA[{self.dna}] ",
                "PFCnt[0]",
                f"NETFAIL[{NETFAIL}]",
                f"Elapsed[{uptime + 11}]",
                f"LW[{int(avg * uptime / 4.3)}]",
                "MH[0]",
                "DHW[0]",
                "HW[0]",
                f"DH[{1.72 if self.hashing else 0:.3f}%]",
                f"Temp[{self.board_c}]",
                f"OTemp[{self.outlet_c}]",
                f"TMax[{self.chip_max_c}]",
                f"TAvg[{self.chip_avg_c}]",
                f"TarT[{lvl.target_c}]",
                f"Fan1[{self.fan_rpm}]",
                f"FanR[{self.fan_pct}%]",
                "Vo[0]",
                f"PS[0 0 0 {amps} 2792 {watts} {lvl.volt if self.hashing else 0}]",
                f"GHSspd[{spd:.2f}]",
                f"DHspd[{1.72 if self.hashing else 0:.3f}%]",
                f"GHSmm[{mm:.2f}]",
                f"GHSavg[{avg:.2f}]",
                f"WU[{wu:.2f}]",
                "Freq[0.00]",
                f"Led[{1 if self.led_mode else 0}]",
                f"MGHS[{avg:.2f}]",
                f"MTmax[{self.chip_max_c}]",
                f"MTavg[{self.chip_avg_c}]",
                f"TA[{self.spec.chips}]",
                f"Core[{self.spec.core}]",
                "PING[120]",
                f"SoftOFF[{1 if self.soft_off else 0}]",
                "ECHU[0]",
                "ECMM[0]",
                "PLL0[0 1151 229 390]" if self.hashing else "PLL0[0 0 0 0]",
                "SF0[100 441 461 481]",
                f"PVT_T0[{temps}]",
                f"PVT_V0[{volts}]",
                f"MW0[{works}]",
                "CRC[0]",
                ata,
                f"WORKLEVEL[{self.work_level}]",
                f"MPO[{lvl.max_power}]",
                "ADJ[1]",
            ]
            return " ".join(fields)

        amps = int(watts / 27.541)
        fields = [
            f"Ver[{self.spec.model}-{self.firmware}]",
            f"LVer[{self.firmware}]",
            f"BVer[{self.firmware}]",
            "FW[Release]",
            f"LED[{self.led_mode}-0]",
            "LEDUser[0-100-100-5-0-255]",
            "LcdOnoff[1]",
            "LcdSwitch[2]",
            f"DNA[{self.dna}]",
            "MEMFREE[63728]",
            "PFCnt[0]",
            f"NETFAIL[{NETFAIL}]",
            f"SYSTEMSTATU[Work: {('In Init', 'In Work', 'In Idle')[state]}, Hash Board: 1]",
            f"Elapsed[{uptime + 17}]",
            "BOOTBY[0x01.00000000]",
            f"LW[{int(avg * uptime / 5.8)}]",
            "MH[0]",
            "DHW[0]",
            "HW[0]",
            f"DH[{2.374 if self.hashing else 0:.3f}%]",
            "ITemp[-273]",
            f"OTemp[{self.outlet_c}]",
            f"TMax[{self.chip_max_c}]",
            f"TAvg[{self.chip_avg_c}]",
            f"TarT[{lvl.target_c}]",
            f"Fan1[{self.fan_rpm}]",
            f"FanR[{self.fan_pct}%]",
            f"PS[0 0 27541 {amps} 0 {lvl.volt} {watts}]",
            f"GHSspd[{spd:.2f}]",
            f"DHspd[{2.374 if self.hashing else 0:.3f}%]",
            f"GHSmm[{mm:.2f}]",
            f"GHSavg[{avg:.2f}]",
            f"WU[{wu:.2f}]",
            f"Freq[{lvl.freq if self.hashing else 0:.2f}]",
            f"MGHS[{avg:.2f}]",
            f"MTmax[{self.chip_max_c}]",
            f"MTavg[{self.chip_avg_c}]",
            f"TA[{self.spec.chips}]",
            f"Core[{self.spec.core}]",
            "BIN[60]",
            "PING[78]",
            f"SoftOFF[{1 if self.soft_off else 0}]",
            "ECHU[0]",
            "ECMM[0]",
            "PLL0[499 254 423 648]" if self.hashing else "PLL0[0 0 0 0]",
            "SF0[432 450 471 492]",
            f"PVT_T0[{temps}]",
            f"PVT_V0[{volts}]",
            f"MW0[{works}]",
            "CRC[0]",
            "COMCRC[0]",
            f"ATA{self.work_level}[{lvl.max_power}-{lvl.target_c}-{lvl.volt}-432-20]",
            f"WORKMODE[{self.work_level}]",
            f"WORKLEVEL[{self.worklevel}]",
            f"MPO[{lvl.max_power}]",
            "CALIALL[7]",
            "ADJ[1]",
        ]
        return " ".join(fields)

    # ---- ascset ----------------------------------------------------------------------------
    def _ascset(self, param: str | None, when: int) -> dict[str, Any]:
        if not param:
            return self._message("E", 15, "Missing device id parameter", when)
        dev, _, opt = param.partition(",")
        if not opt:
            return self._message("E", 116, "Missing option after ASC number", when)
        asc = _atoi(dev)
        if asc != 0:
            return self._message("E", 107, f"Invalid ASC id {asc} - range is 0 - 0", when)
        option, sep, setting = opt.partition(",")
        rec = self.record("rpc", "ascset", option=option, setting=setting if sep else None)
        error, info = self._set_device(rec, option.lower(), setting if sep else "")
        if error is not None:
            rec.applied = False
            return self._message("E", 120, f"ASC 0 set failed: {error}", when)
        if info:
            return self._message("I", 118, f"ASC 0 set info: {info}", when)
        return self._message("S", 119, "ASC 0 set OK", when)

    def _set_device(self, rec: CommandRecord, option: str, setting: str) -> tuple[str | None, str]:
        """The driver's option table: (error, info). Both empty means "set OK"."""
        handlers: dict[str, Callable[[CommandRecord, str], tuple[str | None, str]]] = {
            "worklevel": self._opt_worklevel,
            "reboot": self._opt_reboot,
        }
        if self.spec is NANO3S:
            handlers.update(
                workmode=self._opt_workmode,
                work_mode_lvl=self._opt_work_mode_lvl,
                ledmode=self._opt_ledmode,
                **{"fan-spd": self._opt_fan_spd},
            )
        else:
            handlers["led"] = self._opt_led
        if self.supports_soft_off:
            handlers.update(softoff=self._opt_softoff, softon=self._opt_softon)
        handler = handlers.get(option)
        if handler is None:
            return f"Unknown option: {option}", ""
        if not setting:
            return f"missing {option} setting", ""
        return handler(rec, setting)

    def _opt_worklevel(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        cmd, _, value = setting.partition(",")
        if cmd == "get" and not value:
            return None, f"worklevel {self.worklevel}"
        lo, hi = self.worklevel_range
        level = _scan_int(value)
        if cmd != "set" or level is None or not lo <= level <= hi:
            return "worklevel unknown argument", ""
        if level != self.worklevel:
            if self.spec.selector == "worklevel":
                self.apply(rec, lambda: self._set_level(level))
            else:
                self.apply(rec, lambda: self._set_fine_level(level))
        else:
            rec.applied = True
        return None, ""

    def _opt_workmode(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        cmd, _, value = setting.partition(",")
        if cmd == "get" and not value:
            return None, f"workmode {self.work_level}"
        mode = _scan_int(value)
        if cmd != "set" or mode is None:
            return "error:2 parameter error", ""
        if not 0 <= mode <= len(self.spec.levels) - 1:
            return f"error:1 not support set workmode max_mode[{len(self.spec.levels) - 1}]", ""
        if mode != self.work_level:
            self.apply(rec, lambda: self._set_level(mode))
        else:
            rec.applied = True
        return None, ""

    def _opt_work_mode_lvl(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        parts = setting.split(",")
        if parts == ["get"]:
            return None, f"workmode {self.work_level} worklevel {self.worklevel}"
        if len(parts) != 3 or parts[0] != "set":
            return "error:2 parameter error", ""
        mode, level = _scan_int(parts[1]), _scan_int(parts[2])
        if mode is None or level is None:
            return "error:2 parameter error", ""
        if not 0 <= mode < len(self.spec.levels):
            return f"error:1 not support set workmode max_mode[{len(self.spec.levels)}]", ""
        lo, hi = self.worklevel_range
        if not lo <= level <= hi:
            return f"worklevel unknown argument level range:{lo} ~ {hi}", ""

        def change() -> None:
            self._set_level(mode)
            self._set_fine_level(level)

        self.apply(rec, change)
        return None, ""

    def _opt_reboot(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        if self.spec is NANO3 and setting == "all":
            delay = 0
        else:
            value = _scan_int(setting)
            if value is None:
                return "reboot value not number", ""
            if not 0 <= value <= 300:
                return "reboot value should be 0~300 seconds", ""
            delay = value
        self.apply(rec, self.reboot, delay=max(self.command_delay, delay))
        return None, ""

    def _opt_fan_spd(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        value = _scan_int(setting)
        if value is None:
            return "No value passed to avalon-fan", ""
        if value != -1 and not 15 <= value <= 100:
            return "invalid fan value, valid range 15-100 for stable pwm,-1 for auto adjust", ""
        self.apply(rec, lambda: setattr(self, "fan_override", None if value == -1 else value))
        return None, ""

    def _opt_ledmode(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        value = _scan_int(setting)
        if value not in (0, 1):
            return "Input param error.", ""
        self.led_mode = value
        rec.applied = True
        return None, f"success set:{value}"

    def _opt_led(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        cmd, _, value = setting.partition(",")
        if cmd == "get" and not value:
            bright, r, g, b = self.led_rgb
            return None, f"led[{self.led_mode}-{bright}-100-{r}-{g}-{b}]"
        if cmd == "setmode":
            mode = _scan_int(value)
            if mode is None or not 0 <= mode <= 4:
                return "led unknown argument", ""
            self.apply(rec, lambda: setattr(self, "led_mode", mode))
            return None, "led setmode ok"
        if cmd == "setrgb":
            numbers = [_scan_int(v) for v in value.split("-")]
            if len(numbers) != 5 or any(n is None for n in numbers):
                return "led unknown argument", ""
            bright, _, r, g, b = (int(n or 0) for n in numbers)
            self.apply(rec, lambda: setattr(self, "led_rgb", (bright, r, g, b)))
            return None, "led setrgb ok"
        # The A-series "led,1-1" identify syntax is not understood by the Nano 3.
        return "led unknown argument", ""

    def _soft_at(self, setting: str) -> int | None:
        _, sep, stamp = setting.partition(":")
        return _scan_int(stamp) if sep else None

    def _opt_softoff(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        at = self._soft_at(setting)
        if at is None:
            return "Input param error.", ""
        self.apply(rec, lambda: self._set_soft_off(True), delay=self._delay_until(at))
        return None, f"success softoff:{at}"

    def _opt_softon(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        at = self._soft_at(setting)
        if at is None:
            return "Input param error.", ""
        self.apply(rec, lambda: self._set_soft_off(False), delay=self._delay_until(at))
        return None, f"success softon:{at}"

    def _delay_until(self, at: int) -> float:
        """Seconds until the device's clock reads `at` (never sooner than the command delay)."""
        return max(self.command_delay, at - (time.time() + self.clock_offset))

    def _set_level(self, level: int) -> None:
        self.work_level = level
        if self.spec.selector == "worklevel":
            self.worklevel = level
        self._retarget()

    def _set_fine_level(self, level: int) -> None:
        self.worklevel = level
        self._retarget()

    def _set_soft_off(self, off: bool) -> None:
        self.soft_off = off
        self._retarget()

    # ---- web UI ----------------------------------------------------------------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._web)
        return app

    def _auth_cookie(self) -> str:
        return "ff0000ff" + hashlib.sha256(self.web_password.encode()).hexdigest()[:24]

    async def _web(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return web.Response(text="Not found\n", status=404)
        path = request.path
        if self.spec is NANO3S and path == "/get_auth.cgi":
            code = hashlib.sha256(self.dna.encode()).hexdigest()[:32]
            auth = hashlib.sha256((self.web_password + self.dna).encode()).hexdigest()[:16]
            return web.Response(text=f'getAuthCallback ({{"auth":"{auth}","code":"{code}"}});')
        if self.spec is NANO3 and path in self.web_minerinfo_paths:
            cookie = request.cookies.get("auth")
            if cookie == self._auth_cookie() and not self.faults.wrong_credentials:
                info = {
                    "version": self.firmware,
                    "mac": self.mac.lower(),
                    "ipv4": self.ip,
                    "hwtype": "Avalon Nano3",
                    "sys_status": "1" if self.hashing else "0",
                }
                return web.Response(text=f"minerinfoCallback({json.dumps(info)});")
        # Every other page, and any page without a valid login cookie, is the login page.
        return web.Response(text=LOGIN_PAGE, content_type="text/html")


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Avalon Device</title>
</head>
<body>
<div class="login-container">
<div class="login-logo"></div>
<form id="login" method="post" action="login.cgi">
<input type="text" name="username" value="root" readonly>
<input type="password" name="passwd" placeholder="Password">
<button type="submit">Login</button>
</form>
<div class="qrcode-tip">Scan the QR Code with Your Avalon Family APP</div>
</div>
</body>
</html>
"""


def _atoi(text: str) -> int:
    """C `atoi`: leading digits (with sign), 0 when there are none."""
    text = text.strip()
    end = 1 if text[:1] in "+-" else 0
    while end < len(text) and text[end].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


def _scan_int(text: str) -> int | None:
    """C `sscanf("%d")`: leading integer or None when there is none."""
    text = text.strip()
    end = 1 if text[:1] in "+-" else 0
    while end < len(text) and text[end].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return None
