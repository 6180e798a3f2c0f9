"""Canaan Avalon Q and Avalon Mini 3: the Nano 3s's MM319 firmware, as heaters with work modes.

What the simulator reproduces, and where it comes from (the firmware is not published; these
are replies owners captured and posted):

* `version` (pyasic issue #312 for the Mini 3, firmware 25011701_3f53b19; a capture of a Q on
  25052801_14a19a2): PROD "Avalon Mini3" / "Avalon Q", MODEL "Mini3" / "Q", the MCU versions,
  DNA and the MAC as 12 lower-case hex digits. pyasic's factory maps "AVALON MINI3" and
  "AVALON Q" to its classes.
* `estats`: the Mini 3 prints a plain `MM ID0` (issue #312); the Q calls it `MM ID0:Summary`,
  wraps it in `'STATS':{…}`, and puts its 160 per-chip values in `HBinfo` (pyasic issue #350).
  The Q has four fans, `ITemp`/`HBITemp`/`HBOTemp`, `STATE` and `SoftOffTime`/`SoftOnTime`
  and no `SoftOFF`; in standby it says `SYSTEMSTATU[Work: In Idle, …]`, `STATE[2]`, `TMax[0]`
  (issue #350). Wall watts are `PS[6]`, as on the Nano 3s (`PS[0 1217 2250 35 808 2251 834]`
  on a Q in Eco, `PS[0 1210 2083 37 760 2085 824]` on a Mini 3).
* `ascset` (the Q's own `ascset|0,help` list, reproduced by `help`): `workmode,set,N` and
  `workmode,get`, `worklevel,set,N`, `work_mode_lvl`, `softoff|softon,1:<unix time>` (carried
  out at that time on the device's clock), `reboot,<delay s>`, `fan-spd`, `lcd,0:<0|1>`; no
  `led`. Q modes: 0 Eco, 1 Standard, 2 Super (about 800 / 1300 / 1674 W). Mini 3 modes:
  0 Heating, 1 Mining, 2 Night, each at level Eco (`worklevel` -1) or Super (0) (the
  ha-avalon-mini integration's mapping).
* Web UI on port 80: every page is the login page without the login cookie; `get_auth.cgi`
  answers `getAuthCallback({"auth":…,"code":…});`. Their web password is `admin` from the
  factory, so pyasic's cookie (made from `root`) gets the login page: pyasic 0.79 reads no MAC
  from a Mini 3's web UI (pyasic issue #400).

Physics: the level of each mode is an assumption (the Mini 3's draw per mode and level is not
published): Super is the rated 800 W / 37.5 TH/s, Eco 500 W, Night quieter and lower.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from aiohttp import web

from .avalon import LOGIN_PAGE, NETFAIL, AvalonNanoMiner, Level, Spec, _scan_int
from .base import CommandRecord

AVALON_Q = Spec(
    name="Avalon Q",
    prod="Avalon Q",
    model="Q",
    hwtype="Q_MM1v1_X1",
    swtype="MM319",
    driver="AVALON",
    dname="avalon",
    firmware="25052801_14a19a2",
    firmware_hw="Q_hb_v1.1",
    core="A3197S",
    chips=160,
    levels=(
        Level(800, 834, 55400.0, 65, 2251, 275.0),
        Level(1300, 1320, 78500.0, 80, 2380, 390.0),
        Level(1674, 1674, 90000.0, 85, 2520, 455.0),
    ),
    idle_watts=18,
    selector="workmode",
    worklevel_range=(0, 0),
    t_max_above_target=7,
)

MINI3 = Spec(
    name="Avalon Mini 3",
    prod="Avalon Mini3",
    model="Mini3",
    hwtype="M_MM1v1_X1",
    swtype="MM319",
    driver="AVALON",
    dname="avalon",
    firmware="25011701_3f53b19",
    firmware_hw="Mini3_hb_v1.0",
    core="A3197S",
    chips=66,
    # Super in each mode: Heating, Mining, Night.
    levels=(
        Level(800, 810, 37500.0, 75, 2085, 420.0),
        Level(800, 824, 37500.0, 80, 2085, 420.0),
        Level(450, 452, 21000.0, 70, 1900, 300.0),
    ),
    idle_watts=12,
    selector="workmode",
    worklevel_range=(-1, 0),
    t_max_above_target=4,
)
MINI3_ECO = (
    Level(500, 505, 25000.0, 70, 1950, 330.0),
    Level(500, 512, 25500.0, 75, 1950, 330.0),
    Level(350, 352, 16000.0, 65, 1850, 260.0),
)
"""The Mini 3 at Eco (`worklevel` -1), mode by mode."""

HELP = (
    "help|voltage|fan-spd|lcd|hash-sn-read|hash-sn-write|volt-tuning|workmode|worklevel|"
    "work_mode_lvl|reboot|softon|softoff|filter-clean|facopts|faclock|activate|solo-allowed|"
    "frequency|loop|password|qr_auth|time"
)
"""The Q's answer to `ascset|0,help`: the options its driver table has."""
SPREAD = (-2, -1, -1, 0, -3, -5, -1, -2, -1, -4, -3, -2, -6, 0, -1, -3)


class AvalonHomeMiner(AvalonNanoMiner):
    """An Avalon Q or Mini 3. `work_level` is the work mode (0, 1, 2); `worklevel` the level
    inside it (the Mini 3's Eco -1 / Super 0; the Q keeps 0)."""

    family = "avalon_home"
    MODELS = {spec.name: spec for spec in (AVALON_Q, MINI3)}
    FLEET_VARIANTS: tuple[dict[str, Any], ...] = (
        {"model": "Avalon Q"},
        {"model": "Avalon Mini 3", "work_level": 1},
    )

    def __init__(
        self,
        ip: str,
        *,
        model: str = "Avalon Q",
        work_level: int = 1,
        worklevel: int = 0,
        web_password: str = "admin",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("soft_off", True)
        super().__init__(
            ip,
            model=model,
            work_level=work_level,
            worklevel=worklevel,
            web_password=web_password,
            **kwargs,
        )
        self.lcd_on = True

    @property
    def level(self) -> Level:
        if self.spec is MINI3 and self.worklevel == -1:
            return MINI3_ECO[self.work_level]
        return self.spec.levels[self.work_level]

    @property
    def fan_pct(self) -> int:
        if self.fan_override is not None:
            return self.fan_override
        return min(100, round(15 + self.power_w * (0.03 if self.spec is AVALON_Q else 0.1)))

    @property
    def fan_rpm(self) -> int:
        return round(self.fan_pct * (32 if self.spec is AVALON_Q else 30))

    def status(self) -> dict[str, Any]:
        return {**super().status(), "lcd_on": self.lcd_on}

    # ---- RPC -------------------------------------------------------------------------------
    def _commands(self) -> dict[str, Any]:
        return {**super()._commands(), "litestats": self._litestats}

    def _version(self, param: str | None, when: int) -> dict[str, Any]:
        spec = self.spec
        info: dict[str, Any] = {
            "CGMiner": "4.11.1",
            "API": "3.7",
            "PROD": spec.prod,
            "MODEL": spec.model,
            "HWTYPE": spec.hwtype,
            "SWTYPE": spec.swtype,
            "LVERSION": self.firmware,
            "BVERSION": self.firmware,
            "CGVERSION": self.firmware,
        }
        if spec is AVALON_Q:
            info.update(HBMCUVERSION=spec.firmware_hw, FANMCUVERSION="Q_fb_v1.2")
        else:
            info["MCUVERSION"] = spec.firmware_hw
        info.update(DNA=self.dna, MAC=self.mac.replace(":", "").lower())
        return {**self._message("S", 22, "CGMiner versions", when), "VERSION": [info]}

    def _device_stats(self, when: int, number: int) -> dict[str, Any]:
        row = super()._device_stats(when, number)
        if self.spec is not AVALON_Q:
            return row
        line = row.pop("MM ID0")
        out = {k: v for k, v in row.items() if k not in ("MM Count", "Nonce Mask")}
        out["MM ID0:Summary"] = "'STATS':{" + line + "}"
        temps, volts, works = self._chip_rows()
        out["HBinfo"] = f"'HB0':{{PVT_T0[{temps}] PVT_V0[{volts}] MW0[{works}]}}"
        out.update({"MM Count": 1, "Nonce Mask": 1})
        return out

    def _litestats(self, param: str | None, when: int) -> dict[str, Any]:
        row = self._device_stats(when, 0)
        row.pop("HBinfo", None)
        return {**self._message("S", 70, "CGMiner stats", when), "STATS": [row]}

    def _chip_rows(self) -> tuple[str, str, str]:
        chips = self.spec.chips
        spread = [SPREAD[i % len(SPREAD)] for i in range(chips)]
        now = time.monotonic()
        avg = self.meter.average(now)
        if not self.hashing:
            zeros = " ".join("0" for _ in range(chips))
            return zeros, zeros, zeros
        temps = " ".join(f"{self.chip_max_c + d:3d}" for d in spread)
        volts = " ".join(str(310 + d) for d in spread)
        works = " ".join(str(int(avg * 8 / chips * (1 + d / 40))) for d in spread)
        return temps, volts, works

    def mm_id0(self) -> str:
        now = time.monotonic()
        uptime = int(now - self.meter.start)
        avg = self.meter.average(now)
        wu = self._diff1(now) / max(now - self.meter.start, 1e-9) * 60
        lvl = self.level
        watts = round(self.power_w)
        amps = round(watts / 22.5)
        work = "In Work" if self.hashing else "In Idle"
        t_max = self.chip_max_c if self.hashing else 0
        t_avg = self.chip_avg_c if self.hashing else 0
        vout = 2250 if self.hashing else 0
        common_head = [
            f"Ver[{self.spec.model}-{self.firmware}]",
            f"LVer[{self.firmware}]",
            f"BVer[{self.firmware}]",
        ]
        rates = [
            f"GHSspd[{self.actual_ghs:.2f}]",
            f"DHspd[{1.9 if self.hashing else 0:.3f}%]",
            f"GHSmm[{self.theoretical_ghs:.2f}]",
            f"GHSavg[{avg:.2f}]",
            f"WU[{wu:.2f}]",
            f"Freq[{lvl.freq if self.hashing else 0:.2f}]",
            f"MGHS[{avg:.2f}]",
            f"MTmax[{t_max}]",
            f"MTavg[{t_avg}]",
            f"TA[{self.spec.chips}]",
            f"Core[{self.spec.core}]",
            "BIN[60]",
            "PING[28]",
        ]
        tail = [
            f"WORKMODE[{self.work_level}]",
            f"WORKLEVEL[{self.worklevel}]",
            f"MPO[{lvl.max_power}]",
            "CALIALL[7]",
            "ADJ[1]",
        ]
        if self.spec is AVALON_Q:
            fans = [f"Fan{i}[{self.fan_rpm + 14 * i}]" for i in range(1, 5)]
            fields = [
                *common_head,
                f"HashMcu0Ver[{self.spec.firmware_hw}]",
                "FanMcuVer[Q_fb_v1.2]",
                "CPU[K230]",
                "FW[Release]",
                f"DNA[{self.dna}]",
                f"STATE[{1 if self.hashing else 2}]",
                "MEMFREE[67952]",
                f"NETFAIL[{NETFAIL}]",
                "SSID[]",
                "RSSI[0]",
                "NetDevType[0]",
                f"SYSTEMSTATU[Work: {work}, Hash Board: 1]",
                f"Elapsed[{uptime + 34}]",
                "BOOTBY[0x01.00000000]",
                f"LW[{int(avg * uptime / 73)}]",
                "MH[0]",
                "DHW[0]",
                "HW[0]",
                f"DH[{2.337 if self.hashing else 0:.3f}%]",
                f"ITemp[{round(self.ambient_c + 7)}]",
                f"HBITemp[{round(self.ambient_c + (35 if self.hashing else 22))}]",
                f"HBOTemp[{round(self.ambient_c + (38 if self.hashing else 22))}]",
                f"TMax[{t_max}]",
                f"TAvg[{t_avg}]",
                f"TarT[{lvl.target_c}]",
                *fans,
                f"FanR[{self.fan_pct}%]",
                "SoftOffTime[0]",
                "SoftOnTime[0]",
                "Filter[16882]",
                "FanErr[0]",
                "SoloAllowed[1]",
                f"PS[0 1217 {vout} {amps} 808 {lvl.volt if self.hashing else 0} {watts}]",
                "PCOMM_E[0]",
                *rates,
                "PLL0[499 254 423 648]" if self.hashing else "PLL0[0 0 0 0]",
                "SF0[432 450 471 492]",
                *tail,
            ]
        else:
            temps, volts, works = self._chip_rows()
            fields = [
                "HashStatus[0]",
                *common_head,
                f"Mcu0Ver[{self.spec.firmware_hw}]",
                "FW[Release]",
                f"DNA[{self.dna}]",
                "MEMFREE[64584]",
                f"NETFAIL[{NETFAIL}]",
                f"SYSTEMSTATU[Work: {work}, Hash Board: 1]",
                f"Elapsed[{uptime + 13}]",
                "BOOTBY[0x02.00000000]",
                f"LW[{int(avg * uptime / 21)}]",
                "MH[0]",
                "DHW[0]",
                "HW[0]",
                f"DH[{1.768 if self.hashing else 0:.3f}%]",
                f"ITemp[{round(self.ambient_c)}]",
                f"OTemp[{round(self.ambient_c + 0.04 * self.power_w)}]",
                f"HBTemp[{round(self.ambient_c + (50 if self.hashing else 8))}]",
                f"TMax[{t_max}]",
                f"TAvg[{t_avg}]",
                f"TarT[{lvl.target_c}]",
                f"Fan1[{self.fan_rpm}]",
                f"FanR[{self.fan_pct}%]",
                f"PS[0 1210 {vout} {amps} 760 {lvl.volt if self.hashing else 0} {watts}]",
                "PCOMM_E[0]",
                *rates,
                f"SoftOFF[{1 if self.soft_off else 0}]",
                f"LcdOnoff[{1 if self.lcd_on else 0}]",
                f"PVT_T0[{temps}]",
                f"PVT_V0[{volts}]",
                f"MW0[{works}]",
                *tail,
            ]
        return " ".join(fields)

    def _set_device(self, rec: CommandRecord, option: str, setting: str) -> tuple[str | None, str]:
        handlers = {
            "workmode": self._opt_workmode,
            "worklevel": self._opt_worklevel,
            "work_mode_lvl": self._opt_work_mode_lvl,
            "reboot": self._opt_reboot,
            "softoff": self._opt_softoff,
            "softon": self._opt_softon,
            "fan-spd": self._opt_fan_spd,
            "lcd": self._opt_lcd,
        }
        if option == "help":
            rec.applied = True
            return None, HELP
        handler = handlers.get(option)
        if handler is None:
            return f"Unknown option: {option}", ""
        if not setting:
            return f"missing {option} setting", ""
        return handler(rec, setting)

    def _opt_lcd(self, rec: CommandRecord, setting: str) -> tuple[str | None, str]:
        _, sep, value = setting.partition(":")
        on = _scan_int(value) if sep else None
        if on not in (0, 1):
            return "lcd unknown argument", ""
        self.apply(rec, lambda: setattr(self, "lcd_on", on == 1))
        return None, ""

    # ---- web UI ----------------------------------------------------------------------------
    async def _web(self, request: web.Request) -> web.Response:
        path = request.path
        if request.method == "GET" and path == "/get_auth.cgi":
            code = hashlib.sha256(self.dna.encode()).hexdigest()[:24]
            return web.Response(text=f'getAuthCallback({{"auth":"ff0000ff","code":"{code}"}});')
        logged_in = request.cookies.get("auth") == self._auth_cookie()
        if logged_in and path == "/get_minerinfo.cgi" and not self.faults.wrong_credentials:
            info = {
                "version": self.firmware,
                "mac": self.mac.lower(),
                "ipv4": self.ip,
                "hwtype": self.spec.prod,
                "sys_status": "1" if self.hashing else "2",
            }
            return web.Response(text=f"minerinfoCallback({json.dumps(info)});")
        return web.Response(text=LOGIN_PAGE, content_type="text/html")
