"""Bitmain Antminer on stock firmware: web CGI behind digest auth, plus BMMiner RPC.

pyasic 0.78.1 reads the RPC side well but never raises on the web side: a refused login,
a miner that is off and a failed write all come back as `{"success": False}`, and its
stop/resume report success regardless. Worse, a config read that failed is written back as
defaults, which wipes the pools. So the web side is done here:
- the login is checked at connect and on every poll (a refused one starts reauth);
- stop/resume and work mode change only `miner-mode` of the config just read, and only when
  that read returned real pools;
- stock S19-generation firmware reports no power: it is estimated from the hashrate and the
  model's nominal efficiency, and the entities say so.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError
from ..model import Capabilities, Credentials, Family, MinerIdentity, MinerSnapshot
from .base import Driver

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

MODE_NORMAL, MODE_SLEEP, MODE_LOW = "0", "1", "3"
WORK_MODES = {MODE_NORMAL: "normal", MODE_LOW: "low_power"}
IDLE_W = 15.0
DEFAULT_PASSWORD = "root"

# Nominal efficiency (J/TH) of stock firmware at the normal mode, from Bitmain's datasheets.
NOMINAL_J_TH = {
    "S19": 34.5,
    "S19 PRO": 29.5,
    "S19J PRO": 29.5,
    "S19K PRO": 23.0,
    "S19 XP": 21.5,
    "S21": 17.5,
    "S21 PRO": 15.0,
    "T21": 19.0,
}
DEFAULT_J_TH = 30.0


class AntminerStockDriver(Driver):
    """Antminer, stock firmware."""

    family = Family.ANTMINER_STOCK
    poll_options = [
        "hashrate",
        "expected_hashrate",
        "hashboards",
        "fans",
        "uptime",
        "pools",
    ]

    def __init__(self) -> None:
        self._j_th = DEFAULT_J_TH

    def digest(self, credentials: Credentials) -> tuple[str, str]:
        return (credentials.username or "root", credentials.password or DEFAULT_PASSWORD)

    async def _cgi(self, miner: AnyMiner, name: str, body: dict[str, Any] | None = None) -> Any:
        return await self.http.request(
            "POST" if body is not None else "GET", f"/cgi-bin/{name}.cgi", command=name, body=body
        )

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        info = await self._cgi(miner, "get_system_info")
        mac = info.get("macaddr") if isinstance(info, dict) else None
        if not isinstance(mac, str) or not mac:
            raise MinerConnectionError("the miner did not report its MAC address")
        data = await self.get_data(miner, ["fw_ver", "expected_hashrate", "fans"])
        model = str(miner.raw_model or info.get("minertype") or "Antminer")
        self._j_th = NOMINAL_J_TH.get(model.upper().removeprefix("ANTMINER ").strip(), DEFAULT_J_TH)
        identity = MinerIdentity(
            host=host,
            mac=mac.upper(),
            hostname=str(info.get("hostname") or "") or None,
            make="AntMiner",
            model=model,
            firmware="Stock",
            firmware_version=str(info.get("system_filesystem_version") or data.fw_ver or "")
            or None,
            family=self.family,
        )
        caps = Capabilities(
            can_stop=True,
            work_modes=tuple(WORK_MODES.values()),
            can_identify=True,
            can_reboot=True,
            boards=int(miner.expected_hashboards or 0),
            fans=int(miner.expected_fans or len(data.fans or [])),
            power_estimated=True,
            hashrate_unit="TH/s",
        )
        return identity, caps

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        conf, data = await asyncio.gather(
            self._conf(miner), self.get_data(miner, self.data_options(caps))
        )
        blink = await self._cgi(miner, "get_blink_status")
        snapshot = self.snapshot(miner, data, caps)
        mode = str(conf.get("bitmain-work-mode", MODE_NORMAL))
        mining = mode != MODE_SLEEP and bool(snapshot.hashrate_ths)
        hashrate = snapshot.hashrate_ths or 0.0
        return replace(
            snapshot,
            is_mining=mining,
            work_mode=WORK_MODES.get(mode),
            power_w=round(hashrate * self._j_th, 1) if mining else IDLE_W,
            fault_light=bool(blink.get("blink")) if isinstance(blink, dict) else None,
        )

    async def _conf(self, miner: AnyMiner) -> dict[str, Any]:
        conf = await self._cgi(miner, "get_miner_conf")
        if not isinstance(conf, dict) or "bitmain-work-mode" not in conf:
            raise MinerConnectionError("the miner's configuration could not be read")
        return conf

    async def _set_mode(self, miner: AnyMiner, command: str, mode: str) -> None:
        conf = await self._conf(miner)
        pools = conf.get("pools")
        if not isinstance(pools, list) or not any(
            isinstance(p, dict) and p.get("url") for p in pools
        ):
            raise MinerCommandError(command, "the miner's pools could not be read; nothing sent")
        answer = await self._cgi(
            miner,
            "set_miner_conf",
            {
                "bitmain-fan-ctrl": conf.get("bitmain-fan-ctrl", False),
                "bitmain-fan-pwm": str(conf.get("bitmain-fan-pwm", "100")),
                "freq-level": str(conf.get("freq-level", "100")),
                "miner-mode": int(mode),
                "pools": [
                    {"url": p.get("url", ""), "user": p.get("user", ""), "pass": p.get("pass", "")}
                    for p in pools
                    if isinstance(p, dict)
                ],
            },
        )
        if isinstance(answer, dict) and answer.get("stats") == "error":
            raise MinerCommandError(command, str(answer.get("msg") or "the miner refused"))

    async def stop(self, miner: AnyMiner) -> None:
        await self._set_mode(miner, "stop", MODE_SLEEP)

    async def resume(self, miner: AnyMiner) -> None:
        await self._set_mode(miner, "resume", MODE_NORMAL)

    async def set_work_mode(self, miner: AnyMiner, mode: str) -> None:
        codes = {name: code for code, name in WORK_MODES.items()}
        await self._set_mode(miner, "work_mode", codes[mode])

    async def reboot(self, miner: AnyMiner) -> None:
        await self._cgi(miner, "reboot")

    async def identify(self, miner: AnyMiner) -> None:
        status = await self._cgi(miner, "get_blink_status")
        lit = isinstance(status, dict) and bool(status.get("blink"))
        await self._cgi(miner, "blink", {"blink": "false" if lit else "true"})
