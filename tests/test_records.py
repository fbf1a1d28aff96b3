"""Tests for turning trial's tests and failures into result records."""

from __future__ import annotations

from pathlib import Path

from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestDecorator, Todo

from seedboard.domain import Outcome, Result
from seedboard_reporter.recorder import Row
from seedboard_reporter.records import (
    ERROR,
    EXPECTED_FAILURE,
    FAILURE,
    SKIP,
    SUCCESS,
    UNEXPECTED_SUCCESS,
    Locations,
    Problem,
    make_row,
    problem_of,
    reason_of,
    seed_of,
    test_id,
)
from seedboard_reporter.trial_private import original_test
from tests import seeded_cases

HERE = Path(__file__).resolve().parent


def result_of(row: Row) -> Result:
    """The row as a record, field by field by name."""
    return Result(**{**row._asdict(), "outcome": Outcome(row.outcome)})


class Classic(SynchronousTestCase):
    """Shaped like a pre-seedboard test: the recipe's attribute, no seedboard_seed."""

    def method(self) -> None:
        pass

    method._random_seed = 11  # type: ignore[attr-defined]

    def plain(self) -> None:
        pass


class SeedOfTests(SynchronousTestCase):
    def test_seedboard_seed_first(self) -> None:
        """The seed seedboard's TestCase chose beats everything else."""
        case = seeded_cases.Sampler("test_pinned")
        case.seedboard_seed = 5
        self.assertEqual(seed_of(case, "x (random seed: 6)"), 5)

    def test_recipe_attribute(self) -> None:
        """A classic test's _random_seed is its seed."""
        self.assertEqual(seed_of(Classic("method"), None), 11)

    def test_message(self) -> None:
        """Otherwise the last 'random seed: N' in the message, if any."""
        self.assertEqual(seed_of(Classic("plain"), "a random seed: 1 then (random seed: 2)"), 2)
        self.assertIsNone(seed_of(Classic("plain"), "no seed here"))
        self.assertIsNone(seed_of(Classic("plain"), None))


NO_PROBLEM = Problem()


def made_result(
    test: object,
    outcome: Outcome = Outcome.SUCCESS,
    problem: Problem = NO_PROBLEM,
    duration: float = 0.0,
    cwd: Path = HERE.parent,
) -> Result:
    """The reporter's row for ``test``, read back as a result."""
    return result_of(
        make_row(test, test_id(test), outcome.value, problem, duration, Locations(str(cwd)))
    )


class OutcomeTests(SynchronousTestCase):
    def test_values_are_the_domains(self) -> None:
        """The outcome values rows carry are exactly those of the domain's Outcome."""
        values = [SUCCESS, FAILURE, ERROR, SKIP, EXPECTED_FAILURE, UNEXPECTED_SUCCESS]
        self.assertEqual(values, [outcome.value for outcome in Outcome])


class MakeResultTests(SynchronousTestCase):
    def test_each_value_in_its_field(self) -> None:
        """make_row puts every value under its own name: no two fields are swapped."""
        case = seeded_cases.Sampler("test_draw")
        case.seedboard_seed = 5
        problem = Problem(exception_type="E", message="M", traceback="T")
        row = make_row(
            case, "the.id", Outcome.ERROR.value, problem, 0.25, Locations(str(HERE.parent)), 4
        )
        self.assertIsInstance(row, Row)
        self.assertEqual(
            row._asdict(),
            {
                "test_id": "the.id",
                "outcome": "error",
                "duration": 0.25,
                "seed": 5,
                "exception_type": "E",
                "message": "M",
                "traceback": "T",
                "file": "tests/seeded_cases.py",
                "line": row.line,
                "position": 4,
            },
        )
        self.assertIsInstance(row.line, int)

    def test_location_of_decorated_method(self) -> None:
        """File is relative to the working directory; line is where the test starts."""
        case = seeded_cases.Sampler("test_pinned")
        made = result_of(
            make_row(
                case, case.id(), Outcome.SUCCESS.value, Problem(), 0.5, Locations(str(HERE.parent))
            )
        )
        self.assertEqual(made.file, "tests/seeded_cases.py")
        source = (HERE / "seeded_cases.py").read_text().splitlines()
        self.assertEqual(source[made.line - 1].strip(), "@seed(99)")  # type: ignore[operator]
        self.assertEqual(made.test_id, "tests.seeded_cases.Sampler.test_pinned")
        self.assertEqual(made.duration, 0.5)

    def test_through_trial_adapter(self) -> None:
        """A test trial hands over inside its adapter keeps its file, line and seed."""
        case = seeded_cases.Sampler("test_pinned")
        case.seedboard_seed = 5
        wrapped = TestDecorator(case)
        problem = Problem(message="x")
        made = result_of(
            make_row(
                original_test(wrapped),
                test_id(wrapped),
                Outcome.FAILURE.value,
                problem,
                0.1,
                Locations(str(HERE.parent)),
            )
        )
        self.assertEqual(made.outcome, Outcome.FAILURE)
        self.assertEqual((made.file, made.seed), ("tests/seeded_cases.py", 5))
        self.assertEqual(made.test_id, "tests.seeded_cases.Sampler.test_pinned")

    def test_location_under_wrapping_decorators(self) -> None:
        """A method wrapped by ``functools.wraps`` decorators is found where the test is
        written, not where the decorator's wrapper is."""
        source = (HERE / "seeded_cases.py").read_text().splitlines()
        case = seeded_cases.Wrapped("test_wrapped")
        file, line = Locations(str(HERE.parent)).of(case)
        self.assertEqual(file, "tests/seeded_cases.py")
        self.assertIn("def test_wrapped", source[line - 1 + 2])  # type: ignore[operator]

    def test_location_of_unusual_methods(self) -> None:
        """A method that is no function (a built-in) has no location; nor has an object
        trial would not run, whose method name is not a string."""
        where = Locations(str(HERE.parent))
        self.assertEqual(where.of(seeded_cases.Wrapped("test_builtin")), (None, None))
        self.assertEqual(where.of(object()), (None, None))

    def test_outside_working_directory(self) -> None:
        """A test outside the working directory keeps its absolute path."""
        case = seeded_cases.Sampler("test_draw")
        made = result_of(
            make_row(case, case.id(), Outcome.SUCCESS.value, Problem(), 0, Locations("/elsewhere"))
        )
        self.assertEqual(made.file, str(HERE / "seeded_cases.py"))

    def test_problem_of_failure(self) -> None:
        """An exception's qualified type, message and traceback are kept."""
        try:
            raise ValueError("bad value")
        except ValueError:
            problem = problem_of(Failure())
        self.assertEqual(problem.exception_type, "ValueError")
        self.assertEqual(problem.message, "bad value")
        self.assertIn("raise ValueError", problem.traceback or "")
        failed = problem_of(Failure(self.failureException("x")))
        self.assertEqual(failed.exception_type, "twisted.trial.unittest.FailTest")

    def test_nul_shown_as_replacement(self) -> None:
        """NUL in a failure's message and traceback is kept as U+FFFD, so any database stores it."""
        try:
            raise ValueError("bad\x00value")
        except ValueError:
            problem = problem_of(Failure())
        self.assertEqual(problem.message, "bad\ufffdvalue")
        self.assertNotIn("\x00", problem.traceback or "")
        self.assertEqual(reason_of("a\x00b"), Problem(message="a\ufffdb"))

    def test_reasons(self) -> None:
        """Skip reasons and todos become messages."""
        self.assertEqual(reason_of("no network"), Problem(message="no network"))
        self.assertEqual(reason_of(Todo("later")), Problem(message="later"))
        self.assertEqual(reason_of(None), Problem())
