"""The usage chart: an SVG drawn on the server from the database, so no chart library."""

from __future__ import annotations

from html import escape

from bgone.domain.usage import DailyUsage

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 12, 28


def usage_svg(days: list[DailyUsage]) -> str:
    """Bars: requests per day (left axis). Line: credits per day (right axis)."""
    count = max(1, len(days))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    top_requests = max([d.requests for d in days] + [1])
    top_credits = max([d.credits for d in days] + [1.0])
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="usage-title" '
        f'data-testid="usage-chart"><title id="usage-title">Requests and credits per day, '
        f"last {len(days)} days</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{top_requests}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text x="{WIDTH - RIGHT + 6}" y="{TOP + 10}">{top_credits:g}</text>',
    ]
    points = []
    for index, day in enumerate(days):
        bar_h = plot_h * day.requests / top_requests
        x = LEFT + index * slot
        label = escape(f"{day.day:%b %d}: {day.requests} requests, {day.credits:g} credits")
        parts.append(
            f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - bar_h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" data-requests="{day.requests}">'
            f"<title>{label}</title></rect>"
        )
        points.append(f"{x + slot / 2:.1f},{TOP + plot_h - plot_h * day.credits / top_credits:.1f}")
        last = index == count - 1
        if last or (index % 7 == 0 and count - 1 - index >= 4):
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{day.day:%b %d}</text>"
            )
    parts.append(f'<polyline class="credits" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)
