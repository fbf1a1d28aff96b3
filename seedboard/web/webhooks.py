"""The webhooks API: add, list and remove the receivers of events (a token, always:
their addresses and signing are the server's owners' business)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from twisted.web.server import Request

from seedboard.db.pool import Pool
from seedboard.db.webhooks import WebhookInfo, add_webhook, list_webhooks, remove_webhooks
from seedboard.ingest import parse_webhook
from seedboard.web.answers import RemovedWebhooks, Webhook, Webhooks
from seedboard.web.auth import Access
from seedboard.web.problems import not_found
from seedboard.web.requests import json_body
from seedboard.web.text import iso_utc
from seedboard.web.to_json import answer


def webhook_answer(info: WebhookInfo) -> Webhook:
    return answer(Webhook, info, events=list(info.events), created_at=iso_utc(info.created_at))


class WebhookRoutes:
    def __init__(self, pool: Pool, access: Access, clock: Callable[[], datetime]) -> None:
        self._pool = pool
        self._access = access
        self._clock = clock

    async def add(self, request: Request) -> Webhook:
        """``POST /api/v1/webhooks``: 201 and the webhook, without its secret."""
        await self._access.require_writer(request)
        spec = parse_webhook(json_body(request))
        added = await self._pool.write(
            add_webhook, spec.url, spec.events, spec.format, spec.secret, self._clock()
        )
        request.setResponseCode(201)
        request.setHeader("location", f"/api/v1/webhooks/{added.id}")
        return webhook_answer(added)

    async def list(self, request: Request) -> Webhooks:
        await self._access.require_writer(request)
        found = await self._pool.read(list_webhooks)
        return Webhooks(webhooks=[webhook_answer(info) for info in found])

    async def remove(self, request: Request, webhook_id: str) -> RemovedWebhooks:
        """``DELETE /api/v1/webhooks/<id>``: 404 if there is none."""
        await self._access.require_writer(request)
        if not webhook_id.isascii() or not webhook_id.isdigit() or len(webhook_id) > 10:
            raise not_found(f"No webhook with id {webhook_id!r}.")
        if not await self._pool.write(remove_webhooks, int(webhook_id)):
            raise not_found(f"No webhook with id {webhook_id!r}.")
        return RemovedWebhooks(removed=1)
