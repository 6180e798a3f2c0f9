"""The VEN client against a VTN on 127.0.0.1 that answers by the OpenADR 3 spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
import logging
from typing import Any

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
from custom_components.home_miner.curtailment.errors import (
    OpenAdrForeignTokenUrlError,
    OpenAdrInsecureUrlError,
)

from .conftest import VtnFactory
from .vtn import Recorder, event, interval, program

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
PERIOD = {"start": "2025-06-02T16:00:00Z", "duration": "PT1H"}
CREDENTIALS = ("ven-1", "s3cret")

RecorderFactory = Callable[[str], Awaitable[Recorder]]


@pytest.fixture
async def start_recorder(loopback: None) -> AsyncIterator[RecorderFactory]:
    """Start a server on a loopback address that must never hear from the client."""
    started: list[Recorder] = []

    async def _start(host: str) -> Recorder:
        recorder = Recorder(host=host)
        await recorder.start()
        started.append(recorder)
        return recorder

    yield _start
    for recorder in started:
        await recorder.stop()


@pytest.fixture
async def no_io() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that fails the test as soon as a request starts (before any DNS lookup or
    connection), so nothing leaves this machine even if the client would send it."""

    async def refuse(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        raise AssertionError(f"a request was started: {params.method} {params.url}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(refuse)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        yield session


async def outcome(call: Coroutine[Any, Any, object]) -> object:
    """What a call gave: its result or the `OpenAdrError` it raised."""
    try:
        return await call
    except OpenAdrError as err:
        return err


def with_credentials(base_url: str, **extra: Any) -> VenConfig:
    client_id, secret = CREDENTIALS
    return VenConfig(base_url=base_url, client_id=client_id, client_secret=secret, **extra)


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


async def test_events_of_other_programs_are_dropped_when_the_vtn_ignores_the_filter(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    alert = [{"id": 0, "payloads": [{"type": "ALERT_GRID_EMERGENCY", "values": ["Stage 3"]}]}]
    vtn = await start_vtn(
        ignore_program_filter=True,
        programs=[program("prog-ours", "Residential"), program("prog-other", "Industrial")],
        events=[
            event("ours", "prog-ours", [interval(0, "SIMPLE", 1)], intervalPeriod=PERIOD),
            event("their-alert", "prog-other", alert, intervalPeriod=PERIOD),
            event("their-level", "prog-other", [interval(0, "SIMPLE", 3)], intervalPeriod=PERIOD),
            event(
                "ours-elsewhere",
                "prog-ours",
                [interval(0, "SIMPLE", 3)],
                intervalPeriod=PERIOD,
                targets=["ven-9"],
            ),
        ],
    )
    client = VenClient(
        http,
        VenConfig(base_url=vtn.base_url, programs=("Residential",), targets=frozenset({"ven-7"})),
    )
    events = await client.events(now=NOW)
    assert [(e.event_id, e.value) for e in events] == [("ours/0/power_fraction", 0.75)]


async def test_following_every_program_reads_each_event_with_its_own_programs_units(
    start_vtn: VtnFactory, http: aiohttp.ClientSession
) -> None:
    def priced(program_id: str, name: str, units: str) -> dict[str, Any]:
        descriptor = {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "PRICE",
            "units": units,
            "currency": "EUR",
        }
        return program(program_id, name, payloadDescriptors=[descriptor])

    vtn = await start_vtn(
        ignore_program_filter=True,
        programs=[priced("prog-mwh", "Wholesale", "MWH"), priced("prog-kwh", "Retail", "KWH")],
        events=[event("p", "prog-mwh", [interval(0, "PRICE", 900.0)], intervalPeriod=PERIOD)],
    )
    (price,) = await VenClient(http, VenConfig(base_url=vtn.base_url)).events(now=NOW)
    assert price.value == pytest.approx(0.9)


@pytest.mark.parametrize("host", ["127.0.0.2", "127.0.0.1"])
async def test_a_token_url_off_the_vtns_origin_never_gets_the_secret(
    start_vtn: VtnFactory,
    start_recorder: RecorderFactory,
    http: aiohttp.ClientSession,
    host: str,
) -> None:
    recorder = await start_recorder(host)
    vtn = await start_vtn(programs=[program("prog-1", "DR")], credentials=CREDENTIALS)
    vtn.token_url = f"{recorder.url}/auth/token"
    found = await outcome(VenClient(http, with_credentials(vtn.base_url)).events(now=NOW))
    assert recorder.requests == []
    assert isinstance(found, OpenAdrForeignTokenUrlError), found
    assert found.url == vtn.token_url
    assert recorder.url in str(found)
    assert vtn.token_requests == 0


async def test_a_token_url_the_user_entered_may_be_elsewhere(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, loopback: None
) -> None:
    auth = await start_vtn(host="127.0.0.2", credentials=CREDENTIALS)
    vtn = await start_vtn(
        programs=[program("prog-1", "DR")],
        events=[event("e", "prog-1", [interval(0, "SIMPLE", 2)], intervalPeriod=PERIOD)],
        credentials=CREDENTIALS,
        token_url="http://127.0.0.3:9/auth/token",
    )
    config = with_credentials(vtn.base_url, token_url=f"{auth.base_url}/auth/token")
    assert len(await VenClient(http, config).events(now=NOW)) == 1
    assert (auth.token_requests, vtn.token_requests) == (1, 0)
    assert all(path != "/auth/server" for path, _ in vtn.requests)


async def test_the_token_endpoint_cannot_redirect_the_secret(
    start_vtn: VtnFactory, start_recorder: RecorderFactory, http: aiohttp.ClientSession
) -> None:
    recorder = await start_recorder("127.0.0.2")
    vtn = await start_vtn(programs=[program("prog-1", "DR")], credentials=CREDENTIALS)
    vtn.token_url = f"{vtn.base_url}/auth/moved"
    vtn.redirect_to = f"{recorder.url}/auth/token"
    found = await outcome(VenClient(http, with_credentials(vtn.base_url)).events(now=NOW))
    assert recorder.requests == []
    assert isinstance(found, OpenAdrForeignTokenUrlError), found
    assert found.url == vtn.redirect_to
    assert "redirects (307)" in str(found)


@pytest.mark.parametrize(
    ("base_url", "token_url", "refused"),
    [
        ("http://vtn.invalid/openadr3", None, "http://vtn.invalid/openadr3"),
        ("http://192.0.2.10:8080", None, "http://192.0.2.10:8080"),
        ("http://[2001:db8::1]/oadr", None, "http://[2001:db8::1]/oadr"),
        ("http://127.0.0.1.nip.invalid", None, "http://127.0.0.1.nip.invalid"),
        ("https://vtn.invalid", "http://auth.invalid/token", "http://auth.invalid/token"),
    ],
)
async def test_credentials_over_plain_http_are_refused_before_any_request(
    no_io: aiohttp.ClientSession, base_url: str, token_url: str | None, refused: str
) -> None:
    client = VenClient(no_io, with_credentials(base_url, token_url=token_url))
    with pytest.raises(OpenAdrInsecureUrlError, match="https") as caught:
        await client.events(now=NOW)
    assert caught.value.url == refused
    with pytest.raises(OpenAdrInsecureUrlError):
        await client.programs()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
async def test_credentials_over_http_to_this_machine_work(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, loopback: None, host: str
) -> None:
    vtn = await start_vtn(
        host=host,
        programs=[program("prog-1", "DR")],
        events=[event("e", "prog-1", [interval(0, "SIMPLE", 3)], intervalPeriod=PERIOD)],
        credentials=CREDENTIALS,
    )
    (only,) = await VenClient(http, with_credentials(vtn.base_url)).events(now=NOW)
    assert only.value == 0.0
    assert vtn.token_requests == 1


async def test_credentials_over_http_to_localhost_work(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, loopback: None
) -> None:
    vtn = await start_vtn(programs=[program("prog-1", "DR")], credentials=CREDENTIALS)
    local = vtn.base_url.replace("127.0.0.1", "localhost")
    vtn.token_url = f"{local}/auth/token"
    assert await VenClient(http, with_credentials(local)).events(now=NOW) == ()
    assert vtn.token_requests == 1


async def test_anonymous_http_to_any_host_is_not_refused(no_io: aiohttp.ClientSession) -> None:
    client = VenClient(no_io, VenConfig(base_url="http://vtn.invalid"))
    with pytest.raises(AssertionError, match=r"a request was started: GET http://vtn\.invalid"):
        await client.programs()


async def test_a_price_without_units_is_ignored_and_warned_about_once_per_version(
    start_vtn: VtnFactory, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    price = event("p", "prog-1", [interval(0, "PRICE", 900.0)], intervalPeriod=PERIOD)
    vtn = await start_vtn(programs=[program("prog-1", "Wholesale")], events=[price])
    client = VenClient(http, VenConfig(base_url=vtn.base_url))
    with caplog.at_level(logging.WARNING):
        assert await client.events(now=NOW) == ()
        assert await client.events(now=NOW) == ()
    assert caplog.text.count("PRICE without units") == 1
    vtn.events[0] = price | {"modificationDateTime": "2025-06-02T15:10:00Z"}
    with caplog.at_level(logging.WARNING):
        assert await client.events(now=NOW) == ()
    assert caplog.text.count("PRICE without units") == 2
