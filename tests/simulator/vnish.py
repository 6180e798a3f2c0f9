"""An Antminer on VNish (AnthillOS) firmware: its web API on port 80 and cgminer on 4028.

What the simulator reproduces, and where it comes from (VNish's web API as the firmware
documents it at `/docs` on the miner, VNish 1.2.6/1.2.7, transcribed with observed answers
in a public "VNish API Documentation"; pyasic 0.79 `web/vnish.py` for what a client sends):

* `POST /api/v1/unlock {"pw": ...}` gives `{"token": ...}`; the token goes in the
  `Authorization` header (with or without "Bearer "), a wrong password is 401.
* Reads: `/info` (model, firmware, MAC, hostname, system uptime; no login), `/status`
  (`miner_state`, `find_miner`), `/summary` (hash rates in GH/s, `power_consumption` in W,
  chip/PCB temperatures, pools, chains, fans), `/settings` (`miner.overclock.preset`,
  pools, cooling), `/perf-summary` (the current preset), `/autotune/presets` (presets named
  by their watts, pretty "<W> watt ~ <TH> TH", status "tuned" once autotune ran).
* Controls: `/mining/stop` turns the hashboards off and `/mining/start` starts again;
  `/mining/pause` / `/mining/resume` hold the boards idle; resume after a stop fails with
  cgminer's "failed-to-activate-resume-mode". `POST /settings` with a new
  `miner.overclock.preset` answers `{"restart_required": false, ...}` and restarts mining in
  the preset; `/find-miner` toggles the LED and answers its new state; `/system/reboot`.
* cgminer on 4028 (`version`, `summary`, `stats`, `pools`) in the legacy bmminer shape, its
  stats `Type` "Antminer S19j Pro (Vnish 1.2.7)" (how pyasic finds the model); the web page
  is titled "AnthillOS" (how pyasic finds the firmware).

Physics: each preset is a power target the autotune found chip settings for; the rate
follows the power as ∝ power^0.8, "disabled" runs the stock frequency at the stock power.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from aiohttp import web

from .base import CommandRecord, SimulatedMiner, rpc_status

DESCRIPTION = "cgminer 4.9.2"
RATE_EXPONENT = 0.8
STOCK = {"Antminer S19j Pro": (104.0, 3068, 126), "Antminer S19 XP": (140.0, 3010, 110)}
PRESETS_W = (1900, 2100, 2350, 2620, 2950, 3250, 3550)


def _uptime_text(seconds: int) -> str:
    """How the firmware prints the system uptime: "3 days, 4:05" / "0:06"."""
    days, rest = divmod(seconds, 86400)
    clock = f"{rest // 3600}:{rest % 3600 // 60:02d}"
    return f"{days} days, {clock}" if days else clock


def _mining_action(name: str, allowed: tuple[str, ...], then: str) -> Any:
    """`POST /mining/<name>`: accepted in the `allowed` states, it goes to `then`."""

    async def handler(miner: VNishMiner, request: web.Request) -> web.Response:
        rec: CommandRecord = miner.record("http", f"mining/{name}")
        if miner.state not in allowed:
            rec.applied = False
            mode = "pause" if name in ("stop", "pause") else "resume"
            return web.json_response(
                {"err": f"CGMiner err: Cgminer error failed-to-activate-{mode}-mode "},
                status=500,
            )

        def _apply() -> None:
            if then == "initializing":
                miner._restart_mining()
            else:
                miner._set_state(then)

        miner.apply(rec, _apply)
        return web.Response(status=200)

    return handler


class VNishMiner(SimulatedMiner):
    """An Antminer S19j Pro (by default) running VNish 1.2.7."""

    family = "vnish"
    oui = "02:56:4E"
    http_port = 80
    rpc_port = 4028
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Antminer S19j Pro"},
        {"model": "Antminer S19 XP", "preset": "2620"},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Antminer S19j Pro",
        firmware: str = "1.2.7",
        password: str = "admin",
        hostname: str = "antminer",
        mac: str | None = None,
        preset: str = "2950",
        tuned: tuple[int, ...] = (1900, 2100, 2350, 2620, 2950),
        ambient_c: float = 25.0,
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
            mac=mac,
            command_delay=command_delay,
            reboot_seconds=reboot_seconds,
            http_port=http_port,
            rpc_port=rpc_port,
        )
        self.model = model
        self.nominal_ths, self.stock_w, self.chips = STOCK[model]
        self.firmware = firmware
        self.password = password
        self.ambient_c = ambient_c
        self.idle_w = idle_w
        self.restart_seconds = restart_seconds
        # Saved settings.
        self.preset = preset
        self.tuned = set(tuned)
        self.pools = [{"url": "stratum.braiins.com:3333", "user": "homeminer.vnish", "pass": "x"}]
        # Running state.
        self.state = "mining"
        self.find_miner = False
        self._state_since = time.monotonic()
        self._tokens: set[str] = set()
        self._generation = 0
        self._th_seconds = 0.0

    # ---- physics ---------------------------------------------------------------------------
    @property
    def hashing(self) -> bool:
        return self.powered and self.state == "mining"

    @property
    def target_w(self) -> float:
        return float(self.stock_w if self.preset == "disabled" else int(self.preset))

    @property
    def hashrate_ths(self) -> float:
        if not self.hashing:
            return 0.0
        return self.nominal_ths * (self.target_w / self.stock_w) ** RATE_EXPONENT

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        return round(self.target_w) if self.hashing else self.idle_w

    def chip_temps(self) -> tuple[int, int]:
        if not self.hashing:
            return round(self.ambient_c), round(self.ambient_c) + 2
        hot = round(self.ambient_c + 0.013 * self.power_w)
        return hot - 8, hot + 6

    def fan_rpm(self) -> int:
        return int(2400 + 0.8 * self.power_w) // 30 * 30 if self.hashing else 0

    def _integrate(self) -> None:
        if self.powered:
            self._th_seconds += self.hashrate_ths * (time.monotonic() - self._energy_at)
        super()._integrate()

    def on_boot(self) -> None:
        self.find_miner = False
        self._tokens.clear()
        self._set_state("mining")

    def _set_state(self, state: str) -> None:
        self._integrate()
        self.state = state
        self._state_since = time.monotonic()

    def _restart_mining(self) -> None:
        """Mining goes through initialising and comes back in the saved preset."""
        self._set_state("initializing")
        self._generation += 1
        generation = self._generation

        def _done() -> None:
            if generation == self._generation and self.state == "initializing":
                self._set_state("mining")

        self.call_later(self.restart_seconds, _done)

    def presets(self) -> list[dict[str, Any]]:
        presets: list[dict[str, Any]] = [
            {
                "name": "disabled",
                "pretty": "Disabled",
                "status": "untuned",
                "modded_psu_required": False,
            }
        ]
        for watts in PRESETS_W:
            ths = self.nominal_ths * (watts / self.stock_w) ** RATE_EXPONENT
            presets.append(
                {
                    "name": str(watts),
                    "pretty": f"{watts} watt ~ {round(ths)} TH",
                    "status": "tuned" if watts in self.tuned else "untuned",
                    "modded_psu_required": watts > self.stock_w,
                }
            )
        return presets

    def status(self) -> dict[str, Any]:
        self._integrate()
        return {
            **super().status(),
            "model": self.model,
            "firmware": f"VNish {self.firmware}",
            "state": self.state,
            "preset": self.preset,
            "hashing": self.hashing,
            "hashrate_ths": round(self.hashrate_ths, 3),
            "uptime_s": self.uptime_s,
            "find_miner": self.find_miner,
            "energy_wh": round(self.energy_wh, 3),
        }

    # ---- HTTP ------------------------------------------------------------------------------
    def build_http_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_post("/api/v1/unlock", self._unlock)
        app.router.add_route("*", "/api/v1/{path:.*}", self._api)
        return app

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<!DOCTYPE html><html><head><title>AnthillOS</title></head>"
            '<body><div id="app"></div></body></html>',
            content_type="text/html",
        )

    async def _unlock(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if self.faults.wrong_credentials or body.get("pw") != self.password:
            return web.json_response({"err": "Wrong password"}, status=401)
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return web.json_response({"token": token})

    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return token in self._tokens and not self.faults.wrong_credentials

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError, UnicodeDecodeError:
            return {}
        return body if isinstance(body, dict) else {}

    # Reads any client may make; everything else needs the unlock token.
    _OPEN = frozenset(
        {("GET", "info"), ("GET", "status"), ("GET", "perf-summary"), ("POST", "find-miner")}
    )

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self._integrate()
        path = request.match_info["path"]
        handler = self._ROUTES.get((request.method, path))
        if handler is None:
            return web.json_response({"err": "Not found"}, status=404)
        if (request.method, path) not in self._OPEN and not self._authorised(request):
            return web.json_response({"err": "Unauthorized"}, status=401)
        response: web.StreamResponse = await handler(self, request)
        return response

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "miner": self.model,
                "model": self.model.removeprefix("Antminer ").lower().replace(" ", ""),
                "fw_name": "Vnish",
                "fw_version": self.firmware,
                "platform": "xil",
                "install_type": "nand",
                "algorithm": "sha256d",
                "hr_measure": "GH/s",
                "system": {
                    "os": "GNU/Linux",
                    "miner_name": self.hostname,
                    "network_status": {
                        "mac": self.mac,
                        "dhcp": True,
                        "ip": self.ip,
                        "netmask": "255.255.255.0",
                        "gateway": "",
                        "dns": [],
                        "hostname": self.hostname,
                    },
                    "uptime": _uptime_text(self.uptime_s),
                },
                "serial": hashlib.sha256(self.mac.encode()).hexdigest()[:16].upper(),
            }
        )

    def _status_body(self) -> dict[str, Any]:
        return {
            "miner_state": self.state,
            "miner_state_time": int(time.monotonic() - self._state_since),
            "find_miner": self.find_miner,
            "restart_required": False,
            "reboot_required": False,
            "unlocked": False,
        }

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self._status_body())

    async def _summary(self, request: web.Request) -> web.Response:
        ghs = round(self.hashrate_ths * 1000, 2)
        low, high = self.chip_temps()
        chains = [
            {
                "id": i + 1,
                "frequency": 525 if self.hashing else 0,
                "voltage": 13.6 if self.hashing else 0,
                "power_consumption": round(self.power_w / 3) if self.hashing else 0,
                "hashrate_ideal": round(ghs / 3, 2),
                "hashrate_rt": round(ghs / 3, 2),
                "hw_errors": 0,
                "pcb_temp": {"min": low - 12, "max": high - 12},
                "chip_temp": {"min": low, "max": high},
                "chip_statuses": {"red": 0, "orange": 0, "grey": 0},
                "status": {"state": "mining" if self.hashing else "stopped"},
            }
            for i in range(3)
        ]
        return web.json_response(
            {
                "miner": {
                    "miner_status": {
                        "miner_state": self.state,
                        "miner_state_time": int(time.monotonic() - self._state_since),
                    },
                    "miner_type": f"{self.model} (Vnish {self.firmware})",
                    "hr_stock": self.nominal_ths * 1000,
                    "average_hashrate": ghs,
                    "instant_hashrate": ghs,
                    "hr_realtime": ghs,
                    "hr_nominal": round(self.hashrate_ths * 1000, 2),
                    "hr_average": ghs,
                    "pcb_temp": {"min": low - 12, "max": high - 12},
                    "chip_temp": {"min": low, "max": high},
                    "power_consumption": self.power_w,
                    "power_usage": self.power_w,
                    "power_efficiency": round(self.power_w / self.hashrate_ths, 1)
                    if self.hashing
                    else 0.0,
                    "hw_errors_percent": 0.0,
                    "hw_errors": 0,
                    "devfee_percent": 2.0,
                    "pools": [
                        {
                            "id": 0,
                            "url": self.pools[0]["url"],
                            "pool_type": "UserPool",
                            "user": self.pools[0]["user"],
                            "status": "working" if self.hashing else "offline",
                            "accepted": int(self._th_seconds / 1380),
                            "rejected": 0,
                            "stale": 0,
                        }
                    ],
                    "cooling": {
                        "fan_num": 4,
                        "fans": [
                            {"id": i, "rpm": self.fan_rpm(), "status": "ok", "max_rpm": 6000}
                            for i in range(4)
                        ],
                        "settings": {"mode": {"name": "auto"}},
                        "fan_duty": 60 if self.hashing else 0,
                    },
                    "chains": chains,
                    "found_blocks": 0,
                    "best_share": 0,
                }
            }
        )

    def _settings_body(self) -> dict[str, Any]:
        return {
            "miner": {
                "pools": [dict(p) for p in self.pools],
                "cooling": {
                    "fan_min_count": 4,
                    "fan_min_duty": 10,
                    "mode": {"name": "auto", "param": 75},
                },
                "overclock": {
                    "preset": self.preset,
                    "modded_psu": False,
                    "globals": {"volt": 1380, "freq": 525},
                    "chains": [{"freq": 0} for _ in range(3)],
                },
                "misc": {"quiet_mode": False},
            },
            "misc": {"restart_temp": 95},
        }

    async def _settings(self, request: web.Request) -> web.Response:
        return web.json_response(self._settings_body())

    async def _post_settings(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        overclock = (body.get("miner") or {}).get("overclock") or {}
        preset = overclock.get("preset")
        rec = self.record("http", "settings", **body)
        if preset is not None:
            names = {p["name"] for p in self.presets()}
            if str(preset) not in names:
                return web.json_response({"err": f"Unknown preset {preset}"}, status=400)

            def _apply() -> None:
                self.preset = str(preset)
                if self.state == "mining":
                    self._restart_mining()

            self.apply(rec, _apply)
        else:
            self.apply(rec, lambda: None)
        return web.json_response({"restart_required": False, "reboot_required": False})

    async def _perf_summary(self, request: web.Request) -> web.Response:
        current = next(p for p in self.presets() if p["name"] == self.preset)
        return web.json_response(
            {
                "current_preset": {**current, "globals": {"volt": 1380, "freq": 525}},
                "preset_switcher": {"enabled": False},
            }
        )

    async def _autotune_presets(self, request: web.Request) -> web.Response:
        return web.json_response(self.presets())

    async def _find_miner(self, request: web.Request) -> web.Response:
        rec = self.record("http", "find-miner")
        self.apply(rec, lambda: setattr(self, "find_miner", not self.find_miner), delay=0)
        return web.json_response({"on": not self.find_miner})

    async def _reboot(self, request: web.Request) -> web.Response:
        rec = self.record("http", "system/reboot")
        self.apply(rec, self.reboot)
        return web.json_response({})

    _ROUTES: dict[tuple[str, str], Any] = {
        ("GET", "info"): _info,
        ("GET", "status"): _status,
        ("GET", "summary"): _summary,
        ("GET", "settings"): _settings,
        ("POST", "settings"): _post_settings,
        ("GET", "perf-summary"): _perf_summary,
        ("GET", "autotune/presets"): _autotune_presets,
        ("POST", "find-miner"): _find_miner,
        ("POST", "system/reboot"): _reboot,
        ("POST", "mining/stop"): _mining_action(
            "stop", ("mining", "paused", "initializing"), "stopped"
        ),
        ("POST", "mining/start"): _mining_action("start", ("stopped",), "initializing"),
        ("POST", "mining/pause"): _mining_action("pause", ("mining",), "paused"),
        ("POST", "mining/resume"): _mining_action("resume", ("paused",), "mining"),
        ("POST", "mining/restart"): _mining_action(
            "restart", ("mining", "paused", "stopped", "initializing"), "initializing"
        ),
    }

    # ---- cgminer on 4028 ---------------------------------------------------------------------
    async def handle_rpc(self, request: dict[str, Any]) -> dict[str, Any]:
        self._integrate()
        command = str(request.get("command", ""))
        ghs = round(self.hashrate_ths * 1000, 2)
        if command == "version":
            return {
                "STATUS": [rpc_status("S", 22, "CGMiner versions", DESCRIPTION)],
                "VERSION": [{"CGMiner": "4.9.2", "API": "3.7"}],
                "id": 1,
            }
        if command == "summary":
            return {
                "STATUS": [rpc_status("S", 11, "Summary", DESCRIPTION)],
                "SUMMARY": [{"Elapsed": int(time.monotonic() - self._state_since), "GHS 5s": ghs}],
                "id": 1,
            }
        if command == "stats":
            high = self.chip_temps()[1]
            stats: dict[str, Any] = {
                "Elapsed": int(time.monotonic() - self._state_since),
                "GHS 5s": ghs,
                "total_rateideal": round(self.hashrate_ths * 1000, 2),
                "rate_unit": "GH",
                "fan_num": 4,
                **{f"fan{i}": self.fan_rpm() for i in range(1, 5)},
            }
            for n in range(1, 4):
                stats[f"chain_acn{n}"] = self.chips if self.hashing else 0
                stats[f"chain_acs{n}"] = " ooo" * (self.chips // 3) if self.hashing else ""
                stats[f"chain_rate{n}"] = f"{ghs / 3:.2f}"
                stats[f"temp{n}"] = high - 12
                stats[f"temp2_{n}"] = high
            return {
                "STATUS": [rpc_status("S", 70, "CGMiner stats", DESCRIPTION)],
                "STATS": [
                    {"CGMiner": "4.9.2", "Type": f"{self.model} (Vnish {self.firmware})"},
                    stats,
                ],
                "id": 1,
            }
        if command == "pools":
            return {
                "STATUS": [rpc_status("S", 7, "1 Pool(s)", DESCRIPTION)],
                "POOLS": [
                    {
                        "POOL": 0,
                        "URL": f"stratum+tcp://{self.pools[0]['url']}",
                        "User": self.pools[0]["user"],
                        "Status": "Alive",
                        "Stratum Active": self.hashing,
                        "Accepted": int(self._th_seconds / 1380),
                        "Rejected": 0,
                    }
                ],
                "id": 1,
            }
        return {"STATUS": [rpc_status("E", 14, "Invalid command", DESCRIPTION)], "id": 1}
