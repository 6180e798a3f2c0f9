// Home Assistant's frontend is web components all the way down: what a person sees lives in
// nested shadow roots that document.querySelector never enters. These helpers walk the
// composed tree (shadow roots, and the nodes slotted into them) the way it is rendered.
// Installed once per page as window.__deep.
(() => {
  if (window.__deep) return;

  function visible(el) {
    if (!(el instanceof Element)) return false;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  }

  // A text node is read where it takes room on screen and nothing around it hides it. Its
  // element may have no box of its own (a slot's fallback text, `display: contents`): then
  // the nearest one that has decides.
  function textVisible(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width <= 0 || box.height <= 0) return false;
    let el = node.parentElement || node.getRootNode().host;
    while (el && getComputedStyle(el).display === "contents") {
      el = el.parentElement || el.getRootNode().host;
    }
    return !el || el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  }

  // Every element under `root`, shadow roots included (document order within each root).
  function all(root) {
    const found = [];
    const visit = (node) => {
      for (const el of node.querySelectorAll("*")) {
        found.push(el);
        if (el.shadowRoot) visit(el.shadowRoot);
      }
    };
    const start = root || document;
    visit(start);
    if (start.shadowRoot) visit(start.shadowRoot);
    return found;
  }

  // Whether `el` is drawn inside an element matching `selector` (across shadow roots).
  function within(el, selector) {
    for (let node = el; node; node = node.parentElement || node.getRootNode().host) {
      if (node.matches && node.matches(selector)) return true;
    }
    return false;
  }

  function query(selector, root) {
    return all(root).filter((el) => el.matches(selector));
  }

  // The text a person reads in `el`: its rendered text nodes (through shadow roots and
  // slots), each once; not what is hidden.
  function ownText(el) {
    const parts = [];
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.textContent.replace(/[\u2066-\u2069]/g, "")
          .replace(/[\u00a0\u202f]/g, " ").trim();
        if (text && textVisible(node)) parts.push(text);
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) {
        return;
      }
      if (node.nodeType === Node.ELEMENT_NODE) {
        const tag = node.localName;
        if (tag === "script" || tag === "style" || tag === "template") return;
        if (tag === "slot") {
          for (const child of node.assignedNodes({ flatten: true })) walk(child);
          if (node.assignedNodes().length) return;
        }
        if ((tag === "input" || tag === "textarea") && visible(node) && node.value) {
          parts.push(node.value.trim());
        }
        if (node.shadowRoot) {
          walk(node.shadowRoot);
          return;
        }
      }
      for (const child of node.childNodes) walk(child);
    };
    walk(el);
    return parts;
  }

  // Elements matching `selector` whose own rendered text is exactly `text` (after trimming),
  // else contains it; the innermost ones (a button, not the card around it).
  function byText(text, selector, root) {
    const want = text.trim();
    const candidates = query(selector || "*", root).filter(visible);
    const textOf = (el) => ownText(el).join(" ").replace(/\s+/g, " ").trim();
    const exact = candidates.filter((el) => textOf(el) === want);
    const pick = exact.length ? exact : candidates.filter((el) => textOf(el).includes(want));
    return pick.filter((el) => !pick.some((other) => other !== el && el.contains(other)
      || (other !== el && el.shadowRoot && el.shadowRoot.contains(other))));
  }

  // The form fields a person fills in, with the label each shows.
  function fields(root) {
    const kinds = "input, textarea, select, [role=combobox], [role=listbox], [role=radiogroup]";
    return query(kinds, root).filter(visible).map((el) => {
      let label = (el.labels && [...el.labels].map((l) => ownText(l).join(" ")).join(" ")) || "";
      label = label || el.getAttribute("aria-label") || "";
      if (!label && el.getAttribute("aria-labelledby")) {
        const rootNode = el.getRootNode();
        label = el.getAttribute("aria-labelledby").split(/\s+/)
          .map((id) => rootNode.getElementById && rootNode.getElementById(id))
          .filter(Boolean).map((l) => ownText(l).join(" ")).join(" ");
      }
      // A field's label may be drawn by the component around it (ha-textfield, ha-select).
      for (let host = el.getRootNode().host; !label && host; host = host.getRootNode().host) {
        label = host.getAttribute("label") || host.label || "";
        if (typeof label !== "string") label = "";
        if (/^ha-(form|selector)$/.test(host.localName)) break;
      }
      return { tag: el.localName, type: el.type || "", name: el.name || "", label: label.trim() };
    });
  }

  window.__deep = { visible, within, all, query, ownText, byText, fields };
})();
