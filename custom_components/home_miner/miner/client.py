"""The one place that talks to pyasic: detect a miner once, read it, drive it.

pyasic is imported lazily: `load_pyasic()` must have run (in an executor, since the import
blocks for a second and builds an SSL context) before anything else here is called.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
import importlib
import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import aiohttp

from .drivers import Driver, driver_for
from .errors import (
    MinerAddressError,
    MinerAuthError,
    MinerCommandError,
    MinerConnectionError,
    MinerError,
    UnsupportedMinerError,
)
from .http import MinerHttp
from .model import (
    FAN_AUTO,
    FAN_MANUAL,
    Capabilities,
    Credentials,
    FoundMiner,
    MinerIdentity,
    MinerSnapshot,
)

if TYPE_CHECKING:
    from pyasic.miners.base import AnyMiner

_LOGGER = logging.getLogger(__name__)

DETECT_TIMEOUT = 12.0
FETCH_TIMEOUT = 10.0
VERIFY_TIMEOUT = 15.0
# A resume that reboots the miner (NerdQAxe++): booting, joining Wi-Fi and starting the ASICs.
VERIFY_REBOOT_TIMEOUT = 60.0
VERIFY_INTERVAL = 0.5
# How long the probes pyasic left running may take to finish once cancelled.
REAP_TIMEOUT = 2.0

# Set while this integration waits on pyasic's detection or scan: the tasks pyasic starts
# inherit it, which tells them apart from another flow's or entry's probes.
_PROBING: ContextVar[object | None] = ContextVar("home_miner_probing", default=None)


def load_pyasic() -> None:
    """Import pyasic; blocking, so call it from an executor thread."""
    importlib.import_module("pyasic")


def _pyasic() -> Any:
    return importlib.import_module("pyasic")


async def async_connect(
    host: str,
    session: aiohttp.ClientSession,
    credentials: Credentials | None = None,
    miner_class: str | None = None,
    mac: str | None = None,
) -> MinerClient:
    """Reach the miner at `host` and read who it is.

    `miner_class` is what an earlier detection found (`MinerClient.miner_class`): the miner
    object is then built directly, skipping pyasic's probes, and detection runs only if that
    fails (the firmware may have changed). Raises MinerConnectionError when nothing answers,
    UnsupportedMinerError when something answers that we cannot drive, MinerAuthError when
    it refuses the login. `mac` is the MAC the network saw (DHCP, or the entry's own), for
    firmware that may not report its own (the Avalon Nano 3).
    """
    credentials = credentials or Credentials()
    known = _known_miner(miner_class, host) if miner_class else None
    if known is not None and (driver := driver_for(known)) is not None:
        driver.known_mac = mac
        client = MinerClient(host, known, driver, session, credentials)
        try:
            await client.async_identify()
        except MinerAuthError, UnsupportedMinerError:
            raise
        except MinerError:
            _LOGGER.debug("%s is not the %s it was; detecting it again", host, miner_class)
        else:
            return client
    pyasic = _pyasic()
    try:
        async with _reaped(host), asyncio.timeout(DETECT_TIMEOUT):
            miner = await pyasic.get_miner(host) or await _esp_miner_fork(host, session)
    except (TimeoutError, OSError) as err:
        raise MinerConnectionError(f"{host} did not answer") from err
    except ValueError as err:
        if not _is_ip(host):
            # pyasic builds the RPC client of most families with `ipaddress.ip_address(host)`.
            raise MinerAddressError(f"{host}: this miner is reached by IP address only") from err
        raise MinerConnectionError(f"{host}: detection failed ({err})") from err
    except Exception as err:
        # pyasic's detection lets through what its probes do not expect; nothing answered
        # that it could make a miner of.
        _LOGGER.debug("Detecting %s failed: %r", host, err)
        raise MinerConnectionError(f"{host}: detection failed ({type(err).__name__})") from err
    if miner is None:
        raise MinerConnectionError(f"no miner answered at {host}")
    driver = driver_for(miner)
    if driver is None:
        raise UnsupportedMinerError(f"{type(miner).__name__} at {host} is not supported")
    driver.known_mac = mac
    client = MinerClient(host, miner, driver, session, credentials)
    await client.async_identify()
    return client


async def _esp_miner_fork(host: str, session: aiohttp.ClientSession) -> AnyMiner | None:
    """ESP-Miner that pyasic's detection missed, as pyasic's generic BitAxe.

    pyasic recognises ESP-Miner by "AxeOS" in its web page (and gives up when the page is
    slow); forks such as the NerdQAxe++ (shufps/ESP-Miner-NerdQAxePlus) title theirs
    differently but serve the same `/api/system/info`, which is all the ESP-Miner driver reads.
    """
    if await _axe_info(host, session) is None:
        return None
    bitaxe = importlib.import_module("pyasic.miners.backends.bitaxe").BitAxe
    return cast("AnyMiner", bitaxe(host))


async def _axe_info(
    host: str, session: aiohttp.ClientSession, limits: aiohttp.ClientTimeout | None = None
) -> dict[str, Any] | None:
    """The AxeOS system info of an ESP-Miner (or fork) at `host`, or None."""
    try:
        info = await MinerHttp(session, host).request(
            "GET", "/api/system/info", command="info", limits=limits
        )
    except MinerError:
        return None
    if not isinstance(info, dict) or not {"ASICModel", "hashRate", "macAddr"} <= info.keys():
        return None
    return info


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@asynccontextmanager
async def _reaped(host: str) -> AsyncIterator[None]:
    """Run pyasic's detection or scan, and finish every task it started before leaving.

    pyasic races its probes in tasks it does not always await: after a timeout, or once one
    probe has raised, the others run on, and their errors are logged as "Task exception was
    never retrieved" long after the flow has answered.
    """
    marker = object()
    token = _PROBING.set(marker)
    try:
        yield
    finally:
        _PROBING.reset(token)
        await _reap(marker, host)


async def _reap(marker: object, host: str) -> None:
    package = str(Path(_pyasic().__file__).parent)
    current = asyncio.current_task()
    stray = [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and task.get_context().get(_PROBING) is marker
        and getattr(getattr(task.get_coro(), "cr_code", None), "co_filename", "").startswith(
            package
        )
    ]
    if not stray:
        return
    for task in stray:
        task.cancel()
    done, _ = await asyncio.wait(stray, timeout=REAP_TIMEOUT)
    for task in done:
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.debug("A probe of %s failed after detection: %r", host, error)


def _known_miner(miner_class: str, host: str) -> AnyMiner | None:
    """Build a pyasic miner object from its class path, e.g. `pyasic.miners…:BitAxeGamma`."""
    module_name, _, qualname = miner_class.partition(":")
    if not module_name.startswith("pyasic.") or not qualname:
        return None
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        return cast("AnyMiner", target(host))
    except ImportError, AttributeError, TypeError, ValueError:  # ValueError: a name, no IP
        return None


async def async_scan(subnet: str, session: aiohttp.ClientSession) -> list[FoundMiner]:
    """Scan a subnet (e.g. 192.168.1.0/24) with pyasic and describe what answers.

    ESP-Miner forks pyasic's detection misses are found by asking every address for AxeOS's
    system info, alongside pyasic's scan and within its time: a connection gets as long as
    pyasic's ping, an answer as long as its ping and detection together.
    """
    pyasic = _pyasic()
    network = pyasic.network.MinerNetwork.from_subnet(subnet)
    async with _reaped(subnet):
        found, forks = await asyncio.gather(
            network.scan(), _scan_esp_miner_forks(network.hosts, session)
        )
    miners: list[FoundMiner] = []
    for miner in found:
        if driver_for(miner) is None:
            continue
        try:
            data = await miner.get_data(include=["mac", "hostname"])
        except Exception:
            data = None
        miners.append(
            FoundMiner(
                host=str(miner.ip),
                mac=getattr(data, "mac", None),
                model=str(miner.model or type(miner).__name__),
                hostname=getattr(data, "hostname", None),
            )
        )
    seen = {miner.host for miner in miners}
    miners += [fork for fork in forks if fork.host not in seen]
    return sorted(miners, key=lambda m: tuple(int(p) for p in m.host.split(".")))


async def _scan_esp_miner_forks(
    hosts: list[ipaddress.IPv4Address], session: aiohttp.ClientSession
) -> list[FoundMiner]:
    settings = _pyasic().settings
    ping = float(settings.get("network_ping_timeout", 3))
    limits = aiohttp.ClientTimeout(
        total=ping + float(settings.get("factory_get_timeout", 3)), sock_connect=ping
    )
    limit = asyncio.Semaphore(settings.get("network_scan_semaphore", None) or 255)

    async def probe(host: str) -> FoundMiner | None:
        async with limit:
            info = await _axe_info(host, session, limits)
        if info is None:
            return None
        return FoundMiner(
            host=host,
            mac=str(info["macAddr"]) or None,
            model=str(info.get("deviceModel") or info.get("ASICModel") or "ESP-Miner"),
            hostname=str(info.get("hostname") or "") or None,
        )

    found = await asyncio.gather(*(probe(str(host)) for host in hosts))
    return [miner for miner in found if miner is not None]


class MinerClient:
    """A detected miner: the pyasic object is created once and kept."""

    def __init__(
        self,
        host: str,
        miner: AnyMiner,
        driver: Driver,
        session: aiohttp.ClientSession,
        credentials: Credentials,
    ) -> None:
        self.host = host
        self._miner = miner
        self._driver = driver
        driver.bind(miner, session, credentials)
        self.identity: MinerIdentity
        self.capabilities: Capabilities

    @property
    def miner_class(self) -> str:
        """Where pyasic's class for this miner lives, to skip detection next time."""
        cls = type(self._miner)
        return f"{cls.__module__}:{cls.__qualname__}"

    async def async_identify(self) -> None:
        """Read identity and capabilities (once, at connect)."""
        self.identity, self.capabilities = await self._guard(
            "connect", self._driver.read_identity(self.host, self._miner)
        )

    async def async_fetch(self) -> MinerSnapshot:
        """One poll: ask the miner only for what the entities show."""
        if (kept := self._driver.take_first_poll()) is not None:
            return kept
        return await self._guard("poll", self._driver.fetch(self._miner, self.capabilities))

    async def _guard[T](self, what: str, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                return await call
        except TimeoutError as err:
            raise MinerConnectionError(f"{self.host} timed out ({what})") from err

    # ---- controls --------------------------------------------------------------------------
    async def async_set_mining(self, mining: bool) -> MinerSnapshot:
        """Stop or resume hashing, and wait until the miner says it did."""
        command = "resume" if mining else "stop"
        await self._command(
            command, self._driver.resume(self._miner) if mining else self._driver.stop(self._miner)
        )
        reboots = mining and self.capabilities.resume_reboots
        return await self._verify(
            command,
            lambda s: s.is_mining is mining,
            VERIFY_REBOOT_TIMEOUT if reboots else VERIFY_TIMEOUT,
        )

    @property
    def power_levels(self) -> tuple[int, ...]:
        """The limits (W) the power limit really takes, where it takes only a few (empty:
        any in its range)."""
        limit = self.capabilities.power_limit
        if limit is None:
            return ()
        return tuple(w for w in self._driver.power_levels() if limit.minimum <= w <= limit.maximum)

    async def async_set_power_limit(self, watts: int) -> MinerSnapshot:
        """Limit power, and wait until the miner reports the new limit."""
        limit = self.capabilities.power_limit
        if limit is None:
            raise MinerCommandError("power_limit", "not supported by this miner")
        if not limit.minimum <= watts <= limit.maximum:
            raise MinerCommandError(
                "power_limit", f"{watts} W is outside {limit.minimum}-{limit.maximum} W"
            )
        target = await self._command(
            "power_limit", self._driver.set_power_limit(self._miner, watts, self.capabilities)
        )
        return await self._verify(
            "power_limit",
            lambda s: s.power_limit_w is not None and abs(s.power_limit_w - target) <= 1,
        )

    async def async_set_work_mode(self, mode: str) -> MinerSnapshot:
        if mode not in self.capabilities.work_modes:
            raise MinerCommandError("work_mode", f"unknown mode {mode}")
        await self._command("work_mode", self._driver.set_work_mode(self._miner, mode))
        return await self._verify("work_mode", lambda s: s.work_mode == mode)

    async def async_set_fan_mode(self, mode: str) -> MinerSnapshot:
        if mode not in self.capabilities.fan_modes:
            raise MinerCommandError("fan_mode", f"unknown mode {mode}")
        await self._command("fan_mode", self._driver.set_fan_mode(self._miner, mode))
        return await self._verify("fan_mode", lambda s: s.fan_mode == mode)

    async def async_set_manual_fan_speed(self, percent: int) -> MinerSnapshot:
        """Run the fan at `percent` (manual mode), and wait until the miner reports it."""
        bounds = self.capabilities.manual_fan_speed
        _check_bounds("fan_speed", percent, bounds, "%")
        await self._command("fan_speed", self._driver.set_manual_fan_speed(self._miner, percent))
        return await self._verify(
            "fan_speed", lambda s: s.fan_mode == FAN_MANUAL and s.manual_fan_speed == percent
        )

    async def async_set_target_temperature(self, celsius: int) -> MinerSnapshot:
        """Let the automatic fan hold `celsius`, and wait until the miner reports it."""
        bounds = self.capabilities.target_temperature
        _check_bounds("target_temperature", celsius, bounds, " °C")
        await self._command(
            "target_temperature", self._driver.set_target_temperature(self._miner, celsius)
        )
        return await self._verify(
            "target_temperature",
            lambda s: s.fan_mode == FAN_AUTO and s.target_temperature == celsius,
        )

    async def async_reboot(self) -> None:
        await self._command("reboot", self._driver.reboot(self._miner))

    async def async_identify_light(self) -> None:
        await self._command("identify", self._driver.identify(self._miner))

    async def _command[T](self, command: str, call: Awaitable[T]) -> T:
        self._driver.take_first_poll()  # what was read before a command is not read back
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                return await call
        except MinerError:
            raise
        except TimeoutError as err:
            raise MinerConnectionError(f"{self.host} timed out during {command}") from err
        except Exception as err:
            raise MinerCommandError(command, str(err) or type(err).__name__) from err

    async def _verify(
        self,
        command: str,
        done: Callable[[MinerSnapshot], bool],
        within: float | None = None,
    ) -> MinerSnapshot:
        """Read the miner back until `done` holds; a command not applied is an error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (VERIFY_TIMEOUT if within is None else within)
        while True:
            await asyncio.sleep(VERIFY_INTERVAL)
            try:
                snapshot = await self.async_fetch()
            except MinerConnectionError:
                if loop.time() > deadline:
                    raise
                continue
            if done(snapshot):
                return snapshot
            if loop.time() > deadline:
                raise MinerCommandError(command, "the miner acknowledged but did not apply it")


def _check_bounds(command: str, value: int, bounds: tuple[int, int] | None, unit: str) -> None:
    if bounds is None:
        raise MinerCommandError(command, "not supported by this miner")
    if not bounds[0] <= value <= bounds[1]:
        raise MinerCommandError(command, f"{value}{unit} is outside {bounds[0]}-{bounds[1]}{unit}")


__all__ = ["MinerAuthError", "MinerClient", "async_connect", "async_scan", "load_pyasic"]
