"""What comes out of a merge fed hostile member data: printed literally, nothing fetched,
nothing evaluated, the same bytes every time, private files, and no personal data in logs.

One hostile roster is merged twice (two folders, same batch id) for the whole module: the
first run is read back for the injection and permission checks, the pair for reproducibility.
Expected strings are the roster's own cells, written here, never our output pasted back.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import stat
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.errors import TemplateError
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import fonts_dir, templates_dir
from kenpo_docs.render import RenderOptions
from kenpo_docs.render import pdf as render_pdf
from kenpo_docs.render.fetcher import SafeFetcher
from kenpo_docs.render.pdf import render_html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
import make_bad  # noqa: E402

AS_OF = date(2026, 12, 1)
BATCH = "HARDEN-1"
LONG = "長い住所" * 60 + "終"  # 241 characters without a space
HOSTILE = {
    # household 1, 一般 (workplace route): the letter and the print file's cover print these
    "img": '<img src="file:///etc/passwd">',
    "jinja_workplace": "{{ 7*7 }}支所{% raw %}",
    # household 2, 任意継続 (home route: the address is printed); "style" is a dependent's name
    "jinja_name": "{{ 7*7 }} {{ config }}",
    "link": "<link rel=stylesheet href=http://example.invalid/x.css>",
    "style": "<style>@import url(http://example.invalid/y.css);</style>",
    # household 7, home route
    "css_url": "background:url(http://example.invalid/bg.png)",
    # household 3: dependent's name
    "raw_block": "{% raw %}{% endraw %}{# x #}",
}
SECRETS = ["試験 太郎1", "試験 花子2", "試験 次郎3", "霞が関", "千葉市稲毛区", "大字テスト町"]


def _rows() -> list[list[str]]:
    r = make_bad.row
    return [
        r(1, 氏名=HOSTILE["img"], 就労先名=HOSTILE["jinja_workplace"]),
        r(2, 氏名=HOSTILE["jinja_name"], 加入区分="任意継続", 就労先コード="", 就労先名="",
          郵便番号="263-0023", 住所1=HOSTILE["link"]),
        r(2, 枝番="01", 氏名=HOSTILE["style"], 加入区分="", 郵便番号="", 住所1="",
          就労先コード="", 就労先名=""),
        r(7, 氏名="試験 長子", 加入区分="任意継続", 就労先コード="", 就労先名="",
          郵便番号="263-0023", 住所1=HOSTILE["css_url"], 住所2="大字テスト町"),
        r(7, 枝番="01", 氏名=LONG, 加入区分="", 郵便番号="", 住所1="", 就労先コード="",
          就労先名=""),  # a very long name: the members table wraps it
        # An address that cannot fit the envelope window: rejected (the name would be hidden)
        r(8, 氏名="試験 窓外", 加入区分="任意継続", 就労先コード="", 就労先名="",
          郵便番号="263-0023", 住所1="千葉県千葉市稲毛区緑町3丁目30-8", 住所2=LONG),
        r(3, 氏名=SECRETS[2]),
        r(3, 枝番="01", 氏名=HOSTILE["raw_block"], 加入区分="", 郵便番号="", 住所1="",
          就労先コード="", 就労先名=""),
        r(4, 氏名=SECRETS[0], 住所1="東京都千代田区霞が関1丁目3番2号"),
        r(5, 氏名=SECRETS[1], 加入区分="任意継続", 就労先コード="", 就労先名="",
          郵便番号="263-0023", 住所1="千葉県千葉市稲毛区緑町3丁目30-8", 住所2="大字テスト町"),
        r(6, 氏名="試験 拒否", 生年月日="昭和45年2月30日"),  # rejected: the reject report too
    ]


@dataclass
class Runs:
    first: Path
    second: Path
    requested: list[str]
    refused: list[str]
    log: str


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("hostile")
    roster = base / "roster.csv"
    roster.write_text(make_bad.csv_text(_rows()), encoding="utf-8")
    fetchers: list[SafeFetcher] = []

    class Recording(SafeFetcher):
        """The real fetcher, remembered so the test sees every request of every document."""

        def __init__(self, *args: object, **kw: object) -> None:
            super().__init__(*args, **kw)  # type: ignore[arg-type]
            fetchers.append(self)

    handler = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(render_pdf, "SafeFetcher", Recording)
            outs = []
            for name in ("a", "b"):
                out = base / name / "out"
                merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF,
                                                   batch_id=BATCH, workers=1))
                outs.append(out)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    requested = [u for f in fetchers for u in f.requested]
    refused = [u for f in fetchers for u in f.refused]
    return Runs(outs[0], outs[1], requested, refused, "\n".join(handler.lines))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _manifest(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(
        (out / "manifest.csv").read_bytes().decode("utf-8-sig"))))


def _piece_text(out: Path, key: str) -> str:
    row = next(r for r in _manifest(out) if r["member_key"] == key)
    return "".join(p.extract_text() for p in PdfReader(out / row["piece_file"]).pages)


# ------------------------------------------------------------------ injection


def test_markup_and_template_syntax_are_printed_literally(runs: Runs) -> None:
    first = _flat(_piece_text(runs.first, "30-1-00"))
    for value in (HOSTILE["img"], HOSTILE["jinja_workplace"]):
        assert _flat(value) in first, value
    second = _flat(_piece_text(runs.first, "30-2-00"))
    for value in (HOSTILE["jinja_name"], HOSTILE["link"], HOSTILE["style"]):
        assert _flat(value) in second, value
    assert "49" not in second.replace(_flat(HOSTILE["jinja_name"]), "")  # 7*7 never computed
    third = _flat(_piece_text(runs.first, "30-3-00"))
    assert _flat(HOSTILE["raw_block"]) in third
    seventh = _flat(_piece_text(runs.first, "30-7-00"))
    for value in (HOSTILE["css_url"], LONG):
        assert _flat(value) in seventh, value


def test_cover_sheet_prints_the_workplace_name_literally(runs: Runs) -> None:
    cover = PdfReader(runs.first / "print" / "workplace-001.pdf").pages[0].extract_text()
    assert _flat(HOSTILE["jinja_workplace"]) in _flat(cover)


def test_member_data_never_reaches_the_fetcher(runs: Runs) -> None:
    assert runs.requested, "the recording fetcher saw the templates' own requests"
    allowed = (templates_dir().resolve().as_uri(), fonts_dir().resolve().as_uri())
    for url in runs.requested:
        assert url.startswith(allowed), url
    assert runs.refused == []
    assert "refused to fetch" not in runs.log
    joined = "\n".join(runs.requested)
    for fragment in ("passwd", "example.invalid", "x.css", "bg.png"):
        assert fragment not in joined


def test_user_templates_run_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "evil.html").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    (tmp_path / "evil2.html").write_text(
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}", encoding="utf-8")
    (tmp_path / "ok.html").write_text("{{ name }}", encoding="utf-8")
    options = RenderOptions(templates_dir=tmp_path)
    for name in ("evil.html", "evil2.html"):
        with pytest.raises(TemplateError) as info:
            render_html(name, {}, options=options)
        assert info.value.template == name
    # the same environment escapes data: a name is text, not markup
    assert render_html("ok.html", {"name": "<b>x</b>"}, options=options).strip() == (
        "&lt;b&gt;x&lt;/b&gt;")


# ------------------------------------------------------------------ reproducible output


def test_two_runs_in_different_folders_give_identical_bytes(runs: Runs) -> None:
    def files(out: Path) -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file()}

    a, b = files(runs.first), files(runs.second)
    assert sorted(a) == sorted(b)
    pieces = [n for n in a if n.startswith("pieces/")]
    prints = [n for n in a if n.startswith("print/")]
    assert len(pieces) == 6 and "manifest.csv" in a and len(prints) == 5  # 2 PDFs + 2 CSVs + index
    different = [name for name in a if a[name] != b[name]]
    assert different == []


# ------------------------------------------------------------------ files at rest


def test_output_tree_is_private(runs: Runs) -> None:
    for path in [runs.first, *runs.first.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, (path, oct(mode))
        else:
            assert mode == 0o600, (path, oct(mode))


# ------------------------------------------------------------------ personal data stays out of logs


def test_debug_log_of_the_merge_has_no_names_or_addresses(runs: Runs) -> None:
    assert "kenpo_docs" in runs.log  # the capture did see our logger
    for secret in [*SECRETS, "試験 拒否", HOSTILE["img"], "長い住所", "昭和45年2月30日"]:
        assert secret not in runs.log, secret
    rejected = {r["member_key"]: r for r in _manifest(runs.first) if r["status"] == "rejected"}
    assert sorted(rejected) == ["30-6-00", "30-8-00"]
    bad_date, too_long = rejected["30-6-00"], rejected["30-8-00"]
    assert "昭和45年" not in bad_date["reason"] and "no such day" in bad_date["reason"]
    assert "too long for the envelope window" in too_long["reason"]
    assert "長い住所" not in too_long["reason"] and "試験 窓外" not in too_long["reason"]
    assert too_long["piece_id"] == "" and too_long["piece_file"] == ""


def test_check_at_debug_level_logs_and_reports_no_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text(_rows()), encoding="utf-8")
    report = tmp_path / "rejects.csv"
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(cli, ["-vv", "check", str(roster), "--as-of", "2026-12-01",
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert any(r.name.startswith("kenpo_docs.") and r.levelno == logging.DEBUG
               for r in caplog.records)
    written = report.read_bytes().decode("utf-8-sig")
    assert "30-6-00" in written
    for secret in [*SECRETS, "試験 拒否", "昭和45年2月30日", "2月30日"]:
        assert secret not in caplog.text, secret
        assert secret not in written, secret
        assert secret not in result.output, secret
