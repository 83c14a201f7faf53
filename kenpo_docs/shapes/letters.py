"""Letters in the merge as a shared background plus a small overlay of the values.

A letter of one *shape* (route, address lines, customer barcode or not, member rows and their
区分, period rows, which paragraphs apply...) is the same page for every piece with its values
in fixed boxes. The template marks each per-piece value with the ``slot`` filter
(``{{ piece.addressee.address1 | slot("address1") }}``), which prints it as is, except here:

* each piece's letter is rendered by Jinja alone (cheap) with a recorder in the context: every
  slotted value is recorded and printed as a hidden placeholder (an empty SVG of the same
  size for a picture). That HTML *is* the shape: pieces whose placeholder HTML is identical
  share one background, and any value a template prints without ``slot`` simply makes its
  own shape (slower, never wrong);
* a shape's background is that HTML laid out alone, once per process (deterministic bytes,
  named ``letter-<name>-<digest>``), and the values are overlaid as in
  :mod:`kenpo_docs.shapes.overlay`, checked value by value.

Only letters in :data:`OVERLAY_LETTERS` are printed this way. A letter is laid out in full
(the caller's path) when its shape takes two pages, a slot cannot be read from the
background, a value has a glyph the slot's font lacks, movable white space or does not fit
its room, a slotted value is markup other than an SVG, or the overlay check fails.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from kenpo_docs.shapes.backgrounds import Background, load_shape, make_background
from kenpo_docs.shapes.overlay import enabled
from kenpo_docs.shapes.slots import SLOT_PREFIX, drawable, hidden

logger = logging.getLogger(__name__)

#: Letters whose template marks every per-piece value with ``slot``.
OVERLAY_LETTERS = frozenset({"kakuninsho"})
#: The piece anchor while a background is laid out (the real one is in the overlay).
BG_ANCHOR = "kenpo-background"
_SVG_START = re.compile(r"\s*<svg\b([^>]*)>", re.IGNORECASE)
_BACKGROUNDS: dict[str, Background] = {}
#: Shapes kept per process (a bench batch of 1,000 households has a few dozen).
MAX_BACKGROUNDS = 256


@dataclass
class _Recorder:
    """The ``kenpo_slots`` of a background rendering: values by slot, placeholders out."""

    values: dict[str, str] = field(default_factory=dict)
    #: Slots printed blank on this page: in the background, with nothing to draw.
    blanks: set[str] = field(default_factory=set)
    usable: bool = True
    _counts: dict[str, int] = field(default_factory=dict)

    @property
    def slots(self) -> set[str]:
        """Every slot of the page, drawn or blank (what its background must have)."""
        return set(self.values) | self.blanks

    def __call__(self, name: str, value: Any, blank: bool = False) -> Any:
        text = str(value)
        if not blank and (value is None or text == ""):
            return value  # nothing printed, nothing to overlay (the HTML says so)
        count = self._counts[name] = self._counts.get(name, 0) + 1
        slot = name if count == 1 else f"{name}-{count}"
        if not re.fullmatch(r"[A-Za-z0-9_]+(-[0-9]+)?", slot):
            self.usable = False
            return value
        if blank:
            self.blanks.add(slot)
            return hidden(slot)
        if isinstance(value, Markup):
            match = _SVG_START.match(text)
            if match is None or "id=" in match.group(1).lower() or text.count("<svg") != 1:
                self.usable = False  # markup we cannot place as one picture
                return value
            self.values[slot] = Markup(text)
            return Markup(f'<svg id="{SLOT_PREFIX}{slot}"{match.group(1)}></svg>')
        self.values[slot] = text
        return hidden(slot)


@functools.lru_cache(maxsize=4)
def _environment(root: str) -> Any:
    from pathlib import Path

    from kenpo_docs.render import make_environment

    return make_environment(Path(root))


def _slotted_html(template: str, context: Mapping[str, Any], options: Any
                  ) -> tuple[str, _Recorder]:
    """``template`` rendered with a recorder: every slotted value recorded, a placeholder
    printed (the shape's HTML)."""
    from kenpo_docs.paths import templates_dir
    from kenpo_docs.render import render_html

    recorder = _Recorder()
    root = str(options.templates_dir or templates_dir())
    html = render_html(template, {**context, "kenpo_slots": recorder},
                       options=options, env=_environment(root))
    return html, recorder


def _background(prefix: str, template: str, html: str, recorder: _Recorder,
                options: Any) -> Background:
    from kenpo_docs.render import write_pdf
    from kenpo_docs.render.pdf import layout_html

    # a tagged background carries its structure: it is another shape than an untagged one
    tagged = "\0tags" if getattr(options, "pdf_tags", False) else ""
    key = hashlib.sha256((html + tagged).encode()).hexdigest()
    if key not in _BACKGROUNDS:
        if len(_BACKGROUNDS) >= MAX_BACKGROUNDS:
            _BACKGROUNDS.clear()
        loaded = load_shape(key, options)
        if loaded is not None:
            _BACKGROUNDS[key] = loaded
            return loaded
        document = layout_html(html, template, options=options, shared_fonts=True)
        _BACKGROUNDS[key] = make_background(
            document, write_pdf(document, options=options, unpacked=True), key=key,
            prefix=prefix, wanted=recorder.slots)
    return _BACKGROUNDS[key]


def _values(recorder: _Recorder, bg: Background) -> list[dict[str, Any]] | None:
    """The positioned values of one letter, or None if one cannot be overlaid."""
    assert bg.slots is not None
    values: list[dict[str, Any]] = []
    for name, text in recorder.values.items():
        slot = bg.slots[name]
        if (slot.kind == "svg") != isinstance(text, Markup) or \
                (slot.kind == "text" and not drawable(text, slot)):
            return None
        values.append({"slot": slot, "text": text})
    return values


def overlay_pages(
    letter: str,
    template: str,
    context: Mapping[str, Any],
    *,
    options: Any,
) -> list[tuple[str, list[dict[str, Any]], Background]]:
    """The ``(anchor, values, background)`` of the chunk's letters that can take an overlay,
    for :func:`~kenpo_docs.shapes.overlay.render_overlay_pages` (the merge draws a chunk's
    letters and forms in one call, so that they share one font subset)."""
    if letter not in OVERLAY_LETTERS:
        return []
    items = [(piece["anchor"], {**context, "pieces": [{**piece, "anchor": BG_ANCHOR}]})
             for piece in context["pieces"]]
    return template_overlay_pages(f"letter-{letter}", template, items, options=options,
                                  what="letter")


def template_overlay_pages(
    prefix: str,
    template: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    options: Any,
    what: str,
) -> list[tuple[str, list[dict[str, Any]], Background]]:
    """``(anchor, values, background)`` for each ``(anchor, context)`` that renders one page
    of ``template`` (with :data:`BG_ANCHOR` for its own anchor) which can take an overlay;
    the anchors left out must be laid out in full. Backgrounds are named ``prefix-<digest>``.
    """
    pages: list[tuple[str, list[dict[str, Any]], Background]] = []
    if not enabled():
        return pages
    unsure = 0
    for anchor, context in items:
        html, recorder = _slotted_html(template, context, options)
        if not recorder.usable or not recorder.values:
            unsure += 1
            continue
        bg = _background(prefix, template, html, recorder, options)
        if not bg.usable:
            unsure += 1
            continue
        values = _values(recorder, bg)
        if values is None:
            logger.debug("%s overlay: %s laid out in full (a value the slot cannot take)",
                         what, anchor)
            unsure += 1
            continue
        pages.append((anchor, values, bg))
    if unsure:
        logger.debug("%s overlay: %d of %d laid out in full before the overlay",
                     what, unsure, len(items))
    return pages
