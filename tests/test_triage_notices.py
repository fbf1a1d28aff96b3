"""What notifications say: the events of a finished run, their facts, Slack's message,
and the signature."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.triage.classify import classify
from seedboard.triage.notices import (
    EventKind,
    Judged,
    RunFacts,
    events_of_run,
    quarantine_expired,
    signature,
    slack_text,
    verify,
)
from seedboard.triage.report import failure_groups, seed_reports
from tests.test_triage_report import TEST, sample

RUN = RunFacts("run3", "main", "abc123", None)
F, P = Outcome.FAILURE, Outcome.SUCCESS


def judged(before: list, after: list) -> Judged:  # type: ignore[type-arg]
    verdict = classify(after)
    failing = [s for s in after if s.run_id == "run3" and s.outcome.is_bad]
    seeds = seed_reports(TEST, verdict, after)
    return Judged(
        TEST,
        classify(before) if before else None,
        verdict,
        failure_groups(after),
        tuple(
            g for g in failure_groups(after) if g.fingerprint not in {s.fingerprint for s in before}
        ),
        next((r for r in seeds if failing and r.seed == failing[0].seed), None),
        bool(failing),
    )


class EventsTests(SynchronousTestCase):
    def test_a_first_failure(self) -> None:
        """A test's first failure: its class changes, a failure group is new, the run failed."""
        after = [sample(3, F, 5, "fp1", "boom")]
        events = events_of_run(RUN, [judged([], after)], [TEST])
        self.assertEqual(
            [kind for kind, _ in events],
            [EventKind.CLASS_CHANGED, EventKind.NEW_FAILURE_GROUP, EventKind.RUN_FAILED],
        )
        facts = events[0][1]
        self.assertEqual((facts["old_class"], facts["new_class"]), ("stable", "broken"))
        self.assertEqual(facts["seed"], 5)
        self.assertEqual(facts["replay_command"], f"SEEDBOARD_SEED=5 trial {TEST}")
        self.assertIn("@seed(5)", str(facts["snippet"]))
        self.assertEqual(
            facts["run"], {"id": "run3", "branch": "main", "commit": "abc123", "build_url": None}
        )

    def test_same_class_same_group_no_event(self) -> None:
        """Failing again alike, with its class unchanged and no new failure, says nothing."""
        before = [sample(1, F, 5, "fp1"), sample(2, F, 6, "fp1")]
        after = [sample(3, F, 7, "fp1"), *before]
        self.assertEqual(events_of_run(RUN, [judged(before, after)], []), [])

    def test_a_pass_changes_the_class(self) -> None:
        """A broken test that passes changes class, with no seed to replay from the run."""
        before = [sample(1, F, 5, "fp1"), sample(2, F, 6, "fp1")]
        after = [sample(3, P, 7), *before]
        [(kind, facts)] = events_of_run(RUN, [judged(before, after)], [])
        self.assertEqual(kind, EventKind.CLASS_CHANGED)
        self.assertEqual(facts["old_class"], "broken")
        self.assertIsNone(facts["seed"])

    def test_quarantine_expired(self) -> None:
        """The quarantine hook's event names the test, why, its issue and its seed's replay."""
        kind, facts = quarantine_expired(
            TEST, "flaky DNS", "https://issues/1", "2026-12-01T00:00:00Z", 9
        )
        self.assertEqual(kind, EventKind.QUARANTINE_EXPIRED)
        self.assertEqual(facts["replay_command"], f"SEEDBOARD_SEED=9 trial {TEST}")
        self.assertIn("expired", slack_text(kind, facts))


class SignatureTests(SynchronousTestCase):
    def test_github_example(self) -> None:
        """Signed exactly as GitHub signs: its documented example gives its documented value."""
        expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        self.assertEqual(signature("It's a Secret to Everybody", b"Hello, World!"), expected)
        self.assertTrue(verify("It's a Secret to Everybody", b"Hello, World!", expected))
        self.assertFalse(verify("another secret", b"Hello, World!", expected))


class SlackTests(SynchronousTestCase):
    def test_a_run_with_new_failures(self) -> None:
        """The Slack message of a failed run lists each new failure with its replay and links."""
        after = [sample(3, F, 5, "fp1", "boom")]
        [*_, (kind, facts)] = events_of_run(RUN, [judged([], after)], [TEST])
        text = slack_text(kind, {**facts, "links": {"run": "https://sb/runs/run3"}})
        self.assertIn("Run run3 finished with 1 new failures", text)
        self.assertIn(f"`{TEST}` (broken)", text)
        self.assertIn(f"SEEDBOARD_SEED=5 trial {TEST}", text)
        self.assertIn("<https://sb/runs/run3|run>", text)
