"""One coordinator per miner: it detects the miner once and polls it."""

from __future__ import annotations

from datetime import datetime, timedelta
import zlib

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import (
    CONNECTION_NETWORK_MAC,
    DeviceInfo,
    format_mac,
)
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    CONF_MINER_CLASS,
    CONF_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DOMAIN,
    LOGGER,
    REDETECT_AFTER_FAILURES,
)
from .miner import (
    Credentials,
    MinerAuthError,
    MinerClient,
    MinerError,
    MinerIdentity,
    MinerSnapshot,
    async_connect,
)
from .pyasic_loader import async_load_pyasic

type MinerConfigEntry = ConfigEntry[MinerCoordinator]


class MinerCoordinator(DataUpdateCoordinator[MinerSnapshot]):
    """Keeps one detected miner and its latest snapshot."""

    config_entry: MinerConfigEntry
    client: MinerClient
    platforms: list[Platform]
    """The platforms set up for this miner (those it has entities on)."""

    def __init__(self, hass: HomeAssistant, config_entry: MinerConfigEntry) -> None:
        # Polling starts in async_start_polling, at this miner's own offset in the interval.
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {config_entry.data[CONF_HOST]}",
            update_interval=None,
        )
        self.poll_interval = timedelta(
            seconds=config_entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
        )
        self._failures = 0
        self._device_info: tuple[MinerIdentity, DeviceInfo] | None = None

    @callback
    def async_start_polling(self) -> None:
        """Start polling at a stable offset inside the interval, derived from the MAC.

        Home Assistant aligns coordinator timers to whole seconds; miners set up together
        would all be polled in the same second. Spreading them over the interval keeps a
        fleet from stalling the event loop with one burst.
        """
        seconds = max(1, int(self.poll_interval.total_seconds()))
        offset = zlib.crc32((self.config_entry.unique_id or "").encode()) % seconds

        @callback
        def _start(_now: datetime) -> None:
            self.update_interval = self.poll_interval
            self.config_entry.async_create_background_task(
                self.hass, self.async_refresh(), name=f"{self.name} first poll"
            )

        self.config_entry.async_on_unload(async_call_later(self.hass, offset, _start))

    @property
    def device_info(self) -> DeviceInfo:
        """The miner's device, one object shared by all its entities."""
        identity = self.client.identity
        if self._device_info is None or self._device_info[0] is not identity:
            mac = self.config_entry.unique_id
            assert mac is not None
            self._device_info = (
                identity,
                DeviceInfo(
                    identifiers={(DOMAIN, mac)},
                    connections={(CONNECTION_NETWORK_MAC, mac)},
                    manufacturer=identity.make,
                    model=identity.model,
                    name=identity.name,
                    sw_version=identity.firmware_version or identity.firmware,
                    hw_version=identity.firmware,
                    configuration_url=f"http://{identity.host}",
                ),
            )
        return self._device_info[1]

    @property
    def credentials(self) -> Credentials:
        data = self.config_entry.data
        if CONF_PASSWORD not in data:
            return Credentials()
        return Credentials(username=data.get(CONF_USERNAME), password=data[CONF_PASSWORD])

    async def _async_setup(self) -> None:
        """Detect the miner (once); a miner that is off raises, so setup is retried."""
        self.client = await self._async_detect()

    async def _async_detect(self, *, from_scratch: bool = False) -> MinerClient:
        """Reach the miner: by the class found last time, or by pyasic's full detection."""
        host = self.config_entry.data[CONF_HOST]
        await async_load_pyasic(self.hass)
        known = None if from_scratch else self.config_entry.data.get(CONF_MINER_CLASS)
        try:
            client = await async_connect(
                host,
                async_get_clientsession(self.hass),
                self.credentials,
                known,
                mac=self.config_entry.unique_id,
            )
        except MinerAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"host": host},
            ) from err
        except MinerError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"host": host, "error": str(err)},
            ) from err
        if format_mac(client.identity.mac) != self.config_entry.unique_id:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_miner",
                translation_placeholders={"host": host, "mac": client.identity.mac},
            )
        if self.config_entry.data.get(CONF_MINER_CLASS) != client.miner_class:
            self.hass.config_entries.async_update_entry(
                self.config_entry,
                data={**self.config_entry.data, CONF_MINER_CLASS: client.miner_class},
            )
        return client

    async def _async_update_data(self) -> MinerSnapshot:
        if self._failures >= REDETECT_AFTER_FAILURES:
            # The miner may have come back with other firmware or at a changed address.
            self.client = await self._async_detect(from_scratch=True)
            self._failures = 0
        try:
            snapshot = await self.client.async_fetch()
        except MinerAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"host": self.client.host},
            ) from err
        except MinerError as err:
            self._failures += 1
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"host": self.client.host, "error": str(err)},
            ) from err
        self._failures = 0
        return snapshot
