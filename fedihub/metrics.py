"""What operators scrape: fedihub's Prometheus metrics, kept in a registry of each app's own."""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Delivery, InboxItem, Job, OutboundMail

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

# The queues `fedihub queue` shows, by table: every row has a state (pending, delivered, dead …).
QUEUES: dict[str, type[InboxItem] | type[Delivery] | type[Job] | type[OutboundMail]] = {
    "inbox": InboxItem, "deliveries": Delivery, "jobs": Job, "mail": OutboundMail,
}
# Seconds: a page should answer in tens of milliseconds; a slow remote read may take the 10 s timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """fedihub's metrics, every name prefixed ``fedihub_``; one instance per app, never global.

    It is the app's Telemetry (federation/telemetry.py) when metrics are on.
    """

    def __init__(self) -> None:
        # Imported here: a server without FEDIHUB_METRICS_TOKEN never loads prometheus-client (10 MB resident).
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry: CollectorRegistry = CollectorRegistry()
        self.deliveries = Counter(
            "fedihub_deliveries", "Delivery attempts by what became of the delivery (delivered, retry, dead) "
            "and remote host", ["outcome", "host"], registry=self.registry,
        )
        self.inbox = Counter(
            "fedihub_inbox_requests", "Activities POSTed to our inboxes: accepted, or why they were refused",
            ["outcome"], registry=self.registry,
        )
        self.requests = Histogram(
            "fedihub_http_request_duration_seconds", "Time to answer HTTP requests, by route and method",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.queue_rows = Gauge(
            "fedihub_queue_rows", "Rows of each work queue (inbox, deliveries, jobs, mail) by state",
            ["queue", "state"], registry=self.registry,
        )

    def delivery_finished(self, host: str, outcome: str) -> None:
        self.deliveries.labels(outcome=outcome, host=host).inc()

    def inbox_answered(self, outcome: str) -> None:
        self.inbox.labels(outcome=outcome).inc()

    def request_answered(self, route: str, method: str, seconds: float) -> None:
        self.requests.labels(route=route, method=method).observe(seconds)

    async def count_queues(self, session: AsyncSession) -> None:
        """Read the queue depths now: a scrape shows the database as it is, whichever process wrote it."""
        self.queue_rows.clear()
        for queue, model in QUEUES.items():
            for state, count in await session.execute(
                select(model.state, func.count()).group_by(model.state)
            ):
                self.queue_rows.labels(queue=queue, state=state).set(count)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries exactly ``Bearer <token>`` (compared in constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def refusal_reason(error: Exception) -> str:
    """A refusal's label: its error class in snake case (signature_error, rate_limited …), a closed set."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()
