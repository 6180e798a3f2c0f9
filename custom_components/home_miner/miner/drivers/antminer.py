"""Bitmain Antminer on stock firmware: web CGI behind digest auth, plus BMMiner RPC.

pyasic 0.78.1 reads the RPC side well but never raises on the web side: a refused login,
a miner that is off and a failed write all come back as `{"success": False}`, and its
stop/resume report success regardless. Worse, a config read that failed is written back as
defaults, which wipes the pools. So the web side is done here:
- the login is checked at connect and on every poll (a refused one starts reauth);
- stop/resume and work mode change only `miner-mode` of the config just read, and only when
  that read returned real pools;
- stock S19-generation firmware reports no power: it is estimated from the hashrate and the
  model's nominal efficiency, and the entities say so;
- a config change (sleep, resume, work mode) restarts bmminer: meanwhile its CGIs print
  nothing while the web side answers, which reads as a miner not hashing, not as a miner gone;
- the firmware reports bmminer's uptime, not the system's: a restart of bmminer that a config
  change explains (one sent from here, a changed mode, or one seen happening) is no reboot;
- its blink only stops when told to: an identify blinks for `IDENTIFY_SECONDS`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError, MinerError
from ..model import (
    Board,
    Capabilities,
    Credentials,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
)
from .base import Driver

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

MODE_NORMAL, MODE_SLEEP, MODE_LOW = "0", "1", "3"
SLEEP = "sleep"
WORK_MODES = {MODE_NORMAL: "normal", MODE_LOW: "low_power", MODE_SLEEP: SLEEP}
DEFAULT_PASSWORD = "root"
POOL_MAX_AGE = 60.0
"""Seconds between two reads of the active pool."""
RESTART_EXPECTED = 120.0
"""Seconds after a config write (or a restart seen under way) in which bmminer coming back
with its uptime from zero is that restart, not a reboot."""
START_JITTER = 5.0
"""Seconds by which bmminer's start, computed from its uptime, moves between polls."""
IDENTIFY_SECONDS = 30.0

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
GH_PER_TH = 1000.0
GH_PER_UNIT = {"MH/s": 0.001, "GH/s": 1.0, "TH/s": 1000.0}


def _board(chain: dict[str, Any], unit: float, expected_chips: int | None) -> Board:
    chip = [float(t) for t in chain.get("temp_chip", []) if t]
    pcb = [float(t) for t in chain.get("temp_pcb", []) if t]
    rate = float(chain.get("rate_real") or 0) * unit / GH_PER_TH
    return Board(
        index=int(chain.get("index", 0)),
        hashrate_ths=rate,
        temperature=max(pcb) if pcb else None,
        chip_temperature=max(chip) if chip else None,
        chips=int(chain.get("asic_num") or 0),
        expected_chips=expected_chips,
        active=rate > 0,
    )


def _active_pool(answer: Any) -> Pool | None:
    pools = answer.get("POOLS") if isinstance(answer, dict) else None
    for entry in pools or []:
        if isinstance(entry, dict) and entry.get("url"):
            return Pool(
                url=str(entry["url"]),
                user=str(entry.get("user") or "") or None,
                accepted=int(entry.get("accepted") or 0),
                rejected=int(entry.get("rejected") or 0),
            )
    return None


class AntminerStockDriver(Driver):
    """Antminer, stock firmware."""

    family = Family.ANTMINER_STOCK

    def __init__(self) -> None:
        self._j_th = DEFAULT_J_TH
        self._pool: tuple[float, Pool] | None = None
        self._shown_pool: Pool | None = None
        self._boot: float | None = None
        """When the miner last booted (loop time), as far as its answers tell."""
        self._started: float | None = None
        """When bmminer last started (loop time)."""
        self._mode: str | None = None
        self._restart_expected_until = 0.0
        self._blink_until: float | None = None

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
        model = str(miner.raw_model or info.get("minertype") or "")
        if not model.upper().startswith("ANTMINER"):
            model = f"Antminer {model}".strip()
        self._j_th = NOMINAL_J_TH.get(model.upper().removeprefix("ANTMINER ").strip(), DEFAULT_J_TH)
        identity = MinerIdentity(
            host=host,
            mac=mac.upper(),
            hostname=str(info.get("hostname") or "") or None,
            make="Bitmain",
            model=model,
            firmware="Stock",
            firmware_version=str(info.get("system_filesystem_version") or "") or None,
            family=self.family,
        )
        caps = Capabilities(
            can_stop=True,
            work_modes=tuple(WORK_MODES.values()),
            sleep_mode=SLEEP,
            can_identify=True,
            identify_by="light",
            can_reboot=True,
            boards=int(miner.expected_hashboards or 0),
            fans=int(miner.expected_fans or 0),
            power_estimated=True,
            hashrate_unit="TH/s",
        )
        return identity, caps

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        # stats.cgi carries hashrate, chains, fans, mode and uptime in one answer, over one
        # kept-alive, already-authorised connection.
        # The pool is only shown, and rarely changes: it is read once a minute, not every poll.
        now = asyncio.get_running_loop().time()
        if self._pool is None or now - self._pool[0] >= POOL_MAX_AGE:
            stats, pools = await asyncio.gather(
                self._cgi(miner, "stats"), self._cgi(miner, "pools")
            )
            try:
                pool = _active_pool(pools)
            except (TypeError, ValueError, OverflowError) as err:
                raise MinerConnectionError(f"the miner's pools could not be read: {err!r}") from err
            # No pool in the answer (a garbled or empty one): asked again next poll.
            self._pool = (now, pool) if pool is not None else None
            if pool is not None or pools is not None:
                self._shown_pool = pool
        else:
            stats = await self._cgi(miner, "stats")
        if stats is None:
            snapshot = await self._restarting(miner, caps, now)
        else:
            snapshot = self._reading(miner, caps, stats, now)
        await self._end_blink(miner, now)
        return snapshot

    def _reading(
        self, miner: AnyMiner, caps: Capabilities, stats: Any, now: float
    ) -> MinerSnapshot:
        try:
            body = stats["STATS"][0] if stats["STATS"] else {}
            unit = GH_PER_UNIT.get(str(body.get("rate_unit", "GH/s")), 1.0)
            chains = [c for c in body.get("chain", []) if isinstance(c, dict)]
            boards = tuple(_board(c, unit, miner.expected_chips) for c in chains)
            hashrate = float(body.get("rate_5s") or 0) * unit / GH_PER_TH
            mode = str(body.get("miner-mode", MODE_NORMAL))
            fans = tuple(int(f) for f in body.get("fan", []))
            elapsed = int(body.get("elapsed") or 0)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError) as err:
            raise MinerConnectionError(f"the miner's stats could not be read: {err!r}") from err
        mining = mode != MODE_SLEEP and hashrate > 0
        temps = [t for b in boards for t in (b.chip_temperature, b.temperature) if t]
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=hashrate,
            expected_hashrate_ths=float(body.get("rate_ideal") or 0) * unit / GH_PER_TH or None,
            # Estimated from the hashrate: a sleeping miner's hashboards draw nothing.
            power_w=round(hashrate * self._j_th, 1) if mining else 0.0,
            power_limit_w=None,
            temperature_avg=round(sum(temps) / len(temps), 1) if temps else None,
            temperature_max=max(temps) if temps else None,
            env_temperature=None,
            uptime_s=self._uptime(now, elapsed, mode),
            boards=boards,
            fans=fans,
            pool=self._shown_pool,
            work_mode=WORK_MODES.get(mode),
            missing_boards=max(0, caps.boards - len(boards)) if mining else 0,
            overheat_c=caps.overheat_c,
        )

    async def _restarting(self, miner: AnyMiner, caps: Capabilities, now: float) -> MinerSnapshot:
        """bmminer restarts (its CGIs print nothing): if the web side reads the config, the
        miner is there and not hashing, going into the mode saved in its config."""
        mode = str((await self._conf(miner)).get("bitmain-work-mode", MODE_NORMAL))
        self._restart_expected_until = max(self._restart_expected_until, now + RESTART_EXPECTED)
        return MinerSnapshot(
            is_mining=False,
            hashrate_ths=0.0,
            expected_hashrate_ths=None,
            power_w=0.0,
            power_limit_w=None,
            temperature_avg=None,
            temperature_max=None,
            env_temperature=None,
            uptime_s=None if self._boot is None else int(now - self._boot),
            boards=tuple(
                Board(
                    index=index,
                    hashrate_ths=0.0,
                    temperature=None,
                    chip_temperature=None,
                    chips=None,
                    expected_chips=miner.expected_chips,
                    active=False,
                )
                for index in range(caps.boards)
            ),
            pool=self._shown_pool,
            work_mode=WORK_MODES.get(mode),
            overheat_c=caps.overheat_c,
        )

    def _uptime(self, now: float, elapsed: int, mode: str) -> int:
        """Seconds since the miner booted: bmminer's uptime, across the restarts of bmminer
        that a config change explains."""
        started = now - elapsed
        restarted = self._started is not None and started - self._started > START_JITTER
        explained = now < self._restart_expected_until or (
            self._mode is not None and mode != self._mode
        )
        if self._boot is None or (restarted and not explained):
            self._boot = started
        if restarted:
            self._restart_expected_until = 0.0
        self._started, self._mode = started, mode
        return int(now - self._boot)

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
        self._restart_expected_until = asyncio.get_running_loop().time() + RESTART_EXPECTED

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
        await self._cgi(miner, "blink", {"blink": "true"})
        self._blink_until = asyncio.get_running_loop().time() + IDENTIFY_SECONDS

    async def _end_blink(self, miner: AnyMiner, now: float) -> None:
        """The first poll after an identify's time turns the blinking off (tried again on
        the next one should the miner not take it)."""
        if self._blink_until is None or now < self._blink_until:
            return
        try:
            await self._cgi(miner, "blink", {"blink": "false"})
        except MinerError:
            return
        self._blink_until = None
