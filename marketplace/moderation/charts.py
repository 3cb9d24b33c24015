"""Server-side SVG charts: this computes the geometry, `templates/macros/charts.html` draws it.

No JavaScript and no external assets (the CSP allows neither); presentation attributes only,
since inline styles are refused too. Every chart has a <title>, an aria-label and a table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 34


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str        # the bucket, e.g. "12 Mar"
    value_label: str  # the formatted value


@dataclass
class Chart:
    id: str
    title: str
    kind: str                          # bar | line
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    line_segments: list[str] = field(default_factory=list)   # "x,y x,y ..." runs between gaps (kind == line)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT
    empty: bool = True

    @property
    def summary(self) -> str:
        if self.empty:
            return f"{self.title}: no data in this period."
        values = ", ".join(f"{b.label}: {b.value_label}" for b in self.bars if b.value_label != "—")
        return f"{self.title}. {values}"


TICKS = 5   # intervals on the y axis


def nice_ceiling(value: float) -> float:
    """The smallest 1/1.5/2/2.5/3/4/5 x 10^k at or above value: an axis top whose fifths read well
    (whole numbers from 10 up)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 10):
        candidate = step * 10 ** exponent
        if candidate >= value - 1e-9:
            return candidate
    return 10 ** (exponent + 1)


def chart(chart_id: str, title: str, points: list[tuple[str, float | None]], fmt: Callable[[float], str],
          kind: str = "bar", max_value: float | None = None, min_top: float = 0) -> Chart:
    """Bars (or a line) for (label, value) points; None is a gap (e.g. a rate with nothing to divide).

    `min_top`: the lowest axis top (5 for counts, so that the ticks are whole numbers)."""
    c = Chart(id=chart_id, title=title, kind=kind)
    values = [v for _, v in points if v is not None]
    c.empty = not values or all(v == 0 for v in values)
    top = max_value if max_value is not None else nice_ceiling(max([*values, min_top]))
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = c.right - c.left
    n = max(1, len(points))
    slot = plot_w / n
    for i in range(TICKS + 1):
        c.y_ticks.append((round(c.baseline - plot_h * i / TICKS, 1), fmt(top * i / TICKS)))
    every = max(1, math.ceil(n / 8))       # at most ~8 x labels
    run: list[str] = []
    for i, (label, value) in enumerate(points):
        x = c.left + slot * i
        h = 0 if value is None or top == 0 else plot_h * min(value, top) / top
        c.bars.append(Bar(round(x + slot * 0.15, 1), round(c.baseline - h, 1), round(max(1.0, slot * 0.7), 1),
                          round(h, 1), label, "—" if value is None else fmt(value)))
        if value is not None:
            run.append(f"{round(x + slot / 2, 1)},{round(c.baseline - h, 1)}")
        elif run:                            # a gap ends the line; no line drawn across missing data
            c.line_segments.append(" ".join(run))
            run = []
        if i % every == 0:
            c.x_labels.append((round(x + slot / 2, 1), label))
    if run:
        c.line_segments.append(" ".join(run))
    return c
