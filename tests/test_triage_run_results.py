"""Tests for grouping and choosing a run's results (seedboard.triage.run_results)."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.triage.run_results import group_results, select_results
from tests.support import result


class GroupResultsTests(SynchronousTestCase):
    def test_groups_by_fingerprint(self) -> None:
        """Failures alike but for their seed are one group; the bigger group comes first,
        the good results follow in their order."""
        results = [
            result("a", Outcome.ERROR, message="boom", seed=1),
            result("b", Outcome.FAILURE, seed=2),
            result("c"),
            result("d", Outcome.FAILURE, seed=3),
            result("e", Outcome.SKIP),
        ]
        grouped = group_results(results)
        self.assertEqual(
            [[r.test_id for r in group.results] for group in grouped.groups], [["b", "d"], ["a"]]
        )
        self.assertEqual(grouped.groups[0].summary, "FailTest: <n> != <n>")
        self.assertEqual([r.test_id for r in grouped.others], ["c", "e"])

    def test_ties_keep_order(self) -> None:
        """Groups of the same size keep the order of their first result."""
        results = [
            result("a", Outcome.ERROR, message="one"),
            result("b", Outcome.ERROR, message="two"),
        ]
        self.assertEqual([g.first.test_id for g in group_results(results).groups], ["a", "b"])


class SelectResultsTests(SynchronousTestCase):
    def test_outcomes_and_text(self) -> None:
        """Results are kept by outcome (any, when none given) and by a case-blind substring."""
        results = [result("pkg.A.test_x"), result("pkg.B.test_y", Outcome.SKIP)]
        self.assertEqual(select_results(results, (), None), results)
        self.assertEqual(select_results(results, {Outcome.SKIP}, None), results[1:])
        self.assertEqual(select_results(results, (), "a.TEST"), results[:1])
        self.assertEqual(select_results(results, {Outcome.SKIP}, "a."), [])
