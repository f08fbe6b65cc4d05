"""Charts of the leader's view as SVG, embedded in Markdown artifacts. Pure.

The Prefect UI's Markdown renderer sanitises HTML: an inline ``<svg>`` element is emptied (only
its text survives), but an image whose source is a ``data:image/svg+xml;base64,…`` URI is kept
and drawn (checked in headless Chromium against Prefect 3.9's UI). So each chart is an SVG
document, base64-encoded into a Markdown image (:func:`markdown_image`), with its figures also
written in the image's alt text and in a table next to it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

WIDTH = 640
BG = "#ffffff"
INK = "#1f2933"
GRID = "#d9dee3"
DONE = "#2e7d32"
LATE = "#c62828"
OPEN = "#f9a825"


def _pct_text(v: float) -> str:
    return f"{v:.0f}%" if abs(v - round(v)) < 0.05 else f"{v:.1f}%".replace(".", ",")


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">'
        f'<rect width="{width}" height="{height}" fill="{BG}"/>' + "".join(body) + "</svg>"
    )


def line_chart(points: Sequence[tuple[date, float | None]], title: str) -> str:
    """% done (of the tasks due) at each date: one point per date, a line through them."""
    w, h, left, right, top, bottom = 560, 210, 44, 24, 44, 34
    plot_w, plot_h = w - left - right, h - top - bottom
    body = [f'<text x="{left}" y="20" fill="{INK}" font-weight="bold">{escape(title)}</text>']
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" fill="{INK}" text-anchor="end">{tick}%</text>'
        )
    n = len(points)
    xy: list[tuple[float, float, float, date]] = []
    for i, (day, value) in enumerate(points):
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        if value is not None:
            xy.append((x, top + plot_h * (1 - value / 100), value, day))
        body.append(
            f'<text x="{x:.1f}" y="{h - bottom + 16}" fill="{INK}" text-anchor="middle">'
            f"{day:%d/%m/%y}</text>"
        )
    if len(xy) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in xy)
        body.append(f'<polyline points="{path}" fill="none" stroke="{DONE}" stroke-width="2.5"/>')
    for px, py, v, _ in xy:
        body.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{DONE}"/>'
            f'<text x="{px:.1f}" y="{py - 8:.1f}" fill="{INK}" text-anchor="middle">'
            f"{_pct_text(v)}</text>"
        )
    return _svg(w, h, title, body)


def bar_chart(rows: Sequence[tuple[str, int, int, int]], title: str) -> str:
    """One stacked bar per unit of its tasks due: done, overdue, due today (``(name, done,
    overdue, open)``), in the order given (the units most behind first)."""
    label_w, bar_h, gap, top = 230, 16, 6, 44
    h = top + len(rows) * (bar_h + gap) + 16
    plot_w = WIDTH - label_w - 60
    most = max([d + o + p for _, d, o, p in rows] or [1]) or 1
    body = [
        f'<text x="8" y="20" fill="{INK}" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{label_w}" y="28" width="10" height="10" fill="{DONE}"/>'
        f'<text x="{label_w + 14}" y="37" fill="{INK}">Đã hoàn thành</text>'
        f'<rect x="{label_w + 120}" y="28" width="10" height="10" fill="{LATE}"/>'
        f'<text x="{label_w + 134}" y="37" fill="{INK}">Quá hạn</text>'
        f'<rect x="{label_w + 200}" y="28" width="10" height="10" fill="{OPEN}"/>'
        f'<text x="{label_w + 214}" y="37" fill="{INK}">Đến hạn hôm nay</text>',
    ]
    for i, (name, done, late, due_today) in enumerate(rows):
        y = top + i * (bar_h + gap)
        short = name if len(name) <= 34 else name[:33] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 12}" fill="{INK}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        x = float(label_w)
        for n, colour in ((done, DONE), (late, LATE), (due_today, OPEN)):
            w = plot_w * n / most
            if n:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
                )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + 12}" fill="{INK}">{done}/{done + late + due_today}</text>'
        )
    return _svg(WIDTH, h, title, body)


def markdown_image(svg: str, alt: str) -> str:
    """The SVG as a Markdown image the Prefect UI draws (a base64 ``data:`` URI)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{alt.replace(']', ')').replace('[', '(')}](data:image/svg+xml;base64,{data})"
