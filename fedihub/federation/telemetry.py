"""What federation code reports as it works (deliveries, inbox answers); the app decides where it goes."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    """Reports only: federation never reads anything back."""

    def delivery_finished(self, host: str, outcome: str) -> None: ...

    def inbox_answered(self, outcome: str) -> None: ...


class NoTelemetry:
    """Reports go nowhere: commands, and servers without FEDIHUB_METRICS_TOKEN."""

    def delivery_finished(self, host: str, outcome: str) -> None:
        pass

    def inbox_answered(self, outcome: str) -> None:
        pass
