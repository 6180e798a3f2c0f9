"""Base entity of a miner device, and the translation of miner errors for actions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, SIGNAL_USER_CHANGED
from .coordinator import MinerCoordinator
from .miner import MinerCommandError, MinerConnectionError, MinerError


class MinerEntity(CoordinatorEntity[MinerCoordinator]):
    """An entity of one miner device.

    Measurements (a sensor with a state class) are written on every poll: their
    `last_reported` tells statistics and helpers such as Riemann sums that a steady value is
    still fresh. Everything else (mining on/off, problem, power limit, work mode, last boot,
    pool) is written only when its state changes, which is rarely: a fleet's polls then cost
    Home Assistant a third fewer state writes.
    """

    _attr_has_entity_name = True
    _written: tuple[bool, Any, Any] | None = None

    def __init__(
        self,
        coordinator: MinerCoordinator,
        description: EntityDescription,
        key_suffix: str = "",
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        mac = coordinator.config_entry.unique_id
        assert mac is not None
        self._attr_unique_id = f"{mac}_{description.key}{key_suffix}"
        self._attr_device_info = coordinator.device_info

    @callback
    def _tell_plans(self, change: str, mining: bool | None = None) -> None:
        """Before a person's command goes out: the plans leave this miner to them."""
        async_dispatcher_send(
            self.hass, SIGNAL_USER_CHANGED, self.coordinator.config_entry.unique_id, change, mining
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        if getattr(self, "state_class", None) is None:
            written = (self.available, self.state, self.extra_state_attributes)
            if written == self._written:
                return
            self._written = written
        super()._handle_coordinator_update()


def miner_command[E: MinerEntity, **P](
    func: Callable[Concatenate[E, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[E, P], Coroutine[Any, Any, None]]:
    """Turn miner errors of an action into translated Home Assistant errors, then refresh."""

    async def handler(self: E, /, *args: P.args, **kwargs: P.kwargs) -> None:
        host = self.coordinator.client.host
        try:
            await func(self, *args, **kwargs)
        except MinerCommandError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={
                    "host": host,
                    "command": err.command,
                    "error": err.detail,
                },
            ) from err
        except MinerConnectionError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_unreachable",
                translation_placeholders={"host": host, "error": str(err)},
            ) from err
        except MinerError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={
                    "host": host,
                    "command": func.__name__,
                    "error": str(err),
                },
            ) from err
        await self.coordinator.async_request_refresh()

    return handler
