"""A round-robin load balancer in front of several webhook processes, as nginx's `upstream`
would be: each request goes to the next backend; one that does not answer is skipped (the
request goes to the next), so a killed process only costs a retry. For tests and benchmarks."""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web

PASSED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class RoundRobin:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends  # base URLs, e.g. http://127.0.0.1:8443
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""
        self.served: dict[str, int] = {b: 0 for b in backends}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("POST", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k in PASSED_HEADERS}
        first = next(self._turn)
        for step in range(len(self.backends)):
            backend = self.backends[(first + step) % len(self.backends)]
            try:
                async with self._http.post(f"{backend}{request.path}", data=body, headers=headers) as answer:
                    self.served[backend] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except (aiohttp.ClientConnectionError, TimeoutError):
                continue  # that process is down: the next one takes it
        return web.Response(status=502, text="no backend")
