"""Render a chunk of pieces: one WeasyPrint document per template, split by anchors.

Rendering many letters in one document lays out and subsets the fonts once per chunk instead
of once per letter (the slow part). Each piece starts with an element whose id is its anchor
(``piece-<piece_id>``, ``form-<name>-<piece_id>``); the pages from one anchor to the next belong
to that piece. A chunk job is a plain picklable value so worker processes can run it.

Static enclosures (a notice, an external PDF) are not copied into every piece: each of their
pages becomes one Form XObject that each piece's page draws by reference, so a print file
built from many pieces stores it once.
"""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from kenpo_docs.barcodes.piececode import StampOptions, piece_code_text, stamp_page
from kenpo_docs.documents import cards as card_documents
from kenpo_docs.documents.letters import (
    Envelope,
    enclosure_titles,
    get_letter,
    printed_addressee,
)
from kenpo_docs.domain import facts
from kenpo_docs.files import write_atomic
from kenpo_docs.gates._pypdf import add_object
from kenpo_docs.mailing.plan import PiecePlan
from kenpo_docs.pdf import piecefonts
from kenpo_docs.pdf.compose import add_overlay_page
from kenpo_docs.pdf.sides import DEFAULT_SIDES, Sides, pad_to_front
from kenpo_docs.pdf.stream import (
    PdfStreamWriter,
    Segment,
    SegmentRecorder,
    shared_form_xobject,
)
from kenpo_docs.pdf.tagtree import (
    Compiled,
    Node,
    Tagged,
    compile_tags,
    in_xobject,
    read_tags,
    read_tags_fast,
    simplify,
    xobject_key,
)
from kenpo_docs.render import RenderOptions
from kenpo_docs.render.pages import FullPages, render_split
from kenpo_docs.shapes import cards as cardoverlay
from kenpo_docs.shapes import forms as formoverlay
from kenpo_docs.shapes import letters as letteroverlay
from kenpo_docs.shapes import overlay as overlay_pages
from kenpo_docs.shapes.backgrounds import background_xobject, shared_shapes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to render and write some pieces."""

    pieces: tuple[PiecePlan, ...]
    letter: str
    as_of: date
    notice: str | None
    envelope: Envelope
    forms: tuple[str, ...]
    static: tuple[Path, ...]
    pieces_dir: Path
    stamp_codes: bool = True
    parts_dir: Path | None = None
    #: The ``--enclose`` values, for the letter's list of what the envelope holds.
    enclosures: tuple[str, ...] = ()
    #: The batch's 文書番号 N (see MergeOptions.document_number).
    document_number: int | None = None
    #: ``duplex``: a piece of odd pages ends with a blank back page (see pdf.sides).
    sides: Sides = DEFAULT_SIDES
    #: The letter whose cards the pieces enclose after the letter (``kakuninsho``,
    #: ``oshirase``; see :mod:`kenpo_docs.documents.cards`), or None for no cards.
    cards: str | None = None
    #: Cards one per page of the card size (a card printer) instead of A4 sheets.
    card_stock: bool = False


def _format_postal(code: str | None) -> str:
    if not code:
        return ""
    return f"〒{code[:3]}-{code[3:]}"


def _customer_barcode_svg(piece: PiecePlan) -> str | None:
    """The Japan Post customer barcode for home-route pieces, or None where none applies."""
    if piece.route.kind != "home":
        return None
    from kenpo_docs.barcodes.japanpost import japan_post_barcode_or_none

    insured = piece.addressee
    if not insured.postal_code or not insured.address1:
        return None
    address = " ".join(a for a in (insured.address1, insured.address2) if a)
    code = japan_post_barcode_or_none(insured.postal_code, address)
    return code.svg() if code is not None else None


def piece_context(piece: PiecePlan) -> dict[str, Any]:
    """What a letter template gets for one piece (``addressee``: as printed, its address in
    Japan Post's notation; the barcode is made from the roster's value)."""
    from markupsafe import Markup

    insured = printed_addressee(piece.addressee)
    svg = _customer_barcode_svg(piece)
    return {
        "piece_id": piece.piece_id,
        "anchor": f"piece-{piece.piece_id}",
        "seq": piece.seq,
        "route": piece.route,
        "is_home": piece.route.kind == "home",
        "addressee": insured,
        "postal": _format_postal(insured.postal_code),
        "barcode_svg": Markup(svg) if svg else None,
        "parts": [{"member": p.member, "facts": p.facts} for p in piece.parts],
    }


def letter_context(job: ChunkJob) -> dict[str, Any]:
    spec = get_letter(job.letter)
    return {
        "letter": spec,
        "as_of": job.as_of,
        "notice": job.notice,
        "insurer": facts.insurer(),
        "enclosed": enclosure_titles(job.letter, job.enclosures),
        "document_number": (None if job.document_number is None
                            else facts.insurer().document_number(job.document_number)),
        "envelope": job.envelope,
        # the members' cards follow the letter (kakuninsho, oshirase; see documents.cards)
        "cards": job.cards is not None,
        "pieces": [piece_context(p) for p in job.pieces],
    }


#: Letters or forms laid out in full per document when the rest of their chunk is overlaid:
#: they are the chunk's odd ones (an address too long for its box, 9+ members), and a
#: document's boxes stay in memory until it is written (a 16-letter document of a chunk of
#: home pieces was most of a worker's peak at 10,000 households). A chunk with no overlay
#: (a letter without slots) keeps one document: ~0.3 s fixed cost a document.
FULL_PER_DOCUMENT = 6

#: Piece codes as made by zxing-cpp's writer (ISO mask scoring, mixed segments, in C++; see
#: StampOptions.mask). tests/test_merge.py decodes every page.
STAMP_OPTIONS = StampOptions()
#: The piece code on a card-size page (``--card-stock``, 85.6 x 54 mm): the A4 code (a 17.5 mm
#: square 6 mm from the edges) would cover a third of the card's height, so the card's code
#: has 0.4 mm modules (3.1 pixels at the 200 dpi of ``track verify``), the 2 mm quiet zone
#: and sits 2 mm from the edges: a 14 mm square (version 2) in the corner the card's layout
#: leaves free (templates/cards/cards.html). tests/test_cards.py decodes it.
CARD_STAMP_OPTIONS = StampOptions(offset_mm=2.0, module_mm=0.4, quiet_mm=2.0)
#: Pages narrower than this (points) are card-size pages (A6 is 298 pt wide).
_CARD_PAGE_WIDTH = 297.0


def stamp_options(page: Any) -> StampOptions:
    """The piece code's size and place for ``page``: :data:`CARD_STAMP_OPTIONS` on a
    card-size page, :data:`STAMP_OPTIONS` otherwise."""
    small = min(float(page.mediabox.width), float(page.mediabox.height)) < _CARD_PAGE_WIDTH \
        and max(float(page.mediabox.width), float(page.mediabox.height)) < 420.0
    return CARD_STAMP_OPTIONS if small else STAMP_OPTIONS


@dataclass(frozen=True)
class ChunkResult:
    """What a worker did: ``(piece_id, pages)`` per piece in order, the chunk's part file, and
    the fallbacks from the fast path."""

    pieces: tuple[tuple[str, int], ...]
    part: Path | None
    #: Why each letter or form of the chunk not drawn over its shape was laid out in full.
    full_layout: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.pieces)


@functools.lru_cache(maxsize=8)
def _static_source(path: Path) -> tuple[PdfReader, tuple[tuple[Any, bytes], ...]]:
    """A static enclosure, read once per process: the reader and each page's content."""
    reader = PdfReader(path)
    pages = []
    for page in reader.pages:
        contents = page.get_contents()
        pages.append((page, contents.get_data() if contents is not None else b""))
    return reader, tuple(pages)


@dataclass(frozen=True)
class _StaticPage:
    """A static page of a chunk, ready to add once per piece: its size and boxes, the
    content stream (``/KS Do``, the same for every static page) and its resources dictionary
    (the shared Form XObject), which every piece's copy of the page refers to."""

    width: float
    height: float
    boxes: tuple[tuple[NameObject, Any], ...]
    content: Any
    resources: Any
    #: The page's structure elements (in its shared XObject): its own, or a figure with a
    #: text alternative for a page of an untagged PDF.
    tags: Tagged | None = None


def _static_pages(writer: PdfWriter, paths: tuple[Path, ...]) -> list[_StaticPage]:
    """Each static page as a Form XObject in ``writer`` (marked for sharing), with the page
    that draws it by reference (:func:`_add_static_page`).

    The XObject's resources stay references into the enclosure's reader; the stream writer
    copies them once per output file (see :mod:`kenpo_docs.pdf.stream`).
    """
    out: list[_StaticPage] = []
    if not paths:
        return out
    stream = DecodedStreamObject()
    stream.set_data(b"q /KS Do Q")
    content = add_object(writer, stream)
    figure: Any = None
    for path in paths:
        reader, pages = _static_source(path)
        tagged = _static_tags(path)
        for number, (page, data) in enumerate(pages, start=1):
            name = f"{path.name}#{number}"
            compiled = tagged[number - 1]
            form = shared_form_xobject(writer, data, page, name,
                                       xobject_key(name) if compiled is not None else None)
            page_content = content
            if compiled is None:
                # An untagged PDF (an external flyer): each page a figure, named by the
                # PDF's title, so that nothing on a piece's page is outside the structure.
                if figure is None:
                    drawn = DecodedStreamObject()
                    drawn.set_data(b"/Figure <</MCID 0>> BDC q /KS Do Q EMC")
                    figure = add_object(writer, drawn)
                page_content = figure
                title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
                title = title or "同封資料"
                alt = TextStringObject(f"{title}（{number}／{len(pages)}ページ）")
                compiled = compile_tags([Node("Figure", [0], extra=b"/Alt" + _pdf_bytes(alt))])
            resources = add_object(writer, DictionaryObject({
                NameObject("/XObject"): DictionaryObject({NameObject("/KS"): form}),
            }))
            boxes = tuple((NameObject(k), page[k].get_object() if k == "/Rotate"
                           else ArrayObject(page[k]))
                          for k in ("/MediaBox", "/CropBox", "/TrimBox", "/BleedBox", "/Rotate")
                          if k in page)
            out.append(_StaticPage(float(page.mediabox.width), float(page.mediabox.height),
                                   boxes, page_content, resources, Tagged(compiled)))
    return out


def _pdf_bytes(obj: Any) -> bytes:
    import io

    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def _static_tags(path: Path) -> list[Compiled | None]:
    """A static enclosure's structure elements, page by page (in the page's shared XObject),
    read once per process."""
    return [compile_tags(in_xobject(simplify(t), f"{path.name}#{n}")) if t is not None else None
            for n, t in enumerate(read_tags(_static_source(path)[0]), start=1)]


def _add_static_page(writer: PdfWriter, static: _StaticPage,
                     tags: dict[int, Tagged] | None = None) -> None:
    """A page that draws a shared static page by reference (``/KS Do``)."""
    if tags is not None and static.tags is not None:
        tags[len(writer.pages)] = static.tags
    page = writer.add_blank_page(static.width, static.height)
    for name, value in static.boxes:
        page[name] = value
    page[NameObject("/Contents")] = static.content
    page[NameObject("/Resources")] = static.resources


def _piece_aliases(fonts: piecefonts.ChunkFonts | None, index: int) -> dict[int, int] | None:
    """Piece ``index``'s font aliases, or None (its parts' own subsets) on any error."""
    if fonts is None:
        return None
    try:
        return fonts.piece(index)
    except Exception as exc:  # a larger file is always a correct answer
        logger.warning("piece fonts not merged for a piece (%s: %s)", type(exc).__name__, exc)
        return None


def _write_stream(path: Path, segment: Segment, pages: range, title: str,
                  aliases: dict[int, int] | None = None, sides: Sides | None = None) -> None:
    with PdfStreamWriter(path) as out:
        out.sides = sides
        out.unique_forms = True
        if aliases:
            out.alias(segment, aliases)
        for index in pages:
            out.add_segment_page(segment, index)
        out.info = {"Title": title, "Producer": "kenpo-docs"}
        out.close()


def _overlays(
    letter: str, template: str, letters: dict[str, Any],
    forms: list[tuple[str, list[dict[str, Any]], list[str]]], options: RenderOptions,
    problems: dict[str, str], cards: _ChunkCards | None = None,
) -> dict[str, tuple[Any, Any]]:
    """The chunk's letters and forms that can be printed as background + values (see
    :mod:`kenpo_docs.shapes.overlay`), drawn in one go so that they share one font subset:
    ``{anchor: (page, background)}``. The others, or all on any error, are laid out in full;
    ``problems`` gets why, for those that had a shape."""
    try:
        pages = letteroverlay.overlay_pages(letter, template, letters, options=options)
        for name, items, anchors in forms:
            pages += formoverlay.overlay_pages(name, items, anchors, options=options)
        if cards is not None and cards.sheets:
            pages += cardoverlay.overlay_pages(cards.kind, cards.card_stock, cards.sheets,
                                               options=options)
        return overlay_pages.render_overlay_pages(pages, options=options, what="chunk",
                                                  problems=problems)
    except Exception as exc:  # the full layout is always a correct answer
        logger.info("overlays not used for a chunk (%s); letters and forms laid out in full",
                    type(exc).__name__)
        problems.update(dict.fromkeys(_anchors(letters, forms, cards),
                                      f"overlay error ({type(exc).__name__})"))
        return {}


def _anchors(letters: dict[str, Any],
             forms: list[tuple[str, list[dict[str, Any]], list[str]]],
             cards: _ChunkCards | None = None) -> list[str]:
    """The anchors of a chunk's letters, forms and card pages."""
    return ([p["anchor"] for p in letters["pieces"]]
            + [a for _, _, anchors in forms for a in anchors]
            + ([s.anchor for s in cards.sheets] if cards is not None else []))


@dataclass(frozen=True)
class _ChunkCards:
    """The card pages of a chunk's pieces (see :mod:`kenpo_docs.documents.cards`)."""

    kind: str
    card_stock: bool
    by_piece: dict[str, list[card_documents.CardSheet]]

    @property
    def sheets(self) -> list[card_documents.CardSheet]:
        return [s for sheets in self.by_piece.values() for s in sheets]


def _chunk_cards(job: ChunkJob) -> _ChunkCards | None:
    """The cards of the chunk's pieces: one per member the letter is for."""
    if job.cards is None:
        return None
    by_piece = {
        piece.piece_id: card_documents.sheets(
            piece.piece_id,
            card_documents.piece_cards(job.cards, piece.household,
                                       [(p.member, p.facts) for p in piece.parts],
                                       as_of=job.as_of),
            card_stock=job.card_stock)
        for piece in job.pieces
    }
    return _ChunkCards(job.cards, job.card_stock, by_piece)


def _full_card_pages(cards: _ChunkCards | None, overlays: dict[str, Any],
                     options: RenderOptions, per_document: int | None) -> FullPages:
    """The chunk's card pages not drawn over a background, laid out in full."""
    if cards is None:
        return {}
    left = [s for s in cards.sheets if s.anchor not in overlays]
    if not left:
        return {}
    return render_split(card_documents.TEMPLATE, "sheets",
                        [card_documents.sheet_context(s) for s in left],
                        [s.anchor for s in left], options,
                        base=card_documents.template_context(cards.kind, cards.card_stock, []),
                        per_document=per_document)


def add_card_pages(
    writer: PdfWriter,
    piece_id: str,
    cards: _ChunkCards | None,
    overlays: dict[str, tuple[Any, Any]],
    full: FullPages,
    backgrounds: dict[str, Any],
    *,
    first_page: int,
    sides: Sides,
    tags: dict[int, Tagged] | None = None,
) -> None:
    """A piece's card pages (none when the batch has no cards): each sheet or card-stock card
    drawn over its shape's background, or its page of the full layout.

    In duplex each sheet (or card) starts on a front side and keeps its back blank (a blank
    page after it, counted from the piece's ``first_page``): a card is cut out of its sheet,
    so nothing else may be printed on its back."""
    if cards is None:
        return
    for sheet in cards.by_piece.get(piece_id, ()):
        pad_to_front(writer, first_page, sides=sides)
        add_document_pages(writer, sheet.anchor, overlays, full, backgrounds, tags)
        pad_to_front(writer, first_page, sides=sides)


def _full_layout_reasons(anchors: list[str], overlays: dict[str, Any],
                         problems: dict[str, str]) -> tuple[str, ...]:
    """Why each letter or form not printed as an overlay was laid out in full."""
    if not overlay_pages.enabled():
        return tuple("fast path off" for a in anchors if a not in overlays)
    return tuple(problems.get(a, "no overlay for its shape").split(": ")[-1]
                 for a in anchors if a not in overlays)


def add_document_pages(
    writer: PdfWriter,
    anchor: str,
    overlays: dict[str, tuple[Any, Any]],
    full: FullPages,
    backgrounds: dict[str, Any],
    tags: dict[int, Tagged] | None = None,
) -> None:
    """A letter's or form's pages: its overlay page drawing its shape's background (added to
    ``writer`` once per chunk, kept in ``backgrounds``), or its pages of the full layout.
    ``tags`` gets each tagged page's structure elements, by its index in ``writer``."""
    if anchor in overlays:
        overlay, background = overlays[anchor]
        if background.name not in backgrounds:
            backgrounds[background.name] = background_xobject(writer, background)
        marks = getattr(overlay, "marks", None)
        if tags is not None and marks is not None and background.tags is not None:
            tags[len(writer.pages)] = Tagged(background.tags, marks)
        add_overlay_page(writer, overlay, backgrounds[background.name])
        return
    reader, first, end = full[anchor]
    page_tags = _reader_tags(reader) if tags is not None else None
    for i in range(first, end):
        own = page_tags[i] if page_tags is not None else None
        if tags is not None and own is not None:
            tags[len(writer.pages)] = own
        writer.add_page(reader.pages[i])


_READER_TAGS: dict[int, tuple[Any, list[Tagged | None]]] = {}


def _reader_tags(reader: Any) -> list[Tagged | None]:
    """The structure elements of a laid-out document's pages (read once per document)."""
    known = _READER_TAGS.get(id(reader))
    if known is None or known[0] is not reader:
        if len(_READER_TAGS) > 16:
            _READER_TAGS.clear()
        stream = getattr(reader, "stream", None)
        read = (read_tags_fast(stream.getvalue()) if isinstance(stream, io.BytesIO)
                else read_tags(reader))  # (pikepdf: the same nodes, ~10 times as fast)
        tags = [Tagged(compile_tags(simplify(t))) if t is not None else None for t in read]
        known = _READER_TAGS[id(reader)] = (reader, tags)
    return known[1]


def render_chunk(job: ChunkJob, *, static_ready: Callable[[], object] | None = None) -> ChunkResult:
    """Render and write the chunk's pieces and its part file (see :func:`_render_chunk`);
    the shapes' backgrounds are shared with the batch's other processes through its parts
    folder (:func:`~kenpo_docs.shapes.backgrounds.shared_shapes`)."""
    with shared_shapes(job.parts_dir):
        return _render_chunk(job, static_ready=static_ready)


def _render_chunk(job: ChunkJob, *, static_ready: Callable[[], object] | None = None
                  ) -> ChunkResult:
    """Render and write the chunk's pieces and its part file (for the print files).

    All pages of the chunk go into one in-memory pypdf writer: the letter and form pages
    (sharing their chunk's fonts; a prefilled form is, where it can be, a page of values
    drawn over its shape's shared background), the static enclosures as pages drawing one
    shared Form XObject, each page stamped with its piece code. The chunk's pages are then
    serialized once (a :class:`~kenpo_docs.pdf.stream.Segment`): each piece file is
    spliced out of it, and it is saved as the chunk's part file for the print files.
    """
    options = RenderOptions(as_of=job.as_of)  # tagged (docs/accessibility.md)
    spec = get_letter(job.letter)
    ids = [p.piece_id for p in job.pieces]
    letters = letter_context(job)
    from kenpo_docs.documents import forms as form_module
    form_items = []
    for name in job.forms:
        anchors = [f"form-{name}-{i}" for i in ids]
        items = [
            form_module.form_context(name, p.household, as_of=job.as_of, anchor=a)
            for p, a in zip(job.pieces, anchors, strict=True)
        ]
        form_items.append((name, items, anchors))
    problems: dict[str, str] = {}
    cards = _chunk_cards(job)
    overlays = _overlays(job.letter, spec.template, letters, form_items, options, problems,
                         cards)
    per_document = FULL_PER_DOCUMENT if overlays else None
    full_letters = [p for p in letters["pieces"] if p["anchor"] not in overlays]
    full = render_split(spec.template, "pieces", full_letters,
                         [p["anchor"] for p in full_letters], options, base=letters,
                         per_document=per_document)
    for name, items, anchors in form_items:
        left = [(a, item) for a, item in zip(anchors, items, strict=True) if a not in overlays]
        full.update(render_split(form_module.FORMS[name].template, "forms",
                                  [i for _, i in left], [a for a, _ in left], options,
                                  per_document=per_document))
    full.update(_full_card_pages(cards, overlays, options, per_document))

    writer = PdfWriter()
    if static_ready is not None:
        static_ready()  # the static enclosures may still be rendering in another process
    statics = _static_pages(writer, job.static)
    backgrounds: dict[str, Any] = {}
    spans: list[tuple[str, int, int]] = []
    tags: dict[int, Tagged] = {}
    for piece in job.pieces:
        first_page = len(writer.pages)
        add_document_pages(writer, f"piece-{piece.piece_id}", overlays, full, backgrounds,
                           tags)
        add_card_pages(writer, piece.piece_id, cards, overlays, full, backgrounds,
                       first_page=first_page, sides=job.sides, tags=tags)
        for name in job.forms:
            add_document_pages(writer, f"form-{name}-{piece.piece_id}", overlays, full,
                                backgrounds, tags)
        for static in statics:
            _add_static_page(writer, static, tags)
        pad_to_front(writer, first_page, sides=job.sides)  # the next piece on a front side
        count = len(writer.pages) - first_page
        if job.stamp_codes:
            for number in range(1, count + 1):
                page = writer.pages[first_page + number - 1]
                stamp_page(page, piece_code_text(piece.piece_id, number, count),
                           stamp_options(page))
        spans.append((piece.piece_id, first_page, count))

    # Every page of the chunk is serialized once; the piece files and the print files (from
    # the saved segment, the chunk's "part") are spliced together from those bytes.
    recorder = SegmentRecorder()
    for index, page in enumerate(writer.pages):
        recorder.add_page(page, tags.get(index))
    segment = recorder.segment
    # A piece file gets one font per face, holding the glyphs it draws (see piecefonts); the
    # print files, from the saved segment, keep the chunk's subsets, stored once per chunk.
    recorded = len(segment.objects)
    pieces = [range(f, f + c) for _, f, c in spans]
    fonts = None  # with the fast path off, the pieces keep the chunk's subsets
    try:
        if overlay_pages.enabled():
            fonts = piecefonts.ChunkFonts(
                segment, recorder.type0_fonts,
                [piecefonts.page_text(recorder.local, page) for page in writer.pages], pieces)
    except Exception as exc:  # a larger file is always a correct answer
        logger.warning("piece fonts not merged for a chunk (%s: %s)", type(exc).__name__, exc)
        fonts = None
    for index, (piece_id, first_page, count) in enumerate(spans):
        _write_stream(job.pieces_dir / f"{piece_id}.pdf", segment,
                      range(first_page, first_page + count), f"{spec.title} {piece_id}",
                      _piece_aliases(fonts, index), job.sides)
        if fonts is not None:
            fonts.release()
    del segment.objects[recorded:]
    part = None
    if job.parts_dir is not None and spans:
        part = job.parts_dir / f"{spans[0][0]}.seg"
        segment.save(part)
        write_atomic(part.with_suffix(".json"), json.dumps(spans).encode())
    return ChunkResult(tuple((i, c) for i, _, c in spans), part,
                       _full_layout_reasons(_anchors(letters, form_items, cards), overlays,
                                            problems))
