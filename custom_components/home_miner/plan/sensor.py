"""A plan's sensors: reason, price, break-even, next change, energy and cost avoided, and
its miners' totals (how many mine, their hashrate and power)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import DOMAIN, SIGNAL_MINERS_CHANGED
from ..curtailment import MissingPrice, Reason
from ..units import shown_hashrate_ths, shown_power
from .actuator import miner_coordinator
from .config import PlanConfig
from .const import ThresholdChoice
from .coordinator import PlanCoordinator
from .entity import PlanEntity
from .price_actions import PRICE_ACTIONS


@dataclass(frozen=True, kw_only=True)
class PlanSensorDescription(SensorEntityDescription):
    value_fn: Callable[[PlanCoordinator], str | float | datetime | None]
    unit_fn: Callable[[PlanCoordinator], str | None] | None = None
    exists_fn: Callable[[PlanConfig], bool] = lambda _: True
    fleet: bool = False
    """A total of the plan's miners: written whenever one of them is polled."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FleetReading:
    """The plan's miners that answered their last poll, summed as their entities show."""

    mining: int
    hashrate_ths: float
    power_w: float


def fleet_reading(plan: PlanCoordinator) -> FleetReading | None:
    """None while none of the plan's miners answers (its totals are then unavailable)."""
    reporting = [
        (coordinator.data, coordinator.client.capabilities)
        for miner_id in plan.config.miners
        if (coordinator := miner_coordinator(plan.hass, miner_id)) is not None
        and coordinator.last_update_success
        and coordinator.data is not None
    ]
    if not reporting:
        return None
    return FleetReading(
        mining=sum(1 for snapshot, _ in reporting if snapshot.is_mining),
        # Rounded as the miners' own sensors are, so the total is the sum of what they show.
        hashrate_ths=round(sum(shown_hashrate_ths(s, caps) or 0.0 for s, caps in reporting), 4),
        power_w=round(sum(shown_power(s) or 0.0 for s, _ in reporting), 1),
    )


def next_change(plan: PlanCoordinator) -> datetime | None:
    """When what the plan does changes next: the end of the window under way, else the
    start of the next one (not the engine's next look at its feeds, which may change
    nothing). Where the engine holds miners apart from the windows (a minimum time, the
    restart stagger after a window), its next decision is that change."""
    data, now = plan.data, plan.now()
    curtailed = data.decision.curtailed
    for window in data.windows:
        if window.end <= now:
            continue
        if window.start <= now:
            return window.end if curtailed else data.decision.next_check
        return data.decision.next_check if curtailed else window.start
    return data.decision.next_check if curtailed else next_peak(plan, now)


# How far ahead a tariff's next peak is looked for past the plan's 48 h schedule (a URDB
# rate's summer peaks, seen in winter).
PEAK_LOOKAHEAD = timedelta(days=400)


def next_peak(plan: PlanCoordinator, now: datetime) -> datetime | None:
    """The start of the tariff's next peak period beyond the schedule, if any (kept until it
    comes: the tariff does not change under a running plan)."""
    tariff = plan.config.tariff
    if tariff is None:
        return None
    cached = plan.next_peak
    if cached is not None and cached[0] is tariff and (cached[1] is None or cached[1] > now):
        return cached[1]
    settings = plan.config.settings(hashprice=None)
    found = next(
        (
            period.start
            for period in tariff.periods(now, now + PEAK_LOOKAHEAD)
            if period.start > now and settings.is_tou_peak(period.label)
        ),
        None,
    )
    plan.next_peak = (tariff, found)
    return found


def _has_price(config: PlanConfig) -> bool:
    """A price comes from the price entity, an integration's price action, a VTN's PRICE
    events, or the tariff's own price when the plan reads that for a missing one."""
    return bool(
        config.price_entity
        or config.price_preset in PRICE_ACTIONS
        or config.vtn
        or (config.tariff is not None and config.on_missing_price is MissingPrice.TARIFF)
    )


def _price_unit(coordinator: PlanCoordinator) -> str | None:
    return coordinator.feeds.unit()


def _fleet(value: Callable[[FleetReading], float]) -> Callable[[PlanCoordinator], float | None]:
    def read(plan: PlanCoordinator) -> float | None:
        reading = fleet_reading(plan)
        return None if reading is None else value(reading)

    return read


SENSORS: tuple[PlanSensorDescription, ...] = (
    PlanSensorDescription(
        key="reason",
        translation_key="reason",
        device_class=SensorDeviceClass.ENUM,
        options=[reason.value for reason in Reason],
        value_fn=lambda c: c.data.decision.reason.value,
    ),
    PlanSensorDescription(
        key="current_price",
        translation_key="current_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda c: c.data.decision.price,
        unit_fn=_price_unit,
        exists_fn=_has_price,
    ),
    PlanSensorDescription(
        key="break_even_price",
        translation_key="break_even_price",
        suggested_display_precision=4,
        value_fn=lambda c: c.data.break_even,
        unit_fn=_price_unit,
        # Only a break-even threshold has a hashprice to compute it from.
        exists_fn=lambda config: config.threshold_mode is ThresholdChoice.BREAK_EVEN,
    ),
    PlanSensorDescription(
        key="next_change",
        translation_key="next_change",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=next_change,
    ),
    PlanSensorDescription(
        key="energy_avoided",
        translation_key="energy_avoided",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda c: round(c.data.energy_kwh, 6),
    ),
    PlanSensorDescription(
        key="cost_avoided",
        translation_key="cost_avoided",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda c: round(c.data.cost, 6),
        unit_fn=lambda c: c.hass.config.currency,
    ),
    PlanSensorDescription(
        key="miners_mining",
        translation_key="miners_mining",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_fleet(lambda r: r.mining),
        fleet=True,
    ),
    PlanSensorDescription(
        key="fleet_hashrate",
        translation_key="fleet_hashrate",
        native_unit_of_measurement="TH/s",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_fleet(lambda r: r.hashrate_ths),
        fleet=True,
    ),
    PlanSensorDescription(
        key="fleet_power",
        translation_key="fleet_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_fleet(lambda r: r.power_w),
        fleet=True,
    ),
)


def surplus_w(plan: PlanCoordinator) -> float | None:
    """What the house would export without the miners (the meter includes them)."""
    grid = plan.feeds.house().grid_w
    reading = fleet_reading(plan)
    if grid is None:
        return None
    return round(max((reading.power_w if reading else 0.0) - grid, 0.0), 1)


HOUSE_SENSORS: tuple[PlanSensorDescription, ...] = (
    PlanSensorDescription(
        key="fleet_target_power",
        translation_key="fleet_target_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda c: c.data.decision.fleet_target_w,
        exists_fn=lambda config: config.flex is not None and config.grid_entity is not None,
    ),
    PlanSensorDescription(
        key="surplus",
        translation_key="surplus",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=surplus_w,
        exists_fn=lambda config: config.grid_entity is not None,
    ),
)


class PlanSensor(PlanEntity, SensorEntity):
    entity_description: PlanSensorDescription

    @property
    def native_value(self) -> str | float | datetime | None:
        return self.entity_description.value_fn(self.coordinator)

    @property
    def native_unit_of_measurement(self) -> str | None:
        if self.entity_description.unit_fn is not None:
            return self.entity_description.unit_fn(self.coordinator)
        return super().native_unit_of_measurement


class PlanFleetSensor(PlanSensor):
    """A total of the plan's miners, unavailable while none of them answers."""

    _unsub_miners: list[CALLBACK_TYPE]

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self._unsub_miners = []
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_MINERS_CHANGED, self._on_miners_changed)
        )
        self.async_on_remove(self._unwatch_miners)
        self._watch_miners()

    @property
    def available(self) -> bool:
        return super().available and fleet_reading(self.coordinator) is not None

    @callback
    def _on_miners_changed(self) -> None:
        self._watch_miners()
        self.async_write_ha_state()

    @callback
    def _watch_miners(self) -> None:
        """Follow the polls of the plan's loaded miners (a reloaded one has a new
        coordinator)."""
        self._unwatch_miners()
        for miner_id in self.coordinator.config.miners:
            if (coordinator := miner_coordinator(self.hass, miner_id)) is not None:
                self._unsub_miners.append(coordinator.async_add_listener(self.async_write_ha_state))

    @callback
    def _unwatch_miners(self) -> None:
        for unsub in self._unsub_miners:
            unsub()
        self._unsub_miners.clear()


async def async_setup_plan_sensors(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator: PlanCoordinator = entry.runtime_data
    registry = er.async_get(hass)
    entities: list[PlanSensor] = []
    for description in (*SENSORS, *HOUSE_SENSORS):
        if description.exists_fn(coordinator.config):
            cls = PlanFleetSensor if description.fleet else PlanSensor
            entities.append(cls(coordinator, description))
        elif entity_id := registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{description.key}"
        ):
            # Left from before the plan's options changed: it could never have a value now.
            registry.async_remove(entity_id)
    async_add_entities(entities)
