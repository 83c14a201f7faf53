"""The roster's values: a member, a household, a rejected row (see :mod:`.roster`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
