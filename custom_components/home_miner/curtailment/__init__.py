"""The curtailment engine: tariffs, prices, demand-response events and the decision.

Pure Python without Home Assistant: frozen dataclasses in and out, the time always an
argument. Only `VenClient` does I/O, through the aiohttp session it is given.
"""

from __future__ import annotations

from .breakeven import (
    break_even_price,
    fleet_break_even_price,
    hashprice_from_network,
    miner_break_even_price,
)
from .errors import (
    CurtailmentError,
    EventFormatError,
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    OpenAdrFormatError,
    PriceFormatError,
    StateFormatError,
    TariffError,
    UrdbError,
)
from .events import DrEvent, DrSignal, DrSource, event_from_entity_state, events_from_calendar
from .model import (
    CurtailmentWindow,
    Hold,
    MinerStatus,
    MinerTarget,
    Reason,
    TargetAction,
)
from .openadr import (
    DEFAULT_SIMPLE_LEVELS,
    OadrOptions,
    OadrProgram,
    parse_event,
    parse_events,
    parse_program,
)
from .openadr_client import VenClient, VenConfig
from .policy import Decision, decide
from .prices import PriceMapping, PricePoint, PricePreset, PriceSeries, parse_prices
from .settings import (
    CurtailAction,
    CurtailMode,
    ManualOverride,
    MinerPlan,
    MissingPrice,
    OverrideKind,
    PlanSettings,
    PriceThreshold,
    ThresholdMode,
)
from .state import MinerMode, MinerState, PlanState
from .tariff import BandTariff, Tariff, TariffPeriod, TouBand, parse_bands
from .urdb import UrdbDemandCharges, UrdbEnergyPeriod, UrdbTariff, UrdbTier, parse_urdb
from .windows import windows

__all__ = [
    "DEFAULT_SIMPLE_LEVELS",
    "BandTariff",
    "CurtailAction",
    "CurtailMode",
    "CurtailmentError",
    "CurtailmentWindow",
    "Decision",
    "DrEvent",
    "DrSignal",
    "DrSource",
    "EventFormatError",
    "Hold",
    "ManualOverride",
    "MinerMode",
    "MinerPlan",
    "MinerState",
    "MinerStatus",
    "MinerTarget",
    "MissingPrice",
    "OadrOptions",
    "OadrProgram",
    "OpenAdrAuthError",
    "OpenAdrConnectionError",
    "OpenAdrError",
    "OpenAdrFormatError",
    "OverrideKind",
    "PlanSettings",
    "PlanState",
    "PriceFormatError",
    "PriceMapping",
    "PricePoint",
    "PricePreset",
    "PriceSeries",
    "PriceThreshold",
    "Reason",
    "StateFormatError",
    "TargetAction",
    "Tariff",
    "TariffError",
    "TariffPeriod",
    "ThresholdMode",
    "TouBand",
    "UrdbDemandCharges",
    "UrdbEnergyPeriod",
    "UrdbError",
    "UrdbTariff",
    "UrdbTier",
    "VenClient",
    "VenConfig",
    "break_even_price",
    "decide",
    "event_from_entity_state",
    "events_from_calendar",
    "fleet_break_even_price",
    "hashprice_from_network",
    "miner_break_even_price",
    "parse_bands",
    "parse_event",
    "parse_events",
    "parse_prices",
    "parse_program",
    "parse_urdb",
    "windows",
]
