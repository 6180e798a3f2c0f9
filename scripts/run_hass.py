"""Start Home Assistant (`hass`) on this machine's Python 3.13.

Home Assistant 2026.2 refuses to start below Python 3.13.2 although it runs on 3.13.0, which
is what pyenv has here; lower the bar to the running interpreter, then start it as `hass` would.
Arguments are hass's own, e.g. `python scripts/run_hass.py -c demo/config`.
"""

from __future__ import annotations

import sys

import homeassistant.const as ha_const


def main() -> int:
    ha_const.REQUIRED_PYTHON_VER = min(ha_const.REQUIRED_PYTHON_VER, sys.version_info[:3])  # type: ignore[misc]
    from homeassistant import __main__ as ha_main  # noqa: PLC0415 - after lowering the bar

    sys.argv = ["hass", *sys.argv[1:]]
    return ha_main.main()


if __name__ == "__main__":
    sys.exit(main())
