"""The VEN client against a VTN on 127.0.0.1 that answers by the OpenADR 3 spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging

import aiohttp
import pytest

from custom_components.home_miner.curtailment import (
    DrSignal,
    OpenAdrAuthError,
    OpenAdrConnectionError,
    OpenAdrError,
    OpenAdrFormatError,
    VenClient,
    VenConfig,
)

from .conftest import VtnFactory
from .vtn import event, interval, program

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)


def capacity_events(count: int) -> list[dict[str, object]]:
    return [
        event(
            f"evt-{number:03d}",
            "prog-cap",
            [interval(0, "IMPORT_CAPACITY_LIMIT", float(number))],
            intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
        )
        for number in range(count)
    ]


async def test_anonymous_paging_through_programs_and_events(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    vtn = await start_vtn(
        programs=[program("prog-cap", "Capacity"), program("prog-other", "Other")],
        events=[
            *capacity_events(120),
            event(
                "other",
                "prog-other",
                [interval(0, "SIMPLE", 3)],
                intervalPeriod={"start": "2025-06-02T16:00:00Z"},
            ),
        ],
    )
    client = VenClient(http, VenConfig(base_url=vtn.base_url, programs=("Capacity",)))
    events = await client.events(now=NOW)
    assert len(events) == 120
    assert {e.signal for e in events} == {DrSignal.CAPACITY_LIMIT}
    assert sorted(e.value for e in events if e.value is not None) == [float(n) for n in range(120)]
    pages = [(query["skip"], query["limit"]) for path, query in vtn.requests if path == "/events"]
    assert pages == [("0", "50"), ("50", "50"), ("100", "50")]
    assert all(
        query.get("programID") == "prog-cap" for path, query in vtn.requests if path == "/events"
    )
    assert not client.authenticated


async def test_version_301_targets(start_vtn: VtnFactory, http: aiohttp.ClientSession) -> None:
    vtn = await start_vtn(
        target_shape="3.0.1",
        programs=[program("prog-1", "DR", targets=[{"type": "GROUP", "values": ["north"]}])],
        events=[
            event(
                "mine",
                "prog-1",
                [interval(0, "SIMPLE", 2)],
                intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
                targets=[{"type": "GROUP", "values": ["north"]}],
            ),
            event(
                "theirs",
                "prog-1",
                [interval(0, "SIMPLE", 3)],
                intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
                targets=[{"type": "GROUP", "values": ["south"]}],
            ),
        ],
    )
    client = VenClient(http, VenConfig(base_url=vtn.base_url, targets=frozenset({"north"})))
    (only,) = await client.events(now=NOW)
    assert (only.event_id, only.value) == ("mine/0/power_fraction", 0.5)


async def test_start_now_is_anchored_to_when_the_event_was_first_seen(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    alert = event(
        "alert",
        "prog-1",
        [{"id": 0, "payloads": [{"type": "ALERT_FLEX_ALERT", "values": ["conserve"]}]}],
        intervalPeriod={"start": "0001-01-01", "duration": "PT2H"},
    )
    vtn = await start_vtn(programs=[program("prog-1", "Alerts")], events=[alert])
    client = VenClient(http, VenConfig(base_url=vtn.base_url))
    (first,) = await client.events(now=NOW)
    (later,) = await client.events(now=NOW + timedelta(minutes=30))
    assert (first.start, first.end) == (NOW, NOW + timedelta(hours=2))
    assert later == first
    vtn.events[0] = alert | {"modificationDateTime": "2025-06-02T15:40:00Z"}
    (updated,) = await client.events(now=NOW + timedelta(minutes=40))
    assert updated.start == NOW + timedelta(minutes=40)


async def test_oauth_token_is_cached_refreshed_and_retried(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    vtn = await start_vtn(
        programs=[program("prog-1", "DR")],
        events=[
            event(
                "e",
                "prog-1",
                [interval(0, "SIMPLE", 1)],
                intervalPeriod={"start": "2025-06-02T16:00:00Z", "duration": "PT1H"},
            )
        ],
        credentials=("ven-1", "s3cret"),
        token_lifetime=600,
    )
    clock = [0.0]
    config = VenConfig(base_url=vtn.base_url, client_id="ven-1", client_secret="s3cret")
    client = VenClient(http, config, clock=lambda: clock[0])
    assert len(await client.events(now=NOW)) == 1
    assert len(await client.events(now=NOW)) == 1
    assert vtn.token_requests == 1
    clock[0] = 600.0
    await client.events(now=NOW)
    assert vtn.token_requests == 2
    vtn.revoked.add("token-2")
    assert len(await client.events(now=NOW)) == 1
    assert vtn.token_requests == 3
    assert any(path == "/auth/server" for path, _ in vtn.requests)


async def test_token_endpoint_fallback_and_refusals(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    vtn = await start_vtn(
        programs=[program("prog-1", "DR")],
        credentials=("ven-1", "s3cret"),
        advertise_token_url=False,
    )
    good = VenClient(
        http, VenConfig(base_url=vtn.base_url, client_id="ven-1", client_secret="s3cret")
    )
    assert await good.events(now=NOW) == ()
    wrong = VenClient(
        http, VenConfig(base_url=vtn.base_url, client_id="ven-1", client_secret="nope")
    )
    with pytest.raises(OpenAdrAuthError, match="refused our credentials"):
        await wrong.events(now=NOW)
    anonymous = VenClient(http, VenConfig(base_url=vtn.base_url))
    with pytest.raises(OpenAdrAuthError, match="wants credentials"):
        await anonymous.programs()


async def test_server_error_is_a_connection_error(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    vtn = await start_vtn(fail_status=500)
    with pytest.raises(OpenAdrConnectionError, match="answered /programs with 500"):
        await VenClient(http, VenConfig(base_url=vtn.base_url)).events(now=NOW)
    vtn.fail_status = 400
    with pytest.raises(OpenAdrError, match="rejected /programs with 400"):
        await VenClient(http, VenConfig(base_url=vtn.base_url)).events(now=NOW)


@pytest.mark.parametrize(
    ("garbage", "message"),
    [
        ("<html>oops</html>", "not JSON"),
        ('{"programs": []}', "must be a list"),
        ("\x00\xff", "not JSON"),
    ],
)
async def test_garbage_is_a_format_error(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, garbage: str, message: str
) -> None:
    vtn = await start_vtn(garbage=garbage)
    with pytest.raises(OpenAdrFormatError, match=message):
        await VenClient(http, VenConfig(base_url=vtn.base_url)).events(now=NOW)


async def test_unreadable_programs_are_skipped(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    vtn = await start_vtn(garbage='[1, {"id": "p"}]')
    with caplog.at_level(logging.WARNING):
        assert await VenClient(http, VenConfig(base_url=vtn.base_url)).events(now=NOW) == ()
    assert caplog.text.count("Skipping OpenADR program") == 2


async def test_hanging_vtn_times_out(start_vtn: VtnFactory, http: aiohttp.ClientSession) -> None:
    vtn = await start_vtn(hang=True)
    client = VenClient(http, VenConfig(base_url=vtn.base_url, timeout=0.2))
    with pytest.raises(OpenAdrConnectionError, match="did not answer"):
        await client.events(now=NOW)


async def test_unreachable_vtn(start_vtn: VtnFactory, http: aiohttp.ClientSession) -> None:
    vtn = await start_vtn()
    await vtn.stop()
    with pytest.raises(OpenAdrConnectionError, match="failed"):
        await VenClient(http, VenConfig(base_url=vtn.base_url, timeout=1)).events(now=NOW)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="go together"):
        VenConfig(base_url="http://127.0.0.1", client_id="x")
    with pytest.raises(ValueError, match="page_size"):
        VenConfig(base_url="http://127.0.0.1", page_size=51)
