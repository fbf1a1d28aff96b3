"""Tests for the server-drawn SVG charts: shapes, titles, links, scales and escaping."""

from __future__ import annotations

from xml.etree import ElementTree

from markupsafe import Markup
from twisted.trial.unittest import SynchronousTestCase

from seedboard.web.charts import (
    CHART_HEIGHT,
    SHAPES,
    TOP,
    Bar,
    Mark,
    Point,
    Segment,
    Series,
    Shape,
    bar_chart,
    grouped_bar_chart,
    line_chart,
    sparkline,
    stacked_bar,
    strip,
)

SCRIPT = "<script>alert(1)</script>"
SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ElementTree.Element:
    """The chart as XML: it must be well formed, whatever text went in."""
    return ElementTree.fromstring(str(svg))


def titles(svg: Markup) -> list[str]:
    """The titles of a chart's marks, in drawing order; the chart's own name left out."""
    _name, *marks = (t.text or "" for t in parse(svg).iter(SVG + "title"))
    return marks


class ChartTests(SynchronousTestCase):
    def test_named(self) -> None:
        """Every chart is named by an aria-label and a first <title>, escaped alike."""
        for svg in [
            strip([], SCRIPT),
            sparkline([], SCRIPT),
            stacked_bar([], SCRIPT),
            bar_chart([], SCRIPT),
            line_chart([], SCRIPT, 1.0),
            grouped_bar_chart([], SCRIPT),
        ]:
            root = parse(svg)
            self.assertEqual(root.get("aria-label"), SCRIPT)
            self.assertEqual(root[0].tag, SVG + "title")
            self.assertEqual(root[0].text, SCRIPT)
            self.assertNotIn("<script>", str(svg))

    def test_no_inline_style(self) -> None:
        """No chart carries a style attribute or element: colours come from the stylesheet's
        classes, which the Content-Security-Policy's ``style-src 'self'`` needs."""
        marks = [Mark("failure", "f", "/runs/a"), Mark("skip", "s"), Mark("error", "e")]
        bars = [Bar(1.0, "a", "/runs/a", highlight=True), Bar(0.0, "b")]
        for svg in [
            strip(marks, "strip"),
            sparkline(marks, "sparkline"),
            stacked_bar([Segment("failure", 2, "2"), Segment("success", 1, "1")], "stacked"),
            stacked_bar([], "empty"),
            bar_chart(bars, "bars", axis=("a", "b"), reference=(0.5, "median"), scale="up"),
            line_chart([Point(0.5, "a"), Point(None, "gap"), Point(0.1, "c")], "line", 1.0),
            grouped_bar_chart(
                [Series("flaky", "s-flaky", Shape(1.0, dashed=True), bars)], "grouped", ("a", "b")
            ),
        ]:
            elements = list(parse(svg).iter())
            self.assertEqual([e.tag for e in elements if e.get("style") is not None], [])
            self.assertNotIn(SVG + "style", {e.tag for e in elements})


class StripTests(SynchronousTestCase):
    def test_one_rect_per_mark(self) -> None:
        """A strip draws one rect per mark, left to right, each linked and titled."""
        marks = [Mark("success", "ok", "/runs/1"), Mark("failure", "bad", "/runs/2")]
        root = parse(strip(marks, "two runs"))
        links = list(root.iter(SVG + "a"))
        self.assertEqual([a.get("href") for a in links], ["/runs/1", "/runs/2"])
        self.assertEqual([a.findtext(SVG + "title") for a in links], ["ok", "bad"])
        xs = [float(r.get("x", "")) for r in root.iter(SVG + "rect")]
        self.assertEqual(xs, sorted(xs))
        self.assertEqual(len(xs), 2)
        self.assertEqual(root.get("role"), "group")
        self.assertEqual(root.get("aria-label"), "two runs")

    def height(self, svg: Markup) -> float:
        [rect] = parse(svg).iter(SVG + "rect")
        return float(rect.get("height", ""))

    def test_shapes_by_outcome(self) -> None:
        """Bad outcomes are tall, good ones short, and kinds differ by outline or dashes."""
        heights = {style: self.height(strip([Mark(style, style)], "x")) for style in SHAPES}
        for bad in ("failure", "error", "unexpected_success"):
            for good in ("success", "expected_failure", "skip"):
                self.assertGreater(heights[bad], heights[good])
        drawn = {SHAPES[s] for s in SHAPES}
        self.assertEqual(len(drawn), len(SHAPES), "every outcome is drawn differently")

    def test_without_links(self) -> None:
        """A sparkline is one image, titles on its rects, and no links."""
        svg = sparkline([Mark("failure", "failed"), Mark("success", "passed")], "recent")
        root = parse(svg)
        self.assertEqual(list(root.iter(SVG + "a")), [])
        self.assertEqual(root.get("role"), "img")
        self.assertEqual(titles(svg), ["failed", "passed"])

    def test_empty(self) -> None:
        """An empty strip is still a well-formed chart."""
        self.assertEqual(list(parse(strip([], "nothing")).iter(SVG + "rect")), [])

    def test_escaped(self) -> None:
        """Titles, labels and links are escaped, and the chart stays well formed."""
        svg = strip([Mark("failure", f"pkg.{SCRIPT}", '/tests/"><script>')], SCRIPT)
        self.assertNotIn("<script>", str(svg))
        self.assertIn("&lt;script&gt;", str(svg))
        self.assertEqual(titles(svg), [f"pkg.{SCRIPT}"])
        self.assertEqual(parse(svg).get("aria-label"), SCRIPT)

    def test_is_markup(self) -> None:
        """Charts come out marked safe, so templates do not escape them a second time."""
        self.assertIsInstance(strip([], "x"), Markup)


class StackedBarTests(SynchronousTestCase):
    def test_shares(self) -> None:
        """Segments are as wide as their share; empty outcomes are left out."""
        svg = stacked_bar(
            [
                Segment("failure", 1, "1 failure"),
                Segment("skip", 0, "0"),
                Segment("success", 3, "3"),
            ],
            "4 results",
        )
        widths = [float(r.get("width", "")) for r in parse(svg).iter(SVG + "rect")]
        self.assertEqual(widths, [250, 750])
        self.assertEqual(titles(svg), ["1 failure", "3"])

    def test_no_results(self) -> None:
        """With nothing to show the bar is an outline saying so."""
        self.assertEqual(titles(stacked_bar([Segment("success", 0, "none")], "0")), ["no results"])


class BarChartTests(SynchronousTestCase):
    def test_flag_below_the_scale(self) -> None:
        """A slowdown's flag over the highest bar stays below the chart's scale line, so it
        never covers its text."""
        svg = bar_chart([Bar(4, "slow", highlight=True), Bar(1, "fast")], "bars", scale="up to 4 s")
        root = parse(svg)
        [scale] = [t for t in root.iter(SVG + "text") if t.get("class") == "scale"]
        [flag] = [p for p in root.iter(SVG + "path") if p.get("class") == "flag"]
        flag_top = float(flag.get("d", "").split(",")[1].split("h")[0])
        self.assertGreater(flag_top, float(scale.get("y", "")) + 2)

    def test_heights_scale(self) -> None:
        """The highest bar fills the plot; others are in proportion."""
        svg = bar_chart([Bar(1, "one"), Bar(4, "four"), Bar(2, "two")], "bars")
        heights = [float(r.get("height", "")) for r in parse(svg).iter(SVG + "rect")]
        self.assertEqual(heights, [25, 100, 50])

    def test_zero_reachable(self) -> None:
        """A zero bar is still a sliver with its title."""
        svg = bar_chart([Bar(0, "none"), Bar(3, "three")], "bars")
        [zero, _] = parse(svg).iter(SVG + "rect")
        self.assertGreater(float(zero.get("height", "")), 0)
        self.assertEqual(titles(svg), ["none", "three"])

    def test_highlight_and_reference(self) -> None:
        """A highlighted bar gets a flag; a reference line carries its title."""
        svg = bar_chart(
            [Bar(1, "a", "/runs/a"), Bar(5, "b", "/runs/b", highlight=True)],
            "durations",
            axis=("2026-01-01", "2026-01-02"),
            reference=(1.0, "median 1 s"),
        )
        text = str(svg)
        self.assertEqual(text.count('class="flag"'), 1)
        self.assertEqual(text.count("highlight"), 1)
        self.assertIn("<title>median 1 s</title>", text)
        self.assertEqual(
            [t.text for t in parse(svg).iter(SVG + "text")], ["2026-01-01", "2026-01-02"]
        )

    def test_escaped(self) -> None:
        """Bar titles, axis labels and the scale are escaped."""
        svg = bar_chart([Bar(1, SCRIPT)], SCRIPT, axis=(SCRIPT, SCRIPT), scale=SCRIPT)
        self.assertNotIn("<script>", str(svg))
        self.assertEqual(titles(svg), [SCRIPT])


class LineChartTests(SynchronousTestCase):
    def test_points_and_gaps(self) -> None:
        """A None value breaks the line; each known point is a dot with its title."""
        svg = line_chart(
            [Point(0.5, "a"), Point(1.0, "b"), Point(None, "c"), Point(0.0, "d")], "rates", 1.0
        )
        root = parse(svg)
        lines = list(root.iter(SVG + "polyline"))
        self.assertEqual([len(p.get("points", "").split()) for p in lines], [2, 1])
        self.assertEqual(titles(svg), ["a", "b", "d"])
        ys = [float(c.get("cy", "")) for c in root.iter(SVG + "circle")]
        self.assertEqual(ys, [TOP + CHART_HEIGHT / 2, TOP, TOP + CHART_HEIGHT])

    def test_all_zero(self) -> None:
        """A chart of zeros draws on the baseline instead of dividing by zero."""
        svg = line_chart([Point(0.0, "a")], "rates", 0.0)
        self.assertEqual(titles(svg), ["a"])


class GroupedBarChartTests(SynchronousTestCase):
    def test_series_side_by_side(self) -> None:
        """Each group has a bar per series, told apart by shape as well as by colour."""
        series = [
            Series("flaky", "s-flaky", Shape(1.0), [Bar(2, "f1"), Bar(0, "f2")]),
            Series("newly <b>", "s-new", Shape(1.0, hollow=True), [Bar(1, "n1"), Bar(0, "n2")]),
        ]
        svg = grouped_bar_chart(series, "flakiness")
        self.assertEqual(titles(svg), ["f1", "n1", "f2", "n2"])
        self.assertIn("newly &lt;b&gt;", str(svg))
        classes = [r.get("class") for r in parse(svg).iter(SVG + "rect")]
        self.assertIn("s-new hollow", classes)
