"""Charts drawn on the server as inline SVG: pure functions from numbers to markup.

Pages load no script and nothing from elsewhere, so charts arrive drawn.  Colours
come from CSS classes (``static/seedboard.css`` gives them light and dark values),
never from the markup, which has no ``style`` attribute; a mark that carries
meaning differs in shape too: tall for a bad outcome, short for a good one, hollow
or dashed to tell kinds apart.  Every mark has a ``<title>``, every chart an
accessible name, and the pages repeat the numbers in a table.  Text is escaped on
the way in; the whole is marked safe only once it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Shape:
    """How a mark of one style is drawn."""

    height: float
    """As a share of the chart's height."""
    hollow: bool = False
    dashed: bool = False


SHAPES = {
    "failure": Shape(1.0),
    "error": Shape(1.0, hollow=True),
    "unexpected_success": Shape(0.7, dashed=True),
    "success": Shape(0.4),
    "expected_failure": Shape(0.4, hollow=True),
    "skip": Shape(0.15, hollow=True),
}
"""Per outcome: bad outcomes stand tall, good ones short, a skip is a stub."""


@dataclass(frozen=True, slots=True)
class Mark:
    """One result in a strip: its outcome, what it says on hover, where it leads."""

    style: str
    """A key of ``SHAPES``."""
    title: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A run of consecutive marks that belong together (say, at one commit)."""

    size: int
    title: str


GROUP_GAP = 6
"""Room between two groups of a strip's marks, beyond the usual gap."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One outcome's share of a stacked bar."""

    style: str
    value: int
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a bar chart; a highlighted bar is flagged with a triangle above it."""

    value: float
    title: str
    href: str | None = None
    highlight: bool = False


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a line chart; None leaves a gap in the line."""

    value: float | None
    title: str


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a grouped bar chart: its name, how it is drawn, a bar per group."""

    name: str
    style: str
    """A CSS class giving its colour."""
    shape: Shape
    bars: Sequence[Bar]


MARK_WIDTH = 10
MARK_GAP = 2
STRIP_HEIGHT = 24
SPARK_WIDTH = 5
SPARK_GAP = 1
SPARK_HEIGHT = 16
PLOT_WIDTH = 720
"""The widest a bar or line chart is drawn; more bars make each one thinner."""
MIN_WIDTH = 240
"""The narrowest, so that the first and last axis labels never overlap."""
MAX_STEP = 28
"""The most room one bar (or group of bars, or point) takes."""
GAP = 0.2
"""The share of a bar's room left empty beside it."""
CHART_HEIGHT = 100
TOP = 25
"""Room above a chart's bars for its scale (a line of text) and, below that, the flags of
highlighted bars (9 high), so that a flag over the highest bar never covers the scale."""
BOTTOM = 16
"""Room below a chart's bars for the first and last labels of its axis."""


def strip(marks: Sequence[Mark], label: str, groups: Sequence[Group] = ()) -> Markup:
    """A row of outcome marks, oldest left, each a link when it has somewhere to go.

    With ``groups``, consecutive marks are set apart in groups (their sizes add up to
    the marks'), each behind a band with its title, every other band shaded, and a gap
    between groups, so that the grouping does not rest on colour alone."""
    return _strip(marks, label, MARK_WIDTH, MARK_GAP, STRIP_HEIGHT, "strip", groups)


def sparkline(marks: Sequence[Mark], label: str) -> Markup:
    """A small strip without links, to sit in a line of text or a table cell."""
    return _strip(marks, label, SPARK_WIDTH, SPARK_GAP, SPARK_HEIGHT, "sparkline")


def stacked_bar(segments: Sequence[Segment], label: str, height: int = 18) -> Markup:
    """One bar split by outcome, as wide as its container: a run's results at a glance."""
    width = 1000
    total = sum(s.value for s in segments)
    parts = [_open_svg("stacked", width, height, label, stretch=True)]
    if total == 0:
        parts.append(_rect("empty hollow", 0, 0, width, height, "no results"))
    x = 0.0
    for segment in segments:
        if segment.value <= 0:
            continue
        share = segment.value / total * width
        parts.append(_rect(f"o-{segment.style}", x, 0, share, height, segment.title))
        x += share
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    bars: Sequence[Bar],
    label: str,
    axis: tuple[str, str] = ("", ""),
    reference: tuple[float, str] | None = None,
    scale: str = "",
) -> Markup:
    """Bars left to right, highest scaled to the chart's height.

    ``axis`` labels the first and last bar; ``reference`` draws a dashed line at a
    value (say the median) with its title; ``scale`` labels the top of the chart.
    """
    step, width = _layout(len(bars))
    highest = max([b.value for b in bars] + [reference[0] if reference else 0.0]) or 1.0
    parts = [_open_svg("bars", width, TOP + CHART_HEIGHT + BOTTOM, label)]
    parts.append(_scale(scale))
    for i, bar in enumerate(bars):
        parts.append(_bar(bar, i * step, step * (1 - GAP), highest, "bar"))
    if reference is not None:
        y = _y(reference[0], highest)
        parts.append(
            f'<line class="reference" x1="0" x2="{width}" y1="{_n(y)}" y2="{_n(y)}">'
            f"<title>{_text(reference[1])}</title></line>"
        )
    parts.append(_baseline(width))
    parts.append(_axis(axis, width))
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[Point],
    label: str,
    highest: float,
    axis: tuple[str, str] = ("", ""),
    scale: str = "",
) -> Markup:
    """A line through the points, left to right, ``highest`` at the top; gaps at None."""
    step, width = _layout(len(points))
    parts = [_open_svg("line", width, TOP + CHART_HEIGHT + BOTTOM, label), _scale(scale)]
    runs: list[list[str]] = [[]]
    dots: list[str] = []
    for i, point in enumerate(points):
        if point.value is None:
            runs.append([])
            continue
        x, y = _n(i * step + step / 2), _n(_y(point.value, highest or 1.0))
        runs[-1].append(f"{x},{y}")
        dots.append(
            f'<circle class="dot" cx="{x}" cy="{y}" r="3"><title>{_text(point.title)}</title>'
            "</circle>"
        )
    parts += [f'<polyline class="trace" points="{" ".join(run)}"/>' for run in runs if run]
    parts += dots
    parts += [_baseline(width), _axis(axis, width), "</svg>"]
    return Markup("".join(parts))


def grouped_bar_chart(
    series: Sequence[Series], label: str, axis: tuple[str, str] = ("", "")
) -> Markup:
    """Side by side per group, one bar of each series, with a legend on top."""
    groups = max((len(s.bars) for s in series), default=0)
    group_width, width = _layout(groups)
    bar = group_width * (1 - GAP) / max(len(series), 1)
    highest = max((b.value for s in series for b in s.bars), default=0) or 1.0
    parts = [_open_svg("bars grouped", width, TOP + CHART_HEIGHT + BOTTOM, label)]
    parts.append(_legend(series))
    for g in range(groups):
        for k, one in enumerate(series):
            if g < len(one.bars):
                x = g * group_width + k * bar
                parts.append(_bar(one.bars[g], x, bar, highest, _classes(one.style, one.shape)))
    parts += [_baseline(width), _axis(axis, width), "</svg>"]
    return Markup("".join(parts))


# Pieces.


def _strip(
    marks: Sequence[Mark],
    label: str,
    width: int,
    gap: int,
    height: int,
    kind: str,
    groups: Sequence[Group] = (),
) -> Markup:
    step = width + gap
    # How far each mark moves right for the groups before its own.
    shifts = [number * GROUP_GAP for number, g in enumerate(groups) for _ in range(g.size)]
    total = max(len(marks) * step - gap + (shifts[-1] if shifts else 0), width)
    parts = [_open_svg(kind, total, height, label, group=any(m.href for m in marks))]
    first = 0
    for number, group in enumerate(groups):
        shaded = " shaded" if number % 2 else ""
        x = first * step + number * GROUP_GAP
        parts.append(_rect(f"band{shaded}", x, 0, group.size * step - gap, height, group.title))
        first += group.size
    for i, mark in enumerate(marks):
        shape = SHAPES[mark.style]
        tall = max(round(shape.height * height), 2)
        rect = _rect(
            _classes(f"mark o-{mark.style}", shape),
            i * step + (shifts[i] if shifts else 0),
            height - tall,
            width,
            tall,
            None if mark.href else mark.title,
        )
        if mark.href:
            rect = f'<a href="{_text(mark.href)}"><title>{_text(mark.title)}</title>{rect}</a>'
        parts.append(rect)
    parts.append("</svg>")
    return Markup("".join(parts))


def _bar(bar: Bar, x: float, width: float, highest: float, classes: str) -> str:
    # A zero still gets a sliver, so that its title can be reached with the pointer.
    y = min(_y(bar.value, highest), TOP + CHART_HEIGHT - 1)
    drawn = _rect(
        classes + (" highlight" if bar.highlight else ""),
        x,
        y,
        width,
        TOP + CHART_HEIGHT - y,
        None if bar.href else bar.title,
    )
    if bar.highlight:
        middle = x + width / 2
        drawn += (
            f'<path class="flag" d="M{_n(middle - 4)},{_n(y - 9)}h8l-4,7z" aria-hidden="true"/>'
        )
    if bar.href:
        drawn = f'<a href="{_text(bar.href)}"><title>{_text(bar.title)}</title>{drawn}</a>'
    return drawn


def _legend(series: Sequence[Series]) -> str:
    parts = []
    x = 0
    for one in series:
        parts.append(_rect(_classes(one.style, one.shape), x, 3, 10, 10, None))
        parts.append(f'<text x="{x + 14}" y="12">{_text(one.name)}</text>')
        x += 24 + 7 * len(one.name)
    return '<g class="legend" aria-hidden="true">' + "".join(parts) + "</g>"


def _open_svg(
    kind: str, width: float, height: float, label: str, group: bool = False, stretch: bool = False
) -> str:
    # A chart of links is a group whose links are reachable; any other is one image.
    role = "group" if group else "img"
    size = (
        f'width="100%" height="{height}" preserveAspectRatio="none"'
        if stretch
        else (f'width="{_n(width)}" height="{height}"')
    )
    return (
        f'<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_n(width)} {height}" {size} role="{role}" aria-label="{_text(label)}">'
        f"<title>{_text(label)}</title>"
    )


@lru_cache(maxsize=2048)
def _rect(classes: str, x: float, y: float, width: float, height: float, title: str | None) -> str:
    # Kept: a flaky page draws the same few dozen sparkline marks a thousand times.
    inside = "" if title is None else f"<title>{_text(title)}</title>"
    return (
        f'<rect class="{classes}" x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" '
        f'height="{_n(height)}">{inside}</rect>'
    )


def _classes(base: str, shape: Shape) -> str:
    return base + (" hollow" if shape.hollow else "") + (" dashed" if shape.dashed else "")


def _scale(text: str) -> str:
    if not text:
        return ""
    return f'<text class="scale" x="0" y="11">{_text(text)}</text>'


def _baseline(width: float) -> str:
    y = TOP + CHART_HEIGHT
    return f'<line class="axis" x1="0" x2="{_n(width)}" y1="{y}" y2="{y}"/>'


def _axis(labels: tuple[str, str], width: float) -> str:
    first, last = labels
    y = TOP + CHART_HEIGHT + BOTTOM - 3
    parts = []
    if first:
        parts.append(f'<text class="axis-label" x="0" y="{y}">{_text(first)}</text>')
    if last:
        parts.append(
            f'<text class="axis-label" x="{_n(width)}" y="{y}" text-anchor="end">'
            f"{_text(last)}</text>"
        )
    return "".join(parts)


def _layout(count: int) -> tuple[float, float]:
    """The room each of ``count`` bars or points takes, and the chart's width."""
    step = min(PLOT_WIDTH / max(count, 1), MAX_STEP)
    return step, max(step * count, MIN_WIDTH)


def _y(value: float, highest: float) -> float:
    """The y of a value: 0 on the baseline, ``highest`` at the top of the plot."""
    return TOP + CHART_HEIGHT * (1 - max(value, 0.0) / highest)


def _n(number: float) -> str:
    """A coordinate, short: no trailing zeros."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _text(value: str) -> str:
    return str(escape(value))
