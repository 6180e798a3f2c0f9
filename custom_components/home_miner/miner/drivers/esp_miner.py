"""ESP-Miner / AxeOS (Bitaxe, NerdQaxe): read and driven through the firmware's HTTP API.

pyasic 0.78.1 knows how to read ESP-Miner but has no stop, resume or power limit for it, and
its `get_data` costs several HTTP requests where one `GET /api/system/info` has everything.
So this driver reads that one document and talks to the firmware directly:
- stop/resume: `POST /api/system/pause|resume` (firmware 2.14 and later only);
- power limit: the ASIC frequency (`PATCH /api/system {"frequency": f}`), chosen among the
  frequencies `GET /api/system/asic` offers, using watts per MHz measured on this miner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MinerCommandError, MinerConnectionError
from ..model import (
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
GH_PER_TH = 1000.0


def _num(info: dict[str, Any], key: str) -> float | None:
    value = info.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


class EspMinerDriver(Driver):
    """Bitaxe and its forks."""

    family = Family.ESP_MINER

    def __init__(self) -> None:
        self._frequencies: tuple[int, ...] = ()
        self._watts_per_mhz: float | None = None

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
        # Forks (NerdQAxe++, which pyasic does not detect) name themselves in `deviceModel`
        # and number their own releases; official boards say "Gamma", "Supra"...
        device_model = str(info.get("deviceModel") or "")
        fork = device_model.lower().startswith("nerd")
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
            self._watts_per_mhz = power / frequency
        else:
            # Paused or just booted: start from the chip's typical draw, per ASIC.
            per_chip = NOMINAL_W_PER_MHZ.get(str(info.get("ASICModel", "")))
            chips = _num(asic, "asicCount") if isinstance(asic, dict) else None
            chips = chips or _num(info, "asicCount") or 1
            self._watts_per_mhz = per_chip * chips if per_chip else None
        power_limit = None
        # A fork applies a new frequency only after a restart: no power limit is offered.
        if self._frequencies and self._watts_per_mhz and not fork:
            low, high = self._frequencies[0], self._frequencies[-1]
            power_limit = PowerLimitRange(
                minimum=int(self._watts_per_mhz * low + 0.999),
                maximum=int(self._watts_per_mhz * high),
                step=1,
            )
        version = version_tuple(identity.firmware_version)
        caps = Capabilities(
            # Forks number their own releases and have neither pause nor identify.
            can_stop=not fork and version >= PAUSE_SINCE,
            can_identify=not fork and version >= IDENTIFY_SINCE,
            # The firmware's identify says "Hi!" on the screen for 30 s.
            identify_by="screen",
            power_limit=power_limit,
            can_reboot=True,
            hashrate_unit="GH/s",
            # ESP-Miner's own overheat protection trips at an ASIC temperature of 75 °C.
            overheat_c=75.0,
            boards=1,
            fans=1,
        )
        self.keep_for_first_poll(self._snapshot(info, caps))
        return identity, caps

    async def fetch(self, miner: AnyMiner, caps: Capabilities) -> MinerSnapshot:
        return self._snapshot(await self._info(miner), caps)

    def _snapshot(self, info: dict[str, Any], caps: Capabilities) -> MinerSnapshot:
        hashrate_gh = _num(info, "hashRate")
        expected_gh = _num(info, "expectedHashrate")
        temps = [t for t in (_num(info, "temp"), _num(info, "vrTemp")) if t is not None and t > 0]
        frequency = _num(info, "frequency")
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
        power_limit = None
        if self._watts_per_mhz and frequency:
            power_limit = round(self._watts_per_mhz * frequency)
        return MinerSnapshot(
            is_mining=bool(hashrate) and info.get("miningPaused") is not True,
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
        )

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        # The firmware answers writes with an empty body or a line of text, which pyasic's
        # client reports as an error although the command went through.
        await self.http.request(method, f"/api/{path}", command=path.rsplit("/", 1)[-1], body=body)

    async def stop(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/pause")

    async def resume(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/resume")

    async def reboot(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/restart")

    async def identify(self, miner: AnyMiner) -> None:
        await self._send("POST", "system/identify")

    async def set_power_limit(self, miner: AnyMiner, watts: int, caps: Capabilities) -> int:
        if not self._frequencies or not self._watts_per_mhz:
            raise MinerCommandError("power_limit", "not supported by this miner")
        fitting = [f for f in self._frequencies if self._watts_per_mhz * f <= watts + 0.5]
        frequency = fitting[-1] if fitting else self._frequencies[0]
        await self._send("PATCH", "system", {"frequency": frequency})
        return round(self._watts_per_mhz * frequency)
