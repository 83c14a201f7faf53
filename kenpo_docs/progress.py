"""Progress of a long run as people read it: pieces done / total, rate, time left.

The merge reports progress as ``progress(done, total)`` calls
(:data:`kenpo_docs.mailing.options.Progress`); a :class:`ProgressMeter` is such a callable
that turns them into text. On a terminal it redraws one bar in place::

    Rendering [########............]   412/1000  41%  38.2 pieces/s  残り 0:15

elsewhere (CI, a log file, a pipe) it writes one line per 10 % instead, so a log of a long
batch shows it moving without thousands of redraws::

    Rendering:  100/1000  10%  37.9 pieces/s  残り 0:23

Where the meter writes is the caller's (``write``: the CLI passes click's echo to stderr;
the web page can read :attr:`ProgressMeter.rate` and :attr:`ProgressMeter.seconds_left`).
A first call with ``done == total`` (a rerun of a finished batch) writes nothing: there is
no rate to show, and the caller says the batch was already complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def format_seconds(seconds: float) -> str:
    """``0:15``, ``12:03``, ``1:02:03``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressMeter:
    """A ``progress(done, total)`` callable that writes a bar (``tty``) or a line per 10 %.

    Args:
        write: where the text goes (no newline added but the meter's own).
        tty: redraw one line in place (a terminal) rather than one line per ``step`` %.
        label: what is being done (``Rendering``).
        unit: what is counted, for the rate (``pieces``).
        clock: seconds, monotonic (a seam for tests).
        step: percent between lines when not ``tty``.
        min_interval: seconds between two redraws of the bar (the last one is always drawn).
    """

    def __init__(self, write: Callable[[str], None], *, tty: bool, label: str = "Rendering",
                 unit: str = "pieces", clock: Callable[[], float] = time.monotonic,
                 step: int = 10, min_interval: float = 0.2, width: int = 20) -> None:
        self.write = write
        self.tty = tty
        self.label = label
        self.unit = unit
        self.clock = clock
        self.step = step
        self.min_interval = min_interval
        self.width = width
        self.done = 0
        self.total = 0
        self._first: tuple[float, int] | None = None  # (time, done) of the first call
        self._drawn_at: float | None = None
        self._drawn_len = 0
        self._shown = -1  # the last 10 % step written (not tty)
        self._open = False  # a bar is on the terminal's line
        self.already_done = False  # the first call had everything done

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        self.done, self.total = done, total
        if self._first is None:
            self._first = (now, done)
            self.already_done = total > 0 and done >= total
            self._shown = self._decile(done)
            if self.already_done:
                return
        if self.already_done:
            return
        if self.tty:
            last = done >= total
            if last or self._drawn_at is None or now - self._drawn_at >= self.min_interval:
                self._drawn_at = now
                text = self.bar()
                # spaces over what a longer line before left (a rate that lost a digit)
                self.write("\r" + text.ljust(self._drawn_len))
                self._drawn_len = len(text)
                self._open = True
                if last:
                    self.finish()
        else:
            decile = self._decile(done)
            if decile > self._shown:
                self._shown = decile
                self.write(self.line() + "\n")

    def _decile(self, done: int) -> int:
        if self.total <= 0:
            return -1
        return min(100, done * 100 // self.total) // self.step

    @property
    def rate(self) -> float | None:
        """Items per second since the first call (resumed items not counted), or None."""
        if self._first is None:
            return None
        started, first = self._first
        elapsed = self.clock() - started
        if elapsed <= 0 or self.done <= first:
            return None
        return (self.done - first) / elapsed

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        return None if rate is None else (self.total - self.done) / rate

    @property
    def percent(self) -> int:
        return 100 if self.total <= 0 else min(100, self.done * 100 // self.total)

    def _numbers(self) -> str:
        rate, left = self.rate, self.seconds_left
        speed = f"{rate:.1f} {self.unit}/s" if rate is not None else f"- {self.unit}/s"
        remaining = format_seconds(left) if left is not None else "-:--"
        digits = len(str(self.total))
        return (f"{self.done:>{digits}}/{self.total}  {self.percent:>3}%  {speed}  "
                f"残り {remaining}")

    def bar(self) -> str:
        """The terminal line: label, bar, done/total, percent, rate, time left."""
        filled = self.width * self.percent // 100
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}]  "
                f"{self._numbers()}")

    def line(self) -> str:
        """One log line (not a terminal)."""
        return f"{self.label}: {self._numbers()}"

    def finish(self) -> None:
        """End the bar's line (a terminal), so what follows starts on its own."""
        if self._open:
            self.write("\n")
            self._open = False
