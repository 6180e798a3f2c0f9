"""Keys of a plan's options (what its config flow stores) and the runtime's timings."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

CONF_NAME: Final = "name"
CONF_MINERS: Final = "miners"
CONF_MINER: Final = "miner"
CONF_ACTION: Final = "action"
CONF_VALUE: Final = "value"
CONF_PRIORITY: Final = "priority"

CONF_TOU_MODE: Final = "tou_mode"
CONF_BANDS: Final = "bands"
CONF_PEAK_LABELS: Final = "peak_labels"
# A calendar whose all-day events are holidays (the core Holiday or Workday integration's),
# billed as weekend days by bands and URDB rates alike.
CONF_HOLIDAYS: Final = "holiday_calendar"
CONF_URDB_JSON: Final = "urdb_json"
CONF_URDB_API_KEY: Final = "urdb_api_key"
CONF_URDB_LABEL: Final = "urdb_label"
CONF_URDB_RATE: Final = "urdb_rate"

CONF_PRICE_ENTITY: Final = "price_entity"
CONF_PRICE_PRESET: Final = "price_preset"
CONF_THRESHOLD_MODE: Final = "threshold_mode"
CONF_THRESHOLD: Final = "threshold"
CONF_HASHPRICE: Final = "hashprice"
CONF_HASHPRICE_ENTITY: Final = "hashprice_entity"
CONF_HYSTERESIS: Final = "hysteresis"
CONF_ON_MISSING_PRICE: Final = "on_missing_price"
# The price action's call (presets in price_actions.PRICE_ACTIONS): the integration's config
# entry (the only loaded one when unset), the Nord Pool area or Tibber home to read, the Nord
# Pool currency (the entry's when unset), and whether EnergyZero's prices include VAT.
CONF_PRICE_ACTION_ENTRY: Final = "price_action_entry"
CONF_PRICE_ACTION_AREA: Final = "price_action_area"
CONF_PRICE_ACTION_CURRENCY: Final = "price_action_currency"
CONF_PRICE_ACTION_VAT: Final = "price_action_incl_vat"

# The house (flexible load): grid power (signed, import positive; or import with a separate
# export sensor), battery state of charge, PV power; how the fleet follows it.
CONF_GRID_ENTITY: Final = "grid_power_entity"
CONF_GRID_EXPORT_ENTITY: Final = "grid_export_entity"
CONF_BATTERY_ENTITY: Final = "battery_soc_entity"
CONF_PV_ENTITY: Final = "pv_power_entity"
CONF_SURPLUS_ONLY: Final = "surplus_only"
CONF_RESERVE: Final = "reserve_w"
CONF_GRID_ALLOWANCE: Final = "grid_allowance_w"
CONF_DEADBAND: Final = "deadband_w"
CONF_MAX_CHANGES: Final = "max_changes_per_hour"
CONF_BATTERY_FLOOR: Final = "battery_floor_pct"
CONF_IMPORT_LIMIT: Final = "import_limit_kw"
CONF_BOOST_PRICE: Final = "boost_price"
CONF_BOOST_ENTITIES: Final = "boost_entities"

CONF_CALENDARS: Final = "calendars"
CONF_CALENDAR_MATCH: Final = "calendar_match"
CONF_DR_ENTITIES: Final = "dr_entities"
CONF_VTN_URL: Final = "vtn_url"
CONF_VTN_CLIENT_ID: Final = "vtn_client_id"
CONF_VTN_CLIENT_SECRET: Final = "vtn_client_secret"
CONF_VTN_PROGRAM: Final = "vtn_program"
CONF_VTN_TOKEN_URL: Final = "vtn_token_url"

CONF_MIN_ON: Final = "min_on_minutes"
CONF_MIN_OFF: Final = "min_off_minutes"
CONF_STAGGER: Final = "restart_stagger_seconds"
CONF_MAX_LENGTH: Final = "max_length_minutes"
CONF_OBSERVE_ONLY: Final = "observe_only"


class TouMode(StrEnum):
    NONE = "none"
    BANDS = "bands"
    URDB_JSON = "urdb_json"
    URDB_FETCH = "urdb_fetch"


class ThresholdChoice(StrEnum):
    NONE = "none"
    FIXED = "fixed"
    BREAK_EVEN = "break_even"


# Price presets whose future prices are in the entity's attributes ("none": the state only).
ATTRIBUTE_PRESETS: Final = ("none", "nordpool", "octopus_energy", "entsoe", "amber", "generic")

URDB_URL: Final = "https://api.openei.org/utility_rates"

EVENT_CURTAILMENT_STARTED: Final = "home_miner_curtailment_started"
EVENT_CURTAILMENT_ENDED: Final = "home_miner_curtailment_ended"
EVENT_BOOST_STARTED: Final = "home_miner_boost_started"
EVENT_BOOST_ENDED: Final = "home_miner_boost_ended"

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
VTN_POLL_INTERVAL: Final = timedelta(seconds=60)
CALENDAR_REFRESH: Final = timedelta(minutes=15)
CALENDAR_LOOKBACK: Final = timedelta(days=1)
# Holidays are read this far ahead (the schedule's horizon and a margin).
HOLIDAY_HORIZON: Final = timedelta(days=7)
ENERGY_TICK: Final = timedelta(minutes=1)
SCHEDULE_HORIZON: Final = timedelta(hours=48)
# Only the state is known: look again this soon even if the price entity stays quiet.
STATE_PRICE_VALIDITY: Final = timedelta(minutes=15)
# A price action is asked again this often for the days whose prices it has not given yet.
PRICE_ACTION_INTERVAL: Final = timedelta(hours=1)
# Seconds one call of a price action may take.
PRICE_ACTION_TIMEOUT: Final = 30.0

# A refused command is tried again after these delays, then every last one.
RETRY_DELAYS: Final[tuple[float, ...]] = (2.0, 5.0, 15.0, 60.0, 300.0)
REPAIR_AFTER_FAILURES: Final = 3
# How long handing a miner back (plan removed, disabled, observe-only) may take: a
# NerdQAxe++ resumes by restarting, which takes up to a minute.
HAND_BACK_TIMEOUT: Final = 75.0
# A miner that drifted from the plan's command (rebooted out of a pause) is told again at most
# this often.
RESEND_INTERVAL: Final = timedelta(seconds=30)
# After a restart mid-window, entities that have not loaded yet are read as last seen for this
# long (it counts inside the window's maximum).
RESTART_GRACE: Final = timedelta(seconds=60)
# A plan that stops hands its miners back within this, whatever its restart stagger.
HAND_BACK_SPREAD: Final = timedelta(seconds=30)
