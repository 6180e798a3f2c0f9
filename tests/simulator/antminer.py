"""Bitmain Antminer on stock firmware (the S19/S21 generation, bmminer "1.0.0").

Two servers, as on the device:

* lighttpd on port 80: every path, `/` included, sits behind HTTP digest authentication
  (realm "antMiner Configuration", MD5, qop=auth; root/root out of the box). The CGIs under
  `/cgi-bin/` read and write the miner's config and report status. pyasic recognises the
  family from the bare 401 challenge on `/`.
* bmminer's CGMiner-style API on TCP 4028: the legacy commands (`version`, `summary`, `stats`,
  `pools`, `devs`) in cgminer's shape, and Bitmain's "new API" (`{"command": "stats",
  "new_api": true}`) whose `STATUS` is an object and whose `stats` carries a `chain` array.
  The API group only allows the read commands; everything else is "Access denied" (code 45),
  and joined commands (`summary+stats`) are refused, so clients send them one at a time.

A config change (`set_miner_conf.cgi`, which is how stop/resume work: work mode 1 is sleep,
0 normal, 3 low power) is written to the config and then bmminer restarts: its API port
refuses connections for `restart_seconds`, and it comes back with `Elapsed` counting from
zero in the new mode. Sleep keeps bmminer and the web UI up with the hashboards powered off.

Stock firmware does not report power on this generation; the simulator still computes it
(hashrate x efficiency, idle watts when asleep) for `status()` and energy integration.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl
from urllib.request import parse_http_list, parse_keqv_list

from aiohttp import web

from .base import SimulatedMiner, rpc_status

REALM = "antMiner Configuration"
API_GROUP = ("version", "summary", "stats", "pools", "devs")
# cgminer commands that exist but are outside the read-only group bmminer is configured with.
KNOWN_COMMANDS = frozenset(
    {
        "config",
        "devdetails",
        "edevs",
        "estats",
        "coin",
        "check",
        "lcd",
        "lockstats",
        "notify",
        "privileged",
        "restart",
        "quit",
        "switchpool",
        "addpool",
        "enablepool",
        "disablepool",
        "removepool",
        "poolpriority",
        "poolquota",
        "save",
        "setconfig",
        "zero",
        "debug",
        "asccount",
        "ascset",
        "ascenable",
        "ascdisable",
        "asc",
        "pgacount",
        "failover-only",
    }
)
DESCRIPTION = "cgminer 1.0.0"
NEW_API_VERSION = "1.0.0"

MODE_NORMAL = "0"
MODE_SLEEP = "1"
MODE_HIGH = "2"
MODE_LOW = "3"
MODE_NAMES = {"normal": MODE_NORMAL, "sleep": MODE_SLEEP, "high": MODE_HIGH, "low": MODE_LOW}
MODE_LABELS = {v: k for k, v in MODE_NAMES.items()}

LOW_POWER_EFFICIENCY_GAIN = 0.9
"""Low-power mode lowers voltage with frequency, so each TH costs about 10 % fewer joules."""
MAX_FAN_RPM = 6000
MIN_FAN_RPM = 1200
BOARD_SPREAD = (1.006, 0.991, 1.003)
"""Per-board share of the nominal rate (binning differs a little); the sum stays nominal."""
BOARD_TEMP_OFFSET = (0, 1, -1)
FAN_SHARE = (1.0, 0.98, 0.86, 0.86)
"""Intake fans run a little faster than exhaust fans under the same PWM."""
TH_SECONDS_PER_SHARE = 1380.0
"""About one accepted share per 1380 TH·s at the pool difficulty an S19 Pro sees."""
NONCE_LIFETIME = 600.0

UNAUTHORIZED_PAGE = """<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>401 Unauthorized</title>
 </head>
 <body>
  <h1>401 Unauthorized</h1>
 </body>
</html>
"""
NOT_FOUND_PAGE = UNAUTHORIZED_PAGE.replace("401 Unauthorized", "404 Not Found")
INDEX_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Antminer</title></head>
<body><div id="app"></div><script src="/js/app.js"></script></body></html>
"""


@dataclass(frozen=True)
class ModelSpec:
    """Nameplate figures of a model at its stock normal mode."""

    nominal_ths: float
    efficiency_jth: float
    chips_per_board: int
    freq_mhz: int


MODELS: dict[str, ModelSpec] = {
    "Antminer S19": ModelSpec(95.0, 34.5, 76, 650),
    "Antminer S19 Pro": ModelSpec(110.0, 29.5, 114, 525),
    "Antminer S19j Pro": ModelSpec(104.0, 29.5, 126, 525),
    "Antminer S19k Pro": ModelSpec(120.0, 23.0, 77, 485),
    "Antminer S19 XP": ModelSpec(140.0, 21.5, 110, 495),
    "Antminer S21": ModelSpec(200.0, 17.5, 108, 490),
    "Antminer S21 Pro": ModelSpec(234.0, 15.0, 65, 500),
    "Antminer T21": ModelSpec(190.0, 19.0, 108, 490),
}

DEFAULT_POOLS: tuple[dict[str, str], ...] = (
    {"url": "stratum+tcp://stratum.braiins.com:3333", "user": "homeminer.worker1", "pass": "x"},
    {"url": "stratum+tcp://btc.viabtc.io:3333", "user": "homeminer.001", "pass": "x"},
    {"url": "", "user": "", "pass": ""},
)


def _stock_mac(ip: str) -> str:
    # Stock control boards report a locally administered address (02:...), not a Bitmain OUI.
    digest = hashlib.sha256(f"antminer:{ip}".encode()).digest()
    return "02" + "".join(f":{b:02X}" for b in digest[:5])


def _serial(seed: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:17])


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _chain_acs(chips: int) -> str:
    """bmminer's per-chip status string: " ooo ooo ..." ("o" = chip answering)."""
    groups = ["ooo"] * (chips // 3) + (["o" * (chips % 3)] if chips % 3 else [])
    return "".join(" " + group for group in groups)


def _dashed(values: list[int]) -> str:
    return "-".join(str(v) for v in values)


class AntminerStockMiner(SimulatedMiner):
    """An Antminer (S19j Pro by default) on Bitmain's stock firmware.

    `mode` is the saved work mode ("normal", "sleep", "low"); `password` is the web password
    (pyasic assumes root/root unless `default_antminer_web_password` is changed);
    `restart_seconds` is how long bmminer's API refuses connections after a config change
    (tens of seconds on a real unit, kept short for tests).
    """

    family = "antminer"
    http_port = 80
    rpc_port = 4028
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Antminer S19j Pro", "firmware": "Mon Dec 26 17:10:01 CST 2022"},
        {"model": "Antminer S19 Pro", "firmware": "Tue Dec  6 16:12:30 CST 2022"},
        {"model": "Antminer S21", "firmware": "Wed Feb 12 18:01:32 CST 2025"},
        {"model": "Antminer S19k Pro", "firmware": "Mon Dec 26 17:10:01 CST 2022", "mode": "low"},
        {"model": "Antminer T21", "firmware": "Thu Jan 16 11:00:25 CST 2025"},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Antminer S19j Pro",
        firmware: str = "Mon Dec 26 17:10:01 CST 2022",
        miner_version: str = "49.0.1.3",
        username: str = "root",
        password: str = "root",
        hostname: str = "Antminer",
        mac: str | None = None,
        serial: str | None = None,
        nominal_ths: float | None = None,
        efficiency_jth: float | None = None,
        boards: int = 3,
        chips_per_board: int | None = None,
        fans: int = 4,
        pools: list[dict[str, str]] | None = None,
        mode: str = "normal",
        ambient_c: float = 25.0,
        low_power_ratio: float = 0.7,
        idle_w: float = 15.0,
        restart_seconds: float = 1.0,
        command_delay: float = 0.3,
        reboot_seconds: float = 2.0,
        http_port: int | None = None,
        rpc_port: int | None = None,
    ) -> None:
        super().__init__(
            ip,
            hostname=hostname,
            mac=mac or _stock_mac(ip),
            command_delay=command_delay,
            reboot_seconds=reboot_seconds,
            http_port=http_port,
            rpc_port=rpc_port,
        )
        spec = MODELS.get(model, MODELS["Antminer S19j Pro"])
        self.model = model
        self.firmware = firmware
        self.miner_version = miner_version
        self.username = username
        self.password = password
        self.serial = serial or _serial(f"{self.mac}:serial")
        self.nominal_ths = nominal_ths if nominal_ths is not None else spec.nominal_ths
        self.efficiency_jth = efficiency_jth if efficiency_jth is not None else spec.efficiency_jth
        self.boards = boards
        self.chips_per_board = chips_per_board or spec.chips_per_board
        self.freq_mhz = spec.freq_mhz
        self.fans = fans
        self.ambient_c = ambient_c
        self.low_power_ratio = low_power_ratio
        self.idle_w = idle_w
        self.restart_seconds = restart_seconds
        # Saved config (survives reboots, like /config/cgminer.conf).
        self.work_mode = MODE_NAMES[mode]
        self.freq_level = "100"
        self.fan_ctrl = False
        self.fan_pwm = "100"
        self.pools: list[dict[str, str]] = [
            dict(p) for p in (pools if pools is not None else DEFAULT_POOLS)
        ]
        self.nettype = "DHCP"
        self.net_conf = {"ipaddress": "", "netmask": "", "gateway": "", "dnsservers": ""}
        self.alerts: dict[str, tuple[str, int, str]] = {}
        """Status items summary.cgi reports as not "s": type -> (status "w"/"e", code, msg)."""
        # Running state.
        self.blink = False
        self.running_mode: str | None = None
        """The work mode bmminer runs; None while bmminer is restarting or the unit is off."""
        self._bmminer_since = time.monotonic()
        self._bmminer_generation = 0
        self._th_seconds = 0.0
        self._nonce_secret = hashlib.sha256(f"{self.mac}:{self.serial}".encode()).hexdigest()
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- physics ---------------------------------------------------------------------------
    @property
    def hashing(self) -> bool:
        return self.powered and self.running_mode not in (None, MODE_SLEEP)

    @property
    def bmminer_up(self) -> bool:
        return self.powered and self.running_mode is not None

    @property
    def _mode_factor(self) -> float:
        return self.low_power_ratio if self.running_mode == MODE_LOW else 1.0

    def board_ghs(self, index: int) -> float:
        if not self.hashing:
            return 0.0
        share = BOARD_SPREAD[index % len(BOARD_SPREAD)]
        return self.nominal_ths * 1000 / self.boards * self._mode_factor * share

    @property
    def hashrate_ths(self) -> float:
        return sum(self.board_ghs(i) for i in range(self.boards)) / 1000

    @property
    def ideal_ghs(self) -> float:
        return self.nominal_ths * 1000 * self._mode_factor if self.hashing else 0.0

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        if not self.hashing:
            return self.idle_w
        efficiency = self.efficiency_jth
        if self.running_mode == MODE_LOW:
            efficiency *= LOW_POWER_EFFICIENCY_GAIN
        return max(self.idle_w, self.hashrate_ths * efficiency)

    def board_temps(self, index: int) -> tuple[list[int], list[int], list[int]]:
        """(temp_pic, temp_pcb, temp_chip) of a board: two inlet, then two outlet sensors."""
        if not self.hashing:
            return [], [], []
        board_w = (self.power_w - self.idle_w) / self.boards
        offset = BOARD_TEMP_OFFSET[index % len(BOARD_TEMP_OFFSET)]
        inlet = round(self.ambient_c + 0.020 * board_w) + offset
        outlet = round(self.ambient_c + 0.040 * board_w) + offset
        pcb = [inlet, inlet, outlet, outlet]
        # The firmware derives the PIC and chip readings from the PCB sensors by fixed offsets.
        return [t - 10 for t in pcb], pcb, [t + 5 for t in pcb]

    def fan_rpms(self) -> list[int]:
        if not self.hashing:
            return [0] * self.fans
        if self.fan_ctrl:
            base = MAX_FAN_RPM * int(self.fan_pwm or 100) / 100
        else:
            hottest = max(max(self.board_temps(i)[1]) for i in range(self.boards))
            base = min(MAX_FAN_RPM, max(MIN_FAN_RPM, MIN_FAN_RPM + (hottest - 40) * 140))
        return [
            int(round(base * FAN_SHARE[i % len(FAN_SHARE)] / 30) * 30) for i in range(self.fans)
        ]

    @property
    def elapsed_s(self) -> int:
        """bmminer's `Elapsed`: seconds since the mining process last started."""
        return int(time.monotonic() - self._bmminer_since) if self.bmminer_up else 0

    def _integrate(self) -> None:
        if self.powered:
            self._th_seconds += self.hashrate_ths * (time.monotonic() - self._energy_at)
        super()._integrate()

    @property
    def accepted(self) -> int:
        return int(self._th_seconds / TH_SECONDS_PER_SHARE)

    @property
    def rejected(self) -> int:
        return self.accepted // 370

    def _board_hw(self, index: int) -> int:
        return int(self._th_seconds / 600 * (1 + index % 2) / self.boards)

    def on_boot(self) -> None:
        self.blink = False
        self._bmminer_generation += 1
        self._start_mining_process()

    def _start_mining_process(self) -> None:
        self.running_mode = self.work_mode
        self._bmminer_since = time.monotonic()
        self._th_seconds = 0.0

    def status(self) -> dict[str, Any]:
        self._integrate()
        return {
            **super().status(),
            "model": self.model,
            "firmware": self.firmware,
            "mode": MODE_LABELS.get(self.work_mode, self.work_mode),
            "running_mode": MODE_LABELS.get(self.running_mode or "", self.running_mode),
            "bmminer_up": self.bmminer_up,
            "hashing": self.hashing,
            "hashrate_ths": round(self.hashrate_ths, 3),
            "expected_ths": round(self.ideal_ghs / 1000, 3),
            "boards_ths": [round(self.board_ghs(i) / 1000, 3) for i in range(self.boards)],
            "board_temps": [self.board_temps(i)[1] for i in range(self.boards)],
            "chip_temps": [self.board_temps(i)[2] for i in range(self.boards)],
            "fans_rpm": self.fan_rpms(),
            "uptime_s": self.uptime_s,
            "elapsed_s": self.elapsed_s,
            "energy_wh": round(self.energy_wh, 3),
            "blink": self.blink,
            "pools": [p["url"] for p in self.pools if p.get("url")],
            "accepted": self.accepted,
        }

    # ---- bmminer restarts --------------------------------------------------------------------
    def _restart_bmminer(self) -> None:
        """Stop bmminer now (its API port closes); it comes back running the saved config."""
        self._integrate()
        self.running_mode = None
        self._bmminer_generation += 1
        generation = self._bmminer_generation
        server, self._rpc_server = self._rpc_server, None
        if server is not None:
            server.close()
            for task in list(self._connections):
                task.cancel()
        self.call_later(self.restart_seconds, lambda: self._spawn(self._start_bmminer(generation)))

    async def _start_bmminer(self, generation: int) -> None:
        if not self.powered or generation != self._bmminer_generation:
            return
        if self._rpc_server is None and self.rpc_port is not None:
            self._rpc_server = await asyncio.start_server(
                self._rpc_connection, self.ip, self.rpc_port, reuse_address=True
            )
        self._integrate()
        self._start_mining_process()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def power_off(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().power_off()
        self.running_mode = None

    start = SimulatedMiner.power_on
    stop = power_off

    # ---- HTTP: lighttpd with digest auth -----------------------------------------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def _new_nonce(self) -> str:
        stamp = f"{int(time.time()):08x}"
        return stamp + _md5(f"{stamp}:{self._nonce_secret}")

    def _nonce_state(self, nonce: str) -> str:
        """ "ok", "stale" (ours but expired) or "bad"."""
        stamp, sig = nonce[:8], nonce[8:]
        if not re.fullmatch(r"[0-9a-f]{8}", stamp) or not hmac.compare_digest(
            sig, _md5(f"{stamp}:{self._nonce_secret}")
        ):
            return "bad"
        return "stale" if time.time() - int(stamp, 16) > NONCE_LIFETIME else "ok"

    def _auth_state(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() != "digest ":
            return "missing"
        fields = parse_keqv_list(parse_http_list(header[7:]))
        nonce = fields.get("nonce", "")
        state = self._nonce_state(nonce)
        if state != "ok":
            return state
        if (
            fields.get("realm") != REALM
            or fields.get("uri") != request.raw_path
            or fields.get("algorithm", "MD5").upper() != "MD5"
        ):
            return "bad"
        ha1 = _md5(f"{fields.get('username', '')}:{REALM}:{self.password}")
        ha2 = _md5(f"{request.method}:{fields['uri']}")
        qop = fields.get("qop")
        if qop == "auth":
            expected = _md5(
                f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}"
            )
        elif qop is None:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        else:
            return "bad"
        if (
            self.faults.wrong_credentials
            or fields.get("username") != self.username
            or not hmac.compare_digest(fields.get("response", ""), expected)
        ):
            return "bad"
        return "ok"

    def _challenge(self, stale: bool = False) -> web.Response:
        header = (
            f'Digest realm="{REALM}", charset="UTF-8", algorithm=MD5, '
            f'nonce="{self._new_nonce()}", qop="auth"'
        )
        if stale:
            header += ", stale=true"
        return web.Response(
            status=401,
            text=UNAUTHORIZED_PAGE,
            content_type="text/html",
            headers={"WWW-Authenticate": header},
        )

    async def _dispatch(self, request: web.Request) -> web.Response:
        state = self._auth_state(request)
        if state != "ok":
            return self._challenge(stale=state == "stale")
        path = request.path
        if path in ("/", "/index.html"):
            return web.Response(text=INDEX_PAGE, content_type="text/html")
        match = re.fullmatch(r"/cgi-bin/([a-z_]+)\.cgi", path)
        handler = getattr(self, f"_cgi_{match.group(1)}", None) if match else None
        if handler is None:
            return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
        self._integrate()
        response: web.Response = await handler(request)
        return response

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError, UnicodeDecodeError:
            return dict(parse_qsl(raw.decode("utf-8", "replace")))
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _json(data: dict[str, Any]) -> web.Response:
        return web.Response(text=json.dumps(data), content_type="application/json")

    async def _cgi_get_system_info(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "minertype": self.model,
                "nettype": self.nettype,
                "netdevice": "eth0",
                "macaddr": self.mac,
                "hostname": self.hostname,
                "ipaddress": self.ip,
                "netmask": "255.255.255.0",
                "gateway": self.net_conf["gateway"],
                "dnsservers": self.net_conf["dnsservers"],
                "system_mode": "GNU/Linux",
                "system_kernel_version": f"Linux 4.9.38 #1 SMP PREEMPT {self.firmware}",
                "system_filesystem_version": self.firmware,
                "firmware_type": "Release",
                "serinum": self.serial,
            }
        )

    async def _cgi_get_network_info(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "nettype": self.nettype,
                "netdevice": "eth0",
                "macaddr": self.mac,
                "ipaddress": self.ip,
                "netmask": "255.255.255.0",
                "conf_nettype": self.nettype,
                "conf_hostname": self.hostname,
                "conf_ipaddress": self.net_conf["ipaddress"],
                "conf_netmask": self.net_conf["netmask"],
                "conf_gateway": self.net_conf["gateway"],
                "conf_dnsservers": self.net_conf["dnsservers"],
            }
        )

    def _miner_conf(self) -> dict[str, Any]:
        return {
            "pools": [dict(p) for p in self.pools],
            "api-listen": True,
            "api-network": True,
            "api-groups": "A:" + ":".join(("stats", "pools", "devs", "summary", "version")),
            "api-allow": "A:0/0,W:*",
            "bitmain-fan-ctrl": self.fan_ctrl,
            "bitmain-fan-pwm": self.fan_pwm,
            "bitmain-use-vil": True,
            "bitmain-freq": str(self.freq_mhz),
            "bitmain-voltage": "1400",
            "bitmain-ccdelay": "0",
            "bitmain-pwth": "0",
            "bitmain-work-mode": self.work_mode,
            "bitmain-freq-level": self.freq_level,
        }

    async def _cgi_get_miner_conf(self, request: web.Request) -> web.Response:
        return self._json(self._miner_conf())

    async def _cgi_set_miner_conf(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        error = {"stats": "error", "code": "M001", "msg": "Invalid configuration"}
        # The web UI posts "miner-mode"/"freq-level"; the saved file calls them bitmain-*.
        raw_mode = body.get("miner-mode", body.get("bitmain-work-mode"))
        mode = None if raw_mode is None else str(raw_mode)
        if mode is not None and mode not in MODE_LABELS:
            return self._json(error)
        pools = body.get("pools")
        if pools is not None and (
            not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools)
        ):
            return self._json(error)
        fan_ctrl = body.get("bitmain-fan-ctrl")
        fan_pwm = body.get("bitmain-fan-pwm")
        freq_level = body.get("freq-level", body.get("bitmain-freq-level"))
        rec = self.record("http", "set_miner_conf", **body)

        def _write_and_restart() -> None:
            if mode is not None:
                self.work_mode = mode
            if pools is not None:
                self.pools = [
                    {
                        "url": str(p.get("url", "")),
                        "user": str(p.get("user", "")),
                        "pass": str(p.get("pass", "")),
                    }
                    for p in pools[:3]
                ]
            if fan_ctrl is not None:
                self.fan_ctrl = fan_ctrl in (True, "true", "1", 1)
            # Unknown keys (e.g. pyasic's "bitmain-fan-pwn") are not part of the config file.
            if fan_pwm is not None:
                self.fan_pwm = str(fan_pwm)
            if freq_level is not None:
                self.freq_level = str(freq_level)
            self._restart_bmminer()

        self.apply(rec, _write_and_restart)
        return self._json({"stats": "success", "code": "M000", "msg": "OK!"})

    def _new_status(self, msg: str) -> dict[str, Any]:
        return {
            "STATUS": "S",
            "when": int(time.time()),
            "Msg": msg,
            "api_version": NEW_API_VERSION,
        }

    def _new_info(self) -> dict[str, Any]:
        return {
            "miner_version": self.miner_version,
            "CompileTime": self.firmware,
            "type": self.model,
        }

    def _new_summary(self) -> dict[str, Any]:
        rate = self.hashrate_ths * 1000
        items = []
        for kind in ("rate", "network", "fans", "temp"):
            status, code, msg = self.alerts.get(kind, ("s", 0, ""))
            items.append({"type": kind, "status": status, "code": code, "msg": msg})
        return {
            "STATUS": self._new_status("summary"),
            "INFO": self._new_info(),
            "SUMMARY": [
                {
                    "elapsed": self.elapsed_s,
                    "rate_5s": round(rate, 2),
                    "rate_30m": round(rate, 2),
                    "rate_avg": round(rate, 2),
                    "rate_ideal": round(self.ideal_ghs, 2),
                    "rate_unit": "GH/s",
                    "hw_all": sum(self._board_hw(i) for i in range(self.boards)),
                    "bestshare": self.accepted * 65536,
                    "status": items,
                }
            ],
        }

    def _new_stats(self) -> dict[str, Any]:
        chains = []
        for i in range(self.boards):
            pic, pcb, chip = self.board_temps(i)
            chips = self.chips_per_board if self.hashing else 0
            ideal = self.ideal_ghs / self.boards
            hw = self._board_hw(i)
            chains.append(
                {
                    "index": i,
                    "freq_avg": self.freq_mhz if self.hashing else 0,
                    "rate_ideal": round(ideal, 2),
                    "rate_real": round(self.board_ghs(i), 2),
                    "asic_num": chips,
                    "asic": _chain_acs(chips),
                    "temp_pic": pic,
                    "temp_pcb": pcb,
                    "temp_chip": chip,
                    "hw": hw,
                    "eeprom_loaded": True,
                    "sn": _serial(f"{self.serial}:chain{i}"),
                    "hwp": round(100 * hw / max(1, hw + self.accepted * 1000), 4),
                }
            )
        rate = self.hashrate_ths * 1000
        fans = self.fan_rpms()
        return {
            "STATUS": self._new_status("stats"),
            "INFO": self._new_info(),
            "STATS": [
                {
                    "elapsed": self.elapsed_s,
                    "rate_5s": round(rate, 2),
                    "rate_30m": round(rate, 2),
                    "rate_avg": round(rate, 2),
                    "rate_ideal": round(self.ideal_ghs, 2),
                    "rate_unit": "GH/s",
                    "chain_num": self.boards,
                    "fan_num": self.fans,
                    "fan": fans,
                    "hwp_total": 0.0,
                    "miner-mode": int(self.running_mode or self.work_mode),
                    "freq-level": int(self.freq_level),
                    "chain": chains,
                }
            ],
        }

    def _new_pools(self) -> dict[str, Any]:
        pools = []
        for index, pool in enumerate(p for p in self.pools if p.get("url")):
            pools.append(
                {
                    "index": index,
                    "url": pool["url"],
                    "user": pool["user"],
                    "status": "Alive",
                    "priority": index,
                    "getworks": self.elapsed_s // 30 + 1,
                    "accepted": self.accepted if index == 0 else 0,
                    "rejected": self.rejected if index == 0 else 0,
                    "discarded": 0,
                    "stale": 0,
                    "diff": "65.5K",
                    "diff1": 0,
                    "diffa": float(self.accepted * 65536) if index == 0 else 0.0,
                    "diffr": self.rejected * 65536 if index == 0 else 0,
                    "diffs": 0,
                    "lsdiff": 65536 if index == 0 and self.accepted else 0,
                    "lstime": "0:00:03" if index == 0 and self.accepted else "0",
                }
            )
        return {"STATUS": self._new_status("pools"), "INFO": self._new_info(), "POOLS": pools}

    def _bmminer_cgi(self, build: Any) -> web.Response:
        # These CGIs ask bmminer; while it restarts the script prints nothing.
        if not self.bmminer_up:
            return web.Response(text="", content_type="text/html")
        return self._json(build())

    async def _cgi_summary(self, request: web.Request) -> web.Response:
        return self._bmminer_cgi(self._new_summary)

    async def _cgi_stats(self, request: web.Request) -> web.Response:
        return self._bmminer_cgi(self._new_stats)

    async def _cgi_pools(self, request: web.Request) -> web.Response:
        return self._bmminer_cgi(self._new_pools)

    async def _cgi_get_blink_status(self, request: web.Request) -> web.Response:
        return self._json({"blink": self.blink})

    async def _cgi_blink(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        on = body.get("blink") in (True, "true", "1", 1)
        rec = self.record("http", "blink", blink=on)

        def _set() -> None:
            self.blink = on

        self.apply(rec, _set, delay=0)
        return self._json({"code": "B000" if on else "B100"})

    async def _cgi_reboot(self, request: web.Request) -> web.Response:
        rec = self.record("http", "reboot")
        self.apply(rec, self.reboot)
        # The script only schedules the reboot; lighttpd answers 200 with an empty body.
        return web.Response(text="", content_type="text/html")

    async def _cgi_set_network_conf(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        hostname = str(body.get("ipHost", body.get("conf_hostname", self.hostname)))
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}", hostname):
            return self._json({"stats": "error", "code": "N001", "msg": "Hostname invalid!"})
        protocol = str(body.get("ipPro", ""))
        nettype = str(body.get("conf_nettype", "")) or ("Static" if protocol == "2" else "DHCP")
        conf = {
            "ipaddress": str(body.get("ipAddress", body.get("conf_ipaddress", ""))),
            "netmask": str(body.get("ipSub", body.get("conf_netmask", ""))),
            "gateway": str(body.get("ipGateway", body.get("conf_gateway", ""))),
            "dnsservers": str(body.get("ipDns", body.get("conf_dnsservers", ""))),
        }
        rec = self.record("http", "set_network_conf", **body)

        def _set() -> None:
            # The simulated unit keeps its loopback address; the rest is saved as on the device.
            self.hostname = hostname
            self.nettype = nettype
            self.net_conf = conf

        self.apply(rec, _set)
        return self._json({"stats": "success", "code": "N000", "msg": "OK!"})

    # ---- RPC: bmminer on 4028 ----------------------------------------------------------------
    async def handle_rpc(self, request: dict[str, Any]) -> dict[str, Any] | None:
        self._integrate()
        command = str(request.get("command", ""))
        if request.get("new_api"):
            return self._new_api(command)
        if command in API_GROUP:
            handler = getattr(self, f"_rpc_{command}")
            reply: dict[str, Any] = handler()
            return reply
        if command in KNOWN_COMMANDS:
            return self._rpc_error(45, f"Access denied to '{command}' command")
        return self._rpc_error(14, "Invalid command")

    def _new_api(self, command: str) -> dict[str, Any]:
        builders = {
            "stats": self._new_stats,
            "summary": self._new_summary,
            "pools": self._new_pools,
        }
        if command in builders:
            return builders[command]()
        return {"STATUS": {**self._new_status("invalid command"), "STATUS": "E"}}

    @staticmethod
    def _rpc_error(code: int, msg: str) -> dict[str, Any]:
        return {"STATUS": [rpc_status("E", code, msg, DESCRIPTION)], "id": 1}

    def _rpc_version(self) -> dict[str, Any]:
        return {
            "STATUS": [rpc_status("S", 22, "CGMiner versions", DESCRIPTION)],
            "VERSION": [
                {
                    "BMMiner": "1.0.0",
                    "API": "3.1",
                    "Miner": self.miner_version,
                    "CompileTime": self.firmware,
                    "Type": self.model,
                }
            ],
            "id": 1,
        }

    def _rpc_summary(self) -> dict[str, Any]:
        rate = round(self.hashrate_ths * 1000, 2)
        elapsed = self.elapsed_s
        return {
            "STATUS": [rpc_status("S", 11, "Summary", DESCRIPTION)],
            "SUMMARY": [
                {
                    "Elapsed": elapsed,
                    "GHS 5s": rate,
                    "GHS av": rate,
                    "GHS 30m": rate,
                    "Found Blocks": 0,
                    "Getwork": elapsed // 13,
                    "Accepted": self.accepted,
                    "Rejected": self.rejected,
                    "Hardware Errors": sum(self._board_hw(i) for i in range(self.boards)),
                    "Utility": round(self.accepted / max(1, elapsed) * 60, 2),
                    "Discarded": elapsed * 90,
                    "Stale": 0,
                    "Get Failures": 0,
                    "Local Work": elapsed * 90,
                    "Remote Failures": 0,
                    "Network Blocks": elapsed // 600,
                    "Total MH": round(self._th_seconds * 1e6, 1),
                    "Work Utility": round(rate * 14.05, 2),
                    "Difficulty Accepted": float(self.accepted * 65536),
                    "Difficulty Rejected": float(self.rejected * 65536),
                    "Difficulty Stale": 0.0,
                    "Best Share": self.accepted * 65536,
                    "Device Hardware%": 0.0,
                    "Device Rejected%": 0.0,
                    "Pool Rejected%": 0.0,
                    "Pool Stale%": 0.0,
                    "Last getwork": int(time.time()),
                }
            ],
            "id": 1,
        }

    def _rpc_stats(self) -> dict[str, Any]:
        rate = round(self.hashrate_ths * 1000, 2)
        stats: dict[str, Any] = {
            "STATS": 0,
            "ID": "BTM_SOC0",
            "Elapsed": self.elapsed_s,
            "Calls": 0,
            "Wait": 0.0,
            "Max": 0.0,
            "Min": 99999999.0,
            "GHS 5s": rate,
            "GHS av": rate,
            "rate_30m": rate,
            # Observed as 2 on a normally mining S19 Pro; not the saved work mode.
            "Mode": 2,
            "miner_count": self.boards,
            "frequency": self.freq_mhz,
            "fan_num": self.fans,
        }
        for i, rpm in enumerate(self.fan_rpms(), start=1):
            stats[f"fan{i}"] = rpm
        stats["temp_num"] = self.boards
        slots = range(1, max(4, self.boards) + 1)
        temps = {n: self.board_temps(n - 1) if n <= self.boards else ([], [], []) for n in slots}
        for n in range(1, self.boards + 1):
            stats[f"temp{n}"] = max(temps[n][1], default=0)
        for n in range(1, self.boards + 1):
            stats[f"temp2_{n}"] = max(temps[n][2], default=0)
        for key, which in (("temp_pcb", 1), ("temp_chip", 2), ("temp_pic", 0)):
            for n in slots:
                stats[f"{key}{n}"] = _dashed(temps[n][which] or [0, 0, 0, 0])
        stats.update(
            {
                "total_rateideal": round(self.ideal_ghs, 2),
                "rate_unit": "GH",
                "total_freqavg": self.freq_mhz if self.hashing else 0,
                "total_acn": self.chips_per_board * self.boards if self.hashing else 0,
                "total rate": rate,
                "temp_max": 0,
                "no_matching_work": sum(self._board_hw(i) for i in range(self.boards)),
            }
        )
        chips = {n: self.chips_per_board if n <= self.boards and self.hashing else 0 for n in slots}
        for n in slots:
            stats[f"chain_acn{n}"] = chips[n]
        for n in slots:
            stats[f"chain_acs{n}"] = _chain_acs(chips[n]) if chips[n] else ""
        for n in slots:
            stats[f"chain_hw{n}"] = self._board_hw(n - 1) if n <= self.boards else 0
        for n in slots:
            # bmminer prints chain rates as strings, "" for an empty slot.
            stats[f"chain_rate{n}"] = f"{self.board_ghs(n - 1):.2f}" if n <= self.boards else ""
        for n in slots:
            stats[f"freq{n}"] = self.freq_mhz if chips[n] else 0
        stats["miner_version"] = self.miner_version
        stats["miner_id"] = hashlib.sha256(self.serial.encode()).hexdigest()[:16]
        return {
            "STATUS": [rpc_status("S", 70, "CGMiner stats", DESCRIPTION)],
            "STATS": [
                {
                    "BMMiner": "1.0.0",
                    "Miner": self.miner_version,
                    "CompileTime": self.firmware,
                    "Type": self.model,
                },
                stats,
            ],
            "id": 1,
        }

    def _rpc_pools(self) -> dict[str, Any]:
        pools = []
        configured = [p for p in self.pools if p.get("url")]
        for index, pool in enumerate(configured):
            active = index == 0 and self.hashing
            host = re.sub(r"^[a-z0-9+]+://", "", pool["url"]).split(":")[0]
            pools.append(
                {
                    "POOL": index,
                    "URL": pool["url"],
                    "Status": "Alive",
                    "Priority": index,
                    "Quota": 1,
                    "Long Poll": "N",
                    "Getworks": self.elapsed_s // 13 if index == 0 else 3,
                    "Accepted": self.accepted if index == 0 else 0,
                    "Rejected": self.rejected if index == 0 else 0,
                    "Discarded": self.elapsed_s * 90 if index == 0 else 0,
                    "Stale": 0,
                    "Get Failures": 0,
                    "Remote Failures": 0,
                    "User": pool["user"],
                    "Last Share Time": "0:00:03" if active and self.accepted else "0",
                    "Diff": "65.5K" if index == 0 else "",
                    "Diff1 Shares": 0,
                    "Proxy Type": "",
                    "Proxy": "",
                    "Difficulty Accepted": float(self.accepted * 65536) if index == 0 else 0.0,
                    "Difficulty Rejected": float(self.rejected * 65536) if index == 0 else 0.0,
                    "Difficulty Stale": 0.0,
                    "Last Share Difficulty": 65536.0 if active and self.accepted else 0.0,
                    "Has Stratum": True,
                    "Stratum Active": active,
                    "Stratum URL": host if active else "",
                    "Has GBT": False,
                    "Best Share": float(self.accepted * 65536) if index == 0 else 0.0,
                    "Pool Rejected%": 0.0,
                    "Pool Stale%%": 0.0,
                }
            )
        return {
            "STATUS": [rpc_status("S", 7, f"{len(pools)} Pool(s)", DESCRIPTION)],
            "POOLS": pools,
            "id": 1,
        }

    def _rpc_devs(self) -> dict[str, Any]:
        now = int(time.time())
        return {
            "STATUS": [rpc_status("S", 9, "1 ASC(s)", DESCRIPTION)],
            "DEVS": [
                {
                    "ASC": 0,
                    "Name": "BTM_SOC",
                    "ID": 0,
                    "Enabled": "Y",
                    "Status": "Alive",
                    # Sic: bmminer's key is misspelled and always 0.
                    "Tenperature": 0.0,
                    "MHS 5s": 0.0,
                    "MHS av": 0.0,
                    "Accepted": self.accepted,
                    "Rejected": self.rejected,
                    "Hardware Errors": 0,
                    "Utility": 0.0,
                    "Last Share Pool": 0,
                    "Last Share Time": now,
                    "Total MH": 0.0,
                    "Diff1 Work": 0,
                    "Difficulty Accepted": self.accepted * 65536,
                    "Difficulty Rejected": self.rejected * 65536,
                    "Last Share Difficulty": now,
                    "Last Valid Work": now,
                    "Device Hardware%": 0.0,
                    "Device Rejected%": 0.0,
                    "Device Elapsed": self.elapsed_s,
                }
            ],
            "id": 1,
        }
