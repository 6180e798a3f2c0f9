"""Import pyasic off the event loop, once per Home Assistant instance."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .miner import load_pyasic

_LOADED: HassKey[bool] = HassKey("home_miner_pyasic_loaded")


async def async_load_pyasic(hass: HomeAssistant) -> None:
    """pyasic blocks ~1.5 s at import (and builds an SSL context): do it in the executor."""
    if not hass.data.get(_LOADED):
        await hass.async_add_import_executor_job(load_pyasic)
        hass.data[_LOADED] = True
