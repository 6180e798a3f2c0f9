"""What the feeds ask of the fleet at one instant, before any safety rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .events import DrEvent, DrSignal
from .model import Reason
from .settings import CurtailAction, MissingPrice, OverrideKind, PlanSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class Signals:
    """The feeds at one instant.

    Among active events of one kind only those of the best OpenADR priority count; the most
    restrictive of those wins (lowest fraction, lowest cap). Kinds combine: every one of them
    applies. A PRICE event replaces the price feed while it lasts.
    """

    resume: bool = False
    manual: bool = False
    manual_action: CurtailAction | None = None
    dr_curtail: bool = False
    dr_stop: bool = False
    power_fraction: float | None = None
    capacity_kw: float | None = None
    tou_peak: bool = False
    price: float | None = None
    price_missing_curtails: bool = False

    @property
    def dr_active(self) -> bool:
        return self.dr_curtail or self.dr_stop


def _best(events: Sequence[DrEvent], signal: DrSignal) -> list[DrEvent]:
    matching = [event for event in events if event.signal is signal]
    if not matching:
        return []
    rank = min(event.rank for event in matching)
    return [event for event in matching if event.rank == rank]


def read_signals(
    when: datetime,
    settings: PlanSettings,
    *,
    tou_label: str | None,
    tariff_price: float | None,
    feed_price: float | None,
    events: Sequence[DrEvent],
) -> Signals:
    """Combine looked-up feed values (the caller finds the tariff period and price point)."""
    override = settings.override
    if override is not None and override.active(when):
        if override.kind is OverrideKind.RESUME:
            return Signals(resume=True, price=feed_price)
    else:
        override = None
    active = [event for event in events if event.is_active(when)]
    fractions = [e.value for e in _best(active, DrSignal.POWER_FRACTION) if e.value is not None]
    caps = [e.value for e in _best(active, DrSignal.CAPACITY_LIMIT) if e.value is not None]
    priced = sorted(
        _best(active, DrSignal.PRICE), key=lambda e: (e.start, e.event_id), reverse=True
    )
    price = priced[0].value if priced else feed_price
    missing_curtails = False
    if price is None:
        if settings.on_missing_price is MissingPrice.TARIFF:
            price = tariff_price
        missing_curtails = settings.on_missing_price is MissingPrice.CURTAIL
    return Signals(
        manual=override is not None,
        manual_action=override.action if override is not None else None,
        dr_curtail=any(event.signal is DrSignal.CURTAIL for event in active),
        dr_stop=any(event.signal is DrSignal.STOP for event in active),
        power_fraction=min(fractions) if fractions else None,
        capacity_kw=min(caps) if caps else None,
        tou_peak=settings.is_tou_peak(tou_label),
        price=price,
        price_missing_curtails=missing_curtails,
    )


def price_latch(
    price: float | None,
    threshold: float | None,
    *,
    latched: bool,
    hysteresis: float,
    missing_curtails: bool,
) -> bool:
    """Whether price curtailment holds: above the threshold it starts, and it ends only once
    the price is at or below threshold - hysteresis."""
    if threshold is None:
        return False
    if price is None:
        return missing_curtails
    if price > threshold:
        return True
    return latched and price > threshold - hysteresis


def wish_reasons(signals: Signals, *, latched: bool) -> set[Reason]:
    """Every reason the feeds give for curtailing a miner whose price latch is `latched`."""
    if signals.resume:
        return set()
    reasons: set[Reason] = set()
    if signals.manual:
        reasons.add(Reason.MANUAL)
    if signals.dr_active:
        reasons.add(Reason.DR_EVENT)
    if signals.tou_peak:
        reasons.add(Reason.TOU_PEAK)
    if latched:
        unavailable = signals.price is None and signals.price_missing_curtails
        reasons.add(Reason.PRICE_UNAVAILABLE if unavailable else Reason.PRICE_ABOVE_THRESHOLD)
    return reasons


def power_budget(signals: Signals, fleet_full_w: float) -> tuple[float | None, Reason]:
    """The fleet's power budget in W (the tighter of cap and SIMPLE fraction) and why."""
    if signals.resume:
        return None, Reason.NONE
    options: list[tuple[float, Reason]] = []
    if signals.capacity_kw is not None:
        options.append((signals.capacity_kw * 1000, Reason.CAPACITY_LIMIT))
    if signals.power_fraction is not None and signals.power_fraction < 1:
        options.append((max(signals.power_fraction, 0.0) * fleet_full_w, Reason.DR_EVENT))
    if not options:
        return None, Reason.NONE
    return min(options, key=lambda option: option[0])
