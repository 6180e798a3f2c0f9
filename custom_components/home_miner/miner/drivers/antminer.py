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
from ..http import request
from ..model import Capabilities, Credentials, Family, MinerIdentity, MinerSnapshot
from .base import Driver

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

MODE_NORMAL, MODE_SLEEP, MODE_LOW = "0", "1", "3"
WORK_MODES = {MODE_NORMAL: "normal", MODE_LOW: "low_power"}
IDLE_W = 15.0

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
        "errors",
        "uptime",
        "pools",
    ]

    def __init__(self) -> None:
        self._digest = ("root", "root")
        self._j_th = DEFAULT_J_TH

    def apply_credentials(self, miner: AnyMiner, credentials: Credentials) -> None:
        super().apply_credentials(miner, credentials)
        self._digest = (miner.web.username, miner.web.pwd)

    async def _cgi(self, miner: AnyMiner, name: str, body: dict[str, Any] | None = None) -> Any:
        return await request(
            "POST" if body is not None else "GET",
            f"http://{miner.ip}/cgi-bin/{name}.cgi",
            command=name,
            body=body,
            digest=self._digest,
        )

    async def check_auth(self, miner: AnyMiner) -> None:
        await self._cgi(miner, "get_system_info")

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        identity, caps = await super().read_identity(host, miner)
        model = identity.model.upper().removeprefix("ANTMINER ").strip()
        self._j_th = NOMINAL_J_TH.get(model, DEFAULT_J_TH)
        return identity, replace(
            caps,
            can_stop=True,
            work_modes=tuple(WORK_MODES.values()),
            can_identify=True,
            can_reboot=True,
            can_restart=False,
            power_estimated=True,
            hashrate_unit="TH/s",
        )

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
