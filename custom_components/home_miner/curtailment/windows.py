"""Curtailment windows predicted for the next hours, for the plan's calendar.

A window is where the feeds ask for curtailment: TOU peak labels, prices above the threshold
(with hysteresis; the fleet's break-even price in break-even mode), known DR events, budgets
below the fleet's full power, and a manual override. Windows longer than the maximum length
are cut, each cut followed by the rest, exactly as `decide` will do. Minimum off times and
the restart stagger can lengthen a real window by a few minutes; the prediction leaves them
out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from ._convert import require_aware
from .events import DrEvent
from .fleet import full_power
from .model import CurtailmentWindow, MinerStatus, Reason, dominant_reason
from .policy import plan_threshold
from .prices import PriceSeries
from .settings import PlanSettings
from .signals import power_budget, price_latch, read_signals, wish_reasons
from .state import PlanState
from .tariff import Tariff, TariffPeriod

DEFAULT_HORIZON = timedelta(hours=48)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Span:
    start: datetime
    end: datetime
    reasons: frozenset[Reason]


def _cuts(
    *,
    now: datetime,
    end: datetime,
    settings: PlanSettings,
    periods: Sequence[TariffPeriod],
    prices: PriceSeries | None,
    events: Sequence[DrEvent],
) -> list[datetime]:
    cuts = {now, end}
    for period in periods:
        cuts.update((period.start, period.end))
    if prices is not None:
        for point in prices.between(now, end):
            cuts.update((point.start, point.end))
    for event in events:
        cuts.add(event.start)
        if event.end is not None:
            cuts.add(event.end)
    if settings.override is not None and settings.override.until is not None:
        cuts.add(settings.override.until)
    return sorted(cut for cut in cuts if now <= cut <= end)


def _demand_spans(
    *,
    now: datetime,
    end: datetime,
    settings: PlanSettings,
    tariff: Tariff | None,
    prices: PriceSeries | None,
    events: Sequence[DrEvent],
    fleet: Sequence[MinerStatus],
    state: PlanState,
) -> list[_Span]:
    periods = tariff.periods(now, end) if tariff is not None else ()
    fulls = {s.miner_id: full_power(s, state.miner(s.miner_id)) for s in fleet}
    fleet_full_w = sum(fulls.values())
    threshold = plan_threshold(settings, fleet, fulls)
    latched = any(state.miner(s.miner_id).price_latched for s in fleet)
    spans: list[_Span] = []
    index = 0
    cuts = _cuts(now=now, end=end, settings=settings, periods=periods, prices=prices, events=events)
    for start, stop in pairwise(cuts):
        while index < len(periods) and periods[index].end <= start:
            index += 1
        period = periods[index] if index < len(periods) and periods[index].start <= start else None
        signals = read_signals(
            start,
            settings,
            tou_label=period.label if period else None,
            tariff_price=period.price if period else None,
            feed_price=prices.price_at(start) if prices is not None else None,
            events=events,
        )
        latched = price_latch(
            signals.price,
            threshold,
            latched=latched,
            hysteresis=settings.hysteresis,
            missing_curtails=signals.price_missing_curtails,
        )
        reasons = wish_reasons(signals, latched=latched)
        budget, why = power_budget(signals, fleet_full_w)
        if budget is not None and (not fleet or budget < fleet_full_w):
            reasons.add(why)
        if not reasons:
            continue
        if spans and spans[-1].end == start:
            spans[-1] = _Span(
                start=spans[-1].start, end=stop, reasons=spans[-1].reasons | frozenset(reasons)
            )
        else:
            spans.append(_Span(start=start, end=stop, reasons=frozenset(reasons)))
    return spans


def _window(start: datetime, end: datetime, reasons: frozenset[Reason]) -> CurtailmentWindow:
    return CurtailmentWindow(start=start, end=end, reason=dominant_reason(reasons), reasons=reasons)


def windows(
    *,
    now: datetime,
    settings: PlanSettings,
    tariff: Tariff | None = None,
    prices: PriceSeries | None = None,
    events: Sequence[DrEvent] = (),
    fleet: Sequence[MinerStatus] = (),
    state: PlanState | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
) -> tuple[CurtailmentWindow, ...]:
    """The curtailment windows from `now` to `now + horizon`, in order.

    `fleet` and `state` are optional: they give the break-even threshold, whether a budget
    binds, the price latch, and the start of a window already under way.
    """
    require_aware(now)
    now = now.astimezone(UTC)
    state = state or PlanState()
    end = now + horizon
    spans = _demand_spans(
        now=now,
        end=end,
        settings=settings,
        tariff=tariff,
        prices=prices,
        events=events,
        fleet=fleet,
        state=state,
    )
    max_length = settings.max_curtailment
    if max_length is None:
        return tuple(_window(span.start, span.end, span.reasons) for span in spans)
    rest = settings.rest_after_max_length
    resting_until = state.rest_until
    ongoing = state.window_start if any(m.mode.curtailed for m in state.miners.values()) else None
    found: list[CurtailmentWindow] = []
    for span in spans:
        start = span.start
        origin = ongoing if ongoing is not None and span.start == now else start
        while start < span.end:
            if resting_until is not None and start < resting_until:
                start = origin = resting_until
                continue
            stop = min(span.end, origin + max_length)
            if stop <= start:
                resting_until = origin = start + rest
                continue
            found.append(_window(start, stop, span.reasons))
            if stop >= span.end:
                break
            resting_until = stop + rest
    return tuple(found)
