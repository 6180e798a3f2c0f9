"""Antminer on VNish (AnthillOS) firmware: read and driven through its web API.

pyasic 0.79 detects VNish well but drives it badly: it stops with `mining/stop` and
resumes with `mining/resume`, which only undoes a pause (after a stop the firmware
refuses it); its preset parsing always yields the "normal" mode, so its power limit never
sends anything; and its web client reports a refused login as a warning. So this driver
talks to the API itself, over Home Assistant's session:
- login: `POST /api/v1/unlock {"pw"}` gives a token, sent as `Authorization: Bearer`;
  a refused password asks for the login again;
- mining switch: `mining/stop` (hashboards off) and `mining/start`, or `mining/resume`
  when the miner was paused from its own UI; the state is the firmware's `miner_state`;
- power limit: the autotune presets, which are power targets: the highest tuned preset
  at or below the watts asked is chosen (`POST /settings` with only
  `miner.overclock.preset`, so nothing else is rewritten), read back from
  `/perf-summary`; a miner with no tuned preset offers none;
- power is what the firmware reports (`power_consumption`), uptime the system's.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

import aiohttp

from ..errors import MinerAuthError, MinerCommandError, MinerConnectionError, MinerError
from ..model import (
    Board,
    Capabilities,
    Credentials,
    Family,
    MinerIdentity,
    MinerSnapshot,
    Pool,
    PowerLimitRange,
)
from .base import Driver, number

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

TIMEOUT = aiohttp.ClientTimeout(total=5)
DEFAULT_PASSWORD = "admin"
NOT_MINING = frozenset({"stopped", "paused", "shutting-down", "failure"})
IDENTIFY_SECONDS = 30.0
GH_PER_TH = 1000.0
_UPTIME = re.compile(r"(?:(\d+)\s+days?,\s*)?(\d+):(\d{2})")


def _uptime(text: Any) -> int | None:
    """ "3 days, 4:05" / "0:06" (hours and minutes) → seconds."""
    match = _UPTIME.fullmatch(str(text or "").strip())
    if match is None:
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60


def _tuned_watts(presets: Any) -> tuple[int, ...]:
    listed = presets.get("presets", []) if isinstance(presets, dict) else presets
    return tuple(
        sorted(
            int(p["name"])
            for p in listed or []
            if isinstance(p, dict) and p.get("status") == "tuned" and str(p.get("name")).isdigit()
        )
    )


class VNishDriver(Driver):
    """Antminer on VNish."""

    family = Family.VNISH

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._base = ""
        self._password = DEFAULT_PASSWORD
        self._token: str | None = None
        self._presets: tuple[int, ...] = ()
        self._blink_until: float | None = None

    def bind(
        self, miner: AnyMiner, session: aiohttp.ClientSession, credentials: Credentials
    ) -> None:
        super().bind(miner, session, credentials)
        self._session = session
        self._base = f"http://{miner.ip}/api/v1"
        self._password = credentials.password or DEFAULT_PASSWORD

    # ---- HTTP --------------------------------------------------------------------------------
    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, auth: bool
    ) -> tuple[int, Any]:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else None
        try:
            async with self._session.request(
                method, f"{self._base}/{path}", json=body, headers=headers, timeout=TIMEOUT
            ) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise MinerConnectionError(f"{path}: {type(err).__name__} {err}".strip()) from err
        try:
            return status, json.loads(content) if content else None
        except json.JSONDecodeError, UnicodeDecodeError:
            raise MinerConnectionError(f"{path}: the answer is not JSON") from None

    async def _unlock(self) -> None:
        status, answer = await self._send("POST", "unlock", {"pw": self._password}, auth=False)
        token = answer.get("token") if isinstance(answer, dict) else None
        if status in (401, 403) or (status == 200 and not token):
            raise MinerAuthError("unlock: the miner refused the password")
        if status != 200:
            raise MinerConnectionError(f"unlock: the miner answered HTTP {status}")
        self._token = str(token)

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any:
        if auth and self._token is None:
            await self._unlock()
        status, answer = await self._send(method, path, body, auth)
        if status == 401 and auth:
            await self._unlock()  # the token expires with the firmware's session
            status, answer = await self._send(method, path, body, auth)
            if status == 401:
                raise MinerAuthError(f"{path}: the miner refused the login")
        if status >= 400:
            error = answer.get("err") if isinstance(answer, dict) else None
            raise MinerCommandError(path, str(error or f"the miner answered HTTP {status}"))
        return answer

    async def _get(self, path: str, *, auth: bool = True) -> dict[str, Any]:
        answer = await self._call("GET", path, auth=auth)
        if not isinstance(answer, dict):
            raise MinerConnectionError(f"{path}: unexpected answer {answer!r}")
        return answer

    # ---- identity and polls ------------------------------------------------------------------
    async def check_auth(self, miner: AnyMiner) -> None:
        await self._unlock()

    async def read_identity(self, host: str, miner: AnyMiner) -> tuple[MinerIdentity, Capabilities]:
        info = await self._get("info", auth=False)
        network = (info.get("system") or {}).get("network_status") or {}
        mac = str(network.get("mac") or "")
        if not mac:
            raise MinerConnectionError("the miner did not report its MAC address")
        await self.check_auth(miner)
        self._presets = _tuned_watts(await self._call("GET", "autotune/presets"))
        model = str(miner.raw_model or info.get("miner") or "").strip()
        if not model.upper().startswith("ANTMINER"):
            model = f"Antminer {model}".strip()
        identity = MinerIdentity(
            host=host,
            mac=mac.upper(),
            hostname=str(network.get("hostname") or "") or None,
            make="Bitmain",
            model=model,
            firmware="VNish",
            firmware_version=str(info.get("fw_version") or "") or None,
            family=self.family,
        )
        limit = None
        if self._presets:
            limit = PowerLimitRange(minimum=self._presets[0], maximum=self._presets[-1], step=1)
        caps = Capabilities(
            can_stop=True,
            power_limit=limit,
            can_reboot=True,
            can_identify=True,
            identify_by="light",
            boards=int(miner.expected_hashboards or 3),
            fans=int(miner.expected_fans or 4),
        )
        snapshot = await self._snapshot(caps, info)
        self.keep_for_first_poll(snapshot)
        return identity, caps

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        snapshot = await self._snapshot(caps, await self._get("info", auth=False))
        now = asyncio.get_running_loop().time()
        if self._blink_until is not None and now >= self._blink_until:
            try:
                await self._set_light(False)
                self._blink_until = None
            except MinerError:
                pass  # tried again next poll
        return snapshot

    async def _snapshot(self, caps: Capabilities, info: dict[str, Any]) -> MinerSnapshot:
        body = (await self._get("summary")).get("miner") or {}
        perf = await self._get("perf-summary", auth=False)
        try:
            state = str((body.get("miner_status") or {}).get("miner_state") or "")
            chains = [c for c in body.get("chains") or [] if isinstance(c, dict)]
            boards = tuple(
                Board(
                    index=int(number(c.get("id")) or i + 1) - 1,
                    hashrate_ths=(number(c.get("hashrate_rt")) or 0.0) / GH_PER_TH,
                    temperature=number((c.get("pcb_temp") or {}).get("max")),
                    chip_temperature=number((c.get("chip_temp") or {}).get("max")),
                    chips=None,
                    expected_chips=None,
                    active=(number(c.get("hashrate_rt")) or 0.0) > 0,
                )
                for i, c in enumerate(chains)
            )
            pools = [
                p
                for p in body.get("pools") or []
                if isinstance(p, dict) and p.get("url") and p.get("pool_type") != "DevFee"
            ]
            fans = tuple(
                int(number(f.get("rpm")) or 0)
                for f in (body.get("cooling") or {}).get("fans") or []
                if isinstance(f, dict)
            )
        except (AttributeError, TypeError, ValueError) as err:
            raise MinerConnectionError(f"summary: unexpected answer {err!r}") from err
        preset = str((perf.get("current_preset") or {}).get("name") or "")
        chip = [b.chip_temperature for b in boards if b.chip_temperature]
        mining = state not in NOT_MINING
        errors = [
            str((c.get("status") or {}).get("description") or "chain failure")
            for c in chains
            if (c.get("status") or {}).get("state") == "failure"
        ]
        if state == "failure":
            errors.insert(
                0, str((body.get("miner_status") or {}).get("description") or "miner failure")
            )
        pool = None
        if pools:
            url = str(pools[0]["url"])
            pool = Pool(
                url=url if "://" in url else f"stratum+tcp://{url}",
                user=str(pools[0].get("user") or "") or None,
                accepted=int(number(pools[0].get("accepted")) or 0),
                rejected=int(number(pools[0].get("rejected")) or 0),
            )
        return MinerSnapshot(
            is_mining=mining,
            hashrate_ths=(number(body.get("hr_realtime")) or 0.0) / GH_PER_TH,
            expected_hashrate_ths=(number(body.get("hr_nominal")) or 0.0) / GH_PER_TH or None,
            power_w=number(body.get("power_consumption")),
            power_limit_w=float(preset) if preset.isdigit() else None,
            temperature_avg=round(sum(chip) / len(chip), 1) if chip else None,
            temperature_max=number((body.get("chip_temp") or {}).get("max")),
            env_temperature=None,
            uptime_s=_uptime((info.get("system") or {}).get("uptime")),
            boards=boards,
            fans=fans,
            pool=pool,
            errors=tuple(errors),
            missing_boards=max(0, caps.boards - len(boards)) if mining else 0,
            overheat_c=caps.overheat_c,
        )

    # ---- controls ----------------------------------------------------------------------------
    async def stop(self, miner: AnyMiner) -> None:
        await self._call("POST", "mining/stop")

    async def resume(self, miner: AnyMiner) -> None:
        state = (await self._get("status", auth=False)).get("miner_state")
        await self._call("POST", "mining/resume" if state == "paused" else "mining/start")

    def power_levels(self) -> tuple[int, ...]:
        return tuple(sorted(set(self._presets)))

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        if not self._presets:
            raise MinerCommandError("power_limit", "no preset has been tuned on this miner")
        fitting = [w for w in self._presets if w <= watts]
        target = fitting[-1] if fitting else self._presets[0]
        await self._call("POST", "settings", {"miner": {"overclock": {"preset": str(target)}}})
        return target

    async def reboot(self, miner: AnyMiner) -> None:
        await self._call("POST", "system/reboot")

    async def identify(self, miner: AnyMiner) -> None:
        await self._set_light(True)
        self._blink_until = asyncio.get_running_loop().time() + IDENTIFY_SECONDS

    async def _set_light(self, on: bool) -> None:
        # `find-miner` toggles: it is sent only when the light is not already as wanted.
        if bool((await self._get("status", auth=False)).get("find_miner")) != on:
            await self._call("POST", "find-miner", auth=False)
