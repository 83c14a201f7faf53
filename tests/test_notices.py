"""The notice register: list, new, build, proof, issue/freeze, and the CLI on top."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from kenpo_docs.cli import cli
from kenpo_docs.documents.notices import issue_notice, load_register, new_notice
from kenpo_docs.errors import RenderError, TemplateError
from kenpo_docs.publish.notices import build_notice, proof_notice, render_notice

ROOT = Path(__file__).resolve().parent.parent


def test_register_lists_539(home: Path) -> None:
    [n539] = [n for n in load_register() if n.number == 539]
    assert n539.date == date(2024, 11, 19)
    assert (n539.title, n539.folder) == ("マイナ保険証への移行について", "539")


def test_new_makes_540_from_the_skeleton(home: Path) -> None:
    real_register = (ROOT / "templates" / "notices" / "register.toml").read_bytes()
    n = new_notice("テストのお知らせ", date(2024, 12, 10))
    assert n.number == 540 and n.status == "draft"
    folder = home / "templates" / "notices" / "540"
    # The starter notice.md, and no Python or HTML to keep in step (issue 24).
    assert sorted(p.name for p in folder.iterdir()) == ["notice.md"]
    assert (folder / "notice.md").read_text(encoding="utf-8") == (
        home / "templates" / "notices" / "_skeleton" / "notice.md"
    ).read_text(encoding="utf-8")
    data = tomllib.loads((home / "templates" / "notices" / "register.toml").read_text("utf-8"))
    assert [row["number"] for row in data["notice"]] == [539, 540]
    # The new notice builds, with its own number and date in the header.
    html = render_notice(540, "html").decode()
    assert "（第540号）" in html and "6.12.10" in html and "テストのお知らせ" in html
    assert (ROOT / "templates" / "notices" / "register.toml").read_bytes() == real_register


def test_undefined_variable_fails_before_any_file_is_written(home: Path, tmp_path: Path) -> None:
    n = new_notice("未定義", date(2024, 12, 10))
    page = home / "templates" / "notices" / str(n.number) / "notice.md"
    page.write_text(page.read_text("utf-8").replace("（本文）", "{{ member_name }}"), "utf-8")
    out = tmp_path / "out"
    for fmt in ("pdf", "docx", "html"):
        with pytest.raises(TemplateError) as info:
            build_notice(n.number, fmt, out_dir=out)
        assert "member_name" in str(info.value)
        assert info.value.template == f"notices/{n.number}/notice.md"
        assert info.value.lineno == 3  # type: ignore[attr-defined]  # the starter's （本文） line
    assert not out.exists()


def test_issued_notice_is_frozen(home: Path, tmp_path: Path) -> None:
    issue_notice(539, force=True)  # 539 has no insert file for its download section
    build_notice(539, "html", out_dir=tmp_path)  # unchanged: builds
    css = home / "templates" / "notices" / "539" / "notice.css"
    css.write_text(css.read_text("utf-8") + "\n/* changed */\n", "utf-8")
    with pytest.raises(RenderError, match="--force"):
        build_notice(539, "pdf", out_dir=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    assert build_notice(539, "html", out_dir=tmp_path, force=True).is_file()


def test_issued_notice_is_frozen_against_shared_stylesheet_changes(
    home: Path, tmp_path: Path
) -> None:
    issue_notice(539, force=True)  # 539 has no insert file for its download section
    css = home / "templates" / "base" / "print.css"
    css.write_text(css.read_text("utf-8").replace("10pt", "11pt"), "utf-8")
    with pytest.raises(RenderError, match="base"):
        build_notice(539, "html", out_dir=tmp_path)


def test_proof_writes_one_png_per_page(home: Path, tmp_path: Path) -> None:
    paths = proof_notice(539, out_dir=tmp_path, force=True)
    assert 4 <= len(paths) <= 5
    with Image.open(paths[0]) as im:
        # A4 (210 x 297 mm) at 80 dpi: 210 / 25.4 * 80 = 661.4, 297 / 25.4 * 80 = 935.4 px.
        assert abs(im.width - 661.4) <= 1.5 and abs(im.height - 935.4) <= 1.5


def test_cli_list_new_build(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["notice", "list"])
    assert listed.exit_code == 0, listed.output
    assert "539\t6.11.19" in listed.output
    made = runner.invoke(
        cli, ["notice", "new", "--title", "年末年始のお知らせ", "--date", "令和6年12月20日"]
    )
    assert made.exit_code == 0, made.output
    assert "第540号" in made.output
    built = runner.invoke(
        cli, ["notice", "build", "540", "--format", "html", "--out", str(tmp_path / "o")]
    )
    assert built.exit_code == 0, built.output
    assert (tmp_path / "o" / "notice-540.html").is_file()


def test_cli_unknown_notice_is_a_one_line_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["notice", "build", "999"])
    assert result.exit_code == 2
    assert "notice 999 is not in the register" in result.output
    assert "Traceback" not in result.output


def test_cli_bad_date_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["notice", "new", "--title", "x", "--date", "令和7年2月30日"])
    assert result.exit_code == 2


def test_the_approver_is_kept_in_the_register_and_listed(home: Path) -> None:
    """issue(approved_by=...) (the web page's approver) survives the register's round trip;
    an issue from the terminal records nobody, and `notice list` says who approved."""
    from kenpo_docs.publish.notices import issue, new_from_markdown

    text = "## 休業期間\n\n窓口を休みます。\n"
    first, _ = new_from_markdown("年末年始の窓口", date(2026, 12, 10), text)
    second, _ = new_from_markdown("年始の窓口", date(2027, 1, 5), text)
    issue(first.number, approved_by="suzuki")
    issue(second.number)
    raw = tomllib.loads((home / "templates/notices/register.toml").read_text("utf-8"))
    by_number = {row["number"]: row for row in raw["notice"]}
    assert by_number[first.number]["approved_by"] == "suzuki"
    assert "approved_by" not in by_number[second.number]
    assert {n.number: n.approved_by for n in load_register()}[first.number] == "suzuki"
    out = CliRunner().invoke(cli, ["notice", "list"]).output.splitlines()
    assert out[1] == f"{first.number}\t8.12.10\tissued\t年末年始の窓口\t承認 suzuki"
    assert out[2] == f"{second.number}\t9.1.5\tissued\t年始の窓口"


def test_the_editor_functions_of_a_draft(home: Path) -> None:
    """save_source replaces a draft's notice.md (CRLF from a browser becomes LF), check_source
    reports an undefined variable as an error with its line instead of raising, and an
    issued notice refuses both save_source and replace_from_word."""
    from kenpo_docs.publish.notices import (
        check_source,
        issue,
        new_from_markdown,
        replace_from_word,
        save_source,
    )

    n, _ = new_from_markdown("年末年始の窓口", date(2026, 12, 10), "## 見出し\n\n本文。\n")
    path = save_source(n.number, "## 見出し\r\n\r\n{{ phone }} まで。\r\n")
    assert path.read_bytes() == "## 見出し\n\n{{ phone }} まで。\n".encode()
    [problem] = check_source(n.number)
    assert (problem.severity, problem.line) == ("error", 3) and "phone" in problem.message
    save_source(n.number, "## 見出し\n\n本文。\n")
    assert check_source(n.number) == []
    issue(n.number)
    with pytest.raises(TemplateError, match="発行済み"):
        save_source(n.number, "## 変更\n\n本文。\n")
    with pytest.raises(TemplateError, match="発行済み"):
        replace_from_word(n.number, b"PK")
    assert path.read_text("utf-8") == "## 見出し\n\n本文。\n"
