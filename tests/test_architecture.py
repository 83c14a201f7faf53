"""The package's shape, as docs/architecture.md draws it: stages import only earlier stages
(not even inside a function), no import cycle, no module past ~600 lines, and other
libraries' private parts only in their gate module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kenpo_docs"

#: The pipeline, earliest first. A module may import its own stage and earlier ones.
STAGES: tuple[tuple[str, ...], ...] = (
    # the base every stage stands on
    ("errors", "paths", "files", "fonts", "gates", "japantime", "spreadsheets", "progress"),
    ("domain",),
    ("input",),
    ("documents",),
    ("render",),
    ("pdf",),
    ("shapes",),
    ("barcodes",),
    ("publish",),
    ("mailing",),
    ("tracking",),
    ("mailing.run", "mailing.letter_docx"),  # the merge drives every stage, tracking too
    ("web",),  # the staff web page: a shell over every stage, like the CLI
    ("cli", "demo", "__main__", ""),  # the shells on top (the CLI starts the web page)
)
MAX_LINES = 600


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> int:
    rel = module.removeprefix("kenpo_docs").removeprefix(".")
    best, found = -1, len(STAGES) - 1
    for index, names in enumerate(STAGES):
        for name in names:
            if (rel == name or (name and rel.startswith(name + "."))) and len(name) > best:
                best, found = len(name), index
    return found


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every kenpo_docs module ``path`` imports, anywhere in it (with the line)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("kenpo_docs"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() or \
                    (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                found.append((sub if is_module else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("kenpo_docs")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_stage() -> None:
    def on_top(rel: str) -> bool:  # the shells (a package's modules too) and the public API
        return rel in STAGES[-1] or any(name and rel.startswith(name + ".")
                                        for name in STAGES[-1])

    unplaced = [_module(p) for p in MODULES if _stage(_module(p)) == len(STAGES) - 1
                and not on_top(_module(p).removeprefix("kenpo_docs").lstrip("."))]
    assert unplaced == []


def test_no_stage_imports_a_later_one() -> None:
    upward = [f"{_module(p)} -> {target} (line {line})"
              for p in MODULES for target, line in _imports(p)
              if _stage(target) > _stage(_module(p))]
    assert upward == []


def test_no_import_cycle_between_modules() -> None:
    graph = {_module(p): {t for t, _ in _imports(p) if t != _module(p)} for p in MODULES}
    # a package's __init__ importing its own modules is not a cycle of concepts
    for name in graph:
        graph[name] = {t for t in graph[name] if not name or not t.startswith(name + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_modules_stay_readable(path: Path) -> None:
    assert len(path.read_text("utf-8").splitlines()) <= MAX_LINES


#: Private symbols of WeasyPrint, pydyf, pypdf and python-docx (see kenpo_docs/gates).
PRIVATE = re.compile(
    r"^\s*(from|import) weasyprint\.(draw|text\.line_break|text\.ffi|pdf|matrix|layout|"
    r"formatting_structure)|\._add_object\(|\._page_box\b|\._data\b|\._current_font\b|"
    r"\._folder\b|\._box\b"
    # python-docx: its oxml package (OxmlElement, qn, parse_xml, the CT_* classes and their
    # accessors) and the private attributes of its proxies
    r"|^\s*(from|import) docx\.oxml|\._(p|r|tbl|tr|tc|element|parent|inline|body)\b|"
    r"\b_Cell\b|\.get_or_add_\w+\(|\.(pPr|rPr|tblPr|tblGrid|rFonts)\b|\.element\.body\b",
    re.M)


def test_other_libraries_private_parts_only_in_their_gate() -> None:
    outside = [f"{_module(p)}: {m.group(0).strip()}" for p in MODULES
               if "gates" not in p.parts for m in PRIVATE.finditer(p.read_text("utf-8"))]
    assert outside == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The checks above would see an offender (they are not vacuous)."""
    assert PRIVATE.search("x = writer._add_object(y)")
    for offender in ("from docx.oxml import OxmlElement", "    from docx.oxml.ns import qn",
                     "import docx.oxml", "ppr = para._p.get_or_add_pPr()", "run._r.append(x)",
                     "table._tbl.tblGrid", "cell._tc", "row._tr", "part._element",
                     "picture._inline.set(side, '0')", "x._parent", "style.element.pPr",
                     "from docx.table import _Cell", "style.element.get_or_add_pPr()",
                     "run_el.rPr", "document.element.body"):
        assert PRIVATE.search(offender), offender
    for fine in ("from docx.shared import Mm", "para.paragraph_format", "self._pages",
                 "paragraph_element(para)", "document.styles.element", "self._run_format(r)"):
        assert not PRIVATE.search(fine), fine
    assert _stage("kenpo_docs.tracking.db") > _stage("kenpo_docs.mailing.plan")
    assert _stage("kenpo_docs.mailing.run") > _stage("kenpo_docs.tracking.db")
    assert _stage("kenpo_docs.input.roster") < _stage("kenpo_docs.render.pdf")
    sample = PACKAGE / "input" / "roster.py"
    assert ("kenpo_docs.domain.era", 0) not in _imports(sample)  # lines are real ones
    assert any(t.startswith("kenpo_docs.domain") for t, _ in _imports(sample))
