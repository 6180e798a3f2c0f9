"""Constants of the Home Miner integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "home_miner"
LOGGER = logging.getLogger(__package__)

CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_MINER: Final = "miner"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_MINER_CLASS: Final = "miner_class"

DEFAULT_POLL_INTERVAL: Final = 15
MIN_POLL_INTERVAL: Final = 5
MAX_POLL_INTERVAL: Final = 300

# A miner that fails this many polls in a row is detected again from scratch.
REDETECT_AFTER_FAILURES: Final = 3
RETRY_SETUP_AFTER: Final = timedelta(seconds=30)

ENTRY_TYPE_PLAN: Final = "plan"
# Sent when a miner entry is set up or unloaded, so plans re-decide with the miners they have.
SIGNAL_MINERS_CHANGED: Final = f"{DOMAIN}_miners_changed"
# A person (any service path: entity, device, area, label, automation) changed a miner through
# its entities; args: the miner's MAC, what changed ("mining", "power_limit", "work_mode"),
# and for "mining" whether it now mines. The plans' own commands do not go through entities.
SIGNAL_USER_CHANGED: Final = f"{DOMAIN}_user_changed"
