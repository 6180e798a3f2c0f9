"""An Antminer on Luxor's LuxOS firmware: LUXminer's CGMiner-style API on TCP 4028.

What the firmware's published API documentation (docs.luxor.tech/firmware/api) says, and this
simulator does:

* Every reply carries `STATUS` with `Description` "LUXminer <version>"; `version` answers
  `VERSION[0]` with `API` "3.7", `LUXminer`, `Miner` and the model in `Type`. Joined commands
  (`summary+stats`) answer one list per command, as cgminer does.
* Reading needs no session. Commands that change the miner take a session ID as their first
  parameter (`{"command": "curtail", "parameter": "yJN2nlj1,sleep"}`): `logon` creates one
  if no other is active (code 316), `session` returns the active one or "" (code 319), a
  session expires after a minute unused and each use renews it, and only one exists at a time.
* `curtail` `sleep` turns the hashboards and the power supply off; `wakeup` turns them on
  and ramps the boards to the profile's frequency (code 335, `CURTAIL[0].Action` "sleep mode"
  / "wake up"). The curtailment persists across a reboot. LUXminer keeps running asleep, so
  its `Elapsed` does not start again.
* Profiles: 25 built-in ones per miner, 25 MHz and 0.1 V apart around the nameplate
  ("default"): 16 below, 8 above (docs' "Features"), named by frequency ("520MHz").
  `profileset` (code 321, `PROFILE[0].Profile`) applies one to every board; `profiles`
  lists them with their estimated `Watts` and `Hashrate`; `config` names the active one.
* ATM (`atm` code 339, `atmset` code 340, `enabled=true|false`): while it is on, this
  simulator refuses `profileset`, which is why pyasic's `set_power_limit` turns ATM off
  around it (the published docs do not say what the firmware does then).
* `ledset` (`red`, `on|off|blink`), `rebootdevice` (the whole unit reboots).

`config`, `power`, `profiles`, `stats`, `fans` and `pools` carry the fields pyasic reads
from them (`MACAddr`, `Profile`, `RedLed`; `Watts`; `Profile Name`, `Watts`, `Hashrate`;
bmminer's `chain_rate<n>`, `temp_pcb<n>`...), as LUXminer mirrors stock Bitmain firmware.
Replies the stored docs do not show (a refused logon, a stale session, `ledset`, `logoff`,
`rebootdevice`) are this simulator's own, in the firmware's style.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import secrets
import time
from typing import Any

from aiohttp import web

from .base import CommandRecord, SimulatedMiner, rpc_status

LUXMINER_VERSION = "2024.11.18.184439-f4a1a73e"
API_VERSION = "3.7"
STEP_MHZ = 25
STEP_V = 0.1
UNDER_STEPS = 16
OVER_STEPS = 8
SESSION_SECONDS = 60.0
RAMP_SHARE = 0.3
"""While the boards ramp up to a profile's frequency they hash (and draw) about this share."""
BOARD_TEMP_OFFSET = (0, 1, -1)
BOARD_SPREAD = (1.006, 0.991, 1.003)
FAN_SHARE = (1.0, 0.98, 0.86, 0.86)
MAX_FAN_RPM = 6000
MIN_FAN_RPM = 1200
TH_SECONDS_PER_SHARE = 1380.0

WEB_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LuxOS | Luxor Firmware</title></head>
<body><div id="root"></div><script src="/assets/index.js"></script></body></html>
"""

DEFAULT_POOLS: tuple[dict[str, str], ...] = (
    {"url": "stratum+tcp://btc.global.luxor.tech:700", "user": "homeminer.lux1", "pass": "x"},
)


@dataclass(frozen=True)
class ModelSpec:
    """Nameplate figures of a model at its default profile."""

    nominal_ths: float
    efficiency_jth: float
    freq_mhz: int
    volt: float
    chips_per_board: int


MODELS: dict[str, ModelSpec] = {
    "Antminer S19j Pro": ModelSpec(104.0, 29.5, 545, 13.4, 126),
    "Antminer S19": ModelSpec(95.0, 34.5, 650, 13.8, 76),
    "Antminer S19k Pro": ModelSpec(120.0, 23.0, 485, 13.0, 77),
    "Antminer S21": ModelSpec(200.0, 17.5, 490, 13.2, 108),
}


@dataclass(frozen=True)
class Profile:
    name: str
    freq_mhz: int
    volt: float
    hashrate_ths: float
    watts: int


def build_profiles(spec: ModelSpec) -> list[Profile]:
    """The 25 built-in profiles, lowest first; power goes with frequency x voltage²."""
    nominal_w = spec.nominal_ths * spec.efficiency_jth
    profiles = []
    for step in range(-UNDER_STEPS, OVER_STEPS + 1):
        freq = spec.freq_mhz + step * STEP_MHZ
        volt = round(spec.volt + step * STEP_V, 2)
        ratio = freq / spec.freq_mhz
        profiles.append(
            Profile(
                name="default" if step == 0 else f"{freq}MHz",
                freq_mhz=freq,
                volt=volt,
                hashrate_ths=round(spec.nominal_ths * ratio, 2),
                watts=round(nominal_w * ratio * (volt / spec.volt) ** 2),
            )
        )
    return profiles


def _mac(ip: str) -> str:
    digest = hashlib.sha256(f"luxos:{ip}".encode()).digest()
    return "02" + "".join(f":{b:02X}" for b in digest[:5])


class LuxOSMiner(SimulatedMiner):
    """An Antminer (S19j Pro by default) running LuxOS.

    `profile` is the saved profile's name; `atm` whether Advanced Thermal Management is on;
    `ramp_seconds` how long a wakeup or a profile change takes before the boards hash at the
    new frequency (minutes on a real unit, short for tests; they hash at a fraction meanwhile);
    `curtailed` starts it asleep.
    """

    family = "luxos"
    http_port = 80
    rpc_port = 4028
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Antminer S19j Pro"},
        {"model": "Antminer S19k Pro", "profile": "435MHz"},
        {"model": "Antminer S21", "atm": True},
        {"model": "Antminer S19"},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Antminer S19j Pro",
        firmware: str = LUXMINER_VERSION,
        hostname: str = "Antminer",
        mac: str | None = None,
        profile: str = "default",
        atm: bool = False,
        curtailed: bool = False,
        boards: int = 3,
        fans: int = 4,
        pools: list[dict[str, str]] | None = None,
        ambient_c: float = 25.0,
        idle_w: float = 12.0,
        ramp_seconds: float = 0.3,
        session_seconds: float = SESSION_SECONDS,
        command_delay: float = 0.3,
        reboot_seconds: float = 2.0,
        http_port: int | None = None,
        rpc_port: int | None = None,
    ) -> None:
        super().__init__(
            ip,
            hostname=hostname,
            mac=mac or _mac(ip),
            command_delay=command_delay,
            reboot_seconds=reboot_seconds,
            http_port=http_port,
            rpc_port=rpc_port,
        )
        self.model = model
        self.spec = MODELS.get(model, MODELS["Antminer S19j Pro"])
        self.firmware = firmware
        self.profiles = build_profiles(self.spec)
        if profile not in {p.name for p in self.profiles}:
            raise ValueError(f"unknown profile {profile!r}")
        self.boards = boards
        self.fans = fans
        self.pools = [dict(p) for p in (pools if pools is not None else DEFAULT_POOLS)]
        self.ambient_c = ambient_c
        self.idle_w = idle_w
        self.ramp_seconds = ramp_seconds
        self.session_seconds = session_seconds
        # Saved configuration (survives reboots).
        self.profile = profile
        self.atm = atm
        self.curtailed = curtailed
        # Running state.
        self.ramping = False
        self.red_led = "off"
        self.session_id = ""
        self._session_used = 0.0
        self._th_seconds = 0.0
        self._ramp_generation = 0
        self._booted = False

    # ---- physics ---------------------------------------------------------------------------
    @property
    def active_profile(self) -> Profile:
        return next(p for p in self.profiles if p.name == self.profile)

    @property
    def hashing(self) -> bool:
        return self.powered and not self.curtailed

    @property
    def hashrate_ths(self) -> float:
        if not self.hashing:
            return 0.0
        return self.active_profile.hashrate_ths * (RAMP_SHARE if self.ramping else 1.0)

    def board_ghs(self, index: int) -> float:
        share = BOARD_SPREAD[index % len(BOARD_SPREAD)]
        return self.hashrate_ths * 1000 / self.boards * share

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        if self.curtailed:
            return self.idle_w
        return max(self.idle_w, self.active_profile.watts * (RAMP_SHARE if self.ramping else 1.0))

    def board_temps(self, index: int) -> list[int]:
        """The four PCB sensors of a board (two inlet, two outlet); none with boards off."""
        if not self.powered or self.curtailed:
            return []
        board_w = max(0.0, self.power_w - self.idle_w) / self.boards
        offset = BOARD_TEMP_OFFSET[index % len(BOARD_TEMP_OFFSET)]
        inlet = round(self.ambient_c + 0.020 * board_w) + offset
        outlet = round(self.ambient_c + 0.040 * board_w) + offset
        return [inlet, inlet, outlet, outlet]

    def fan_rpms(self) -> list[int]:
        if not self.powered or self.curtailed:
            return [0] * self.fans
        hottest = max(max(self.board_temps(i)) for i in range(self.boards))
        base = min(MAX_FAN_RPM, max(MIN_FAN_RPM, MIN_FAN_RPM + (hottest - 40) * 140))
        return [
            int(round(base * FAN_SHARE[i % len(FAN_SHARE)] / 30) * 30) for i in range(self.fans)
        ]

    def _integrate(self) -> None:
        if self.powered:
            self._th_seconds += self.hashrate_ths * (time.monotonic() - self._energy_at)
        super()._integrate()

    @property
    def accepted(self) -> int:
        return int(self._th_seconds / TH_SECONDS_PER_SHARE)

    def on_boot(self) -> None:
        # The curtailment, the profile and ATM are saved; the LED and the session are not.
        self.red_led = "off"
        self.session_id = ""
        self._th_seconds = 0.0
        self.ramping = False
        # A simulation starts with the unit already up and hashing; a reboot ramps again.
        if self._booted and not self.curtailed:
            self._ramp()
        self._booted = True

    def _ramp(self) -> None:
        """Boards clock up to the profile; they hash once the ramp is over."""
        self.ramping = True
        self._ramp_generation += 1
        generation = self._ramp_generation

        def _done() -> None:
            if generation == self._ramp_generation:
                self._integrate()
                self.ramping = False

        self.call_later(self.ramp_seconds, _done)

    def status(self) -> dict[str, Any]:
        self._integrate()
        return {
            **super().status(),
            "model": self.model,
            "firmware": self.firmware,
            "profile": self.profile,
            "profile_watts": self.active_profile.watts,
            "atm": self.atm,
            "curtailed": self.curtailed,
            "ramping": self.ramping,
            "hashing": self.hashing,
            "hashrate_ths": round(self.hashrate_ths, 3),
            "board_temps": [self.board_temps(i) for i in range(self.boards)],
            "fans_rpm": self.fan_rpms(),
            "uptime_s": self.uptime_s,
            "energy_wh": round(self.energy_wh, 3),
            "red_led": self.red_led,
            "session": bool(self._live_session()),
        }

    # ---- HTTP: the web UI's page (pyasic's detection reads its title) ----------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()

        async def _index(request: web.Request) -> web.Response:
            return web.Response(text=WEB_PAGE, content_type="text/html")

        app.router.add_get("/", _index)
        return app

    # ---- RPC -------------------------------------------------------------------------------
    def _status(self, status: str, code: int, msg: str) -> list[dict[str, Any]]:
        return [rpc_status(status, code, msg, f"LUXminer {self.firmware}")]

    def _error(self, code: int, msg: str) -> dict[str, Any]:
        return {"STATUS": self._status("E", code, msg), "id": 1}

    def _ok(self, code: int, msg: str, **sections: Any) -> dict[str, Any]:
        return {**sections, "STATUS": self._status("S", code, msg), "id": 1}

    async def handle_rpc(self, request: dict[str, Any]) -> dict[str, Any]:
        self._integrate()
        command = request.get("command")
        if not isinstance(command, str) or not command:
            return self._error(14, "Invalid command")
        raw = request.get("parameter")
        params = [] if raw is None else [p.strip() for p in str(raw).split(",")]
        if "+" not in command:
            return self._dispatch(command, params)
        joined: dict[str, Any] = {}
        for name in command.split("+"):
            if name and name not in joined:
                joined[name] = [self._dispatch(name, [])]
        joined["id"] = 1
        return joined

    def _dispatch(self, command: str, params: list[str]) -> dict[str, Any]:
        reader = self._readers().get(command)
        if reader is not None:
            return reader()
        writer = self._writers().get(command)
        if writer is None:
            return self._error(14, "Invalid command")
        if not params or not self._use_session(params[0]):
            return self._error(315, "Invalid session id")
        return writer(params[1:])

    def _readers(self) -> dict[str, Any]:
        return {
            "version": self._version,
            "summary": self._summary,
            "stats": self._stats,
            "devs": self._devs,
            "devdetails": self._devdetails,
            "pools": self._pools,
            "groups": self._groups,
            "config": self._config,
            "power": self._power,
            "profiles": self._profiles,
            "fans": self._fans,
            "tempctrl": self._tempctrl,
            "atm": self._atm,
            "session": self._session,
            "logon": self._logon,
        }

    def _writers(self) -> dict[str, Any]:
        return {
            "logoff": self._logoff,
            "curtail": self._curtail,
            "profileset": self._profileset,
            "atmset": self._atmset,
            "ledset": self._ledset,
            "rebootdevice": self._rebootdevice,
        }

    # ---- sessions ----------------------------------------------------------------------------
    def _live_session(self) -> str:
        if self.session_id and time.monotonic() - self._session_used > self.session_seconds:
            self.session_id = ""
        return self.session_id

    def _use_session(self, session_id: str) -> bool:
        if not session_id or session_id != self._live_session():
            return False
        self._session_used = time.monotonic()
        return True

    def _session(self) -> dict[str, Any]:
        return self._ok(319, "Session information", SESSION=[{"SessionID": self._live_session()}])

    def _logon(self) -> dict[str, Any]:
        if self._live_session():
            return self._error(318, "Another session is active")
        self.session_id = secrets.token_urlsafe(6)[:8]
        self._session_used = time.monotonic()
        self.record("rpc", "logon")
        return self._ok(316, "Session created", SESSION=[{"SessionID": self.session_id}])

    def _logoff(self, params: list[str]) -> dict[str, Any]:
        self.session_id = ""
        self.record("rpc", "logoff")
        return self._ok(317, "Session dropped")

    # ---- reads -------------------------------------------------------------------------------
    def _version(self) -> dict[str, Any]:
        return self._ok(
            22,
            "LUXminer versions",
            VERSION=[
                {
                    "API": API_VERSION,
                    "CompileTime": "Mon Nov 18 18:44:39 UTC 2024",
                    "LUXminer": self.firmware,
                    "Miner": self.firmware.split("-")[0],
                    "Type": self.model,
                }
            ],
        )

    def _summary(self) -> dict[str, Any]:
        rate = round(self.hashrate_ths * 1000, 2)
        return self._ok(
            11,
            "Summary",
            SUMMARY=[
                {
                    "Elapsed": self.uptime_s,
                    "GHS 5s": rate,
                    "GHS av": rate,
                    "GHS 30m": rate,
                    "Accepted": self.accepted,
                    "Rejected": self.accepted // 400,
                    "Hardware Errors": 0,
                    "Best Share": self.accepted * 65536,
                }
            ],
        )

    def _stats(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "STATS": 0,
            "ID": "BC50",
            "Elapsed": self.uptime_s,
            "GHS 5s": round(self.hashrate_ths * 1000, 2),
            "total_rateideal": round(self.hashrate_ths * 1000, 2),
            "rate_unit": "GH",
            "miner_count": self.boards,
            "fan_num": self.fans,
        }
        for n in range(1, self.boards + 1):
            pcb = self.board_temps(n - 1) or [0, 0, 0, 0]
            hashing = self.hashing
            body[f"chain_rate{n}"] = f"{self.board_ghs(n - 1):.2f}"
            body[f"chain_acn{n}"] = self.spec.chips_per_board if hashing else 0
            body[f"freq{n}"] = self.active_profile.freq_mhz if hashing else 0
            body[f"temp_pcb{n}"] = "-".join(str(t) for t in pcb)
            # LuxOS shows board sensors; the chip figure is the board's plus 15 °C.
            body[f"temp_chip{n}"] = "-".join(str(t + 15 if t else 0) for t in pcb)
        for i, rpm in enumerate(self.fan_rpms(), start=1):
            body[f"fan{i}"] = rpm
        return self._ok(
            70,
            "CGMiner stats",
            STATS=[{"LUXminer": self.firmware, "Type": self.model}, body],
        )

    def _devs(self) -> dict[str, Any]:
        return self._ok(
            9,
            f"{self.boards} ASC(s)",
            DEVS=[
                {
                    "ASC": i,
                    "Name": "BTM",
                    "ID": i,
                    "Enabled": "Y",
                    "Status": "Alive" if self.hashing else "Dead",
                    "MHS 5s": round(self.board_ghs(i) * 1000, 2),
                    "Temperature": float(max(self.board_temps(i), default=0)),
                }
                for i in range(self.boards)
            ],
        )

    def _devdetails(self) -> dict[str, Any]:
        return self._ok(
            69,
            "Device Details",
            DEVDETAILS=[
                {"DEVDETAILS": i, "Name": "BTM", "ID": i, "Driver": "LUXminer", "Model": self.model}
                for i in range(self.boards)
            ],
        )

    def _pools(self) -> dict[str, Any]:
        configured = [p for p in self.pools if p.get("url")]
        return self._ok(
            7,
            f"{len(configured)} Pool(s)",
            POOLS=[
                {
                    "POOL": index,
                    "GROUP": 0,
                    "URL": pool["url"],
                    "User": pool["user"],
                    "Status": "Alive",
                    "Priority": index,
                    "Accepted": self.accepted if index == 0 else 0,
                    "Rejected": self.accepted // 400 if index == 0 else 0,
                    "Get Failures": 0,
                    "Remote Failures": 0,
                    "Stratum Active": index == 0 and self.hashing,
                }
                for index, pool in enumerate(configured)
            ],
        )

    def _groups(self) -> dict[str, Any]:
        return self._ok(7, "1 Pool Group(s)", GROUPS=[{"GROUP": 0, "Name": "Default", "Quota": 1}])

    def _config(self) -> dict[str, Any]:
        return self._ok(
            33,
            "LUXminer config",
            CONFIG=[
                {
                    "Hostname": self.hostname,
                    "MACAddr": self.mac.lower(),
                    "Model": self.model,
                    "Profile": self.profile,
                    "RedLed": self.red_led,
                    "IsAtmEnabled": self.atm,
                }
            ],
        )

    def _power(self) -> dict[str, Any]:
        return self._ok(
            330, "Power", POWER=[{"Watts": round(self.power_w), "PSU": not self.curtailed}]
        )

    def _profiles(self) -> dict[str, Any]:
        return self._ok(
            327,
            "Profiles",
            PROFILES=[
                {
                    "Profile Name": p.name,
                    "Frequency": p.freq_mhz,
                    "Voltage": p.volt,
                    "Hashrate": p.hashrate_ths,
                    "Watts": p.watts,
                    "IsTuned": False,
                }
                for p in self.profiles
            ],
        )

    def _fans(self) -> dict[str, Any]:
        return self._ok(
            202,
            f"{self.fans} Fan(s)",
            FANS=[
                {"ID": i, "RPM": rpm, "Speed": min(100, rpm * 100 // MAX_FAN_RPM)}
                for i, rpm in enumerate(self.fan_rpms())
            ],
        )

    def _tempctrl(self) -> dict[str, Any]:
        return self._ok(
            200,
            "Temperature control",
            TEMPCTRL=[{"Mode": "Auto", "Target": 75.0, "Hot": 85.0, "Dangerous": 90.0}],
        )

    def _atm(self) -> dict[str, Any]:
        return self._ok(
            339,
            "ATM configuration values",
            ATM=[
                {
                    "Enabled": self.atm,
                    "MaxProfile": "default",
                    "MinProfile": "",
                    "PostRampMinutes": 15,
                    "StartupMinutes": 15,
                    "TempWindow": 5.0,
                }
            ],
        )

    # ---- writes ------------------------------------------------------------------------------
    def _curtail(self, params: list[str]) -> dict[str, Any]:
        action = params[0] if params else ""
        if action not in ("sleep", "wakeup"):
            return self._error(336, f"Invalid curtail action '{action}'")
        rec = self.record("rpc", "curtail", action=action)
        self.apply(rec, lambda: self._set_curtailed(action == "sleep"))
        return self._ok(
            335,
            "Curtailment command sent",
            CURTAIL=[{"Action": "sleep mode" if action == "sleep" else "wake up"}],
        )

    def _set_curtailed(self, asleep: bool) -> None:
        if asleep:
            self._ramp_generation += 1
            self.ramping = False
            self.curtailed = True
        elif self.curtailed:
            self.curtailed = False
            self._ramp()

    def _profileset(self, params: list[str]) -> dict[str, Any]:
        name = params[0] if params else ""
        if name not in {p.name for p in self.profiles}:
            return self._error(322, f"Profile '{name}' not found")
        if self.atm:
            return self._error(323, "Cannot change profile while ATM is enabled")
        rec = self.record("rpc", "profileset", profile=name)

        def _set() -> None:
            changed = name != self.profile
            self.profile = name
            if changed and not self.curtailed:
                self._ramp()

        self.apply(rec, _set)
        return self._ok(
            321,
            "Profile Set",
            PROFILE=[{"Board": 0, "FrequencyStep": 5, "Profile": name, "VoltageStep": 0.05}],
        )

    def _atmset(self, params: list[str]) -> dict[str, Any]:
        settings = dict(p.partition("=")[::2] for p in params)
        enabled = settings.get("enabled")
        if enabled not in (None, "true", "false"):
            return self._error(341, f"Invalid value for enabled: '{enabled}'")
        rec = self.record("rpc", "atmset", **settings)
        if enabled is not None:
            # Configuration, not hardware: it takes effect at once.
            self.apply(rec, lambda: setattr(self, "atm", enabled == "true"), delay=0)
        return self._ok(340, "Advanced Thermal Management configuration updated")

    def _ledset(self, params: list[str]) -> dict[str, Any]:
        color, state = [*params, "", ""][:2]
        if color != "red" or state not in ("on", "off", "blink"):
            return self._error(343, f"Invalid LED setting '{color},{state}'")
        rec = self.record("rpc", "ledset", color=color, state=state)
        self.apply(rec, lambda: setattr(self, "red_led", state), delay=0)
        return self._ok(342, "LED set", LED=[{"Color": color, "State": state}])

    def _rebootdevice(self, params: list[str]) -> dict[str, Any]:
        rec: CommandRecord = self.record("rpc", "rebootdevice")
        self.apply(rec, self.reboot)
        return self._ok(304, "Device reboot scheduled")
