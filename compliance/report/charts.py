"""Stacked horizontal bar charts as SVG markup, drawn in Python (no JavaScript, no chart library).

Every label is XML-escaped here; the result is trusted markup for the template.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from compliance.report.model import STATUS_ORDER, Chart

#: Fill colour per status; the legend and the numbers in the bars carry the meaning too.
COLOURS = {
    "satisfied": "#2e7d32",
    "inherited": "#1565c0",
    "partially-satisfied": "#ef9a00",
    "not-satisfied": "#c62828",
    "not-assessed": "#9e9e9e",
}
_TEXT_ON = {"partially-satisfied": "#000000", "not-assessed": "#000000"}

WIDTH = 640
LABEL_W = 92
TOTAL_W = 44
ROW_H = 17
BAR_H = 12
LEGEND_H = 22
FONT = "font-family:sans-serif;font-size:9px"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (scaled to the page width by the stylesheet)."""
    bars = chart.bars
    height = LEGEND_H + max(1, len(bars)) * ROW_H + 6
    label_w = max(LABEL_W, 12 + int(5.6 * max((len(b.label) for b in bars), default=0)))
    area = WIDTH - label_w - TOTAL_W
    biggest = max((b.total for b in bars), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label={quoteattr(chart.title)}>'
    ]
    # legend
    x = float(LABEL_W)  # the legend keeps its place whatever the label width
    for status in STATUS_ORDER:
        out.append(f'<rect x="{_fmt(x)}" y="4" width="10" height="10" fill="{COLOURS[status]}"/>')
        out.append(f'<text x="{_fmt(x + 13)}" y="13" style="{FONT}">{escape(status)}</text>')
        x += 14 + 5.2 * len(status) + 14
    if not bars:
        out.append(f'<text x="{label_w}" y="{LEGEND_H + 12}" style="{FONT}">nothing to show</text>')
    for i, b in enumerate(bars):
        y = LEGEND_H + i * ROW_H
        out.append(f"<g><title>{escape(b.title)}</title>")
        out.append(f'<text x="{label_w - 6}" y="{y + 10}" text-anchor="end" style="{FONT}">{escape(b.label)}</text>')
        x = float(label_w)
        for status in STATUS_ORDER:
            n = b.counts.get(status, 0)
            if not n:
                continue
            w = area * n / biggest
            out.append(
                f'<rect x="{_fmt(x)}" y="{y}" width="{_fmt(w)}" height="{BAR_H}" fill="{COLOURS[status]}">'
                f"<title>{escape(f'{b.label}: {n} {status}')}</title></rect>"
            )
            if w >= 7 * len(str(n)) + 2:
                colour = _TEXT_ON.get(status, "#ffffff")
                out.append(
                    f'<text x="{_fmt(x + w / 2)}" y="{y + 9.5}" text-anchor="middle" fill="{colour}" style="{FONT}">{n}</text>'
                )
            x += w
        out.append(f'<text x="{_fmt(x + 4)}" y="{y + 10}" style="{FONT}">{b.total}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
