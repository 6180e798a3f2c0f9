"""Config flow of Home Miner: add a miner by address, by scanning, or when DHCP sees one."""

from __future__ import annotations

from collections.abc import Mapping
import ipaddress
import math
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import voluptuous as vol

from .const import (
    CONF_ENTRY_TYPE,
    CONF_MINER_CLASS,
    CONF_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DOMAIN,
    ENTRY_TYPE_MINER,
    ENTRY_TYPE_PLAN,
    LOGGER,
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
)
from .miner import (
    Credentials,
    FoundMiner,
    MinerAddressError,
    MinerAuthError,
    MinerClient,
    MinerCommandError,
    MinerConnectionError,
    UnsupportedMinerError,
    async_connect,
    async_scan,
)
from .miner.address import host_error, subnet_error
from .plan import is_plan
from .plan.config_flow import PlanOptionsFlow, PlanSteps
from .plan.const import CONF_NAME
from .pyasic_loader import async_load_pyasic

CONF_SUBNET = "subnet"
CONF_MINER = "miner"

MAX_LOGIN_LENGTH = 256

HOST_SCHEMA = vol.Schema({vol.Required(CONF_HOST): TextSelector()})
CREDENTIALS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_USERNAME, default="root"): TextSelector(),
        vol.Required(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)


def _title(client: MinerClient) -> str:
    return client.identity.name


def _credentials(user_input: Mapping[str, Any], errors: dict[str, str]) -> Credentials | None:
    for key in (CONF_USERNAME, CONF_PASSWORD):
        text: str = user_input[key]
        if len(text) > MAX_LOGIN_LENGTH:
            errors[key] = "too_long"
        # HTTP authentication cannot carry these (aiohttp raises on a colon in a username).
        elif not text.isprintable() or (key == CONF_USERNAME and ":" in text):
            errors[key] = "invalid_characters"
    if errors:
        return None
    return Credentials(username=user_input[CONF_USERNAME], password=user_input[CONF_PASSWORD])


def _stored_login(entry: ConfigEntry) -> Credentials | None:
    if CONF_PASSWORD not in entry.data:
        return None
    return Credentials(username=entry.data.get(CONF_USERNAME), password=entry.data[CONF_PASSWORD])


async def _connect(
    hass: HomeAssistant,
    host: str,
    credentials: Credentials | None,
    errors: dict[str, str],
    mac: str | None = None,
) -> MinerClient | None:
    """Reach the miner; on failure put the translated error key in `errors`."""
    await async_load_pyasic(hass)
    try:
        return await async_connect(host, async_get_clientsession(hass), credentials, mac=mac)
    except MinerAuthError:
        errors["base"] = "invalid_auth"
    except MinerAddressError:
        errors["base"] = "ip_address_required"
    except UnsupportedMinerError, MinerCommandError:
        # Something answered, but refused what a miner of its kind answers.
        errors["base"] = "unsupported_miner"
    except MinerConnectionError:
        errors["base"] = "cannot_connect"
    except Exception:
        LOGGER.exception("Unexpected error while connecting to %s", host)
        errors["base"] = "unknown"
    return None


class HomeMinerConfigFlow(PlanSteps, ConfigFlow, domain=DOMAIN):
    """Add a miner, or a curtailment plan."""

    VERSION = 1

    def __init__(self) -> None:
        self._host: str | None = None
        self._mac: str | None = None
        """The MAC DHCP saw, for a miner whose firmware does not report its own."""
        self._found: dict[str, FoundMiner] = {}
        self._plan: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlowWithReload:
        if is_plan(config_entry):
            return PlanOptionsFlow()
        return MinerOptionsFlow()

    @property
    def _plan_defaults(self) -> Mapping[str, Any]:
        if self.source != SOURCE_RECONFIGURE:
            return {}
        entry = self._get_reconfigure_entry()
        return {**entry.options, CONF_NAME: entry.title}

    @property
    def _plan_entry_id(self) -> str | None:
        return self._get_reconfigure_entry().entry_id if self.source == SOURCE_RECONFIGURE else None

    async def _async_plan_done(self) -> ConfigFlowResult:
        options = {k: v for k, v in self._plan.items() if k != CONF_NAME}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), title=self._plan[CONF_NAME], options=options
            )
        return self.async_create_entry(
            title=self._plan[CONF_NAME], data={CONF_ENTRY_TYPE: ENTRY_TYPE_PLAN}, options=options
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how to find the miner."""
        return self.async_show_menu(step_id="user", menu_options=["host", "scan", "plan"])

    async def async_step_host(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a miner by its address."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            if (error := host_error(host)) is not None:
                errors[CONF_HOST] = error
            elif result := await self._async_try_host(host, errors):
                return result
        return self.async_show_form(
            step_id="host",
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or {CONF_HOST: self._host}
            ),
            errors=errors,
        )

    async def _async_try_host(self, host: str, errors: dict[str, str]) -> ConfigFlowResult | None:
        """The entry, or the login form; None, with the error in `errors`, when neither (the
        caller shows its own form again)."""
        self._host = host
        client = await _connect(self.hass, host, None, errors, self._mac)
        if errors.get("base") == "invalid_auth":
            return await self.async_step_credentials()
        if client is None:
            return None
        return await self._async_create(client, Credentials())

    async def async_step_credentials(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the login of firmware that needs one, and test it."""
        errors: dict[str, str] = {}
        assert self._host is not None
        if user_input is not None and (credentials := _credentials(user_input, errors)):
            client = await _connect(self.hass, self._host, credentials, errors, self._mac)
            if client is not None:
                return await self._async_create(client, credentials)
        return self.async_show_form(
            step_id="credentials",
            data_schema=self.add_suggested_values_to_schema(CREDENTIALS_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"host": self._host},
        )

    async def _async_create(
        self, client: MinerClient, credentials: Credentials
    ) -> ConfigFlowResult:
        await self.async_set_unique_id(format_mac(client.identity.mac), raise_on_progress=False)
        self._abort_if_unique_id_configured(updates={CONF_HOST: client.host})
        data: dict[str, Any] = {
            CONF_ENTRY_TYPE: ENTRY_TYPE_MINER,
            CONF_HOST: client.host,
            CONF_MINER_CLASS: client.miner_class,
        }
        if credentials.password is not None:
            data[CONF_USERNAME] = credentials.username
            data[CONF_PASSWORD] = credentials.password
        return self.async_create_entry(title=_title(client), data=data)

    async def async_step_scan(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Scan a subnet for miners."""
        errors: dict[str, str] = {}
        if user_input is not None:
            subnet = user_input[CONF_SUBNET].strip()
            if (error := subnet_error(subnet)) is not None:
                errors[CONF_SUBNET] = error
            else:
                await async_load_pyasic(self.hass)
                configured = self._async_current_ids(include_ignore=False)
                found = await async_scan(
                    str(ipaddress.ip_network(subnet, strict=False)),
                    async_get_clientsession(self.hass),
                )
                self._found = {
                    m.host: m for m in found if m.mac is None or format_mac(m.mac) not in configured
                }
                if self._found:
                    return await self.async_step_pick()
                errors["base"] = "no_miners_found"
        return self.async_show_form(
            step_id="scan",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_SUBNET): TextSelector()}), user_input
            ),
            errors=errors,
        )

    async def async_step_pick(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick one of the miners the scan found."""
        errors: dict[str, str] = {}
        if user_input is not None and (
            result := await self._async_try_host(user_input[CONF_MINER], errors)
        ):
            return result
        options = [
            SelectOptionDict(
                value=m.host, label=f"{m.model} — {m.hostname or 'unnamed'} ({m.host})"
            )
            for m in self._found.values()
        ]
        return self.async_show_form(
            step_id="pick",
            data_schema=vol.Schema(
                {vol.Required(CONF_MINER): SelectSelector(SelectSelectorConfig(options=options))}
            ),
            errors=errors,
        )

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A miner announced itself on the network."""
        await self.async_set_unique_id(format_mac(discovery_info.macaddress))
        self._abort_if_unique_id_configured(updates={CONF_HOST: discovery_info.ip})
        errors: dict[str, str] = {}
        self._mac = discovery_info.macaddress
        client = await _connect(self.hass, discovery_info.ip, None, errors, self._mac)
        if client is None and errors.get("base") != "invalid_auth":
            return self.async_abort(reason=errors["base"])
        if client is not None and format_mac(client.identity.mac) != self.unique_id:
            return self.async_abort(reason="not_a_miner")
        self._host = discovery_info.ip
        self.context["title_placeholders"] = {
            "name": client.identity.model if client else discovery_info.hostname
        }
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user confirm a discovered miner."""
        assert self._host is not None
        errors: dict[str, str] = {}
        if user_input is not None and (result := await self._async_try_host(self._host, errors)):
            return result
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={"host": self._host},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The miner refused the stored login."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None and (credentials := _credentials(user_input, errors)):
            client = await _connect(self.hass, entry.data[CONF_HOST], credentials, errors)
            if client is not None:
                await self.async_set_unique_id(format_mac(client.identity.mac))
                self._abort_if_unique_id_mismatch(reason="wrong_miner")
                return self.async_update_reload_and_abort(entry, data_updates=user_input)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA, {CONF_USERNAME: entry.data.get(CONF_USERNAME, "root")}
            ),
            errors=errors,
            description_placeholders={"host": entry.data[CONF_HOST]},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point an existing miner entry at a new address; edit a plan."""
        entry = self._get_reconfigure_entry()
        if is_plan(entry):
            return await self.async_step_plan_reconfigure()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            if (error := host_error(host)) is not None:
                errors[CONF_HOST] = error
            elif client := await _connect(self.hass, host, _stored_login(entry), errors):
                await self.async_set_unique_id(format_mac(client.identity.mac))
                self._abort_if_unique_id_mismatch(reason="wrong_miner")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or {CONF_HOST: entry.data[CONF_HOST]}
            ),
            errors=errors,
        )


class MinerOptionsFlow(OptionsFlowWithReload):
    """How often to poll the miner."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            # The selector checks the range, and NaN is in no range.
            if math.isfinite(interval := user_input[CONF_POLL_INTERVAL]):
                return self.async_create_entry(data={CONF_POLL_INTERVAL: int(interval)})
            errors[CONF_POLL_INTERVAL] = "invalid_number"
        schema = vol.Schema(
            {
                vol.Required(CONF_POLL_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_POLL_INTERVAL,
                        max=MAX_POLL_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    CONF_POLL_INTERVAL: self.config_entry.options.get(
                        CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL
                    )
                },
            ),
            errors=errors,
        )
