"""The insurer's settings (``data/insurer.toml``): name, 保険者番号, address, contact, widths.

Data, not code: every template reads these through :func:`default_insurer` (the letters, the
forms, the notices, the cover sheets), so another kenpo edits one file. :func:`load_insurer`
validates the file and names the key of any mistake, as :mod:`kenpo_docs.domain.rules` does
for the rules of notice 539.
"""

from __future__ import annotations

import logging
import string
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kenpo_docs.domain.rules import _Reader
from kenpo_docs.errors import RuleError
from kenpo_docs.paths import data_dir

__all__ = [
    "Insurer",
    "default_insurer",
    "insurer_number_check_digit",
    "key_widths",
    "load_insurer",
]

log = logging.getLogger(__name__)

DEFAULT_INSURER_FILE = "insurer.toml"

#: What a sample number is printed with, so a mailing made with it is never mistaken for real.
SAMPLE_MARK = "（見本）"

_RETURN_FIELDS = {"name", "department", "postal_code", "address", "phone"}
_ROUTES = ("workplace", "home")


@dataclass(frozen=True)
class Insurer:
    """Who sends the letters and how members reach it (``[insurer]``), and its conventions."""

    name: str
    number: str
    number_is_sample: bool
    department: str
    phone: str
    hours: str
    payroll_group: str
    postal_code: str
    address: str
    series_title: str
    document_number_format: str
    symbol_width: int
    number_width: int
    return_workplace: str
    return_home: str

    @property
    def number_display(self) -> str:
        """The 保険者番号 as printed: marked 「（見本）」 while it is the sample value."""
        return self.number + (SAMPLE_MARK if self.number_is_sample else "")

    @property
    def postal_display(self) -> str:
        """The postal code with its mark: 「〒168-8505」."""
        return f"〒{self.postal_code}"

    def document_number(self, number: int) -> str:
        """The 文書番号 of batch number ``number`` (「年けん発第12号」)."""
        return self.document_number_format.format(number=number)

    def return_instruction(self, route: str) -> str:
        """How a valid 資格確認書 is returned by a member of ``route`` ("workplace"/"home")."""
        text = self.return_home if route == "home" else self.return_workplace
        return text.format(
            name=self.name, department=self.department, postal_code=self.postal_code,
            address=self.address, phone=self.phone,
        )


def insurer_number_check_digit(first7: str) -> int:
    """The 検証番号 of a 保険者番号 from its first seven digits (厚生労働省 保険者番号設定要領).

    The digits are multiplied by 2 and 1 in turn starting from the last (2 for the last),
    a two-digit product counts as the sum of its digits, and the check digit is 10 minus the
    last digit of the total (0 when that digit is 0). 3312001 -> 5 (33120015).
    """
    total = 0
    for i, ch in enumerate(reversed(first7)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def load_insurer(path: str | Path | None = None) -> Insurer:
    """Read and validate an insurer settings file (the packaged ``insurer.toml`` by default).

    Raises:
        RuleError: the file is missing or not TOML, or a key is missing, unknown or wrong
            (a 保険者番号 that is not 8 digits or whose 検証番号 is wrong, a width outside
            1..20, an unknown placeholder); ``file`` is the path, ``column`` the dotted key.
    """
    file = Path(path) if path is not None else data_dir() / DEFAULT_INSURER_FILE
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise RuleError(
            f"cannot read insurer settings: {exc.strerror or exc}", file=file
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"not valid TOML: {exc}", file=file) from exc
    r = _Reader(str(file))
    sections = ("insurer", "series", "document_number", "keys", "return_instruction")
    top = r.table(raw, "", set(sections))
    for name in sections:
        if name not in top:
            raise r.fail(name, "missing")
    ins = r.table(top["insurer"], "insurer", {
        "name", "number", "number_is_sample", "department", "phone", "hours",
        "payroll_group", "postal_code", "address",
    })
    text = {k: r.get(ins, k, "insurer", str) for k in (
        "name", "number", "department", "phone", "hours", "payroll_group", "postal_code",
        "address",
    )}
    number = text["number"]
    if len(number) != 8 or not number.isascii() or not number.isdigit():
        raise r.fail("insurer.number", f"保険者番号は半角数字8桁です (8 digits), got {number!r}")
    check = insurer_number_check_digit(number[:7])
    if int(number[7]) != check:
        raise r.fail(
            "insurer.number",
            f"保険者番号 {number} の検証番号が違います: {check} のはずです "
            f"(check digit should be {check})",
        )
    postal = text["postal_code"]
    if not (len(postal) == 8 and postal[3] == "-" and (postal[:3] + postal[4:]).isdigit()
            and postal.isascii()):
        raise r.fail("insurer.postal_code", f"expected NNN-NNNN, got {postal!r}")

    series = r.table(top["series"], "series", {"title"})
    docno = r.table(top["document_number"], "document_number", {"format"})
    fmt = r.get(docno, "format", "document_number", str)
    if _placeholders(fmt) != {"number"}:
        raise r.fail("document_number.format", f"must contain {{number}} and nothing else in "
                     f"braces, got {fmt!r}")
    keys = r.table(top["keys"], "keys", {"symbol_width", "number_width"})
    widths = {}
    for k in ("symbol_width", "number_width"):
        w = r.get(keys, k, "keys", int)
        if not 1 <= w <= 20:
            raise r.fail(f"keys.{k}", f"expected 1 to 20 digits, got {w}")
        widths[k] = w
    ret = r.table(top["return_instruction"], "return_instruction", set(_ROUTES))
    returns = {}
    for route in _ROUTES:
        value = r.get(ret, route, "return_instruction", str)
        try:
            unknown = _placeholders(value) - _RETURN_FIELDS
        except ValueError as exc:
            raise r.fail(f"return_instruction.{route}", f"bad braces: {exc}") from exc
        if unknown:
            raise r.fail(f"return_instruction.{route}",
                         f"unknown placeholder(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(_RETURN_FIELDS))})")
        returns[route] = value

    return Insurer(
        name=text["name"],
        number=number,
        number_is_sample=r.get(ins, "number_is_sample", "insurer", bool),
        department=text["department"],
        phone=text["phone"],
        hours=text["hours"],
        payroll_group=text["payroll_group"],
        postal_code=postal,
        address=text["address"],
        series_title=r.get(series, "title", "series", str),
        document_number_format=fmt,
        symbol_width=widths["symbol_width"],
        number_width=widths["number_width"],
        return_workplace=returns["workplace"],
        return_home=returns["home"],
    )


@cache
def default_insurer() -> Insurer:
    """The packaged insurer settings, read once per process.

    A sample 保険者番号 is printed marked 「（見本）」 on every document; it is logged at INFO
    only (a warning would be a second line under every one-line error of the CLI).
    """
    ins = load_insurer()
    if ins.number_is_sample:
        log.info(
            "保険者番号 %s は見本です: insurer.toml の insurer.number を設定してください "
            "(the insurer number is a sample; letters print it marked 「%s」)",
            ins.number, SAMPLE_MARK,
        )
    return ins


def key_widths() -> tuple[int, int]:
    """The widths (digits) of 記号 and 番号 from the settings: ``(symbol_width, number_width)``."""
    ins = default_insurer()
    return ins.symbol_width, ins.number_width
