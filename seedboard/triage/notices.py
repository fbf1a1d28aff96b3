"""What notifications say: the events a finished run causes, their facts, the Slack
message that tells them to people, and the signature receivers check.

Pure: ``seedboard.services.notify`` hands in the judged tests; the server's delivery
loop (``seedboard.web.deliveries``) adds the links and signs the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from seedboard.triage.classify import Classification, Verdict
from seedboard.triage.report import FailureGroup, SeedReport
from seedboard.triage.snippets import replay_command, seed_snippet


class EventKind(StrEnum):
    """The kinds of event a webhook may ask for."""

    CLASS_CHANGED = "class-changed"
    NEW_FAILURE_GROUP = "new-failure-group"
    RUN_FAILED = "run-failed"
    """A run finished with failures its previous run on the branch did not have."""
    QUARANTINE_EXPIRED = "quarantine-expired"


EVENT_KINDS = tuple(kind.value for kind in EventKind)
SIGNATURE_HEADER = "X-Seedboard-Signature"
EVENT_ID_HEADER = "X-Seedboard-Event-Id"
EVENT_KIND_HEADER = "X-Seedboard-Event"
MAX_LISTED = 50
"""Tests listed in one run's event; more are counted, not listed."""


@dataclass(frozen=True, slots=True)
class Judged:
    """A test of a finished run, judged on its window without and with the run."""

    test_id: str
    before: Verdict | None
    """None when the test had no result before the run."""
    after: Verdict
    groups: tuple[FailureGroup, ...]
    """Its failure groups with the run, the most frequent first."""
    new_groups: tuple[FailureGroup, ...]
    """Those it had no failure of in its window before the run."""
    failing_seed: SeedReport | None
    """The seed it failed with in the run, with its snippet and command, if it had one."""
    failed_in_run: bool = False


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What an event says of the run that caused it."""

    id: str
    branch: str | None
    commit: str | None
    build_url: str | None


def old_class(judged: Judged) -> Classification:
    """The test's class before the run; a test never seen before was stable."""
    return Classification.STABLE if judged.before is None else judged.before.classification


def changed(judged: Judged) -> bool:
    return old_class(judged) is not judged.after.classification


def events_of_run(
    run: RunFacts, judged: Sequence[Judged], new_failures: Sequence[str]
) -> list[tuple[EventKind, dict[str, object]]]:
    """The events a finished run causes: one per class change and per new failure group,
    and one for the run if it failed tests its previous run did not."""
    found: list[tuple[EventKind, dict[str, object]]] = []
    for test in judged:
        if changed(test):
            found.append((EventKind.CLASS_CHANGED, class_change(run, test)))
        for group in test.new_groups:
            found.append((EventKind.NEW_FAILURE_GROUP, new_group(run, test, group)))
    if new_failures:
        by_id = {test.test_id: test for test in judged}
        found.append((EventKind.RUN_FAILED, run_failed(run, new_failures, by_id)))
    return found


def class_change(run: RunFacts, test: Judged) -> dict[str, object]:
    return {
        **test_facts(test),
        "old_class": old_class(test).value,
        "run": run_facts(run),
    }


def new_group(run: RunFacts, test: Judged, group: FailureGroup) -> dict[str, object]:
    return {**test_facts(test), "failure_group": group_facts(group), "run": run_facts(run)}


def run_failed(
    run: RunFacts, new_failures: Sequence[str], judged: Mapping[str, Judged]
) -> dict[str, object]:
    listed = [
        test_facts(judged[name]) if name in judged else {"test": name}
        for name in new_failures[:MAX_LISTED]
    ]
    return {"run": run_facts(run), "new_failures": listed, "new_failure_count": len(new_failures)}


def test_facts(test: Judged) -> dict[str, object]:
    """The test, its class and rates, its main failure group and its failing seed."""
    verdict = test.after
    seed = test.failing_seed
    return {
        "test": test.test_id,
        "new_class": verdict.classification.value,
        "rates": {
            "runs": verdict.runs,
            "failures": verdict.failures,
            "failure_rate": round(verdict.failure_rate, 4),
            "flip_rate": round(verdict.flip_rate, 4),
        },
        "failure_group": group_facts(test.groups[0]) if test.groups else None,
        "seed": None if seed is None else seed.seed,
        "snippet": None if seed is None else seed.snippet,
        "replay_command": None if seed is None else seed.command,
    }


def group_facts(group: FailureGroup) -> dict[str, object]:
    return {"fingerprint": group.fingerprint, "summary": group.summary, "count": group.count}


def run_facts(run: RunFacts) -> dict[str, object]:
    return {"id": run.id, "branch": run.branch, "commit": run.commit, "build_url": run.build_url}


def quarantine_expired(
    test_pattern: str,
    reason: str | None = None,
    issue_url: str | None = None,
    expired_at: str | None = None,
    seed: int | None = None,
) -> tuple[EventKind, dict[str, object]]:
    """The event for a quarantine that expired, for whoever lifts expired quarantines to
    write with ``seedboard.db.webhooks.record_events`` in that transaction.

    ``expired_at`` is an ISO 8601 time; ``seed`` a failing seed of the test, if known,
    for the snippet and replay command."""
    payload: dict[str, object] = {
        "test": test_pattern,
        "reason": reason,
        "issue_url": issue_url,
        "expired_at": expired_at,
        "seed": seed,
        "snippet": None if seed is None else seed_snippet(test_pattern, seed),
        "replay_command": None if seed is None else replay_command(test_pattern, seed),
    }
    return EventKind.QUARANTINE_EXPIRED, payload


def with_links(
    payload: Mapping[str, object], base_url: str, link: Mapping[str, str]
) -> dict[str, object]:
    """``payload`` with absolute links to the pages it names; ``link`` maps ``run`` and
    ``test`` to their paths' prefix-free forms (already made by the web layer)."""
    base = base_url.rstrip("/")
    return {**payload, "links": {name: base + path for name, path in link.items()}}


def body(event_id: str, kind: str, created_at: str, facts: Mapping[str, object]) -> bytes:
    """The JSON body sent for an event: its id and kind first, then its facts."""
    document = {"id": event_id, "kind": kind, "created_at": created_at, **facts}
    return json.dumps(document, sort_keys=False, ensure_ascii=False).encode("utf-8")


def slack_body(kind: str, facts: Mapping[str, object]) -> bytes:
    """The same facts as a Slack message (``{"text": ...}``, mrkdwn)."""
    return json.dumps({"text": slack_text(kind, facts)}, ensure_ascii=False).encode("utf-8")


def slack_text(kind: str, facts: Mapping[str, object]) -> str:
    lines = [_headline(kind, facts)]
    lines += _test_lines(facts)
    for test in _as_list(facts.get("new_failures")):
        lines.append(f"• `{test.get('test')}` ({test.get('new_class', '?')})")
        lines += ["  " + line for line in _test_lines(test, with_test=False)]
    links = facts.get("links")
    if isinstance(links, Mapping):
        lines.append(" · ".join(f"<{url}|{name}>" for name, url in links.items()))
    return "\n".join(line for line in lines if line)


def _headline(kind: str, facts: Mapping[str, object]) -> str:
    test = facts.get("test")
    if kind == EventKind.CLASS_CHANGED:
        return f"*{test}* is now *{facts.get('new_class')}* (was {facts.get('old_class')})"
    if kind == EventKind.NEW_FAILURE_GROUP:
        return f"*{test}* fails in a new way"
    if kind == EventKind.RUN_FAILED:
        run = facts.get("run")
        run_id = run.get("id") if isinstance(run, Mapping) else "?"
        return f"Run {run_id} finished with {facts.get('new_failure_count')} new failures"
    if kind == EventKind.QUARANTINE_EXPIRED:
        return f"The quarantine of *{test}* expired"
    return f"seedboard event {kind}"


def _test_lines(facts: Mapping[str, object], with_test: bool = True) -> list[str]:
    lines: list[str] = []
    rates = facts.get("rates")
    if with_test and isinstance(rates, Mapping):
        lines.append(
            f"failed {rates.get('failures')} of {rates.get('runs')} runs "
            f"({float(str(rates.get('failure_rate', 0))):.0%}), "
            f"flip rate {float(str(rates.get('flip_rate', 0))):.0%}"
        )
    group = facts.get("failure_group")
    if isinstance(group, Mapping):
        lines.append(f"failure group: {group.get('summary')}")
    if facts.get("replay_command"):
        lines.append(f"replay: `{facts['replay_command']}`")
    if facts.get("snippet"):
        lines.append(f"```{facts['snippet']}```")
    return lines


def _as_list(value: object) -> Iterable[Mapping[str, object]]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def signature(secret: str, payload: bytes) -> str:
    """The ``X-Seedboard-Signature`` value: as GitHub signs, ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def verify(secret: str, payload: bytes, header: str) -> bool:
    """What a receiver does: compare the signature in constant time."""
    return hmac.compare_digest(signature(secret, payload), header)
