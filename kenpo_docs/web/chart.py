"""The statuses of each batch as a bar chart, drawn on the server as SVG (no script library).

One horizontal bar per batch, its length the batch's pieces, split into the statuses in the
order a piece moves (作成 → 印刷 → 発送 → 配達, 返戻 → 再発行). The counts come from
:func:`kenpo_docs.tracking.reports.status_by_batch`; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from kenpo_docs.tracking.events import STATUSES
from kenpo_docs.tracking.reports import BatchStatus

#: What staff call each status.
STATUS_LABELS = {
    "generated": "作成済",
    "printed": "印刷済",
    "mailed": "発送済",
    "delivered": "配達済",
    "returned": "返戻",
    "reissued": "再発行",
}
#: One colour per status (distinguishable for the common colour blindnesses: Okabe-Ito).
STATUS_COLOURS = {
    "generated": "#999999",
    "printed": "#56B4E9",
    "mailed": "#0072B2",
    "delivered": "#009E73",
    "returned": "#D55E00",
    "reissued": "#E69F00",
}

_LABEL_W = 230  # batch id column
_BAR_W = 520
_ROW_H = 28
_TOP = 34  # legend


def status_chart(batches: Sequence[BatchStatus]) -> str:
    """An ``<svg>`` element: one bar per batch, a segment per status, with a legend.

    Every segment has a ``<title>`` (shown on hover and read by screen readers) and the
    chart a text summary, so the numbers are never only colours.
    """
    height = _TOP + _ROW_H * max(len(batches), 1) + 8
    width = _LABEL_W + _BAR_W + 70
    widest = max((b.total for b in batches), default=0) or 1
    out = [f'<svg class="status-chart" xmlns="http://www.w3.org/2000/svg" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="一括処理ごとの状態">']
    x = 0
    for status in STATUSES:
        out.append(f'<rect x="{x}" y="6" width="12" height="12" '
                   f'fill="{STATUS_COLOURS[status]}"/>')
        out.append(f'<text x="{x + 16}" y="17" font-size="12">{STATUS_LABELS[status]}</text>')
        x += 90
    if not batches:
        out.append(f'<text x="0" y="{_TOP + 18}" font-size="13">まだ一括処理がありません</text>')
    for row, batch in enumerate(batches):
        y = _TOP + row * _ROW_H
        out.append(f'<text x="0" y="{y + 17}" font-size="12">{escape(batch.batch)}</text>')
        x0 = float(_LABEL_W)
        for status in STATUSES:
            n = batch.counts.get(status, 0)
            if not n:
                continue
            w = _BAR_W * n / widest
            out.append(
                f'<rect class="seg-{status}" x="{x0:.1f}" y="{y + 4}" width="{w:.1f}" '
                f'height="{_ROW_H - 8}" fill="{STATUS_COLOURS[status]}" data-count="{n}">'
                f"<title>{escape(batch.batch)} {STATUS_LABELS[status]} {n}</title></rect>")
            x0 += w
        out.append(f'<text x="{x0 + 6:.1f}" y="{y + 17}" font-size="12">{batch.total}</text>')
    out.append("</svg>")
    return "".join(out)
