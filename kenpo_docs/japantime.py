"""Times for people in Japan time; the tracking database keeps UTC.

The database stamps ``created``, ``updated`` and ``at`` in UTC (``2026-12-05T15:30:00+00:00``,
see :func:`kenpo_docs.tracking.db.stamp`) so that sorting and comparing never depend on where
a machine runs; staff read them in Japan time (``2026-12-06 00:30``), in the terminal, in the
Excel tables and on the web page alike: they all call :func:`to_japan_time`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo


def _japan() -> tzinfo:
    """Asia/Tokyo from the system's time zone data; a fixed +09:00 where there is none (Japan
    has kept no summer time since 1951, so both give the same times for our dates)."""
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - zoneinfo is in every Python we support
        return timezone(timedelta(hours=9), "JST")
    try:
        return ZoneInfo("Asia/Tokyo")
    except ZoneInfoNotFoundError:  # pragma: no cover - a system without tzdata
        return timezone(timedelta(hours=9), "JST")


JAPAN = _japan()


def parse_utc(text: str) -> datetime:
    """A stamp of the database (ISO 8601; a time without an offset is UTC) as an aware
    datetime.

    Raises:
        ValueError: ``text`` is not an ISO 8601 date and time.
    """
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def in_japan(value: str | datetime) -> datetime:
    """``value`` (a database stamp, or a datetime; naive ones are UTC) in Japan time, aware."""
    moment = parse_utc(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JAPAN)


def to_japan_time(utc_text: str | None, *, seconds: bool = False) -> str:
    """A database stamp as staff read it: ``2026-12-06 00:30`` in Japan time (``seconds``:
    ``00:30:00``); an empty stamp gives ``""``, text that is no stamp is returned as it is."""
    if not utc_text:
        return ""
    try:
        moment = in_japan(utc_text)
    except ValueError:
        return utc_text
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
