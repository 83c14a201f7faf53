"""A shape's background: laid out once, shared by the batch's processes, drawn as one
Form XObject under every page of that shape.

Saved shapes are keyed by everything they depend on (:func:`cache_digest`): a resumed batch
after an edit to a stylesheet, or an upgrade of a library, lays its shapes out again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import IndirectObject, NameObject

from kenpo_docs import gates
from kenpo_docs.gates._weasyprint import page_box
from kenpo_docs.paths import fonts_dir, templates_dir
from kenpo_docs.pdf.compose import digest
from kenpo_docs.pdf.stream import shared_form_xobject
from kenpo_docs.pdf.tagtree import (
    Compiled,
    compile_tags,
    drop_sequences,
    empty_sequences,
    in_xobject,
    mark_slots,
    read_tags_fast,
    simplify,
    walk,
    xobject_key,
)
from kenpo_docs.render.pdf import shared_font_config
from kenpo_docs.shapes.slots import Slot, slots_of_page

logger = logging.getLogger(__name__)


# -- backgrounds -----------------------------------------------------------------------------

@dataclass
class Background:
    """One shape's background: its page (for the XObject) and the slots, or unusable."""

    key: str
    name: str  # the /KenpoStatic name: a prefix + digest of the drawn content and its fonts
    page: Any  # pypdf page of the background's own PDF
    data: bytes  # the page's content stream, decoded
    slots: dict[str, Slot] | None
    size: tuple[float, float] = (0.0, 0.0)  # CSS px of the laid-out page
    #: The page's structure elements, each slot's placeholder marked (pdf.tagtree.fill puts
    #: the value there), the marked content in the background's XObject; None: untagged,
    #: or its placeholders did not pair up with its slots.
    tags: Compiled | None = None

    @property
    def usable(self) -> bool:
        return self.slots is not None


def make_background(document: Any, pdf: bytes, *, key: str, prefix: str,
                    wanted: set[str] | None) -> Background:
    """The background of a document laid out alone (its first page), named ``prefix-<digest>``.

    ``wanted``: the slots the page must have, exactly (None: the shape is not to be overlaid).
    """
    pdf = _unpacked(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    slots = None
    if wanted is not None and len(document.pages) == 1:
        slots = slots_of_page(page_box(document.pages[0]))
        if slots is not None and set(slots) != wanted:
            slots = None
    page = reader.pages[0]
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    h = hashlib.sha256(data)
    digest(page.get(NameObject("/Resources")), h, set())
    first = document.pages[0]
    name = f"{prefix}-{h.hexdigest()[:24]}"
    data, tags = _structure(pdf, data, slots, name)
    background = Background(key, name, page, data, slots,
                            (float(first.width), float(first.height)), tags)
    _save_shape(background, pdf)
    return background


def _unpacked(pdf: bytes) -> bytes:
    """``pdf`` with no object streams (its streams as they were), for pypdf to read.

    A tagged PDF from WeasyPrint has its catalog in one object stream with its ~200
    structure elements, and pypdf parses a whole object stream in Python to read one object
    of it (~25 ms for a background's first page); qpdf rewrites the file in ~3 ms, pypdf
    then reads only the objects the page needs, and the elements are read with pikepdf
    (:func:`~kenpo_docs.pdf.tagtree.read_tags_fast`). The shared copy (:func:`_save_shape`)
    is this one, so the batch's other processes read it as cheaply. A tagged background is
    written so already (``write_pdf(..., unpacked=True)``: qpdf saves it once, not twice)."""
    if b"/ObjStm" not in pdf:  # (an object stream's dictionary is never compressed)
        return pdf
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as source:
        out = io.BytesIO()
        source.save(out, deterministic_id=True, recompress_flate=False,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none,
                    object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def _structure(pdf: bytes, data: bytes, slots: dict[str, Slot] | None, name: str
               ) -> tuple[bytes, Compiled | None]:
    """The background's content without its placeholders' (empty) marked content, and its
    first page's structure elements with each slot's place marked (pdf.tagtree)."""
    tags = read_tags_fast(pdf)[0]
    if tags is None:
        return data, None
    # (a picture's slot, the customer barcode, is then left out: it is drawn as an artifact)
    marked = mark_slots(tags, list(slots or ()), empty_sequences(data))
    if marked is None:
        logger.debug("%s: placeholders and slots do not pair up; not tagged", name)
        return data, None
    held = {m for n in walk(tags) for m in n.kids if isinstance(m, int)}
    kept = {m for n in walk(marked) for m in n.kids if isinstance(m, int)}
    return drop_sequences(data, held - kept), compile_tags(in_xobject(simplify(marked), name))


# -- shapes shared by the batch's processes --------------------------------------------------

#: Folder where this process shares the backgrounds it lays out with the batch's other
#: processes (None: not shared). See :func:`shared_shapes`.
_SHAPES: tuple[Path, str] | None = None


@functools.lru_cache(maxsize=4)
def cache_digest(templates: Path) -> str:
    """What every saved shape depends on besides its own key: each file of the templates
    folder (a letter's HTML names its stylesheets, it does not hold them), the vendored fonts
    (names and sizes), the code that lays shapes out and reads their slots, and the versions
    of the libraries it uses. A resumed batch after an edit to print.css or an upgrade lays
    its shapes out again instead of loading stale ones."""
    h = hashlib.sha256(gates.library_key().encode())
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            h.update(b"\0t" + path.relative_to(templates).as_posix().encode() + b"\0"
                     + path.read_bytes())
    for path in sorted(fonts_dir().glob("*")):
        h.update(b"\0f" + path.name.encode() + str(path.stat().st_size).encode())
    code = Path(__file__).resolve().parent
    for path in sorted([*code.glob("*.py"), *(code.parent / "render").glob("*.py")]):
        h.update(b"\0c" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]


@contextlib.contextmanager
def shared_shapes(folder: Path | None, templates: Path | None = None) -> Iterator[None]:
    """Share backgrounds through ``folder`` (the batch's ``parts``) while in the block: a
    process that lays out a shape saves it there, and the batch's other processes (the other
    workers, later generations of workers, a resumed run) load it instead of laying it out
    again (~0.2-0.5 s a shape, a few dozen shapes a process). A background's bytes depend on
    its shape only, so a loaded one is the one that would have been laid out. The files are
    pickles: ``folder`` must be the batch's own private (0700) folder, never one others can
    write to."""
    global _SHAPES
    shared = None
    if folder is not None:
        shared = (folder, cache_digest((templates or templates_dir()).resolve()))
    before, _SHAPES = _SHAPES, shared
    try:
        yield
    finally:
        _SHAPES = before


def _shape_path(key: str) -> Path | None:
    if _SHAPES is None:
        return None
    folder, digest = _SHAPES
    return folder / f"{hashlib.sha256((digest + key).encode()).hexdigest()[:32]}.shape"


def _save_shape(background: Background, pdf: bytes) -> None:
    from kenpo_docs.files import write_atomic

    path = _shape_path(background.key)
    if path is None or path.exists():
        return
    try:
        write_atomic(path, pickle.dumps((background.key, background.name, pdf,
                                         background.slots, background.size,
                                         background.data, background.tags)))
    except OSError as exc:  # sharing is an optimisation: laying out again is always right
        logger.debug("shape not shared (%s)", type(exc).__name__)


def load_shape(key: str, options: Any) -> Background | None:
    """The background of ``key`` saved by another process of the batch, or None."""
    path = _shape_path(key)
    if path is None or not path.exists():
        return None
    try:
        saved_key, name, pdf, slots, size, data, tags = pickle.loads(path.read_bytes())
    except Exception as exc:  # a torn or foreign file: lay the shape out instead
        logger.debug("shape not loaded (%s)", type(exc).__name__)
        return None
    if saved_key != key:
        return None
    if slots is not None:
        font_config = shared_font_config(options)
        for slot in slots.values():
            if slot.style is not None:
                slot.style.font_config = font_config
    # (the content without its placeholders' marked content and the structure elements
    # are saved as made: not read from the PDF again)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return Background(key, name, page, data, slots, size, tags)


def background_xobject(writer: PdfWriter, background: Background) -> IndirectObject:
    """The background page as a Form XObject in ``writer``, marked to be stored once."""
    key = xobject_key(background.name) if background.tags is not None else None
    return shared_form_xobject(writer, background.data, background.page, background.name,
                               key)


