"""When an integration runs: schedules, cron, and signed webhooks.

:class:`Triggers` is the part of :class:`~apinotebook.integration.Integration`
that decides *when* to run; the run itself is :meth:`Integration.run`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apinotebook._core.secrets import Secret
from apinotebook._exceptions import ConfigError, FatalIntegrationError
from apinotebook.integration._context import active_integration
from apinotebook.integration._report import RunReport
from apinotebook.integration._schedule import Scheduler
from apinotebook.integration._webhook import WebhookReceiver

if TYPE_CHECKING:
    from apinotebook.integration._lease import Lease

if TYPE_CHECKING:
    from apinotebook.integration._pipeline import Pipeline
    from apinotebook.integration._state import StateStore

__all__ = ["Triggers"]

log = logging.getLogger("apinotebook.integration")


class Triggers:
    """Schedules and webhooks for an integration (mixed into ``Integration``)."""

    name: str
    store: StateStore
    last_report: RunReport | None
    _run_lock: threading.Lock
    _scheduler: Scheduler | None
    _receiver: WebhookReceiver | None
    _processor: threading.Thread | None
    _wake: threading.Event
    _closing: threading.Event
    _extract: Callable[[Any], Any] | None

    if TYPE_CHECKING:  # defined by Integration

        def run(
            self,
            *,
            dry_run: bool = False,
            limit: int | None = None,
            progress: Any = True,
            trigger: str = "manual",
        ) -> Any: ...

        def _pipeline(self, report: RunReport, progress: Any) -> Pipeline: ...

        def _lease(self, wait: float | None = None) -> Lease: ...

        def _unlease(self, lease: Lease) -> None: ...

    def _scheduled_run(self) -> None:
        try:
            self.run(trigger="schedule", progress="log")
        except FatalIntegrationError as exc:
            log.error("%s", exc)
            raise

    def schedule(
        self,
        *,
        every: str | float | timedelta | None = None,
        cron: str | None = None,
        background: bool = True,
    ) -> Scheduler:
        """Run on an interval or a cron schedule; in the background unless told otherwise."""
        if self._scheduler is not None and self._scheduler.running:
            raise ConfigError(f"{self.name} is already scheduled ({self._scheduler!r}); stop() it")
        scheduler = Scheduler(self._scheduled_run, every=every, cron=cron, name=self.name)
        self._scheduler = scheduler
        if background:
            return scheduler.start()
        scheduler.run_forever()
        return scheduler

    def every(self, interval: str | float | timedelta, *, background: bool = True) -> Scheduler:
        """Run every ``interval`` (``"5m"``), first run now."""
        return self.schedule(every=interval, background=background)

    def cron(self, expression: str, *, background: bool = True) -> Scheduler:
        """Run on a cron schedule (UTC)."""
        return self.schedule(cron=expression, background=background)

    def on_webhook(
        self,
        path: str = "/webhook",
        *,
        secret: str | Secret,
        host: str = "127.0.0.1",
        port: int = 0,
        extract: Callable[[Any], Any] | None = None,
        event_id_header: str = "X-Event-Id",
    ) -> WebhookReceiver:
        """Receive signed webhook events and process them through this integration.

        Each event is verified and stored durably before it is acknowledged.
        With ``extract`` (``event -> record or list of records``) the records
        go through the mapping and destination directly; without it, each
        batch of events triggers a normal run (a change notification).
        """
        if self._receiver is not None and self._receiver.running:
            raise ConfigError(f"{self.name} already receives webhooks at {self._receiver.url}")
        self._extract = extract
        self._receiver = WebhookReceiver(
            store=self.store,
            path=path,
            secret=secret,
            on_event=self._wake.set,
            host=host,
            port=port,
            event_id_header=event_id_header,
        ).start()
        self._closing.clear()
        self._processor = threading.Thread(
            target=self._process_loop, name=f"apinotebook-{self.name}-events", daemon=True
        )
        self._processor.start()
        self._wake.set()  # events left from an earlier session
        return self._receiver

    @property
    def webhook_url(self) -> str:
        """Where to send webhook events (after :meth:`on_webhook`)."""
        if self._receiver is None:
            raise ConfigError(f"{self.name} has no webhook receiver: call on_webhook() first")
        return self._receiver.url

    def _process_loop(self) -> None:
        delay = 0.5
        while not self._closing.is_set():
            self._wake.wait(timeout=delay)
            self._wake.clear()
            if self._closing.is_set():
                break
            try:
                self.process_events()
                delay = 0.5
            except Exception as exc:  # noqa: BLE001 - events stay in the inbox; retry later
                log.error("%s: processing webhook events failed: %s", self.name, exc)
                delay = min(delay * 2, 30.0)

    def process_events(self) -> RunReport | None:
        """Process the pending inbox events now; returns the run's report, if any ran."""
        events = self.store.pending_events()
        if not events:
            return None
        ids = [e.id for e in events]
        if self._extract is None:
            report: RunReport = self.run(trigger="webhook", progress="log")
            self.store.mark_events(ids, "processed")
            return report
        records: list[Any] = []
        for event in events:
            extracted = self._extract(event.payload)
            if isinstance(extracted, list | tuple):
                records.extend(extracted)
            elif extracted is not None:
                records.append(extracted)
        report = RunReport(self.name, trigger="webhook")
        lease = self._lease()
        try:
            active = active_integration.set(self)
            try:
                report.run_id = self.store.start_run()
                pipeline = self._pipeline(report, "log")
                try:
                    pipeline.run(records, advance_cursor=False)
                    report.finish("partial" if report.failed else "ok")
                except FatalIntegrationError as exc:
                    report.finish("failed", str(exc))
                    raise
                finally:
                    self.store.finish_run(report.run_id, report.status, report.to_dict())
                    self.last_report = report
            finally:
                active_integration.reset(active)
        finally:
            self._unlease(lease)
        self.store.mark_events(ids, "processed")
        return report

    def serve(
        self,
        path: str = "/webhook",
        *,
        secret: str | Secret,
        host: str = "127.0.0.1",
        port: int = 8765,
        extract: Callable[[Any], Any] | None = None,
    ) -> None:
        """Receive webhooks in the foreground until Ctrl+C (scripts)."""
        receiver = self.on_webhook(path, secret=secret, host=host, port=port, extract=extract)
        log.info("%s: listening for webhooks at %s", self.name, receiver.url)
        try:
            while not self._closing.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the schedule and the webhook receiver (a run in progress finishes)."""
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._receiver is not None:
            self._receiver.stop()
        self._closing.set()
        self._wake.set()
        if self._processor is not None and self._processor is not threading.current_thread():
            self._processor.join(30)
            self._processor = None
