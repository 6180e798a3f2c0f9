"""A plan's stored options, read into the engine's types once per setup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo
from typing import Any

from ..curtailment import (
    BandTariff,
    CurtailAction,
    CurtailMode,
    ManualOverride,
    MinerPlan,
    MissingPrice,
    PlanSettings,
    PricePreset,
    PriceThreshold,
    Tariff,
    ThresholdMode,
    UrdbTariff,
    VenConfig,
    parse_bands,
    parse_urdb,
)
from ..curtailment.flex import DEADBAND_W, MAX_CHANGES_PER_HOUR, FlexSettings
from . import const
from .const import (
    CONF_ACTION,
    CONF_BANDS,
    CONF_CALENDAR_MATCH,
    CONF_CALENDARS,
    CONF_DR_ENTITIES,
    CONF_HASHPRICE,
    CONF_HASHPRICE_ENTITY,
    CONF_HOLIDAYS,
    CONF_HYSTERESIS,
    CONF_MAX_LENGTH,
    CONF_MIN_OFF,
    CONF_MIN_ON,
    CONF_MINER,
    CONF_MINERS,
    CONF_OBSERVE_ONLY,
    CONF_ON_MISSING_PRICE,
    CONF_PEAK_LABELS,
    CONF_PRICE_ENTITY,
    CONF_PRICE_PRESET,
    CONF_PRIORITY,
    CONF_STAGGER,
    CONF_THRESHOLD,
    CONF_THRESHOLD_MODE,
    CONF_TOU_MODE,
    CONF_URDB_LABEL,
    CONF_URDB_RATE,
    CONF_VALUE,
    CONF_VTN_CLIENT_ID,
    CONF_VTN_CLIENT_SECRET,
    CONF_VTN_PROGRAM,
    CONF_VTN_TOKEN_URL,
    CONF_VTN_URL,
    ThresholdChoice,
    TouMode,
)


def miner_plan(item: Mapping[str, Any]) -> MinerPlan:
    mode = CurtailMode(item.get(CONF_ACTION, CurtailMode.STOP))
    value = item.get(CONF_VALUE)
    return MinerPlan(
        action=CurtailAction(
            mode=mode,
            value=None if mode is CurtailMode.STOP else float(value if value is not None else 0),
        ),
        priority=int(item.get(CONF_PRIORITY, 100)),
    )


def flex_from_options(options: Mapping[str, Any]) -> FlexSettings | None:
    """How the fleet follows the house; None when nothing asks it to (no grid entity, or
    neither surplus, an import limit nor a boost set)."""
    surplus = bool(options.get(const.CONF_SURPLUS_ONLY, False))
    limit_kw = options.get(const.CONF_IMPORT_LIMIT)
    boost_price = options.get(const.CONF_BOOST_PRICE)
    boosts = options.get(const.CONF_BOOST_ENTITIES)
    if not options.get(const.CONF_GRID_ENTITY) and boost_price is None and not boosts:
        return None
    if not (surplus or limit_kw is not None or boost_price is not None or boosts):
        return None
    floor = options.get(const.CONF_BATTERY_FLOOR)
    return FlexSettings(
        surplus_only=surplus,
        reserve_w=float(options.get(const.CONF_RESERVE, 0) or 0),
        grid_allowance_w=float(options.get(const.CONF_GRID_ALLOWANCE, 0) or 0),
        battery_floor_pct=None if floor is None else float(floor),
        import_limit_w=None if limit_kw is None else float(limit_kw) * 1000,
        boost_price=None if boost_price is None else float(boost_price),
        deadband_w=float(options.get(const.CONF_DEADBAND, DEADBAND_W)),
        max_changes_per_hour=int(options.get(const.CONF_MAX_CHANGES, MAX_CHANGES_PER_HOUR)),
    )


def tariff_from_options(options: Mapping[str, Any], timezone: tzinfo) -> Tariff | None:
    """The TOU tariff; raises the engine's `TariffError` if the stored one is unreadable."""
    mode = TouMode(options.get(CONF_TOU_MODE, TouMode.NONE))
    if mode is TouMode.BANDS:
        return parse_bands(options.get(CONF_BANDS, []), timezone=timezone)
    if mode in (TouMode.URDB_JSON, TouMode.URDB_FETCH):
        return parse_urdb(
            options.get(CONF_URDB_RATE), timezone=timezone, label=options.get(CONF_URDB_LABEL)
        )
    return None


def vtn_config(options: Mapping[str, Any]) -> VenConfig | None:
    url = options.get(CONF_VTN_URL)
    if not url:
        return None
    client_id = options.get(CONF_VTN_CLIENT_ID) or None
    secret = options.get(CONF_VTN_CLIENT_SECRET) or None
    program = options.get(CONF_VTN_PROGRAM)
    return VenConfig(
        base_url=url,
        client_id=client_id if secret else None,
        client_secret=secret if client_id else None,
        programs=(program,) if program else (),
        token_url=options.get(CONF_VTN_TOKEN_URL) or None,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanConfig:
    """Everything a plan was configured with, except what is read live from entities."""

    miners: Mapping[str, MinerPlan]
    tariff: Tariff | None
    holiday_calendar: str | None
    peak_labels: frozenset[str]
    price_entity: str | None
    price_preset: PricePreset | None
    threshold_mode: ThresholdChoice
    threshold: float | None
    hashprice: float | None
    hashprice_entity: str | None
    hysteresis: float
    on_missing_price: MissingPrice
    calendars: tuple[str, ...]
    calendar_match: str | None
    dr_entities: tuple[str, ...]
    vtn: VenConfig | None
    min_on: timedelta
    min_off: timedelta
    restart_stagger: timedelta
    max_curtailment: timedelta | None
    observe_only: bool
    # The house: its entities, and how the fleet follows it (None: it does not).
    grid_entity: str | None = None
    grid_export_entity: str | None = None
    battery_entity: str | None = None
    pv_entity: str | None = None
    boost_entities: tuple[str, ...] = ()
    flex: FlexSettings | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], timezone: tzinfo) -> PlanConfig:
        preset = options.get(CONF_PRICE_PRESET, "none")
        max_length = float(options.get(CONF_MAX_LENGTH, 0) or 0)
        return cls(
            miners={item[CONF_MINER]: miner_plan(item) for item in options.get(CONF_MINERS, [])},
            tariff=tariff_from_options(options, timezone),
            holiday_calendar=options.get(CONF_HOLIDAYS) or None,
            peak_labels=frozenset(options.get(CONF_PEAK_LABELS) or ["peak"]),
            price_entity=options.get(CONF_PRICE_ENTITY) or None,
            price_preset=None if preset == "none" else PricePreset(preset),
            threshold_mode=ThresholdChoice(options.get(CONF_THRESHOLD_MODE, ThresholdChoice.NONE)),
            threshold=options.get(CONF_THRESHOLD),
            hashprice=options.get(CONF_HASHPRICE),
            hashprice_entity=options.get(CONF_HASHPRICE_ENTITY) or None,
            hysteresis=float(options.get(CONF_HYSTERESIS, 0) or 0),
            on_missing_price=MissingPrice(options.get(CONF_ON_MISSING_PRICE, MissingPrice.RUN)),
            calendars=tuple(options.get(CONF_CALENDARS, [])),
            calendar_match=options.get(CONF_CALENDAR_MATCH) or None,
            dr_entities=tuple(options.get(CONF_DR_ENTITIES, [])),
            vtn=vtn_config(options),
            min_on=timedelta(minutes=float(options.get(CONF_MIN_ON, 0) or 0)),
            min_off=timedelta(minutes=float(options.get(CONF_MIN_OFF, 0) or 0)),
            restart_stagger=timedelta(seconds=float(options.get(CONF_STAGGER, 0) or 0)),
            max_curtailment=timedelta(minutes=max_length) if max_length > 0 else None,
            observe_only=bool(options.get(CONF_OBSERVE_ONLY, False)),
            grid_entity=options.get(const.CONF_GRID_ENTITY) or None,
            grid_export_entity=options.get(const.CONF_GRID_EXPORT_ENTITY) or None,
            battery_entity=options.get(const.CONF_BATTERY_ENTITY) or None,
            pv_entity=options.get(const.CONF_PV_ENTITY) or None,
            boost_entities=tuple(options.get(const.CONF_BOOST_ENTITIES, [])),
            flex=flex_from_options(options),
        )

    def with_holidays(self, days: frozenset[date]) -> PlanConfig:
        """The same plan, its tariff billing `days` (besides its own holidays) as weekends."""
        tariff = self.tariff
        if not isinstance(tariff, BandTariff | UrdbTariff) or not days:
            return self
        return replace(self, tariff=replace(tariff, holidays=tariff.holidays | days))

    def price_threshold(self, hashprice: float | None) -> PriceThreshold | None:
        if self.threshold_mode is ThresholdChoice.FIXED and self.threshold is not None:
            return PriceThreshold(mode=ThresholdMode.FIXED, price=float(self.threshold))
        if self.threshold_mode is ThresholdChoice.BREAK_EVEN and hashprice is not None:
            return PriceThreshold(mode=ThresholdMode.BREAK_EVEN, hashprice=max(hashprice, 0.0))
        return None

    def settings(
        self, *, hashprice: float | None, override: ManualOverride | None = None
    ) -> PlanSettings:
        return PlanSettings(
            threshold=self.price_threshold(hashprice),
            hysteresis=self.hysteresis,
            tou_labels=self.peak_labels,
            miners=self.miners,
            min_on=self.min_on,
            # The maximum is absolute: a longer minimum off time is cut to it.
            min_off=min(self.min_off, self.max_curtailment or self.min_off),
            max_curtailment=self.max_curtailment,
            restart_stagger=self.restart_stagger,
            override=override,
            on_missing_price=self.on_missing_price,
            observe_only=self.observe_only,
            flex=self.flex,
        )
