"""Hand-backs owed to miners: a plan that went away while a miner it curtailed could not be
reached leaves the debt here, on disk, until the miner is back.

Then whichever comes first settles it: the next plan that takes the miner starts from what
the gone plan left (so it restores the miner's own limit, never the curtailed one as if it
were the miner's normal), or, with no plan to take it, the miner's next good poll runs it
again with its own limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, LOGGER
from ..coordinator import MinerCoordinator
from ..curtailment import TargetAction
from ..miner import MinerError
from . import const
from .actuator import RUN, Command

DATA_OWED: HassKey[OwedHandBacks] = HassKey(f"{DOMAIN}_owed_hand_backs")
STORAGE_KEY = f"{DOMAIN}.owed_hand_backs"


@dataclass(frozen=True, kw_only=True, slots=True)
class Owed:
    """What a gone plan left a miner doing, and the limit the miner had before it."""

    applied: Command | None
    restore_limit_w: int | None
    plan: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": None if self.applied is None else self.applied.to_dict(),
            "restore_limit_w": self.restore_limit_w,
            "plan": self.plan,
        }

    @classmethod
    def from_dict(cls, data: object) -> Owed | None:
        if not isinstance(data, dict):
            return None
        limit = data.get("restore_limit_w")
        return cls(
            applied=Command.from_dict(data.get("applied")),
            restore_limit_w=int(limit) if isinstance(limit, int | float) else None,
            plan=str(data.get("plan", "")),
        )


class OwedHandBacks:
    """Every hand-back owed, by miner (its MAC), kept in one store of the integration."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, const.STORAGE_VERSION, STORAGE_KEY)
        self.owed: dict[str, Owed] = {}
        self._settling: set[str] = set()

    async def async_load(self) -> None:
        stored = await self._store.async_load()
        for miner_id, data in (stored or {}).items():
            if (owed := Owed.from_dict(data)) is not None:
                self.owed[miner_id] = owed

    def _save(self) -> None:
        self._store.async_delay_save(
            lambda: {miner_id: owed.to_dict() for miner_id, owed in self.owed.items()},
            const.SAVE_DELAY,
        )

    @callback
    def owe(self, miner_id: str, owed: Owed) -> None:
        LOGGER.warning(
            "Plan %s is gone and could not hand %s back: it will when the miner is back",
            owed.plan,
            miner_id,
        )
        self.owed[miner_id] = owed
        self._save()

    @callback
    def take(self, miner_id: str) -> Owed | None:
        """A plan takes the miner over, and the debt with it."""
        owed = self.owed.pop(miner_id, None)
        if owed is not None:
            self._save()
        return owed

    @callback
    def async_miner_polled(self, miner_id: str, coordinator: MinerCoordinator) -> None:
        """The miner answered: settle what it is owed (once at a time)."""
        if (
            miner_id not in self.owed
            or miner_id in self._settling
            or not coordinator.last_update_success
        ):
            return
        self._settling.add(miner_id)
        coordinator.config_entry.async_create_background_task(
            self.hass, self._async_settle(miner_id, coordinator), f"{DOMAIN} hand back {miner_id}"
        )

    async def _async_settle(self, miner_id: str, coordinator: MinerCoordinator) -> None:
        try:
            owed = self.owed.get(miner_id)
            if owed is None:
                return
            client = coordinator.client
            caps = client.capabilities
            async with asyncio.timeout(const.HAND_BACK_TIMEOUT):
                if owed.applied not in (None, RUN) and caps.can_stop:
                    assert owed.applied is not None
                    if owed.applied.action is TargetAction.STOP:
                        coordinator.async_set_updated_data(await client.async_set_mining(True))
                if owed.restore_limit_w is not None and caps.power_limit is not None:
                    low, high = caps.power_limit.minimum, caps.power_limit.maximum
                    watts = min(max(owed.restore_limit_w, low), high)
                    coordinator.async_set_updated_data(await client.async_set_power_limit(watts))
        except (MinerError, TimeoutError) as err:
            LOGGER.warning(
                "Could not yet hand %s back for plan %s: %s",
                miner_id,
                owed.plan if owed else "?",
                err,
            )
            return
        finally:
            self._settling.discard(miner_id)
        if self.owed.get(miner_id) is owed:
            self.take(miner_id)
            LOGGER.info("%s handed back for plan %s, which is gone", miner_id, owed.plan)


async def async_setup_owed(hass: HomeAssistant) -> None:
    owed = hass.data[DATA_OWED] = OwedHandBacks(hass)
    await owed.async_load()


def owed_hand_backs(hass: HomeAssistant) -> OwedHandBacks | None:
    return hass.data.get(DATA_OWED)
