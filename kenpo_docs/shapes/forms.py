"""Prefilled forms in the merge as a shared background plus a small overlay of the values.

A prefilled form is the same blank form for every household of one *shape* (how many 対象者
rows, which 提出先 line and 送付先 box apply, which values are present) with a dozen values in
fixed boxes. Laying the whole form out per household is the biggest cost of a piece, so:

* the **background** of a shape is laid out once per process: the form with every value
  replaced by a hidden placeholder (``visibility: hidden``, same font, so every line and box
  keeps its place). It becomes a Form XObject marked with
  :data:`~kenpo_docs.pdf.stream.STATIC_KEY`, stored once per piece, part and print file
  like a static enclosure page;
* the positions and styles of the values are read from the background's box tree
  (:func:`~kenpo_docs.shapes.slots.slots_of_page`);
* per chunk, the values are drawn straight into one small page per form, at those boxes in
  the same font and size (:mod:`kenpo_docs.shapes.draw`); each overlay page draws its
  background first.

The generic parts (slots, glyph and overlay checks, the overlay document, the background
XObject) are in :mod:`kenpo_docs.shapes.overlay`, shared with the letters
(:mod:`kenpo_docs.shapes.letters`); this module knows the form's values and shapes.

A form is printed the old way (full layout) whenever the overlay is not known to give the
same page: fillable forms, shapes that take two pages (9+ members), a value with a character
the form's font has no glyph for (another font would change the line), a value with spaces
that white-space processing could move, a value that does not fit on its line in its box
(the full layout would wrap it and grow the row), or an overlay whose laid-out text is not
exactly where the background says (checked on every value of every overlay page).
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import date
from typing import Any

from markupsafe import Markup

from kenpo_docs.shapes.backgrounds import Background, load_shape, make_background
from kenpo_docs.shapes.overlay import enabled, render_overlay_pages
from kenpo_docs.shapes.slots import drawable
from kenpo_docs.shapes.slots import hidden as _shared_hidden

logger = logging.getLogger(__name__)

#: The key's placeholder: narrow digits, so that real keys (as long or longer) are no narrower.
_KEY_PLACEHOLDER = "1111-111111"


# -- values and shapes -----------------------------------------------------------------------

def _slot_values(ctx: dict[str, Any]) -> dict[str, str]:
    """Every per-household value the form prints, by slot name (empty when not printed)."""
    values = {
        "symbol_number": f"{ctx['symbol']}-{ctx['number']}" if ctx["symbol"] else "",
        "applicant_birth": ctx["applicant_birth"],
        "applicant_kana": ctx["applicant_kana"],
        "applicant_name": ctx["applicant_name"],
        "workplace_name": ctx["send"]["workplace_name"],
        "postal": ctx["send"]["postal"],
        "address": ctx["send"]["address"],
        "key": ctx["key"],
    }
    for n, t in enumerate(ctx["targets"], start=1):
        values[f"t{n}_branch"] = t["branch"]
        values[f"t{n}_name"] = t["name"]
        values[f"t{n}_birth"] = t["birth"]
    return values


def _hidden(slot: str, text: str = "あ", *, close: bool = True) -> Markup:
    return _shared_hidden(slot, text, close=close)


def _background_context(ctx: dict[str, Any]) -> dict[str, Any]:
    """``ctx`` with each present value replaced by a hidden placeholder of its slot."""
    bg = copy.deepcopy(ctx)
    bg["anchor"] = None
    if ctx["symbol"]:
        # The template prints symbol ~ "-" ~ number: the span opens in one, closes in the other.
        bg["symbol"] = _hidden("symbol_number", close=False)
        bg["number"] = Markup("</span>")
    for key in ("applicant_birth", "applicant_kana", "applicant_name"):
        if ctx[key]:
            bg[key] = _hidden(key)
    if ctx["key"]:
        # The key follows the 照会先 line and wraps below it: the placeholder must be as wide
        # as a key, or it would stay on that line where real keys do not (see Slot.min_width).
        bg["key"] = _hidden("key", _KEY_PLACEHOLDER)
    for key, slot in (("workplace_name", "workplace_name"), ("postal", "postal"),
                      ("address", "address")):
        if ctx["send"][key]:
            bg["send"][key] = _hidden(slot)
    for n, t in enumerate(bg["targets"], start=1):
        for field in ("branch", "name", "birth"):
            if t[field]:
                t[field] = _hidden(f"t{n}_{field}")
        t["kana"] = ""  # not printed
    return bg


def shape_key(ctx: dict[str, Any]) -> str:
    """What the background depends on: the form context with every value reduced to present
    or absent (so the route lines, check marks, 区分 and row count are all part of it)."""
    masked = copy.deepcopy(ctx)
    masked["anchor"] = None
    for t in masked["targets"]:
        t["kana"] = ""
    present = {slot: bool(v) for slot, v in _slot_values(ctx).items()}
    for key in ("symbol", "number", "applicant_birth", "applicant_kana", "applicant_name",
                "key"):
        masked[key] = ""
    for key in ("workplace_name", "postal", "address"):
        masked["send"][key] = ""
    for t in masked["targets"]:
        t["branch"] = t["name"] = t["birth"] = ""
    return json.dumps([masked, present], sort_keys=True, default=str, ensure_ascii=False)


# -- backgrounds -----------------------------------------------------------------------------

_BACKGROUNDS: dict[str, Background] = {}
#: Shapes kept per process; a batch has a few dozen at most (row counts x routes x blanks).
MAX_BACKGROUNDS = 128


def _lay_out_background(form: str, key: str, ctx: dict[str, Any], options: Any) -> Background:
    """One shape's background, alone in its document: its bytes depend on the shape only, so
    every process (and a resumed batch) writes the same background for the same shape."""
    from kenpo_docs.documents import forms as form_module
    from kenpo_docs.render import render_document, write_pdf

    document = render_document(form_module.FORMS[form].template,
                               {"forms": [_background_context(ctx)]}, options=options,
                               shared_fonts=True)
    wanted = None if ctx["fillable"] else {s for s, v in _slot_values(ctx).items() if v}
    return make_background(document, write_pdf(document, options=options, unpacked=True),
                           key=_shared_key(form, key),
                           prefix=f"form-{form}", wanted=wanted)


def backgrounds(form: str, contexts: list[dict[str, Any]], options: Any) -> list[Background]:
    """The background of each context's shape, laid out once per process (or loaded from
    the batch's shared shapes, see :func:`~kenpo_docs.shapes.backgrounds.shared_shapes`)."""
    # a tagged background carries its structure: it is another shape than an untagged one
    tagged = "+tags" if getattr(options, "pdf_tags", False) else ""
    keys = [shape_key(c) + tagged for c in contexts]
    for key, ctx in zip(keys, contexts, strict=True):
        if key not in _BACKGROUNDS:
            if len(_BACKGROUNDS) >= MAX_BACKGROUNDS:
                _BACKGROUNDS.clear()
            _BACKGROUNDS[key] = load_shape(_shared_key(form, key), options) or \
                _lay_out_background(form, key, ctx, options)
    return [_BACKGROUNDS[k] for k in keys]


def _shared_key(form: str, key: str) -> str:
    """A shape's key among the batch's processes (see
    :func:`~kenpo_docs.shapes.backgrounds.cache_digest` for what else a saved shape depends on)."""
    return f"form-{form}\n{key}"


# -- overlays --------------------------------------------------------------------------------

def _overlay_item(ctx: dict[str, Any], background: Background) -> list[dict[str, Any]] | None:
    """The positioned values of one form, or None if one of them cannot be overlaid."""
    assert background.slots is not None
    values = []
    for slot_name, value in _slot_values(ctx).items():
        if not value:
            continue
        slot = background.slots[slot_name]
        if not drawable(value, slot):
            return None
        values.append({"slot": slot, "text": value})
    return values


def render_overlays(
    form: str,
    contexts: list[dict[str, Any]],
    anchors: list[str],
    *,
    as_of: date,
    options: Any,
) -> dict[str, tuple[Any, Background]]:
    """Overlay pages for the forms that can take one: ``{anchor: (pypdf page, background)}``.

    Anchors left out must be laid out in full.
    """
    return render_overlay_pages(overlay_pages(form, contexts, anchors, options=options),
                                options=options, what="form")


def overlay_pages(
    form: str,
    contexts: list[dict[str, Any]],
    anchors: list[str],
    *,
    options: Any,
) -> list[tuple[str, list[dict[str, Any]], Background]]:
    """The ``(anchor, values, background)`` of the forms that can take an overlay, for
    :func:`~kenpo_docs.shapes.overlay.render_overlay_pages`."""
    if not contexts or not enabled():
        return []
    bgs = backgrounds(form, contexts, options)
    pages: list[tuple[str, list[dict[str, Any]], Background]] = []
    for anchor, ctx, bg in zip(anchors, contexts, bgs, strict=True):
        if not bg.usable or ctx["fillable"]:
            continue
        values = _overlay_item(ctx, bg)
        if values is not None:
            pages.append((anchor, values, bg))
    return pages
