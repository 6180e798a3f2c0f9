"""One day of a house from real data: PV from measured irradiance, load from a standard profile.

- **PV**: pvlib's bundled TMY3 year of Greensboro, NC (`pvlib/data/723170TYA.CSV`, USAF
  723170, local standard time UTC-5). Its 13 June is a summer day with sun in the morning and
  clouds in the afternoon (GHI 751 W/m² at 10:30, 221 W/m² at 13:30). The AC power of a
  south-facing array tilted 30° comes from pvlib's PVWatts chain: Hay-Davies transposition,
  SAPM cell temperature (open rack, glass/polymer), PVWatts DC with -0.4 %/K and its default
  14 % system losses, an inverter sized at DC/AC 1.1 with 96 % efficiency.
- **Load**: demandlib's BDEW H0 standard load profile (dynamised) for 3000 kWh a year, that
  date (a Friday in 2025: a summer weekday), quarter-hourly.

TMY values are hour averages, H0 values quarter-hour averages. The PV power is interpolated
linearly between the middles of its hours (so clouds move no faster than from one hour to the
next); the load is held through each quarter hour (so it steps every 15 minutes).

A house of 3000 kWh a year and a few kWp dwarfs a fleet of Bitaxes (about 15 W each), so both
are scaled together (`scaled`) until the day's highest export without the miners equals the
fleet's maximum power: the surplus then runs from nothing to all the fleet can take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
import functools
from pathlib import Path
import warnings

import numpy as np
from numpy.typing import NDArray

TMY_FILE = "723170TYA.CSV"
TMY_DAY = date(2025, 6, 13)
TIME_ZONE = "Etc/GMT+5"  # the TMY's own clock: local standard time, UTC-5, no DST
PV_KWP = 5.0
ANNUAL_KWH = 3000.0
TILT, AZIMUTH = 30.0, 180.0
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Day:
    """PV and house load (W) at every `step_s` from local midnight."""

    step_s: int
    pv_w: NDArray[np.float64]
    load_w: NDArray[np.float64]

    @property
    def export_w(self) -> NDArray[np.float64]:
        """What the house exports without the miners (0 while importing)."""
        return np.clip(self.pv_w - self.load_w, 0.0, None)

    def scaled(self, factor: float) -> Day:
        return Day(step_s=self.step_s, pv_w=self.pv_w * factor, load_w=self.load_w * factor)

    def scaled_to(self, fleet_max_w: float) -> tuple[Day, float]:
        """The house scaled so that its highest export equals `fleet_max_w`, and the factor."""
        factor = fleet_max_w / float(self.export_w.max())
        return self.scaled(factor), factor

    def at(self, seconds: float) -> tuple[float, float]:
        """(PV, load) in W at `seconds` after midnight."""
        index = min(int(seconds // self.step_s), len(self.pv_w) - 1)
        return float(self.pv_w[index]), float(self.load_w[index])


@functools.cache
def june_day(step_s: int = 5) -> Day:
    """13 June of the TMY year, a 5 kWp array and an H0 household, every `step_s` seconds."""
    seconds = np.arange(0, DAY_S, step_s, dtype=np.float64)
    hours, pv_hourly = _pv_hourly()
    pv = np.interp(seconds, hours, pv_hourly)
    quarters = _h0_quarter_hours()
    load = quarters[(seconds // 900).astype(int)]
    return Day(step_s=step_s, pv_w=pv, load_w=load)


def _pv_hourly() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Seconds after midnight of each hour's middle, and the array's mean AC power then."""
    import pandas as pd
    import pvlib

    path = Path(pvlib.__file__).parent / "data" / TMY_FILE
    data, meta = pvlib.iotools.read_tmy3(path, coerce_year=TMY_DAY.year, map_variables=True)
    midnight = pd.Timestamp(TMY_DAY.isoformat(), tz=data.index.tz)
    # A TMY3 row is the hour ending at its time stamp: 01:00 .. 24:00 are this day.
    rows = data[(data.index > midnight) & (data.index <= midnight + pd.Timedelta(days=1))]
    middle = rows.index - pd.Timedelta(minutes=30)
    site = pvlib.location.Location(
        meta["latitude"], meta["longitude"], tz=TIME_ZONE, altitude=meta["altitude"]
    )
    sun = site.get_solarposition(middle)
    poa = pvlib.irradiance.get_total_irradiance(
        TILT,
        AZIMUTH,
        sun["apparent_zenith"].to_numpy(),
        sun["azimuth"].to_numpy(),
        rows["dni"].to_numpy(),
        rows["ghi"].to_numpy(),
        rows["dhi"].to_numpy(),
        dni_extra=pvlib.irradiance.get_extra_radiation(middle).to_numpy(),
        model="haydavies",
    )
    cell = pvlib.temperature.sapm_cell(
        poa["poa_global"],
        rows["temp_air"].to_numpy(),
        rows["wind_speed"].to_numpy(),
        **pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"],
    )
    pdc0 = PV_KWP * 1000
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell, pdc0, -0.004)
    dc = dc * (1 - pvlib.pvsystem.pvwatts_losses() / 100)
    ac = pvlib.inverter.pvwatts(dc, pdc0 / 1.1, eta_inv_nom=0.96)
    watts = np.clip(np.nan_to_num(np.asarray(ac, dtype=np.float64)), 0.0, None)
    hours = np.asarray((middle - midnight).total_seconds(), dtype=np.float64)
    # Dark before the first and after the last hour's middle.
    return np.concatenate(([0.0], hours, [DAY_S])), np.concatenate(([0.0], watts, [0.0]))


def _h0_quarter_hours() -> NDArray[np.float64]:
    """The 96 quarter-hour mean powers (W) of that day."""
    import pandas as pd

    with warnings.catch_warnings():
        # demandlib turns every warning into an error process-wide while it builds the
        # profiles; the filters are restored here, not left to break what runs next.
        from demandlib import bdew

        profile = bdew.ElecSlp(year=TMY_DAY.year).get_scaled_profiles({"h0_dyn": ANNUAL_KWH})
    start = pd.Timestamp(TMY_DAY.isoformat())
    day = profile["h0_dyn"][(profile.index >= start) & (profile.index < start + timedelta(days=1))]
    kwh_per_quarter = day.to_numpy(dtype=np.float64)
    return kwh_per_quarter * 4 * 1000
