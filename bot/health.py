"""Health you can see: `/healthz` for a supervisor, `/metrics` in Prometheus text format.

`/healthz` answers 200 while updates are fetched and handled, and 503 with the reason when
the bot is alive but not working: polling stopped, or updates waiting while none has been
finished for `stall_after` seconds. systemd, Docker or Kubernetes then restart it, and the
durable log replays what was left.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from aiohttp import web
from telegram.ext import Application

from bot.telegram.inbound import ChatLanes
from bot.telegram.pacing import SendPacer

log = logging.getLogger(__name__)

STALL_AFTER = 120.0  # seconds without finishing an update while some wait


@dataclass
class Health:
    application: Application
    lanes: ChatLanes
    pacer: SendPacer
    poll_timeout: float
    stall_after: float = STALL_AFTER
    outbound: object | None = None  # bot.telegram.outbound.OutboxRunner: its sender's counters
    webhook: list | None = None     # webhook mode: the receiver (bot.telegram.webhook), once started

    def _sender_count(self, name: str) -> int:
        sender = getattr(self.outbound, "sender", None)
        return getattr(sender.counters, name) if sender is not None else 0

    def problems(self) -> list[str]:
        now = time.monotonic()
        stats = self.lanes.stats
        problems = []
        if not self.application.running:
            problems.append("application not running")
        if self.webhook is not None:  # updates come when Telegram sends them: no polling to watch
            if not any(receiver.serving for receiver in self.webhook):
                problems.append("webhook server not serving")
        else:
            updater = self.application.updater
            if updater is not None and not updater.running:
                problems.append("polling stopped")
            silent = now - stats.last_poll
            if not stats.waiting_for_room and silent > self.poll_timeout + 60 and self.lanes.pending() == 0:
                problems.append(f"no getUpdates answer for {silent:.0f} s")
        idle = now - stats.last_progress
        if self.lanes.pending() and idle > self.stall_after:
            problems.append(f"{self.lanes.pending()} update(s) waiting, none finished for {idle:.0f} s")
        return problems

    def metrics(self) -> str:
        stats = self.lanes.stats
        now = time.monotonic()
        rows = [
            ("jiceng_updates_received_total", "counter", "Updates fetched from the chat server.", stats.received),
            ("jiceng_updates_handled_total", "counter", "Updates finished (throttled ones included).", stats.handled),
            ("jiceng_updates_failed_total", "counter", "Updates set aside after repeated failures.", stats.failed),
            ("jiceng_updates_retried_total", "counter", "Tries repeated after a transient failure.", stats.retried),
            ("jiceng_updates_throttled_total", "counter", "Updates dropped by flood control.", stats.throttled),
            ("jiceng_updates_duplicate_total", "counter", "Updates delivered again and skipped.", stats.duplicates),
            ("jiceng_updates_pending", "gauge", "Updates held and not yet finished.", self.lanes.pending()),
            ("jiceng_oldest_pending_age_seconds", "gauge", "Age of the oldest unfinished update.",
             round(self.lanes.oldest_pending_age(), 3)),
            ("jiceng_last_poll_age_seconds", "gauge", "Seconds since getUpdates last answered.",
             round(now - stats.last_poll, 3)),
            ("jiceng_messages_sent_total", "counter", "Outbox messages the chat server accepted.",
             self._sender_count("sent")),
            ("jiceng_messages_undeliverable_total", "counter",
             "Outbox messages refused for good (blocked the bot, chat gone, failed after retries).",
             self._sender_count("undeliverable")),
            ("jiceng_send_refused_total", "counter", "Sends refused with 429 (waited out and sent again).",
             self.pacer.refused + self._sender_count("rate_limited")),
            ("jiceng_healthy", "gauge", "1 while /healthz answers 200.", 0 if self.problems() else 1),
        ]
        lines = []
        for name, kind, help_text, value in rows:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
        return "\n".join(lines) + "\n"


class HealthServer:
    def __init__(self, health: Health, host: str, port: int) -> None:
        self._health, self._host, self._port = health, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except OSError as error:  # the port is taken: the bot still serves farmers
            log.warning("health server could not listen on %s:%s (%s); running without it",
                        self._host, self._port, error)
            await self._runner.cleanup()
            self._runner = None
            return
        log.info("health at http://%s:%s/healthz and /metrics", self._host, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = self._health.problems()
        if problems:
            return web.Response(status=503, text="unhealthy: " + "; ".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(text=self._health.metrics(), content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})
