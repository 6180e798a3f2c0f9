"""Home Miner in a real browser: the demo's Home Assistant in headless Chromium, used as a
person uses it, and checked for what that person reads.

One demo and one browser for the module (tests/browser/conftest.py); each test starts from
a page it opens itself, so they run in any order. What every page and dialog must not show
(tests/browser/reading.py): a raw key or an untranslated text, a MAC address where a name
belongs, "Unknown" where a value could be; every form field has a label. Screenshots of each
step are kept in tests/browser/artifacts/; the README's are copied to docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import json
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
from selenium.webdriver.remote.webelement import WebElement

from scripts.demo import websocket
from tests.curtailment.test_urdb import tou_rate
from tests.demo_runner import FAMILIES, ROOT, Demo, free, get, wait

from . import reading
from .conftest import LoginSeen
from .ui import Page

DOCS = ROOT / "docs" / "screenshots"
STRINGS = json.loads(reading.STRINGS.read_text())
INTEGRATION_PAGE = "/config/integrations/integration/home_miner"
PLAN = "Demo plan"
NEW_PLAN = "Evening peak"
PRICE = "Electricity price"


def assert_reads_well(page: Page, where: str, root: WebElement | None = None, **kw: Any) -> str:
    """The text of the page (or `root`) has nothing a person should not read; returned."""
    text = page.text(root)
    found = reading.problems(text, **kw)
    if found:
        page.shot(f"reads-badly-{where}")
    assert not found, f"{where}: {found}"
    return text


def assert_labelled(
    page: Page, root: WebElement, where: str, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every field of the form in `root` (all of `names`, the step's schema, where given)
    is drawn with a label, and not with its schema key."""

    def drawn() -> list[dict[str, Any]] | None:
        fields = page.form_fields(root)
        if names is None:
            return [f for f in fields if f["visible"]] or None
        return fields if {f["name"] for f in fields} >= set(names) else None

    fields: list[dict[str, Any]] = page.wait(f"{where}: its fields {names or ''}", drawn)
    unlabelled = [f["name"] for f in fields if not f["label"].strip() or f["label"] == f["name"]]
    assert not unlabelled, f"{where}: fields without a label: {unlabelled}"
    return fields


def error_text(key: str, placeholders: dict[str, str] | None = None) -> str:
    """A flow error as strings.json words it (its placeholders filled)."""
    text = str(STRINGS["config"]["error"][key])
    for name, value in (placeholders or {}).items():
        text = text.replace(f"{{{name}}}", value)
    return text


def titles(demo: Demo) -> dict[str, str]:
    """Each simulated family's miner by its title, as the demo printed it when added."""
    found = {}
    for i, family in enumerate(FAMILIES):
        ip = re.escape(f"{demo.prefix}{2 + i}")
        found[family] = next(
            m[1] for line in demo.output if (m := re.fullmatch(rf"added (.+) \({ip}\)", line))
        )
    return found


def devices(demo: Demo) -> dict[str, dict[str, Any]]:
    """Home Miner's devices by name, from the device registry (as the frontend reads it)."""
    answer = websocket(demo.base, demo.token, {"type": "config/device_registry/list"})
    assert answer["success"], answer
    return {
        device["name"]: device
        for device in answer["result"]
        if any(domain == "home_miner" for domain, _ in device["identifiers"])
    }


def entries(demo: Demo) -> list[dict[str, Any]]:
    return list(get(f"{demo.base}/api/config/config_entries/entry?domain=home_miner", demo.token))


def plan_options(demo: Demo, title: str) -> dict[str, Any]:
    """A plan's stored options, as its diagnostics download gives them."""
    (entry,) = [e for e in entries(demo) if e["title"] == title]
    diagnostics = get(f"{demo.base}/api/diagnostics/config_entry/{entry['entry_id']}", demo.token)
    return dict(diagnostics["data"]["entry"]["options"])


def keep(page: Page, name: str) -> None:
    """A screenshot for the README, copied from the artifacts."""
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(page.shots[-1], DOCS / f"{name}.png")


def device_page(page: Page, device: dict[str, Any]) -> str:
    """Open a device's page; wait until every entity row has its name and value."""
    page.open(f"/config/devices/device/{device['id']}")
    page.find_text(str(device["name"]))

    def named_rows() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = page.js(
            "return deep.query('hui-generic-entity-row').filter(deep.visible).map((row) => {"
            "  const name = row.shadowRoot && row.shadowRoot.querySelector('.info');"
            "  return {text: deep.ownText(row),"
            "          cut: !!name && name.scrollWidth > name.clientWidth + 1};"
            "});"
        )
        named = rows and all(row["text"] and row["text"][0].strip() for row in rows)
        return rows if named else None

    rows: list[dict[str, Any]] = page.wait("every entity row named", named_rows)
    page.icons_drawn()
    # A name cut short ("Active p...") is not read.
    cut = [row["text"][0] for row in rows if row["cut"]]
    assert not cut, f"{device['name']}: names cut short: {cut}"
    return "\n".join(" | ".join(row["text"]) for row in rows)


def test_log_in(login_seen: LoginSeen, page: Page) -> None:
    """The real login page: two labelled fields; after it, Home Assistant's own frontend."""
    assert [f["name"] for f in login_seen.fields] == ["username", "password"], login_seen
    assert all(f["label"] for f in login_seen.fields), login_seen.fields
    assert "Log in" in login_seen.text
    page.open("/")
    page.find("home-assistant-main", visible=False)
    page.find_text("Settings")
    page.shot("overview")


def test_integration_page(page: Page, demo: Demo) -> None:
    """Settings → Devices & services → Home Miner: every miner and the plan, by name."""
    page.open("/")
    page.click_text("Settings", "ha-md-list-item, paper-icon-item, a")
    page.click_text("Devices & services")
    page.shot("integrations")
    page.click_text("Home Miner", "ha-integration-card, .name, h1, h2, div, span")
    page.wait("the integration page", lambda: INTEGRATION_PAGE in page.driver.current_url)
    for title in [*titles(demo).values(), PLAN]:
        page.find_text(title)
    page.shot("integration-page")
    assert_reads_well(page, "integration page")


def test_miner_device_pages(page: Page, demo: Demo) -> None:
    """Each miner's page: every entity named, with a value (nothing Unknown), its MAC only
    among the device's connections."""
    found = devices(demo)
    for family, title in titles(demo).items():
        rows = device_page(page, found[title])
        page.shot(f"device-{family}")
        if family == "bitaxe":
            keep(page, "miner-device")
        text = assert_reads_well(page, f"{family}'s device page", device_info=True)
        assert "Hashrate" in text, rows
        assert re.search(r"^(Estimated power|Power) \| [\d,.]+\s?W$", rows, re.MULTILINE), rows
        assert "Unavailable" not in rows, rows
        # A select's state in words, as its options read (High, not high).
        assert not re.search(r"^Work mode \| [a-z]", rows, re.MULTILINE), rows


def test_plan_device_page(page: Page, demo: Demo) -> None:
    """The plan's page: its switch, reason, price, totals; nothing raw, nothing Unknown."""
    rows = device_page(page, devices(demo)[PLAN])
    page.shot("device-plan")
    keep(page, "plan-device")
    assert_reads_well(page, "the plan's device page")
    assert re.search(r"^Current price \| 0\.\d+ EUR/kWh$", rows, re.MULTILINE), rows
    assert re.search(r"^Curtailment reason \| \S", rows, re.MULTILINE), rows
    assert "Automatic curtailment" in rows, rows
    # The next change of what the plan does: the TOU peak, an hour after the demo started.
    (next_change,) = re.findall(r"^Next change \| (.+)$", rows, re.MULTILINE)
    minutes = re.fullmatch(r"In (\d+) minutes", next_change)
    assert next_change == "In 1 hour" or (minutes and 40 <= int(minutes[1]) <= 61), rows


def test_plan_calendar(page: Page) -> None:
    """The plan's calendar: its windows by their names (the TOU peak in an hour, the VTN's
    event after it), and an event's details in words."""
    page.open("/calendar")
    page.find_text(f"{PLAN} Curtailment windows")
    page.click(page.find("ha-button[value=listWeek]"))

    def peak() -> list[WebElement]:
        return page.by_text("Time-of-use peak")

    page.wait("the list", lambda: peak() or "No events to display" in page.text())
    if not peak():
        # Late on the week's last day, the peak an hour away is in the next one.
        page.click(page.icon_button("Next"))
    page.wait("the TOU peak", peak)
    page.shot("calendar")
    keep(page, "plan-calendar")
    assert_reads_well(page, "the calendar")
    page.click(peak()[0])
    dialog = page.find("dialog-calendar-event-detail", visible=False)
    page.find_text("Time-of-use peak", "*")
    page.shot("calendar-event")
    assert_reads_well(page, "a calendar event", dialog)


def test_identify(page: Page, demo: Demo) -> None:
    """A miner's Identify button: the miner shows it (the Bitaxe says "Hi!" on its screen),
    and the page tells the person it was pressed."""
    title = titles(demo)["bitaxe"]
    ip = f"{demo.prefix}{2 + FAMILIES.index('bitaxe')}"
    states = get(f"{demo.base}/api/states", demo.token)
    (button,) = [
        s
        for s in states
        if s["entity_id"].startswith("button.")
        and s["attributes"].get("device_class") == "identify"
        and s["attributes"]["friendly_name"].startswith(f"{title} ")
    ]
    name = button["attributes"]["friendly_name"].removeprefix(f"{title} ")
    before = get(f"http://{demo.status}/miners/{ip}")
    assert before["status"]["identifying"] is False, before
    device_page(page, devices(demo)[title])
    row = page.find_text(name, "hui-button-entity-row")
    page.click(page.find("ha-button, mwc-button", row))
    after = wait(
        "the miner identifies itself",
        lambda: (m := get(f"http://{demo.status}/miners/{ip}"))["status"]["identifying"] and m,
    )
    assert any(c["command"] == "identify" for c in after["commands"]), after["commands"]
    # What the page shows for it: the press, in the device's Activity card (the button's
    # row itself still reads "Press").
    page.wait("the press in the Activity card", lambda: f"{name}\nPressed" in page.text())
    page.shot("identify")


@pytest.fixture
def new_miner(demo: Demo) -> Iterator[str]:
    """A second Bitaxe, not in any plan yet, on the demo's subnet: its address."""
    ip = next(f"{demo.prefix}{i}" for i in range(5, 10) if free(f"{demo.prefix}{i}", 80))
    sim = subprocess.Popen(
        [sys.executable, "-m", "tests.simulator", "--fleet", f"bitaxe@{ip}", "--status", "none"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait("the new miner", lambda: not free(ip, 80), timeout=30)
        yield ip
    finally:
        sim.terminate()
        sim.wait(timeout=30)


def flow_dialog(page: Page) -> WebElement:
    return page.find("dialog-data-entry-flow", visible=False)


def open_menu(page: Page, choice: str) -> WebElement:
    """The integration page's add button, then an entry of Home Miner's menu."""
    page.open(INTEGRATION_PAGE)
    page.click_text("Add device", "ha-button, button")
    dialog = flow_dialog(page)
    page.find_text(choice)
    assert_reads_well(page, "the add menu", dialog)
    page.shot("add-menu")
    page.answer(dialog, page.find_text(choice, "*", dialog))
    return dialog


def add_miner(page: Page, demo: Demo, ip: str) -> str:
    """Add a miner by its address, as a person does; return its title."""
    dialog = open_menu(page, "Add a miner by its address")
    assert_labelled(page, dialog, "the miner's address")
    page.fill(dialog, {"host": ip})
    page.shot("miner-address")
    step = page.submit(dialog)
    assert step["type"] == "create_entry", step
    (entry,) = [e for e in entries(demo) if e["title"] not in (*titles(demo).values(), PLAN)]
    page.find_text(entry["title"])
    assert_reads_well(page, "the miner added", dialog)
    page.shot("miner-added")
    finish(page, dialog)
    return str(entry["title"])


def finish(page: Page, dialog: WebElement) -> None:
    """Close a flow's last step with its button (the device's name and area left as they
    are)."""
    page.click(page.find_text("Skip and finish", "ha-button, button", dialog))
    page.wait(
        "the dialog closed",
        lambda: not page.query("step-flow-create-entry", dialog, visible=False),
    )


def row_dialog(page: Page) -> WebElement:
    """The dialog an object selector opens to add or edit one of its rows."""
    dialog = page.find("dialog-form", visible=False)
    page.find("ha-selector", dialog)
    return dialog


def add_row(page: Page, field: WebElement, values: dict[str, Any], where: str) -> str:
    """Press the list's Add, fill the row's dialog, add it; return the dialog's text."""
    page.click(page.find_text("Add", "ha-button", field))
    dialog = row_dialog(page)
    assert_labelled(page, dialog, where)
    page.fill(dialog, values)
    page.shot(where)
    text = assert_reads_well(page, where, dialog)
    page.click(page.find_text("Add", "ha-button", dialog))
    page.wait("the row's dialog closed", lambda: not page.query("ha-form", dialog, visible=False))
    return text


def rows_of(page: Page, field: WebElement) -> list[str]:
    """An object selector's rows as it shows them."""
    return list(
        page.js(
            "return deep.query('ha-list-item-base', arguments[0])"
            ".map((row) => deep.ownText(row).join(' '));",
            field,
        )
    )


def delete_row(page: Page, field: WebElement, label: str) -> None:
    (row,) = [r for r in page.query("ha-list-item-base", field) if page.text(r).strip() == label]
    page.click(page.icon_button("delete|remove", row))
    page.wait("the row gone", lambda: label not in rows_of(page, field))


Step = Callable[[Page, WebElement, dict[str, Any]], None]


def keep_as_is(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
    """Leave the step as the flow fills it."""


def walk(page: Page, dialog: WebElement, steps: dict[str, Step], where: str) -> dict[str, Any]:
    """Fill each step the flow shows with its handler (by step id), check it reads well and
    is labelled, submit; until the flow ends. Every handler must have had its step. Returns
    the last step (its type)."""
    step = page.step(dialog)
    seen = []
    while step["type"] == "form":
        seen.append(step["step_id"])
        assert len(seen) < 20, seen
        assert_labelled(page, dialog, f"{where}: {step['step_id']}", step["fields"])
        assert_reads_well(page, f"{where}: {step['step_id']}", dialog)
        # A step this walk has nothing to enter in is submitted as shown.
        steps.get(step["step_id"], keep_as_is)(page, dialog, step)
        page.shot(f"{where}-{step['step_id']}")
        assert_reads_well(page, f"{where}: {step['step_id']} filled", dialog)
        step = page.submit(dialog)
        if step["errors"]:
            page.shot(f"{where}-{step['step_id']}-error")
            raise AssertionError(f"{where}: {step['step_id']} refused: {step['errors']}")
    missed = set(steps) - set(seen)
    assert not missed, f"{where}: the flow never showed {missed} (it showed {seen})"
    return step | {"seen": seen}


def test_add_a_plan_then_its_options_and_reconfigure(
    page: Page, demo: Demo, new_miner: str
) -> None:
    """A person adds a new miner, makes a plan for it step by step (a row added through its
    dialog; a bad URDB paste and an unreachable VTN refused with words, nothing saved), then
    edits the plan (Options: bands entered through their dialog) and renames it
    (Reconfigure)."""
    miner = add_miner(page, demo, new_miner)
    count = len(entries(demo))

    def miners(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        field = page.selector(dialog, "miners")
        # Only the new miner is offered (the demo plan has the others), by its name.
        assert rows_of(page, field) == [miner], rows_of(page, field)
        delete_row(page, field, miner)
        text = add_row(
            page,
            field,
            {"miner": miner, "action": "Limit its power (% of full)", "value": 50, "priority": 10},
            "plan-miner-row",
        )
        assert miner in text, text
        # Miners in the demo plan are not offered.
        assert not [t for t in titles(demo).values() if t in text], text
        assert rows_of(page, field) == [miner], rows_of(page, field)
        page.fill(dialog, {"name": NEW_PLAN})
        page.shot("plan-flow")
        keep(page, "plan-flow")

    def tou_source(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        page.fill(dialog, {"tou_mode": "URDB rate, pasted"})

    def urdb_json(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        # Only what a pasted rate needs: no bands, no OpenEI key.
        assert not {"bands", "urdb_api_key"} & set(step["fields"]), step
        # A paste cut short: refused, saying why, and nothing saved.
        page.fill(dialog, {"urdb_json": '{"label": "5c3f", "energyratestructure": [[{"rate": 0.2'})
        refused = page.submit(dialog)
        assert refused["errors"] == {"urdb_json": "invalid_urdb"}, refused
        page.find_text(error_text("invalid_urdb"))
        page.shot("plan-urdb-refused")
        assert_reads_well(page, "a bad URDB paste", dialog)
        assert len(entries(demo)) == count
        page.fill(dialog, {"urdb_json": json.dumps(tou_rate(), indent=2)})

    def price(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        offered = page.pick_entity(dialog, "price_entity", PRICE)
        # Prices only: no temperature, no pool, no hashrate.
        assert any(PRICE in row for row in offered), offered
        assert not [r for r in offered if re.search("temperature|pool|hashrate", r, re.I)], offered
        page.fill(dialog, {"threshold_mode": "Fixed price", "threshold": "0.35"})

    def dr(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        page.fill(dialog, {"vtn_url": "http://127.0.0.1:9/"})
        refused = page.submit(dialog)
        assert refused["errors"] == {"vtn_url": "vtn_cannot_connect"}, refused
        page.find_text(error_text("vtn_cannot_connect"))
        page.shot("plan-vtn-refused")
        assert_reads_well(page, "an unreachable VTN", dialog)
        page.fill(dialog, {"vtn_url": ""})

    dialog = open_menu(page, "Add a curtailment plan")
    done = walk(
        page,
        dialog,
        {
            "plan": miners,
            "plan_tou": tou_source,
            "plan_tou_urdb_json": urdb_json,
            "plan_price": price,
            "plan_dr": dr,
        },
        "new plan",
    )
    assert done["type"] == "create_entry", done
    page.find_text(NEW_PLAN)
    page.shot("plan-created")
    assert_reads_well(page, "the plan created", dialog)
    finish(page, dialog)
    # Its device page right away (checked at the end, so that the walks below run either way).
    device_page(page, devices(demo)[NEW_PLAN])
    page.shot("new-plan-device")
    new_plan_page = reading.problems(page.text())
    options = plan_options(demo, NEW_PLAN)
    ((_, mac),) = devices(demo)[miner]["identifiers"]
    assert options["miners"] == [
        {"miner": mac, "action": "limit_percent", "value": 50, "priority": 10}
    ], options["miners"]
    assert options["tou_mode"] == "urdb_json", options
    assert options["price_entity"] == "input_number.electricity_price", options
    assert options["threshold"] == 0.35, options
    assert not options.get("vtn_url"), options

    # Options: the same steps, now with bands typed in: a time a person writes, refused
    # where it is none.
    def bands_source(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        page.fill(dialog, {"tou_mode": "Bands I enter"})

    def bands(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        field = page.selector(dialog, "bands")
        weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
        text = add_row(
            page,
            field,
            {"label": "peak", "start": "5 pm", "end": "21:00", "days": weekdays, "price": "0.40"},
            "plan-band-row",
        )
        # The week in its order.
        shown = [d for d in re.findall(r"\b(\w+day)\b", text) if d.endswith("day")]
        assert shown[:7] == [*weekdays, "Saturday", "Sunday"], shown
        refused = page.submit(dialog)
        assert refused["errors"] == {"bands": "invalid_band_time"}, refused
        page.find_text(error_text("invalid_band_time", {"band": "peak", "time": "5 pm"}))
        page.shot("plan-band-refused")
        field = page.selector(dialog, "bands")
        (label,) = rows_of(page, field)
        (row,) = [r for r in page.query("ha-list-item-base", field) if page.text(r) == label]
        page.click(page.icon_button("edit", row))
        edit = row_dialog(page)
        page.fill(edit, {"start": "17:00"})
        page.click(page.find_text("Save", "ha-button", edit))
        page.wait("the row's dialog closed", lambda: not page.query("ha-form", edit, visible=False))

    page.open(INTEGRATION_PAGE)
    entry_row = page.find_text(NEW_PLAN, "ha-config-entry-row")
    page.click(page.icon_button("Configure", entry_row))
    dialog = flow_dialog(page)
    done = walk(
        page,
        dialog,
        {
            "plan_tou": bands_source,
            "plan_tou_bands": bands,
        },
        "plan options",
    )
    assert done["type"] == "create_entry", done
    page.shot("plan-options-saved")
    assert_reads_well(page, "the options saved", dialog)
    options = plan_options(demo, NEW_PLAN)
    assert options["tou_mode"] == "bands", options
    assert options["bands"] == [
        {
            "label": "peak",
            "start": "17:00",
            "end": "21:00",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "price": 0.4,
        }
    ], options["bands"]
    assert options["miners"][0]["action"] == "limit_percent", options

    # Reconfigure: its name (and miners), then the other steps as they are.
    def rename(page: Page, dialog: WebElement, step: dict[str, Any]) -> None:
        field = page.selector(dialog, "miners")
        assert rows_of(page, field) == [miner], rows_of(page, field)
        page.fill(dialog, {"name": f"{NEW_PLAN} (weekdays)"})

    page.open(INTEGRATION_PAGE)
    entry_row = page.find_text(NEW_PLAN, "ha-config-entry-row")
    page.click(page.icon_button("Menu", entry_row))
    page.click_text("Reconfigure", "ha-dropdown-item, ha-md-menu-item, mwc-list-item")
    dialog = flow_dialog(page)
    done = walk(
        page,
        dialog,
        {
            "plan_reconfigure": rename,
        },
        "plan reconfigure",
    )
    assert done["type"] == "abort", done
    page.shot("plan-reconfigured")
    assert_reads_well(page, "the plan reconfigured", dialog)
    assert any(e["title"] == f"{NEW_PLAN} (weekdays)" for e in entries(demo)), entries(demo)

    # Its device page, as the person sees it now: a value for everything.
    device_page(page, devices(demo)[f"{NEW_PLAN} (weekdays)"])
    page.shot("renamed-plan-device")
    assert_reads_well(page, "the plan's device page, with bands")
    assert not new_plan_page, f"the new plan's device page (a URDB rate): {new_plan_page}"
