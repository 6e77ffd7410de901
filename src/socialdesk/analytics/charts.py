"""Small server-rendered SVG charts: no chart library, no script, every label escaped.

Each function returns markup ready to embed; sizes are in viewBox units so the chart scales
to its container (1280-px desk or 390-px phone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0891b2", "#65a30d")
CHANNEL_COLOURS = {
    "x": "#111827",
    "facebook": "#2563eb",
    "instagram": "#db2777",
    "email": "#ea580c",
    "webhook": "#7c3aed",
}


def colour_for(name: str, i: int) -> str:
    return CHANNEL_COLOURS.get(name, PALETTE[i % len(PALETTE)])


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    magnitude = 10 ** (len(str(int(value))) - 1)
    return float((int(value / magnitude) + 1) * magnitude)


def stacked_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> Markup:
    """One bar per label, stacked by series (e.g. hours x channels)."""
    left, bottom, top = 34, 34, 10
    n = max(1, len(labels))
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0))
    plot_h = height - bottom - top
    slot = (width - left - 6) / n
    bar_w = max(1.0, slot * 0.75)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">{int(ymax)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        y: float = top + plot_h
        for j, (name, values) in enumerate(series.items()):
            v = values[i]
            if v <= 0:
                continue
            h = plot_h * v / ymax
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour_for(name, j)}"><title>{escape(name)} {escape(label)}: {v}'
                "</title></rect>"
            )
        if n <= 12 or i % max(1, n // 8) == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'class="axis">{escape(label)}</text>'
            )
    lx = left
    for j, name in enumerate(series):
        body.append(
            f'<rect x="{lx}" y="{height - 12}" width="10" height="10" '
            f'fill="{colour_for(name, j)}"/><text x="{lx + 13}" y="{height - 3}" '
            f'class="legend">{escape(name)}</text>'
        )
        lx += 20 + 8 * len(name)
    return _svg(width, height, body, title)


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    width: int = 640,
    height: int = 200,
    colour: str = "#2563eb",
) -> Markup:
    return _single_bars(labels, values, title, width, height, colour)


def _single_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    width: int,
    height: int,
    colour: str,
) -> Markup:
    left, bottom, top = 34, 22, 10
    n = max(1, len(labels))
    ymax = _nice_max(max(values, default=0))
    plot_h = height - bottom - top
    slot = (width - left - 6) / n
    bar_w = max(1.0, slot * 0.75)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">{int(ymax)}</text>',
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + (slot - bar_w) / 2
        h = plot_h * v / ymax
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {v:g}</title></rect>'
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    return _svg(width, height, body, title)


def hbars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    width: int = 640,
    capacity: Sequence[float | None] | None = None,
) -> Markup:
    """Horizontal bars with the label on the left, e.g. top topics or agent load."""
    row = 22
    height = max(row, row * len(labels)) + 6
    label_w = 150
    vmax = _nice_max(max([*values, *[c or 0 for c in (capacity or [])]], default=0))
    plot_w = width - label_w - 40
    body: list[str] = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        w = plot_w * v / vmax
        short = label if len(label) <= 22 else label[:21] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" class="legend">'
            f"{escape(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="#2563eb">'
            f"<title>{escape(label)}: {v:g}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" class="axis">{v:g}</text>'
        )
        if capacity is not None and capacity[i]:
            cx = label_w + plot_w * (capacity[i] or 0) / vmax
            body.append(
                f'<line x1="{cx:.1f}" y1="{y + 1}" x2="{cx:.1f}" y2="{y + row - 3}" '
                'stroke="#dc2626" stroke-width="2"/>'
            )
    return _svg(width, height, body, title)


def line(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    lo: float = -1.0,
    hi: float = 1.0,
    width: int = 640,
    height: int = 180,
) -> Markup:
    """A line over a fixed range (sentiment lives in [-1, 1]) with a zero line."""
    left, bottom, top = 34, 22, 10
    plot_h = height - bottom - top
    n = len(values)
    step = (width - left - 10) / max(1, n - 1)

    def y_of(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    body = [
        f'<line x1="{left}" y1="{y_of(0):.1f}" x2="{width - 4}" y2="{y_of(0):.1f}" '
        'stroke="#9ca3af" stroke-dasharray="4 3"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">{hi:g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="axis">{lo:g}</text>',
    ]
    points = [(left + i * step, y_of(v)) for i, v in enumerate(values)]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    for (x, y), label, v in zip(points, labels, values, strict=True):
        colour = "#dc2626" if v < -0.05 else "#16a34a" if v > 0.05 else "#6b7280"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>{escape(label)}: {v:+.2f}</title></circle>"
        )
    if labels:
        body.append(f'<text x="{left}" y="{height - 6}" class="axis">{escape(labels[0])}</text>')
        body.append(
            f'<text x="{width - 4}" y="{height - 6}" text-anchor="end" class="axis">'
            f"{escape(labels[-1])}</text>"
        )
    return _svg(width, height, body, title)
