"""The roster's values: a member, a household, a rejected row (see :mod:`.roster`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Any

INSURED_BRANCH = "00"


@dataclass(frozen=True)
class Member:
    """One person on the roster, validated and normalised."""

    row: int
    symbol: str
    number: str
    branch: str
    name: str
    kana: str | None
    birth_date: date
    acquired_on: date
    lost_on: date | None
    membership: str | None  # dependents carry their insured person's value
    certificate_issued_on: date | None
    postal_code: str | None  # 7 digits, no hyphen
    address1: str | None
    address2: str | None
    workplace_code: str | None
    workplace_name: str | None
    myna_registered: bool | None
    has_mynumber_card: bool | None
    has_smartphone: bool | None
    issue_reason: str | None = None  # 交付理由: one of columns.ISSUE_REASONS
    sex: str | None = None  # 性別: 男 or 女 (columns.SEXES)
    copay_ratio: str | None = None  # 一部負担金の割合 (70歳以上): 2割 or 3割
    effective_on: date | None = None  # its 発効期日

    def __reduce__(self) -> tuple[Any, tuple[tuple[Any, ...]]]:
        # Pickled as its values with the dates as day numbers: a million rows are staged,
        # linked, planned and sent to workers as pickles, and a dataclass pickles by its
        # __dict__ with each date as an object of its own (~10 µs against ~3 each way here).
        values = list(_VALUES(self))
        for i in _DATE_AT:
            day = values[i]
            if day is not None:
                values[i] = day.toordinal()
        return _member, (tuple(values),)

    def with_membership(self, membership: str | None) -> Member:
        """This member with another 加入区分 (a dependent takes their insured person's):
        ``dataclasses.replace`` without its ~10 µs of ``__init__``."""
        copy = object.__new__(Member)
        copy.__dict__.update(self.__dict__, membership=membership)
        return copy

    @property
    def key(self) -> str:
        """記号-番号-枝番: identifies a person without naming them."""
        return f"{self.symbol}-{self.number}-{self.branch}"

    @property
    def household_key(self) -> str:
        """記号-番号: shared by the insured person and their dependents."""
        return f"{self.symbol}-{self.number}"

    @property
    def is_insured(self) -> bool:
        return self.branch == INSURED_BRANCH


_FIELDS = tuple(f.name for f in fields(Member))
_VALUES = attrgetter(*_FIELDS)
_DATES = frozenset(("birth_date", "acquired_on", "lost_on", "certificate_issued_on",
                    "effective_on"))
_DATE_AT = tuple(i for i, name in enumerate(_FIELDS) if name in _DATES)
_from_day = date.fromordinal


def _member(values: tuple[Any, ...]) -> Member:
    """A :class:`Member` from what its ``__reduce__`` gave (dates as day numbers)."""
    row = list(values)
    for i in _DATE_AT:
        day = row[i]
        if type(day) is int:
            row[i] = _from_day(day)
    return member_from_values(row)


def member_from_values(values: Sequence[Any]) -> Member:
    """``Member(*values)`` without the ~10 µs a frozen dataclass's ``__init__`` costs (one
    ``object.__setattr__`` per field): for values already checked, every field given, in
    the dataclass's order."""
    if len(values) != len(_FIELDS):  # zip(strict=True) costs more than the rest together
        raise ValueError(f"a Member has {len(_FIELDS)} fields, not {len(values)}")
    member = object.__new__(Member)
    member.__dict__.update(zip(_FIELDS, values, strict=False))  # its own dict: no __setattr__
    return member


@dataclass(frozen=True)
class Household:
    """An insured person (枝番 00) and their dependents: documents travel together."""

    insured: Member
    dependents: tuple[Member, ...] = ()

    @property
    def key(self) -> str:
        return self.insured.household_key

    @property
    def members(self) -> tuple[Member, ...]:
        """Insured person first, then dependents by 枝番."""
        return (self.insured, *self.dependents)


@dataclass(frozen=True)
class RowError:
    """A rejected row or a warning: where it is and why, without personal data.

    ``column`` is the Japanese header name; several columns are joined with ``", "`` and
    ``None`` means the row as a whole (duplicate key, insured person rejected).
    """

    row: int
    column: str | None
    reason: str
    member_key: str | None = None

    @property
    def text(self) -> str:
        """The reason with its column in front (``列: 理由``), as the manifest gives it: the
        same words as ``check --report``'s column and reason."""
        if self.column is None or self.reason.startswith(f"{self.column.split(', ')[0]}: "):
            return self.reason  # a row with several problems names each column already
        return f"{self.column}: {self.reason}"
