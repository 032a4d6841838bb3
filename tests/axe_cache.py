"""axe-core run once per page structure in a test process (decision 0037).

`tests.conftest.axe_violations` asks `page_key` for a fingerprint of the page in front of the
person, computed in that page (a walk of its live DOM and a few layout facts, a few milliseconds)
and checked against the results already found in this process. A page whose fingerprint was seen
gets the violations found then; only a new one is checked by axe-core (0.3–0.8 s a page under
load). The sweep of every residents' page in six languages is the same pages six times over with
other words in them; most other browser tests check pages that an earlier test of theirs checked
in the same state.

The fingerprint keeps everything axe-core's rules (the WCAG 2.0/2.1 A and AA tags the suite runs,
axe-core 4.14) read, and reduces only what they read no more of than its class:

- **Text**: a text node with at least two letters or digits (of the Basic Multilingual Plane)
  becomes one token; any other text (empty, white space, one character, punctuation, symbols,
  emoji) is kept as it is. Rules that read text ask whether an element has some (`link-name`,
  `button-name`, `document-title`, `label`, `th-has-data-cells`, `valid-lang`'s `_hasLangText`,
  `aria-*-name`), and `color-contrast` also whether it is one character (`shortTextContent`), only
  emoji or characters outside the BMP (`nonBmp`) or only punctuation (`hasRealTextChildren`):
  each of these is the same for every text of two letters or more.
- **Attributes** are kept as they are, except the ones that carry words — `alt`, `title`,
  `placeholder`, `value` (and an input's current value), `aria-label`, `aria-description`,
  `aria-roledescription`, `aria-valuetext`, `aria-placeholder`, `aria-braillelabel`,
  `aria-brailleroledescription` — reduced as text is (`alt=""`, `alt=" "` and a missing alt stay
  apart: `image-alt`'s `has-alt` and `alt-space-value`), and `nonce` (a new one per response,
  read by no rule), blanked.
- **`lang`** (on any element without `xml:lang`) becomes one token when axe-core's own list calls
  its primary subtag valid — all `html-has-lang`, `html-lang-valid` and `valid-lang` read — and
  is kept otherwise; kept as it is when a stylesheet has `:lang(` or `[lang`.
- **Kept word for word**: the text and word attributes inside an element with `aria-label` or
  `aria-labelledby` that is a control or has a `role`, and the text of the elements its
  `aria-labelledby` names (`label-content-name-mismatch` compares the visible text with that
  name); `<style>`'s text.
- **State a rule or a stylesheet reads besides the markup**: every stylesheet's rules (so the
  same colours, sizes and fonts), the viewport, the scroll position, the URL's fragment
  (`:target`), the focused element (and `:focus-visible`), the hovered ones (when a stylesheet
  has `:hover`: else hovering changes nothing a rule reads), each control's checked,
  indeterminate and valid state, a selected option, whether an image loaded.
- **Layout that text can change** and a rule reads: `color-contrast` takes the background from
  the boxes under the text — in normal flow the text's own ancestors, whatever its length; a box
  out of flow or moved (absolute, fixed, sticky, relatively offset, floated, transformed, a
  negative margin; larger than 1×1 px and on screen) is recorded with its rectangle and which
  elements it overlaps or lies within; a clipping or scrolling box whose content overflows, with
  by how much (`scrollable-region-focusable`, text clipped away); an absolutely placed `::before`
  or `::after` with a background, with its element's size (`color-contrast`'s
  `pseudoSizeThreshold`). `link-in-text-block` applies to a link whose block has more text
  outside links and controls than in them: that comparison (axe-core's `isInTextBlock`, done the
  same way) is recorded for every link, and the two lengths themselves where a box in the block
  might be hidden (clipped, transparent, zero-sized) or has an explicit role.
- **Not cached**: a page with frames, objects or shadow roots (axe-core checks inside them), or a
  stylesheet the page cannot read.

What is left out is what axe-core reads of the words themselves beyond the above: the
icon-ligature heuristic (`hasRealTextChildren` draws a text in its font to tell an icon font's
ligature): a text in another language is judged by the same font and colours, and the colours of
a page structure, the only thing `color-contrast` reports on, do not change with its words.
`tests/browser/test_axe_check.py` shows a violation that only one language's words make found
in that language, a page that differs only in its words served from the cache, and a page that
differs in one attribute checked again.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from typing import Any

FINGERPRINT = r"""() => {
  if (document.querySelector("iframe,frame,object,embed,portal,fencedframe")) return null;
  const sheets = [];
  for (const sheet of [...document.styleSheets, ...(document.adoptedStyleSheets || [])]) {
    let rules;
    try { rules = sheet.cssRules; } catch (e) { return null; }
    sheets.push(sheet.disabled + " " + (sheet.media ? sheet.media.mediaText : "") + "\n"
      + Array.from(rules, (rule) => rule.cssText).join("\n"));
  }
  const css = sheets.join("\u0000");
  const langStyled = /:lang\(|\[lang|xml:lang/i.test(css);
  const optionStyled = /(^|[^\w.#-])option(?![\w-])|:checked|\[selected/i.test(css);
  const pseudoStyled = /:(before|after)\b/i.test(css);
  const hoverStyled = /:hover\b/i.test(css);
  const out = [location.hash, innerWidth, innerHeight, scrollX, scrollY, devicePixelRatio,
    document.compatMode, css];

  const sanitize = (s) => s.replace(/\r\n/g, "\n").replace(/\u00A0/g, " ")
    .replace(/[\s]{2,}/g, " ").trim();
  const LETTER = /^[\p{L}\p{N}]$/u;
  const words = (s) => {
    let letters = 0;
    for (const ch of s) {
      if (ch.length === 1 && LETTER.test(ch) && ++letters >= 2) return "\u0001";
    }
    const t = sanitize(s);
    return t.length === 1 && LETTER.test(t) ? "\u0001" + s.replace(t, "\u0001") : s;
  };
  const WORDS = new Set(["alt", "title", "placeholder", "value", "label", "abbr", "aria-label",
    "aria-description", "aria-roledescription", "aria-valuetext", "aria-placeholder",
    "aria-braillelabel", "aria-brailleroledescription"]);
  const CONTROLS = "a,area,button,input,select,textarea,summary,option,label,details";
  const verbatim = new Set();
  for (const el of document.querySelectorAll("[aria-label],[aria-labelledby]")) {
    if (!el.hasAttribute("role") && !el.matches(CONTROLS)) continue;
    verbatim.add(el);
    for (const id of (el.getAttribute("aria-labelledby") || "").split(/\s+/)) {
      const named = id && document.getElementById(id);
      if (named) verbatim.add(named);
    }
  }

  const style = (el) => getComputedStyle(el);
  const BLOCK = ["block", "list-item", "table", "flex", "grid"];
  const INLINE_BLOCK = ["inline-block", "inline-flex", "inline-grid"];
  const isBlock = (el) => {
    const d = style(el).display;
    return BLOCK.includes(d) || d.startsWith("table-");
  };
  const WIDGETS = "a[href],area[href],button,input:not([type=hidden]),select,textarea,option";
  // Whether axe-core's isVisibleOnScreen could call the element hidden although it renders:
  // then the lengths are recorded, not only their comparison.
  const doubtful = (el) => {
    const cs = style(el);
    const r = el.getBoundingClientRect();
    return cs.clip !== "auto" || cs.clipPath !== "none" || cs.opacity === "0"
      || cs.position === "absolute" || cs.position === "fixed" || r.width * r.height <= 1;
  };
  // axe-core's isInTextBlock(link): its block's text outside controls is longer than inside.
  const inTextBlock = (link) => {
    const d = style(link).display;
    if (BLOCK.includes(d) || d.startsWith("table-") || INLINE_BLOCK.includes(d)) return "block";
    let block = link.parentElement;
    while (block && !isBlock(block)) block = block.parentElement;
    if (!block) return "none";
    let parentText = "", widgetText = "", inBr = 0, unsure = false;
    const visit = (node) => {
      if (inBr === 2) return;
      if (node.nodeType === 3) { parentText += node.nodeValue; return; }
      if (node.nodeType !== 1) return;
      if (node === link) inBr = 1;
      const blockish = isBlock(node);
      if (blockish || node.localName === "br" || node.localName === "hr") {
        if (inBr === 0) { parentText = ""; widgetText = ""; } else inBr = 2;
      }
      if (blockish || !node.checkVisibility()) return;
      if (doubtful(node) || node.hasAttribute("role")) unsure = true;
      if (node.matches(WIDGETS)) { widgetText += node.textContent; return; }
      node.childNodes.forEach(visit);
    };
    block.childNodes.forEach(visit);
    const p = sanitize(parentText).length, w = sanitize(widgetText).length;
    return unsure ? p + ">" + w : String(p > w);
  };

  const every = [];
  const moved = [];
  const layout = (el) => {
    const cs = style(el);
    let facts = "";
    const margins = [cs.marginTop, cs.marginRight, cs.marginBottom, cs.marginLeft];
    const offset = cs.position === "relative"
      && [cs.top, cs.right, cs.bottom, cs.left].some((v) => v !== "auto" && v !== "0px");
    if (["absolute", "fixed", "sticky"].includes(cs.position) || offset || cs.float !== "none"
        || cs.transform !== "none" || margins.some((m) => m.startsWith("-"))) {
      const r = el.getBoundingClientRect();
      if (r.width * r.height > 1 && r.right > 0 && r.bottom > 0) moved.push(el);
    }
    if (cs.overflowX !== "visible" || cs.overflowY !== "visible") {
      const x = el.scrollWidth - el.clientWidth, y = el.scrollHeight - el.clientHeight;
      if ((x > 0 || y > 0) && el.clientWidth * el.clientHeight > 1) facts += " ~" + x + "," + y;
    }
    if (pseudoStyled) {
      for (const which of ["::before", "::after"]) {
        const ps = getComputedStyle(el, which);
        if (ps.content !== "none" && ps.position === "absolute"
            && (ps.backgroundColor !== "rgba(0, 0, 0, 0)" || ps.backgroundImage !== "none")) {
          const r = el.getBoundingClientRect();
          facts += " " + which + Math.round(r.width) + "x" + Math.round(r.height)
            + ":" + ps.width + "x" + ps.height;
        }
      }
    }
    if (el.matches("a[href],[role=link]")) facts += " itb=" + inTextBlock(el);
    return facts;
  };

  const active = document.activeElement;
  // Hovering changes nothing axe-core reads unless a stylesheet styles it.
  const hovered = new Set(hoverStyled ? document.querySelectorAll(":hover") : []);
  const quote = (v) => '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  // A closed drop-down shows only its chosen option: which one it is matters to no rule (the
  // select's own text is recorded) unless a stylesheet styles options.
  const dropDownOption = (el) => {
    const select = el.closest("select");
    return select && !select.multiple && select.size <= 1 && !optionStyled;
  };
  const walk = (node, keep) => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) {
        out.push("#" + (keep ? child.nodeValue : words(child.nodeValue)));
        continue;
      }
      if (child.nodeType !== 1) continue;
      const el = child;
      if (el.shadowRoot) throw new Error("shadow root");
      const tag = el.localName;
      const k = keep || verbatim.has(el) || tag === "style";
      every.push(el);
      let s = "<" + tag;
      const hideChoice = tag === "option" && dropDownOption(el);
      for (const a of el.attributes) {
        if (hideChoice && a.name === "selected") continue;
        let v = a.value;
        if (a.name === "nonce") v = "";
        else if (WORDS.has(a.name) && !k) v = words(v);
        else if (a.name === "lang" && !langStyled && !el.hasAttribute("xml:lang")) {
          v = "\u0002" + v + "\u0003";
        }
        s += " " + a.name + "=" + quote(v);
      }
      if (tag === "input" || tag === "textarea" || tag === "select") {
        s += " |" + quote(k ? el.value : words(el.value)) + el.checked + el.indeterminate
          + el.validity.valid;
        if (tag === "select") {
          const chosen = Array.from(el.selectedOptions, (o) => (k ? o.label : words(o.label)));
          s += quote(chosen.join("|"));
        }
      }
      if (tag === "option" && !hideChoice) s += " |" + el.selected;
      if (tag === "img") s += " |" + (el.complete && el.naturalWidth > 0);
      if (el === active) s += " |focus" + el.matches(":focus-visible");
      if (hovered.has(el)) s += " |hover";
      out.push(s + layout(el) + ">");
      if (tag !== "script") walk(el, k);
      out.push("</>");
    }
  };
  try { walk(document, false); } catch (e) { return null; }
  if (moved.length) {
    const index = new Map(every.map((el, i) => [el, i]));
    const rects = every.map((el) => el.getBoundingClientRect());
    for (const el of moved) {
      const r = rects[index.get(el)];
      const over = [], within = [];
      every.forEach((other, i) => {
        if (other === el || el.contains(other)) return;
        const o = rects[i];
        if (o.left < r.right && r.left < o.right && o.top < r.bottom && r.top < o.bottom) {
          const around = o.left <= r.left && o.top <= r.top && o.right >= r.right
            && o.bottom >= r.bottom;
          (around ? within : over).push(i);
        }
      });
      const where = over.length ? ":" + [r.left, r.top, r.width, r.height].map(Math.round) : "";
      out.push("@" + index.get(el) + where + " over " + over + " within " + within);
    }
  }
  return out.join("\n");
}"""
"""The page's fingerprint (the module's docstring says what it keeps), or null for a page that
is not cached. `lang` values come out between \\u0002 and \\u0003 for `page_key` to judge."""

_LANG = re.compile("\u0002([^\u0003]*)\u0003")


@dataclass
class AxeRuns:
    """How often axe-core ran in this process, and how often a page's result was reused."""

    runs: int = 0
    reused: int = 0


AXE_RUNS = AxeRuns()

_results: dict[str, list[dict[str, Any]]] = {}
"""Violations found, by page fingerprint (this process only: each pytest-xdist worker keeps its
own, and a test sees nothing another process found)."""


def page_key(
    page: Any, scripting_probe: str, *, valid_langs: Any, also: str = "() => null"
) -> tuple[bool, str | None, Any]:
    """Whether scripts run in the page (`scripting_probe`, a function's source), the page's
    fingerprint as a cache key, or None when it is not to be cached, and the value of `also`
    (another function's source, read from the same document) — asked in one call.

    `valid_langs()` gives the language subtags axe-core's own list accepts (asked once)."""
    scripting, raw, extra = page.evaluate(
        f"() => [({scripting_probe})(), ({FINGERPRINT})(), ({also})()]"
    )
    if raw is None:
        return bool(scripting), None, extra

    def lang(match: re.Match[str]) -> str:
        value = match[1]
        base = value.strip().split("-")[0].lower()
        if value.strip() and base and base in valid_langs():
            return "\u0002valid\u0003"
        return match[0]

    text = _LANG.sub(lang, raw)
    viewport = page.viewport_size or {}
    head = f"{bool(scripting)} {viewport.get('width')}x{viewport.get('height')}\n"
    return bool(scripting), hashlib.sha256((head + text).encode()).hexdigest(), extra


def known(key: str | None) -> list[dict[str, Any]] | None:
    """The violations found for a page of this fingerprint, if one was checked."""
    if key is None or key not in _results:
        return None
    AXE_RUNS.reused += 1
    return copy.deepcopy(_results[key])


def remember(key: str | None, violations: list[dict[str, Any]]) -> None:
    if key is not None:
        _results[key] = copy.deepcopy(violations)


def forget() -> None:
    """Clear the results (a test of the cache starts from none)."""
    _results.clear()
