"""The write API: create a run, add a batch of results, finish the run, record a polluter;
delete a run, also from its page's button.

Each write checks the bearer token, then the whole request (``seedboard.ingest``),
and only then writes, in one transaction on the database's writer thread, where the
run's lifecycle is checked too: a finished run takes no new batch, nor another finish.
The delete button of a run's page is a form: a login session and its CSRF secret stand
in for the token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from twisted.web.server import Request

from seedboard.db.deletes import delete_run
from seedboard.db.order import record_order_dependency
from seedboard.db.pool import Pool
from seedboard.db.runs import create_run
from seedboard.ingest import (
    parse_batch,
    parse_batch_number,
    parse_finish,
    parse_order_dependency,
    parse_run,
    parse_run_id,
)
from seedboard.services.notify import finish_run_with_events
from seedboard.services.results import add_batch
from seedboard.web.answers import (
    CreatedRun,
    DeletedRun,
    FinishedRun,
    RecordedOrderDependency,
    StoredBatch,
)
from seedboard.web.auth import Access, same_secret
from seedboard.web.problems import EXPIRED_FORM, forbidden, not_found
from seedboard.web.requests import form_fields, json_body, redirect
from seedboard.web.to_json import deleted_run, run_ref
from seedboard.web.urls import path_to_test


class Writes:
    """The handlers of the write API, over one database."""

    def __init__(self, pool: Pool, access: Access, clock: Callable[[], datetime]) -> None:
        self._pool = pool
        self._access = access
        self._clock = clock

    async def create_run(self, request: Request, run_id: str) -> CreatedRun:
        """``PUT /api/v1/runs/<run_id>``: 201 for a new run, 200 for one already there."""
        await self._access.require_writer(request)
        run = parse_run(run_id, json_body(request))
        created = await self._pool.write(create_run, run, self._clock())
        request.setResponseCode(201 if created else 200)
        if created:
            request.setHeader("location", f"/api/v1/runs/{run.id}")
        return CreatedRun(run=run_ref(run.id), created=created)

    async def add_batch(self, request: Request, run_id: str, number: str) -> StoredBatch:
        """``PUT /api/v1/runs/<run_id>/batches/<number>``: a batch sent again stores nothing."""
        await self._access.require_writer(request)
        body = json_body(request)
        checked_id, checked_number = parse_run_id(run_id), parse_batch_number(number)
        results = parse_batch(body)
        stored = await self._pool.write(
            add_batch, checked_id, checked_number, results, self._clock()
        )
        request.setResponseCode(201 if stored else 200)
        return StoredBatch(stored=len(results) if stored else 0, duplicate=not stored)

    async def finish(self, request: Request, run_id: str) -> FinishedRun:
        """``POST /api/v1/runs/<run_id>/finish``: the same finish again changes nothing,
        another one is a conflict (``seedboard.db.runs.finish_run``)."""
        await self._access.require_writer(request)
        body = json_body(request)
        checked_id = parse_run_id(run_id)
        await self._pool.write(
            finish_run_with_events, checked_id, parse_finish(body), self._clock()
        )
        return FinishedRun(run=run_ref(checked_id), finished=True)

    async def delete(self, request: Request, run_id: str) -> DeletedRun:
        """``DELETE /api/v1/runs/<run_id>``: the run and its results are gone; 404 if none."""
        await self._access.require_writer(request)
        checked_id = parse_run_id(run_id)
        if not await self._pool.write(delete_run, checked_id):
            raise not_found(f"No run with id {checked_id!r}.")
        return deleted_run(checked_id)

    async def delete_from_page(self, request: Request, run_id: str) -> bytes:
        """The run page's delete button: a logged-in session whose token is still valid and
        the session's secret in the form, then back to the runs list."""
        session = await self._access.session(request)
        if session is None or not await self._access.is_active(session.stored.token_hash):
            raise forbidden(EXPIRED_FORM)
        if not same_secret(session.stored.csrf, form_fields(request).get("csrf")):
            raise forbidden(EXPIRED_FORM)
        if not await self._pool.write(delete_run, run_id):
            raise not_found(f"No run with id {run_id!r}.")
        return redirect(request, "/")

    async def record_order_dependency(
        self, request: Request, run_id: str
    ) -> RecordedOrderDependency:
        """``POST /api/v1/runs/<run_id>/order-dependencies``: a polluter ``seedboard bisect``
        found; the run and both tests must have been recorded."""
        await self._access.require_writer(request)
        found = parse_order_dependency(run_id, json_body(request), self._clock())
        await self._pool.write(record_order_dependency, found)
        request.setResponseCode(201)
        return RecordedOrderDependency(
            run=run_ref(found.run_id),
            victim=found.victim,
            polluter=found.polluter,
            url=path_to_test(found.victim),
        )
