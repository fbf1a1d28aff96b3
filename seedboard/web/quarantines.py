"""Quarantines, issue links and owners through the API (a bearer token) and the test page's
forms (a login session and its CSRF secret, as the run page's delete button).

Who made a change is the token's name, or, from a form, the name of the token the
session logged in with: the history says it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from twisted.web.server import Request

from seedboard.db.pool import Pool
from seedboard.db.quarantines import (
    active_quarantines,
    quarantine_history,
    record_owners,
    set_issue,
)
from seedboard.db.runs import UnknownRun
from seedboard.db.tokens import active_token, hash_token
from seedboard.decoding import Invalid, decode
from seedboard.domain import Quarantine, QuarantineChange
from seedboard.ingest import IssueBody, OwnersBody, QuarantineBody, parse_run_id
from seedboard.services.quarantines import add_quarantine, remove_quarantine
from seedboard.triage.quarantine import (
    QuarantineError,
    checked_issue_url,
    checked_pattern,
    checked_reason,
    expiry,
)
from seedboard.web import answers
from seedboard.web.auth import Access, bearer_token, same_secret
from seedboard.web.problems import EXPIRED_FORM, forbidden, not_found, unauthorized
from seedboard.web.requests import form_fields, json_body, redirect
from seedboard.web.text import iso_utc
from seedboard.web.to_json import run_ref
from seedboard.web.urls import path_to_test


def quarantine_entry(quarantine: Quarantine) -> answers.QuarantineEntry:
    return answers.QuarantineEntry(
        test=quarantine.pattern,
        reason=quarantine.reason,
        issue_url=quarantine.issue_url,
        expires_at=None if quarantine.expires_at is None else iso_utc(quarantine.expires_at),
        created_by=quarantine.created_by,
        created_at=iso_utc(quarantine.created_at),
    )


def change_entry(change: QuarantineChange) -> answers.QuarantineChange:
    return answers.QuarantineChange(
        test=change.pattern,
        action=change.action,  # type: ignore[arg-type]
        actor=change.actor,
        at=iso_utc(change.at),
        reason=change.reason,
        detail=change.detail,
    )


def checked(
    test: str, reason: str | None, issue: str | None, expires: str | None, now: datetime
) -> tuple[str, str | None, str | None, datetime | None]:
    """A quarantine's values, by the command's rules; ``Invalid`` naming the field."""
    try:
        return (
            checked_pattern(test),
            checked_reason(reason),
            checked_issue_url(issue, "issue_url"),
            expiry(expires, now),
        )
    except QuarantineError as error:
        raise Invalid(str(error), error.field) from None


class QuarantineWrites:
    """The handlers of quarantines, issue links and owners, over one database."""

    def __init__(self, pool: Pool, access: Access, clock: Callable[[], datetime]) -> None:
        self._pool = pool
        self._access = access
        self._clock = clock

    async def listing(self, request: Request) -> answers.Quarantines:
        """``GET /api/v1/quarantines``: what the reporter goes by, and the latest changes."""
        await self._access.require_reader(request)
        found = await self._pool.read(active_quarantines, self._clock())
        history = await self._pool.read(quarantine_history)
        return answers.Quarantines(
            quarantines=[quarantine_entry(q) for q in found],
            history=[change_entry(c) for c in history],
        )

    async def add(self, request: Request) -> answers.ChangedQuarantine:
        """``POST /api/v1/quarantines``: 201 for a new quarantine, 200 for a change."""
        actor = await self._writer(request)
        body = decode(json_body(request), QuarantineBody)
        now = self._clock()
        test, reason, issue, expires = checked(
            body.test, body.reason, body.issue_url, body.expires, now
        )
        wanted = Quarantine(test, reason, issue, expires, actor, now)
        created = await self._pool.write(add_quarantine, wanted)
        request.setResponseCode(201 if created else 200)
        found = await self._pool.read(active_quarantines, now)
        current = next((q for q in found if q.pattern == test), wanted)
        return answers.ChangedQuarantine(quarantine=quarantine_entry(current), created=created)

    async def remove(self, request: Request, test: str) -> answers.LiftedQuarantine:
        """``DELETE /api/v1/quarantines/<test>``: lifted; 404 if none is in force."""
        actor = await self._writer(request)
        try:
            reason = checked_reason(_argument(request, b"reason"))
        except QuarantineError as error:
            raise Invalid(str(error), error.field) from None
        if not await self._pool.write(remove_quarantine, test, actor, reason, self._clock()):
            raise not_found(f"{test!r} is not quarantined.")
        return answers.LiftedQuarantine(test=test, lifted=True)

    async def link_issue(self, request: Request, test: str) -> answers.IssueLink:
        """``PUT /api/v1/issues/<test>``: the test's issue, or none."""
        actor = await self._writer(request)
        body = decode(json_body(request), IssueBody)
        try:
            test = checked_pattern(test)
            issue = checked_issue_url(body.issue_url, "issue_url")
        except QuarantineError as error:
            raise Invalid(str(error), error.field) from None
        await self._pool.write(set_issue, test, issue, actor, self._clock())
        return answers.IssueLink(test=test, issue_url=issue, url=path_to_test(test))

    async def owners(self, request: Request, run_id: str) -> answers.RecordedOwners:
        """``PUT /api/v1/runs/<run_id>/owners``: the owners the reporter read."""
        await self._writer(request)
        checked_id = parse_run_id(run_id)
        body = decode(json_body(request), OwnersBody)
        try:
            await self._pool.write(record_owners, checked_id, body.owners, self._clock())
        except UnknownRun:
            raise not_found(f"No run with id {checked_id!r}.") from None
        return answers.RecordedOwners(run=run_ref(checked_id), tests=len(body.owners))

    async def from_page(self, request: Request) -> bytes:
        """The test page's forms (``POST /quarantine``): quarantine, lift, or link an issue;
        then back to the test's page, where a mistake is shown."""
        actor, csrf = await self._session_writer(request)
        form = form_fields(request)
        if not same_secret(csrf, form.get("csrf")):
            raise forbidden(EXPIRED_FORM)
        now, action = self._clock(), form.get("action", "")
        test, reason, issue, expires = checked(
            form.get("test", ""), form.get("reason"), form.get("issue"), form.get("expires"), now
        )
        back = form.get("back") or test
        if action == "add":
            await self._pool.write(
                add_quarantine, Quarantine(test, reason, issue, expires, actor, now)
            )
        elif action == "remove":
            if not await self._pool.write(remove_quarantine, test, actor, reason, now):
                raise not_found(f"{test!r} is not quarantined.")
        elif action == "issue":
            await self._pool.write(set_issue, test, issue, actor, now)
        else:
            raise Invalid("must be add, remove or issue", "action")
        return redirect(request, path_to_test(back))

    async def _writer(self, request: Request) -> str:
        """The name of the request's valid bearer token; 401 without one."""
        token = bearer_token(request)
        name = None if token is None else await self._pool.read(active_token, hash_token(token))
        if name is None:
            raise unauthorized()
        return name

    async def _session_writer(self, request: Request) -> tuple[str, str]:
        """The name of the token a form's session logged in with, and the session's CSRF
        secret; 403 without one."""
        session = await self._access.session(request)
        if session is None:
            raise forbidden(EXPIRED_FORM)
        name = await self._pool.read(active_token, session.stored.token_hash)
        if name is None:
            raise forbidden(EXPIRED_FORM)
        return name, session.stored.csrf


def _argument(request: Request, name: bytes) -> str | None:
    values = (request.args or {}).get(name)
    return values[0].decode("utf-8", "replace") if values else None
