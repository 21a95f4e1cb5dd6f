"""The usage chart: an SVG drawn on the server from the database, so no chart library.

An SVG scales its text with its width, so one drawing cannot keep labels readable both on a
desk and on a phone: at 390 px the desk's drawing would shrink 11 px labels to 5 px. Two
drawings go out and the stylesheet shows one (style.css, `.chart-wide` / `.chart-narrow`):
the narrow one has a viewBox about as wide as a phone's card, so its labels stay >= 11 px
from 320 px up; the wide one's labels are drawn large enough for the smallest desk card.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bgone.domain.usage import DailyUsage


@dataclass(frozen=True)
class Layout:
    name: str  # "wide" or "narrow": the CSS class and the title's id
    width: int
    height: int
    left: int
    right: int
    font_size: int  # in viewBox units: the rendered size is this x (shown width / width)
    testid: str


TOP, BOTTOM_GAP = 12, 8
WIDE = Layout("wide", 720, 220, 40, 40, 13, "usage-chart")
NARROW = Layout("narrow", 340, 220, 46, 46, 15, "usage-chart-narrow")


def usage_svg(days: list[DailyUsage]) -> str:
    """Bars: requests per day (left axis). Line: credits per day (right axis)."""
    return _drawing(days, WIDE) + _drawing(days, NARROW)


def _drawing(days: list[DailyUsage], layout: Layout) -> str:
    count = max(1, len(days))
    bottom = layout.font_size + 2 * BOTTOM_GAP
    plot_w, plot_h = layout.width - layout.left - layout.right, layout.height - TOP - bottom
    slot = plot_w / count
    top_requests = max([d.requests for d in days] + [1])
    top_credits = max([d.credits for d in days] + [1.0])
    base = TOP + plot_h
    title_id = f"usage-title-{layout.name}"
    parts = [
        f'<svg class="chart-{layout.name}" viewBox="0 0 {layout.width} {layout.height}" '
        f'role="img" aria-labelledby="{title_id}" data-testid="{layout.testid}" '
        f'font-size="{layout.font_size}"><title id="{title_id}">Requests and credits per '
        f"day, last {len(days)} days</title>",
        f'<line class="axis" x1="{layout.left}" y1="{base}" x2="{layout.width - layout.right}" '
        f'y2="{base}"/>',
        f'<text x="{layout.left - 6}" y="{TOP + layout.font_size}" text-anchor="end">'
        f"{top_requests}</text>",
        f'<text x="{layout.left - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text x="{layout.width - layout.right + 6}" y="{TOP + layout.font_size}">'
        f"{top_credits:g}</text>",
    ]
    points = []
    # A date label every week on the desk, every ten days on a phone (they take more room).
    every = 7 if layout is WIDE else 10
    for index, day in enumerate(days):
        bar_h = plot_h * day.requests / top_requests
        x = layout.left + index * slot
        label = escape(f"{day.day:%b %d}: {day.requests} requests, {day.credits:g} credits")
        parts.append(
            f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{base - bar_h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" data-requests="{day.requests}">'
            f"<title>{label}</title></rect>"
        )
        points.append(f"{x + slot / 2:.1f},{base - plot_h * day.credits / top_credits:.1f}")
        last = index == count - 1
        if last or (index % every == 0 and count - 1 - index >= every * 0.6):
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{layout.height - BOTTOM_GAP}" '
                f'text-anchor="middle">{day.day:%b %d}</text>'
            )
    parts.append(f'<polyline class="credits" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)
