"""MicroBT Whatsminer on stock firmware: API v2 (btminer on TCP 4028) and API v3 (TCP 4433).

What the simulator reproduces, and where it comes from:

* API v2 (WhatsMiner API V2.0.x, MicroBT; the vendor's own client in
  whatsminer/whatsminer-mdk-worker `lib/protocols/wm-api-v2.js`): one JSON request per TCP
  connection on 4028, answered and closed. Reads are cgminer-style (`summary`, `devs`,
  `pools`, `devdetails`, joinable with "+") or the `{"STATUS": "S", "Code": 131, "Msg": {...}}`
  envelope (`get_version`, `get_miner_info`, `status`, `get_psu`, `get_error_code`; these are
  not joinable). Writes need a token: `get_token` gives `time`, `salt` and `newsalt`; the key
  is the md5-crypt of the admin password with `salt`, the sign the md5-crypt of key + time
  with `newsalt`; the command, carrying the sign as `token`, is AES-256-ECB encrypted with
  SHA-256(key) and sent as `{"enc": 1, "data": base64}`; the answer comes back as
  `{"enc": base64}` under the same key. A token lives 30 minutes. A key that does not decrypt
  is "json cmd err" (23), a wrong sign "check token err" (135), and firmware whose write API
  is switched off answers "can't access write cmd" (45).
* `power_off` stops mining and turns off the power board's output (the control board stays
  up, `status` says `mineroff`); `power_on` starts it again. `adjust_power_limit` sets the
  upper limit of the power, never above the machine's ordinary power (0-99999, 99999 lifts
  it), and restarts btminer to apply it: the API port refuses connections meanwhile and
  `Elapsed` starts again from zero, while the system `Uptime` runs on.
* API v3 (WhatsMiner API V3, apidoc.whatsminer.com; the vendor's mock in the same repository,
  `mock/api-v3-server.js`): every request and answer is a 4-byte little-endian length and a
  JSON object on TCP 4433, answers are `{"code", "when", "msg", "desc"}` (0 ok, -1 failed,
  -2 invalid command, -4 no permission). `set.*` commands carry `ts`, `account` and
  `token` = the first 8 Base64 characters of SHA-256(cmd + password + salt + ts); the salt is
  in `get.device.info`. `set.miner.service` stops/starts btminer (`miner.working` in
  `get.device.info`), `set.miner.power_limit` restarts it at the new limit; `elapsed` is the
  service's uptime, `bootup-time` the system's. v3 firmware still answers the read-only
  `devdetails`/`get_version` on 4028 (what pyasic's detection and model lookup read).

Physics: the hash rate follows the power as chips do when their voltage drops with it
(rate ∝ power^0.8, so a lower limit is more efficient); temperatures and fans follow the
power per board.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
import hashlib
import json
import re
import secrets
import struct
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from passlib.hash import md5_crypt

from .base import CommandRecord, SimulatedMiner, rpc_status

TOKEN_LIFETIME = 30 * 60
UNLIMITED = 99999
RATE_EXPONENT = 0.8
BOARD_SHARE = (1.004, 0.995, 1.001)
TH_SECONDS_PER_SHARE = 1380.0


@dataclass(frozen=True)
class WhatsminerModel:
    """Nameplate of a model at its normal power mode."""

    devdetails: str
    """How btminer names it in `devdetails` (pyasic strips the "_" and the last digit)."""
    nominal_ths: float
    rated_w: int
    chips: int
    board: str


MODELS: dict[str, WhatsminerModel] = {
    "M30S++ VH30": WhatsminerModel("M30S++_VH30", 112.0, 3472, 111, "H36"),
    "M50S VH30": WhatsminerModel("M50S_VH30", 126.0, 3276, 156, "H30"),
    "M60S VK10": WhatsminerModel("M60S_VK10", 172.0, 3422, 215, "K10"),
}


def _aes(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(key), modes.ECB())


def _crypt_part(word: str, salt: str) -> str:
    """The hash part of an md5-crypt (`$1$salt$HASH`), as the firmware uses it."""
    return str(md5_crypt.using(salt=salt).hash(word)).split("$")[3]


class WhatsminerMiner(SimulatedMiner):
    """What both API generations share: the machine, its hashing and its btminer."""

    oui = "C4:08:28"
    rpc_port = 4028
    api_version = "2.0.5"

    def __init__(
        self,
        ip: str,
        *,
        model: str = "M30S++ VH30",
        firmware: str = "20230714.15.Rel",
        password: str = "admin",
        write_api: bool = True,
        hostname: str = "WhatsMiner",
        mac: str | None = None,
        power_limit: int | None = None,
        mining: bool = True,
        ambient_c: float = 25.0,
        idle_w: float = 12.0,
        restart_seconds: float = 1.0,
        command_delay: float = 0.3,
        reboot_seconds: float = 2.0,
        rpc_port: int | None = None,
    ) -> None:
        super().__init__(
            ip,
            hostname=hostname,
            mac=mac,
            command_delay=command_delay,
            reboot_seconds=reboot_seconds,
            rpc_port=rpc_port,
        )
        self.model = model
        self.spec = MODELS[model]
        self.firmware = firmware
        self.password = password
        self.write_api = write_api
        self.ambient_c = ambient_c
        self.idle_w = idle_w
        self.restart_seconds = restart_seconds
        self.serial = "HTM" + hashlib.sha256(self.mac.encode()).hexdigest()[:17].upper()
        # Saved settings (survive a reboot).
        self.power_limit = self._clamp_limit(power_limit if power_limit is not None else UNLIMITED)
        self.mining = mining
        """False after `power_off` / `set.miner.service stop` until started again."""
        # Running state.
        self.led = "auto"
        self.btminer_up = False
        self._btminer_since = time.monotonic()
        self._btminer_generation = 0
        self._th_seconds = 0.0
        self.error_codes: dict[str, str] = {}
        self.wire: list[dict[str, Any]] = []
        """Every request as the firmware decoded it (v2 writes decrypted), for tests."""
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- physics ---------------------------------------------------------------------------
    def _clamp_limit(self, watts: int) -> int:
        """The firmware never lets the limit above the machine's ordinary power."""
        return self.spec.rated_w if watts >= UNLIMITED else min(max(watts, 0), self.spec.rated_w)

    @property
    def hashing(self) -> bool:
        return self.powered and self.btminer_up and self.mining

    @property
    def target_w(self) -> float:
        return float(min(self.power_limit, self.spec.rated_w))

    @property
    def hashrate_ths(self) -> float:
        if not self.hashing:
            return 0.0
        return self.spec.nominal_ths * (self.target_w / self.spec.rated_w) ** RATE_EXPONENT

    @property
    def power_w(self) -> float:
        if not self.powered:
            return 0.0
        if not self.hashing:
            return self.idle_w
        # The firmware holds a little under its limit; unlimited it draws its rated power.
        return round(self.target_w * (0.99 if self.target_w < self.spec.rated_w else 1.0))

    def board_ths(self, index: int) -> float:
        return self.hashrate_ths / 3 * BOARD_SHARE[index % 3]

    def chip_temps(self, index: int) -> tuple[float, float, float]:
        """(min, avg, max) chip temperature of a board."""
        if not self.hashing:
            base = self.ambient_c + 3
            return base, base, base
        avg = self.ambient_c + 0.04 * self.power_w / 3 + (index - 1) * 0.8
        return round(avg - 6, 1), round(avg, 1), round(avg + 6, 1)

    def fan_rpm(self) -> tuple[int, int]:
        if not self.hashing:
            return 0, 0
        hottest = max(self.chip_temps(i)[2] for i in range(3))
        rpm = int(min(6600, max(2400, 2400 + (hottest - 55) * 120)) // 30 * 30)
        return rpm, rpm - 60

    @property
    def elapsed_s(self) -> int:
        """btminer's `Elapsed`: seconds since the mining process last started."""
        return int(time.monotonic() - self._btminer_since) if self.btminer_up else 0

    def _integrate(self) -> None:
        if self.powered:
            self._th_seconds += self.hashrate_ths * (time.monotonic() - self._energy_at)
        super()._integrate()

    @property
    def accepted(self) -> int:
        return int(self._th_seconds / TH_SECONDS_PER_SHARE)

    def on_boot(self) -> None:
        self.led = "auto"
        self._btminer_generation += 1
        self._start_btminer_process()

    def _start_btminer_process(self) -> None:
        self.btminer_up = True
        self._btminer_since = time.monotonic()
        self._th_seconds = 0.0

    def _restart_btminer(self) -> None:
        """btminer stops now and comes back after `restart_seconds` with the saved settings."""
        self._integrate()
        self.btminer_up = False
        self._btminer_generation += 1
        generation = self._btminer_generation
        self.on_btminer_down()

        def _back() -> None:
            self._spawn(self._btminer_back(generation))

        self.call_later(self.restart_seconds, _back)

    def on_btminer_down(self) -> None:
        """What else goes away with btminer (the v2 API port)."""

    async def _btminer_back(self, generation: int) -> None:
        if not self.powered or generation != self._btminer_generation:
            return
        await self.on_btminer_up()
        self._integrate()
        self._start_btminer_process()

    async def on_btminer_up(self) -> None:
        """What comes back with btminer."""

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
        self.btminer_up = False

    start = SimulatedMiner.power_on
    stop = power_off

    def status(self) -> dict[str, Any]:
        self._integrate()
        return {
            **super().status(),
            "model": f"WhatsMiner {self.model}",
            "firmware": self.firmware,
            "api": self.api_version,
            "mining": self.mining,
            "btminer_up": self.btminer_up,
            "hashing": self.hashing,
            "hashrate_ths": round(self.hashrate_ths, 3),
            "power_limit_w": self.power_limit,
            "uptime_s": self.uptime_s,
            "elapsed_s": self.elapsed_s,
            "led": self.led,
            "energy_wh": round(self.energy_wh, 3),
        }

    # ---- shared answers --------------------------------------------------------------------
    def _summary_fields(self) -> dict[str, Any]:
        mhs = round(self.hashrate_ths * 1e6, 2)
        temps = [self.chip_temps(i) for i in range(3)]
        fan_in, fan_out = self.fan_rpm()
        return {
            "Elapsed": self.elapsed_s,
            "MHS av": mhs,
            "MHS 5s": mhs,
            "MHS 1m": mhs,
            "MHS 5m": mhs,
            "MHS 15m": mhs,
            "HS RT": mhs,
            "Accepted": self.accepted,
            "Rejected": self.accepted // 400,
            "Total MH": round(self._th_seconds * 1e6, 1),
            "Temperature": max(t[1] for t in temps),
            "freq_avg": 560 if self.hashing else 0,
            "Fan Speed In": fan_in,
            "Fan Speed Out": fan_out,
            "Power": self.power_w,
            "Power Rate": round(self.power_w / self.hashrate_ths, 2) if self.hashing else 0,
            "Pool Rejected%": 0.0,
            "Pool Stale%": 0.0,
            "Uptime": self.uptime_s,
            "Hash Stable": self.hashing,
            "Hash Stable Cost Seconds": 627,
            "Hash Deviation%": 0.0,
            "Target Freq": 560,
            "Target MHS": round(self.spec.nominal_ths * 1e6 * 0.95),
            "Env Temp": self.ambient_c,
            "Power Mode": "Normal",
            "Factory GHS": round(self.spec.nominal_ths * 1000),
            "Power Limit": self.power_limit,
            "Chip Temp Min": min(t[0] for t in temps),
            "Chip Temp Max": max(t[2] for t in temps),
            "Chip Temp Avg": round(sum(t[1] for t in temps) / 3, 1),
            "Debug": "-0.0_100.0_360",
            "Btminer Fast Boot": "disable",
            "Upfreq Complete": 1 if self.hashing else 0,
        }

    def _devdetails(self) -> dict[str, Any]:
        return {
            "STATUS": [rpc_status("S", 69, "Device Details", "btminer")],
            "DEVDETAILS": [
                {
                    "DEVDETAILS": i,
                    "Name": "SM",
                    "ID": i,
                    "Driver": "bitmicro",
                    "Kernel": "",
                    "Model": self.spec.devdetails,
                }
                for i in range(3)
            ],
            "id": 1,
        }

    def _msg(self, msg: Any, code: int = 131, status: str = "S") -> dict[str, Any]:
        return {
            "STATUS": status,
            "When": int(time.time()),
            "Code": code,
            "Msg": msg,
            "Description": "",
        }

    def _get_version(self) -> dict[str, Any]:
        return self._msg(
            {
                "api_ver": self.api_version,
                "fw_ver": self.firmware,
                "platform": "H616",
                "chip": f"{self.spec.board}K07-22110702 BINV02-196804B",
            }
        )

    @staticmethod
    def _reply(data: dict[str, Any]) -> bytes:
        # btminer ends its answers without cgminer's NUL.
        return json.dumps(data).encode()


class WhatsminerV2Miner(WhatsminerMiner):
    """A Whatsminer (M30S++ by default) on firmware with API 2.0.5."""

    family = "whatsminer"
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "M30S++ VH30"},
        {"model": "M50S VH30", "firmware": "20240105.22.Rel"},
    )

    def __init__(self, ip: str, **kwargs: Any) -> None:
        super().__init__(ip, **kwargs)
        self._salt = hashlib.sha256(f"salt:{self.mac}".encode()).hexdigest()[:8]
        self._tokens: dict[str, float] = {}
        """Live signs (what the miner expects as `token`) and when each expires."""

    # ---- the API port goes with btminer ----------------------------------------------------
    def on_btminer_down(self) -> None:
        server, self._rpc_server = self._rpc_server, None
        if server is not None:
            server.close()
            for task in list(self._connections):
                task.cancel()

    async def on_btminer_up(self) -> None:
        if self._rpc_server is None and self.rpc_port is not None:
            self._rpc_server = await asyncio.start_server(
                self._rpc_connection, self.ip, self.rpc_port, reuse_address=True
            )

    # ---- the key the miner derives from its own password -----------------------------------
    @property
    def _key(self) -> str:
        return _crypt_part(self.password, self._salt)

    def _aes_key(self) -> bytes:
        return hashlib.sha256(self._key.encode()).digest()

    def _encrypt(self, data: dict[str, Any]) -> bytes:
        plain = json.dumps(data).encode()
        plain += b"\x00" * (-len(plain) % 16)
        encryptor = _aes(self._aes_key()).encryptor()
        enc = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
        return self._reply({"enc": enc})

    def _decrypt(self, data: str) -> dict[str, Any] | None:
        try:
            raw = base64.b64decode(data)
            decryptor = _aes(self._aes_key()).decryptor()
            plain = (decryptor.update(raw) + decryptor.finalize()).rstrip(b"\x00")
            command = json.loads(plain.decode())
        except ValueError, UnicodeDecodeError:
            return None
        return command if isinstance(command, dict) else None

    def on_boot(self) -> None:
        super().on_boot()
        self._tokens.clear()  # tokens live in RAM

    # ---- RPC -------------------------------------------------------------------------------
    async def handle_rpc(self, request: dict[str, Any]) -> bytes:
        self._integrate()
        if request.get("enc") != 1:
            self.wire.append(request)
        if request.get("enc") == 1:
            return self._privileged(request)
        command = str(request.get("command", request.get("cmd", "")))
        if "+" in command:
            parts = command.split("+")
            if any(p.startswith("get_") or p == "status" or p not in self._READS for p in parts):
                return self._reply(self._error(14, "invalid cmd"))
            joined: dict[str, Any] = {p: [self._READS[p](self)] for p in parts}
            joined["id"] = 1
            return self._reply(joined)
        if command == "get_token":
            return self._reply(self._get_token())
        read = self._READS.get(command) or self._MSG_READS.get(command)
        if read is None:
            return self._reply(self._error(14, "invalid cmd"))
        return self._reply(read(self))

    def _error(self, code: int, msg: str) -> dict[str, Any]:
        return self._msg(msg, code=code, status="E")

    def _get_token(self) -> dict[str, Any]:
        stamp = str(int(time.time()))[-4:]
        newsalt = secrets.token_hex(4)
        sign = _crypt_part(self._key + stamp, newsalt)
        now = time.monotonic()
        self._tokens = {s: t for s, t in self._tokens.items() if t > now}
        self._tokens[sign] = now + TOKEN_LIFETIME
        return self._msg({"time": stamp, "salt": self._salt, "newsalt": newsalt}, code=134)

    def _privileged(self, request: dict[str, Any]) -> bytes:
        command = self._decrypt(str(request.get("data", "")))
        if command is None or self.faults.wrong_credentials:
            return self._reply(self._error(23, "json cmd err"))
        self.wire.append(command)
        if self._tokens.get(str(command.get("token")), 0.0) < time.monotonic():
            return self._reply(self._error(135, "check token err"))
        if not self.write_api:
            return self._reply(self._error(45, "can't access write cmd"))
        name = str(command.get("cmd", ""))
        params = {k: v for k, v in command.items() if k not in ("cmd", "token")}
        handler = self._WRITES.get(name)
        if handler is None:
            return self._encrypt(self._error(14, "invalid cmd"))
        rec = self.record("rpc", name, **params)
        return self._encrypt(handler(self, rec, params))

    def _ok(self) -> dict[str, Any]:
        return self._msg("API command OK")

    # ---- writes ------------------------------------------------------------------------------
    def _w_power_off(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        self.apply(rec, lambda: setattr(self, "mining", False))
        return self._ok()

    def _w_power_on(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        self.apply(rec, lambda: setattr(self, "mining", True))
        return self._ok()

    def _w_adjust_power_limit(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        value = str(params.get("power_limit", ""))
        if not value.isdigit() or int(value) > UNLIMITED:
            return self._error(14, "invalid power_limit")
        limit = self._clamp_limit(int(value))

        def _apply() -> None:
            self.power_limit = limit
            self._restart_btminer()

        self.apply(rec, _apply)
        return self._ok()

    def _w_set_led(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        mode = "auto" if params.get("param") == "auto" else "manual"
        self.apply(rec, lambda: setattr(self, "led", mode), delay=0)
        return self._ok()

    def _w_reboot(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        self.apply(rec, self.reboot)
        return self._ok()

    def _w_restart_btminer(self, rec: CommandRecord, params: dict[str, Any]) -> dict[str, Any]:
        self.apply(rec, self._restart_btminer)
        return self._ok()

    _WRITES = {
        "power_off": _w_power_off,
        "power_on": _w_power_on,
        "adjust_power_limit": _w_adjust_power_limit,
        "set_led": _w_set_led,
        "reboot": _w_reboot,
        "restart_btminer": _w_restart_btminer,
    }

    # ---- reads -------------------------------------------------------------------------------
    def _r_summary(self) -> dict[str, Any]:
        return {
            "STATUS": [rpc_status("S", 11, "Summary", "btminer")],
            "SUMMARY": [self._summary_fields()],
            "id": 1,
        }

    def _r_devs(self) -> dict[str, Any]:
        devs = []
        for i in range(3):
            low, avg, high = self.chip_temps(i)
            mhs = round(self.board_ths(i) * 1e6, 2)
            devs.append(
                {
                    "ASC": i,
                    "Slot": i,
                    "Enabled": "Y",
                    "Status": "Alive" if self.hashing else "Initialising",
                    "Temperature": round(avg - 8, 1),
                    "Chip Frequency": 560 if self.hashing else 0,
                    "MHS av": mhs,
                    "MHS 5s": mhs,
                    "MHS 1m": mhs,
                    "MHS 5m": mhs,
                    "MHS 15m": mhs,
                    "HS RT": mhs,
                    "Factory GHS": round(self.spec.nominal_ths * 1000 / 3),
                    "Upfreq Complete": 1 if self.hashing else 0,
                    "Effective Chips": self.spec.chips if self.hashing else 0,
                    "PCB SN": f"{self.serial[3:11]}{i:02d}",
                    "Chip Data": f"{self.spec.board}K07-22110702 BINV02-196804B",
                    "Chip Temp Min": low,
                    "Chip Temp Max": high,
                    "Chip Temp Avg": avg,
                    "chip_vol_diff": 9,
                }
            )
        return {"STATUS": [rpc_status("S", 9, "3 ASC(s)", "btminer")], "DEVS": devs, "id": 1}

    def _r_pools(self) -> dict[str, Any]:
        return {
            "STATUS": [rpc_status("S", 7, "1 Pool(s)", "btminer")],
            "POOLS": [
                {
                    "POOL": 1,
                    "URL": "stratum+tcp://btc.f2pool.com:1314",
                    "Status": "Alive",
                    "Priority": 0,
                    "Quota": 1,
                    "Accepted": self.accepted,
                    "Rejected": self.accepted // 400,
                    "Get Failures": 0,
                    "Remote Failures": 0,
                    "User": "homeminer.wm",
                    "Stratum Active": self.hashing,
                    "Stratum Difficulty": 65536,
                }
            ],
            "id": 1,
        }

    def _r_version(self) -> dict[str, Any]:
        return {
            "STATUS": [rpc_status("S", 22, "CGMiner versions", "btminer")],
            "VERSION": [{"BTMiner": self.firmware, "API": "3.1"}],
            "id": 1,
        }

    _READS = {
        "summary": _r_summary,
        "devs": _r_devs,
        "edevs": _r_devs,
        "pools": _r_pools,
        "devdetails": WhatsminerMiner._devdetails,
        "version": _r_version,
    }

    def _r_status(self) -> dict[str, Any]:
        return self._msg(
            {
                "mineroff": "false" if self.mining else "true",
                "mineroff_reason": "" if self.mining else "user",
                "mineroff_time": "",
                "FirmwareVersion": f"'{self.firmware}'",
                "power_mode": "",
                "hash_percent": "",
            }
        )

    def _r_get_miner_info(self) -> dict[str, Any]:
        return self._msg(
            {
                "ip": self.ip,
                "proto": "dhcp",
                "netmask": "255.255.255.0",
                "dns": "",
                "mac": self.mac,
                "ledstat": self.led,
                "gateway": "",
                "hostname": self.hostname,
                "minersn": self.serial,
            }
        )

    def _r_get_psu(self) -> dict[str, Any]:
        return self._msg(
            {
                "name": "P221B",
                "hw_version": "V01.00",
                "sw_version": "V01.00.V01.03",
                "model": "P221B",
                "iin": str(round(self.power_w / 230, 2)),
                "vin": "23000",
                "fan_speed": "4992" if self.hashing else "0",
                "serial_no": "A" + self.serial[-12:],
            }
        )

    def _r_get_error_code(self) -> dict[str, Any]:
        return self._msg({"error_code": [{code: at} for code, at in self.error_codes.items()]})

    _MSG_READS = {
        "get_version": WhatsminerMiner._get_version,
        "status": _r_status,
        "get_miner_info": _r_get_miner_info,
        "get_psu": _r_get_psu,
        "get_error_code": _r_get_error_code,
    }


class WhatsminerV3Miner(WhatsminerMiner):
    """A Whatsminer (M60S by default) on firmware with API 3.0 (2024.11 and later)."""

    family = "whatsminer_v3"
    v3_port = 4433
    api_version = "3.0.2"
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = ({"model": "M60S VK10"},)

    def __init__(
        self,
        ip: str,
        *,
        model: str = "M60S VK10",
        firmware: str = "20250915.16.Rel2",
        password: str = "super",
        v3_port: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(ip, model=model, firmware=firmware, password=password, **kwargs)
        if v3_port is not None:
            self.v3_port = v3_port
        self.salt = hashlib.sha256(f"salt:{self.mac}".encode()).hexdigest()[:8]
        self._v3_server: asyncio.Server | None = None

    async def power_on(self) -> None:
        if self.powered:
            return
        await super().power_on()
        self._v3_server = await asyncio.start_server(
            self._v3_connection, self.ip, self.v3_port, reuse_address=True
        )

    async def power_off(self) -> None:
        if self._v3_server is not None:
            self._v3_server.close()
            for task in list(self._connections):
                task.cancel()
            await self._v3_server.wait_closed()
            self._v3_server = None
        await super().power_off()

    start = power_on
    stop = power_off

    # ---- the v2-compatible reads on 4028 ------------------------------------------------------
    async def handle_rpc(self, request: dict[str, Any]) -> bytes:
        command = str(request.get("command", ""))
        if command == "devdetails":
            return self._reply(self._devdetails())
        if command == "get_version":
            return self._reply(self._get_version())
        return self._reply(self._msg("invalid cmd", code=14, status="E"))

    # ---- the v3 API on 4433 ------------------------------------------------------------------
    async def _v3_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            header = await reader.readexactly(4)
            body = await reader.readexactly(struct.unpack("<I", header)[0])
            reply = await self._v3_reply(body)
            if reply is not None:
                writer.write(reply)
                await writer.drain()
        except ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _v3_reply(self, body: bytes) -> bytes | None:
        await self._delay_reply()
        if self.faults.malformed:
            return struct.pack("<I", 9) + b"\x00garbage}"
        self._integrate()
        try:
            request = json.loads(body)
        except json.JSONDecodeError, UnicodeDecodeError:
            request = None
        if isinstance(request, dict):
            answer = self.handle_v3(request)
        else:
            answer = self._v3(-2, "invalid json", "")
        data = json.dumps(answer).encode()
        framed = struct.pack("<I", len(data)) + data
        return framed[: len(framed) // 2] if self.faults.truncated else framed

    @staticmethod
    def _v3(code: int, msg: Any, desc: str) -> dict[str, Any]:
        return {"code": code, "when": int(time.time()), "msg": msg, "desc": desc}

    def token_for(self, command: str, ts: int) -> str:
        """The token the firmware expects for `command` sent at `ts`."""
        digest = hashlib.sha256(f"{command}{self.password}{self.salt}{ts}".encode()).digest()
        return base64.b64encode(digest).decode()[:8]

    def handle_v3(self, request: dict[str, Any]) -> dict[str, Any]:
        self.wire.append(request)
        command = str(request.get("cmd", ""))
        param = request.get("param")
        if command.startswith("get."):
            read = self._V3_READS.get(command)
            if read is None:
                return self._v3(-2, "invalid command", command)
            return self._v3(0, read(self, param), command)
        if not command.startswith("set."):
            return self._v3(-2, "invalid command", command)
        ts = request.get("ts")
        if (
            self.faults.wrong_credentials
            or not self.write_api
            or request.get("account") != "super"
            or not isinstance(ts, int)
            or request.get("token") != self.token_for(command, ts)
        ):
            return self._v3(-4, "no permission", command)
        write = self._V3_WRITES.get(command)
        if write is None:
            return self._v3(-2, "invalid command", command)
        rec = self.record("v3", command, param=param)
        return write(self, rec, param)

    # ---- v3 reads ----------------------------------------------------------------------------
    def _device_info(self, param: Any) -> dict[str, Any]:
        everything: dict[str, Any] = {
            "network": {
                "ip": self.ip,
                "proto": "dhcp",
                "netmask": "255.255.255.0",
                "dns": "",
                "mac": self.mac,
                "gateway": "",
                "hostname": self.hostname,
            },
            "miner": {
                "working": "true" if self.hashing else "false",
                "type": self.spec.devdetails,
                "hash-board": self.spec.board,
                "cointype": "BTC/BCH/BSV",
                "pool-strategy": "FAILOVER",
                "fast-boot": "disable",
                "board-num": "3",
                **{f"pcbsn{i}": f"{self.serial[3:11]}{i:02d}" for i in range(3)},
                "miner-sn": self.serial,
                "power-limit-set": str(self.power_limit),
                "web-pool": 1,
                "permission": "super=255 user1=0 user2=0 user3=0",
            },
            "system": {
                "api": self.api_version,
                "platform": "H616",
                "fwversion": self.firmware,
                "control-board-version": "CB6V10",
                "apiswitch": "1" if self.write_api else "0",
                "ledstatus": self.led,
            },
            "power": {
                "type": "P221B",
                "mode": "1",
                "model": "P221B",
                "vin": 231.5,
                "pin": self.power_w,
                "fanspeed": 4992 if self.hashing else 0,
                "sn": "A" + self.serial[-12:],
                "vendor": "7",
            },
            "salt": self.salt,
            "error-code": [{code: at} for code, at in self.error_codes.items()],
        }
        if isinstance(param, str) and param in everything:
            return {param: everything[param]}
        return everything

    def _miner_status(self, param: Any) -> dict[str, Any]:
        fan_in, fan_out = self.fan_rpm()
        temps = [self.chip_temps(i) for i in range(3)]
        sections: dict[str, Any] = {}
        for section in str(param or "").split("+"):
            if section == "summary":
                sections["summary"] = {
                    "elapsed": self.elapsed_s,
                    "bootup-time": self.uptime_s,
                    "freq-avg": 540 if self.hashing else 0,
                    "target-freq": 0,
                    "factory-hash": self.spec.nominal_ths,
                    "hash-average": round(self.hashrate_ths, 3),
                    "hash-1min": round(self.hashrate_ths, 3),
                    "hash-15min": round(self.hashrate_ths, 3),
                    "hash-realtime": round(self.hashrate_ths, 3),
                    "power-rate": round(self.power_w / self.hashrate_ths, 3) if self.hashing else 0,
                    "power-5min": self.power_w,
                    "power-realtime": self.power_w,
                    "environment-temperature": self.ambient_c,
                    "board-temperature": [round(t[1] - 8, 1) for t in temps],
                    "chip-temp-min": min(t[0] for t in temps),
                    "chip-temp-avg": round(sum(t[1] for t in temps) / 3, 1),
                    "chip-temp-max": max(t[2] for t in temps),
                    "power-limit": self.power_limit,
                    "up-freq-finish": 1 if self.hashing else 0,
                    "fan-speed-in": fan_in,
                    "fan-speed-out": fan_out,
                }
            elif section == "pools" and self.hashing:
                # Idle firmware leaves the pools out of the combined status.
                sections["pools"] = [
                    {
                        "id": 1,
                        "url": "stratum+tcp://btc.f2pool.com:1314",
                        "status": "alive",
                        "account": "homeminer.wm",
                        "stratum-active": True,
                        "reject-percent": 0.0,
                    }
                ]
            elif section == "edevs":
                sections["edevs"] = [
                    {
                        "id": i,
                        "slot": i,
                        "hash-average": round(self.board_ths(i), 3),
                        "factory-hash": round(self.spec.nominal_ths / 3, 3),
                        "freq": 540 if self.hashing else 0,
                        "effective-chips": self.spec.chips if self.hashing else 0,
                        "chip-temp-min": temps[i][0],
                        "chip-temp-avg": temps[i][1],
                        "chip-temp-max": temps[i][2],
                    }
                    for i in range(3)
                ]
        return sections

    def _miner_setting(self, param: Any) -> dict[str, Any]:
        return {
            "power-limit": self.power_limit,
            "upfreq-speed": 0,
            "power-mode": "normal",
            "fast-boot": "disable",
            "target-freq": 0,
            "power": self.spec.rated_w,
            "power-percent": 100,
        }

    _V3_READS = {
        "get.device.info": _device_info,
        "get.miner.status": _miner_status,
        "get.miner.setting": _miner_setting,
    }

    # ---- v3 writes ---------------------------------------------------------------------------
    def _set_service(self, rec: CommandRecord, param: Any) -> dict[str, Any]:
        if param not in ("start", "stop", "restart", "enable", "disable"):
            return self._v3(-1, "invalid param", "set.miner.service")
        if param in ("start", "enable"):
            self.apply(rec, lambda: setattr(self, "mining", True))
        elif param in ("stop", "disable"):
            self.apply(rec, lambda: setattr(self, "mining", False))
        else:
            self.apply(rec, self._restart_btminer)
        return self._v3(0, "ok", "set.miner.service")

    def _set_power_limit(self, rec: CommandRecord, param: Any) -> dict[str, Any]:
        text = str(param) if isinstance(param, int | str) and not isinstance(param, bool) else ""
        if not re.fullmatch(r"\d{1,5}", text):
            return self._v3(-1, "invalid param", "set.miner.power_limit")
        limit = self._clamp_limit(int(text))

        def _apply() -> None:
            self.power_limit = limit
            self._restart_btminer()

        self.apply(rec, _apply)
        return self._v3(0, "ok", "set.miner.power_limit")

    def _set_led(self, rec: CommandRecord, param: Any) -> dict[str, Any]:
        mode = "auto" if param == "auto" else "manual"
        self.apply(rec, lambda: setattr(self, "led", mode), delay=0)
        return self._v3(0, "ok", "set.system.led")

    def _set_reboot(self, rec: CommandRecord, param: Any) -> dict[str, Any]:
        self.apply(rec, self.reboot)
        return self._v3(0, "ok", "set.system.reboot")

    _V3_WRITES = {
        "set.miner.service": _set_service,
        "set.miner.power_limit": _set_power_limit,
        "set.system.led": _set_led,
        "set.system.reboot": _set_reboot,
    }
