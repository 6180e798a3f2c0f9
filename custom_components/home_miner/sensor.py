"""Sensors of a miner: hashrate, power, efficiency, temperatures, fans, uptime, pool, energy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    REVOLUTIONS_PER_MINUTE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import MinerConfigEntry, MinerCoordinator
from .entity import MinerEntity
from .miner import Capabilities, MinerSnapshot
from .plan import is_plan
from .plan.sensor import async_setup_plan_sensors
from .units import rounded as _round, shown_hashrate, shown_power

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MinerSensorDescription(SensorEntityDescription):
    """A miner sensor: how to read it and whether this model has it."""

    value_fn: Callable[[MinerSnapshot], float | int | str | datetime | None]
    exists_fn: Callable[[Capabilities], bool] = lambda _: True


def _boot_time(snapshot: MinerSnapshot) -> datetime | None:
    if snapshot.uptime_s is None:
        return None
    # Rounded to the minute so the state does not change on every poll.
    boot = dt_util.utcnow() - timedelta(seconds=snapshot.uptime_s)
    return boot.replace(second=0, microsecond=0)


SENSORS: tuple[MinerSensorDescription, ...] = (
    MinerSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=shown_power,
        exists_fn=lambda c: not c.power_estimated,
    ),
    MinerSensorDescription(
        key="power",
        translation_key="estimated_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=shown_power,
        exists_fn=lambda c: c.power_estimated,
    ),
    MinerSensorDescription(
        key="efficiency",
        translation_key="efficiency",
        native_unit_of_measurement="J/TH",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda s: _round(s.efficiency_j_th),
        exists_fn=lambda c: not c.power_estimated,
    ),
    MinerSensorDescription(
        key="temperature_avg",
        translation_key="temperature_avg",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _round(s.temperature_avg),
    ),
    MinerSensorDescription(
        key="temperature_max",
        translation_key="temperature_max",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _round(s.temperature_max),
    ),
    MinerSensorDescription(
        key="env_temperature",
        translation_key="env_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: _round(s.env_temperature),
        exists_fn=lambda c: c.has_env_temp,
    ),
    MinerSensorDescription(
        key="boot_time",
        translation_key="boot_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_boot_time,
    ),
    MinerSensorDescription(
        key="pool",
        translation_key="pool",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.pool.url if s.pool else None,
    ),
)


class MeasurementAvailability(SensorEntity):
    """A measurement the miner does not report (a sleeping Antminer's hashboards have no
    temperature) is unavailable, rather than an unknown that could be a value."""

    @property
    def available(self) -> bool:
        return super().available and (self.state_class is None or self.native_value is not None)


class MinerSensor(MeasurementAvailability, MinerEntity):
    """A sensor whose value is a function of the snapshot."""

    entity_description: MinerSensorDescription

    @property
    def native_value(self) -> float | int | str | datetime | None:
        return self.entity_description.value_fn(self.coordinator.data)


class HashrateSensor(MeasurementAvailability, MinerEntity):
    """Hashrate in the unit that suits the miner's size (GH/s for a Bitaxe)."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(
        self,
        coordinator: MinerCoordinator,
        description: SensorEntityDescription,
        value_fn: Callable[[MinerSnapshot], float | None],
        key_suffix: str = "",
    ) -> None:
        super().__init__(coordinator, description, key_suffix)
        self._value_fn = value_fn
        self._attr_native_unit_of_measurement = coordinator.client.capabilities.hashrate_unit

    @property
    def native_value(self) -> float | None:
        return shown_hashrate(
            self._value_fn(self.coordinator.data), self.coordinator.client.capabilities
        )


class EnergySensor(MinerEntity, RestoreSensor):
    """Energy drawn, integrated from the power readings; survives restarts.

    Only intervals between two successful polls are counted, so an unreachable miner adds
    nothing rather than a guess.
    """

    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 3

    def __init__(self, coordinator: MinerCoordinator) -> None:
        estimated = coordinator.client.capabilities.power_estimated
        super().__init__(
            coordinator,
            SensorEntityDescription(
                key="energy", translation_key="estimated_energy" if estimated else "energy"
            ),
        )
        self._kwh = 0.0
        self._last: tuple[datetime, float] | None = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        if last is not None and isinstance(last.native_value, (int, float)):
            self._kwh = float(last.native_value)
        self._sample()

    @property
    def native_value(self) -> float:
        return round(self._kwh, 6)

    def _sample(self) -> None:
        if not self.coordinator.last_update_success or self.coordinator.data is None:
            self._last = None
            return
        now = dt_util.utcnow()
        power = self.coordinator.data.power_w or 0.0
        if self._last is not None:
            since, previous = self._last
            hours = (now - since).total_seconds() / 3600
            self._kwh += (previous + power) / 2 * hours / 1000
        self._last = (now, power)

    @callback
    def _handle_coordinator_update(self) -> None:
        self._sample()
        super()._handle_coordinator_update()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MinerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    if is_plan(entry):
        await async_setup_plan_sensors(hass, entry, async_add_entities)
        return
    coordinator = entry.runtime_data
    caps = coordinator.client.capabilities
    entities: list[SensorEntity] = [
        MinerSensor(coordinator, d) for d in SENSORS if d.exists_fn(caps)
    ]
    entities += [
        HashrateSensor(
            coordinator,
            SensorEntityDescription(key="hashrate", translation_key="hashrate"),
            lambda s: s.hashrate_ths,
        ),
        HashrateSensor(
            coordinator,
            SensorEntityDescription(key="expected_hashrate", translation_key="expected_hashrate"),
            lambda s: s.expected_hashrate_ths,
        ),
        EnergySensor(coordinator),
    ]
    if caps.boards > 1:
        for board in range(caps.boards):
            entities.append(_board_temperature(coordinator, board))
            entities.append(
                HashrateSensor(
                    coordinator,
                    SensorEntityDescription(
                        key="board_hashrate",
                        translation_key="board_hashrate",
                        translation_placeholders={"board": str(board + 1)},
                        entity_registry_enabled_default=False,
                    ),
                    _board_hashrate(board),
                    key_suffix=f"_{board}",
                )
            )
    for fan in range(caps.fans):
        entities.append(
            MinerSensor(
                coordinator,
                MinerSensorDescription(
                    key=f"fan_{fan}",
                    translation_key="fan_speed",
                    translation_placeholders={"fan": str(fan + 1)},
                    native_unit_of_measurement=REVOLUTIONS_PER_MINUTE,
                    state_class=SensorStateClass.MEASUREMENT,
                    entity_category=EntityCategory.DIAGNOSTIC,
                    value_fn=_fan_speed(fan),
                ),
            )
        )
    async_add_entities(entities)


def _board_hashrate(board: int) -> Callable[[MinerSnapshot], float | None]:
    def value(s: MinerSnapshot) -> float | None:
        return s.boards[board].hashrate_ths if board < len(s.boards) else None

    return value


def _fan_speed(fan: int) -> Callable[[MinerSnapshot], int | None]:
    def value(s: MinerSnapshot) -> int | None:
        return s.fans[fan] if fan < len(s.fans) else None

    return value


def _board_temperature(coordinator: MinerCoordinator, board: int) -> MinerSensor:
    def value(s: MinerSnapshot) -> float | None:
        if board >= len(s.boards):
            return None
        b = s.boards[board]
        return _round(b.chip_temperature if b.chip_temperature is not None else b.temperature)

    return MinerSensor(
        coordinator,
        MinerSensorDescription(
            key=f"board_{board}_temperature",
            translation_key="board_temperature",
            translation_placeholders={"board": str(board + 1)},
            device_class=SensorDeviceClass.TEMPERATURE,
            native_unit_of_measurement=UnitOfTemperature.CELSIUS,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=value,
        ),
    )
