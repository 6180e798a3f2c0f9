"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium, and the
few moves a person makes on Home Assistant's frontend: find what is shown (through its
shadow roots), click it, type into it, read the page, keep a screenshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
import re
import tempfile
import time
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
WINDOW = (1400, 1000)
# The page itself (and so every screenshot): small enough for the README.
VIEWPORT = (1280, 900)
DEEP_JS = (Path(__file__).parent / "deep.js").read_text()


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a profile of its own that phones nowhere."""
    with tempfile.TemporaryDirectory(prefix="home-miner-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--lang=en-US",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
        )
        try:
            yield driver
        finally:
            driver.quit()


class Page:
    """What a person does on the page: every query goes through shadow roots."""

    def __init__(self, driver: webdriver.Chrome, base: str) -> None:
        self.driver = driver
        self.base = base
        self.shots: list[Path] = []

    def js(self, script: str, *args: Any) -> Any:
        """Run `script` (a function body) with the deep helpers installed as `deep`."""
        return self.driver.execute_script(
            f"{DEEP_JS}\nconst deep = window.__deep;\n{script}", *args
        )

    def open(self, path: str) -> None:
        self.driver.get(f"{self.base}{path}")

    # Finding what is shown.

    def query(
        self, selector: str, root: WebElement | None = None, *, visible: bool = True
    ) -> list[WebElement]:
        """What matches `selector` under `root`; only what is shown, unless `visible` is
        False (a dialog's host element has no box of its own: its content is on top)."""
        return list(
            self.js(
                "const found = deep.query(arguments[0], arguments[1]);"
                "return arguments[2] ? found.filter(deep.visible) : found;",
                selector,
                root,
                visible,
            )
        )

    def by_text(
        self, text: str, selector: str = "*", root: WebElement | None = None
    ) -> list[WebElement]:
        return list(
            self.js(
                "return deep.byText(arguments[0], arguments[1], arguments[2]);",
                text,
                selector,
                root,
            )
        )

    def wait(self, what: str, find: Callable[[], Any], timeout: float = 20) -> Any:
        """Poll `find()` until it gives something; fail saying `what`, with a screenshot."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = find()
            except StaleElementReferenceException, JavascriptException:
                found = None
            if found:
                return found
            if time.monotonic() > deadline:
                self.shot(f"timeout-{what}")
                raise AssertionError(f"not shown after {timeout} s: {what}\n{self.text()[:3000]}")
            time.sleep(0.2)

    def find(
        self,
        selector: str,
        root: WebElement | None = None,
        *,
        visible: bool = True,
        timeout: float = 20,
    ) -> WebElement:
        found: WebElement = self.wait(
            selector, lambda: self.query(selector, root, visible=visible), timeout
        )[0]
        return found

    def find_text(
        self,
        text: str,
        selector: str = "*",
        root: WebElement | None = None,
        *,
        timeout: float = 20,
    ) -> WebElement:
        """The innermost element matching `selector` that reads `text` (exactly, else
        containing it); the last one, as the newest dialog is drawn last."""
        found: WebElement = self.wait(
            f"{selector} {text!r}", lambda: self.by_text(text, selector, root), timeout
        )[-1]
        return found

    def icon_button(self, label: str, root: WebElement | None = None) -> WebElement:
        """The icon button whose label (its tooltip, what a screen reader says) matches
        `label`, a regular expression."""
        found: WebElement = self.wait(
            f"the button {label!r}",
            lambda: self.js(
                "return deep.query('ha-icon-button', arguments[0]).filter((b) =>"
                " deep.visible(b) && new RegExp(arguments[1], 'i').test(b.label || ''))[0];",
                root,
                f"^(?:{label})$",
            ),
        )
        return found

    def icons_drawn(self, timeout: float = 10) -> None:
        """Wait (a while, not failing) for the icons, which the frontend loads after the
        page: a screenshot without them shows blank spaces."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.js(
            "return deep.query('ha-svg-icon').some((icon) => deep.visible(icon) && !icon.path);"
        ):
            time.sleep(0.2)

    def shown(self, text: str, timeout: float = 20) -> None:
        """Wait until `text` is on the page (anywhere a person can read it)."""
        self.wait(repr(text), lambda: text in self.text(), timeout)

    # Doing.

    def click(self, element: WebElement) -> None:
        """A real click (the mouse at the element's centre, on whatever is drawn there);
        where something covers it, such as a dialog's sticky footer, a synthetic one."""
        self.js("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            JavascriptException,
        ):
            self.js("arguments[0].click();", element)

    def click_text(self, text: str, selector: str = "*", root: WebElement | None = None) -> None:
        """Click what reads `text`; found again if it is drawn anew before the click."""

        def attempt() -> bool:
            self.click(self.find_text(text, selector, root))
            return True

        self.wait(f"a click on {text!r}", attempt)

    def type(self, element: WebElement, text: str) -> None:
        """Replace what the field holds with `text`, key by key, as a person types."""
        # Emptied as select-all and delete would, then typed.
        self.js(
            "const el = arguments[0]; el.scrollIntoView({block: 'center'}); el.focus();"
            "if (el.value) {"
            "  el.value = '';"
            "  el.dispatchEvent(new InputEvent('input', {bubbles: true, composed: true}));"
            "}",
            element,
        )
        if text:
            element.send_keys(text)

    def paste(self, element: WebElement, text: str) -> None:
        """Put `text` into the field at once (as pasting does) and tell the form."""
        self.js(
            "const el = arguments[0]; el.focus(); el.value = arguments[1];"
            "el.dispatchEvent(new InputEvent('input', {bubbles: true, composed: true}));"
            "el.dispatchEvent(new Event('change', {bubbles: true, composed: true}));",
            element,
            text,
        )

    # Reading.

    def text(self, root: WebElement | None = None) -> str:
        """Everything a person can read on the page (or in `root`), one piece per line."""
        parts = self.js(
            "return deep.ownText(arguments[0] || document.body);",
            root,
        )
        return "\n".join(parts)

    def fields(self, root: WebElement | None = None) -> list[dict[str, str]]:
        return list(self.js("return deep.fields(arguments[0]);", root))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = ARTIFACTS / f"{len(self.shots) + 1:02d}-{slug}.png"
        self.driver.save_screenshot(str(path))
        self.shots.append(path)
        return path

    # Home Assistant's forms (a flow step, an object selector's dialog): each field is an
    # `ha-selector` named after the schema key; it is filled the way its widget takes input.

    def selector(self, root: WebElement, name: str) -> WebElement:
        found: WebElement = self.wait(
            f"the field {name}",
            lambda: self.js(
                "return deep.query('ha-selector', arguments[0])"
                ".filter((el) => el.name === arguments[1])[0];",
                root,
                name,
            ),
        )
        return found

    def form_fields(self, root: WebElement) -> list[dict[str, Any]]:
        """The fields of the form(s) in `root`: schema name, kind (the selector's, or the
        plain field's), the label and help text shown with it, whether it is drawn at all."""
        return list(
            self.js(
                "const fields = deep.query('ha-selector', arguments[0]).map((el) => ({"
                "  name: el.name, kind: Object.keys(el.selector || {})[0] || '', el}));"
                "for (const el of deep.all(arguments[0])) {"
                "  if (/^ha-form-(?!expandable|grid)/.test(el.localName) && el.schema"
                "      && !deep.within(el.parentElement || el.getRootNode().host,"
                "                      'ha-selector')) {"
                "    fields.push({name: el.schema.name, kind: el.localName, el});"
                "  }"
                "}"
                "return fields.map(({name, kind, el}) => ({name, kind,"
                "  label: typeof el.label === 'string' ? el.label : '',"
                "  shown: deep.ownText(el).join(' '), visible: deep.visible(el)}));",
                root,
            )
        )

    def fill(self, root: WebElement, values: dict[str, Any]) -> None:
        """Fill the fields named in `values` as a person does: text typed, an option picked by
        the label it shows (a list of labels for a multiple select), a switch set."""
        for name, value in values.items():
            field = self.selector(root, name)
            kind = self.js("return Object.keys(arguments[0].selector || {})[0];", field)
            if kind == "select":
                self._pick(field, value if isinstance(value, list) else [value])
            elif kind == "boolean":
                switch = self.find("ha-switch, ha-checkbox, input[type=checkbox]", field)
                if bool(self.js("return !!arguments[0].checked;", switch)) != bool(value):
                    self.click(switch)
            elif kind in ("entity", "object"):
                raise AssertionError(f"fill {name} through its own dialog, not fill()")
            else:
                box = self.find("textarea, input", field)
                if (isinstance(value, str) and "\n" in value) or len(str(value)) > 200:
                    self.paste(box, str(value))
                else:
                    self.type(box, str(value))

    # The widgets a select is drawn with: radio buttons or checkboxes in list mode.
    _OPTIONS = "ha-radio-option, ha-checkbox, ha-formfield, wa-radio, wa-checkbox"
    _CHECKED = "ha-checkbox, wa-checkbox"

    def _pick(self, field: WebElement, labels: list[str]) -> None:
        widgets = f"{self._OPTIONS}, ha-select, ha-picker-field, [role=combobox]"
        self.wait("the options", lambda: self.query(widgets, field))
        if self.query(self._OPTIONS, field):
            if self.js("return !!(arguments[0].selector.select || {}).multiple;", field):
                for box in self.query(self._CHECKED, field):
                    if self.js("return !!arguments[0].checked;", box):
                        self.click(box)
            for label in labels:
                self.click(self._option(field, label))
            return
        # A dropdown: open it, then pick from the list it shows on top of the page.
        self.click(self.find("ha-select, ha-picker-field, [role=combobox]", field))
        for label in labels:
            self.click(
                self.find_text(
                    label,
                    "ha-list-item, ha-md-list-item, mwc-list-item, ha-combo-box-item, "
                    "ha-dropdown-item, ha-select-option, [role=option]",
                )
            )

    def _option(self, field: WebElement, label: str) -> WebElement:
        """The radio button or checkbox labelled `label` inside `field`."""
        found: WebElement = self.wait(
            f"the option {label!r}",
            lambda: self.js(
                "const [field, label, kinds] = arguments;"
                "const rows = deep.query(kinds, field).filter((el) => deep.visible(el)"
                "  && deep.ownText(el).join(' ').trim() === label);"
                "return rows[rows.length - 1];",
                field,
                label,
                self._OPTIONS,
            ),
        )
        return found

    def pick_entity(self, root: WebElement, name: str, choice: str) -> list[str]:
        """In the entity field `name`: open its picker and choose the row `choice` (an
        entity's name); return every row the picker offered, as shown."""
        field = self.selector(root, name)
        self.click(self.find("ha-picker-field, ha-combo-box, [role=combobox]", field))
        rows = "ha-combo-box-item, [role=option]"
        self.find_text(choice, rows)
        offered: list[str] = self.js(
            "return deep.query(arguments[0]).filter((row) => deep.visible(row)"
            "  && !deep.within(row.parentElement || row.getRootNode().host, arguments[1]))"
            ".map((row) => deep.ownText(row).join(' / '));",
            rows,
            f"ha-picker-field, {rows}",
        )
        self.click(self.find_text(choice, rows))
        return offered

    def step(self, dialog: WebElement) -> dict[str, Any]:
        """The flow step shown in `dialog`: its id, type and errors (as the frontend got
        them), marked as seen so that `submit` can tell the next one from it."""
        step: dict[str, Any] = self.wait(
            "a flow step",
            lambda: self.js(
                "const form = deep.query('step-flow-form, step-flow-menu, step-flow-abort,"
                " step-flow-create-entry, step-flow-progress', arguments[0])[0];"
                "if (!form || !form.step) return null;"
                "form.step.__seen = true;"
                "const {step_id, type, errors, data_schema} = form.step;"
                "const names = (schema) => (schema || []).flatMap((field) =>"
                "  field.schema ? names(field.schema) : [field.name]);"
                "return {step_id: step_id || '', type, errors: errors || {},"
                "  fields: names(data_schema)};",
                dialog,
            ),
        )
        return step

    def submit(self, dialog: WebElement, label: str = "Submit") -> dict[str, Any]:
        """Press the dialog's button `label`; wait for the flow's answer, a new step (or the
        same step again, with errors); return it."""
        return self.answer(
            dialog, self.find_text(label, "ha-button, button, mwc-button", dialog, timeout=10)
        )

    def answer(self, dialog: WebElement, element: WebElement) -> dict[str, Any]:
        """Click `element` in the flow's `dialog` (a button, a menu entry); wait for the
        flow's next step and return it."""
        self.step(dialog)
        self.click(element)
        self.wait(
            "the flow's answer",
            lambda: self.js(
                "const form = deep.query('step-flow-form, step-flow-menu, step-flow-abort,"
                " step-flow-create-entry, step-flow-progress', arguments[0])[0];"
                "return !!(form && form.step && !form.step.__seen"
                " && !deep.query('ha-spinner, ha-circular-progress', form).length);",
                dialog,
            ),
            timeout=30,
        )
        return self.step(dialog)
