"""`jiceng demo` as a newcomer runs it: a separate process, no token, no internet, driven
through its terminal from /start to a leader's 接单, and again on a kept data folder."""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import sys

import pytest

QUESTION = "浏阳的水稻叶子有褐色病斑，是不是稻瘟病，打什么药"
TIMEOUT = 10.0


class DemoProcess:
    """`python -m bot.cli demo` with its stdin and stdout on pipes; `expect` reads on until a
    pattern shows up in the output printed since the last `expect`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = ""
        self._seen = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    @classmethod
    async def start(cls, cwd, *args: str) -> DemoProcess:
        env = {
            **os.environ,
            "PYTHONIOENCODING": "utf-8",
            # Anything that tried to leave this machine would go to a dead proxy and fail.
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "JICENG_WEB_PORT": str(_free_port()),
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "demo", *args, cwd=cwd, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def type(self, line: str) -> None:
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()

    async def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        """The first match of the regular expression ``pattern`` in the output not yet
        expected; fails with everything printed so far."""
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(timeout):
                while (match := regex.search(self.output, self._seen)) is None:
                    chunk = await self.process.stdout.read(4096)
                    if not chunk:
                        break
                    self.output += self._decoder.decode(chunk)
        except TimeoutError:
            match = None
        if match is None:
            pytest.fail(f"no {pattern!r} within {timeout}s in the demo's output:\n{self.output}")
        self._seen = match.end()
        return match

    async def finish(self, timeout: float = 5.0) -> int:
        self.process.stdin.close()
        rest, _ = await asyncio.wait_for(self.process.communicate(), timeout)
        self.output += self._decoder.decode(rest, final=True)
        return self.process.returncode

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.communicate()


@pytest.fixture
async def demo_process():
    started: list[DemoProcess] = []

    async def start(cwd, *args: str) -> DemoProcess:
        started.append(await DemoProcess.start(cwd, *args))
        return started[-1]

    yield start
    for demo in started:
        await demo.kill()


async def ask_and_submit(demo: DemoProcess, question: str) -> str:
    """The farmer asks, presses ✅ 提交 by its number; the tracking number the bot gave."""
    await demo.type(question)
    submit = await demo.expect(r"\[(\d+)\] ✅ 提交")
    await demo.type(submit.group(1))
    return (await demo.expect(r"需求编号：(XQ\d{8}-\d{4})")).group(1)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_question_goes_from_the_farmer_to_the_leaders_accept(tmp_path, demo_process):
    import aiohttp

    demo = await demo_process(tmp_path)
    web = (await demo.expect(r"网页聊天（手机浏览器或微信里打开）：(http://\S+)")).group(1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # the demo code signs in
        async with http.get(f"{web}/api/me") as response:
            headers = {"X-CSRF-Token": (await response.json())["csrf"]}
        async with http.post(f"{web}/api/login/code", json={"phone": "13800000001"}, headers=headers) as response:
            assert response.status == 200
        async with http.post(f"{web}/api/login/verify", json={"phone": "13800000001", "code": "123456"},
                             headers=headers) as response:
            assert response.status == 200
    await demo.expect(r"张大哥（农户）> ")
    await demo.type("/start")
    await demo.expect(r"\[1\] 长沙市")
    tracking_no = await ask_and_submit(demo, QUESTION)
    await demo.expect(rf"【机器人 → 团长 李团长】新需求 {tracking_no}")

    await demo.type(":as leader")
    await demo.expect(r"现在你扮演：团长 李团长")
    accept = await demo.expect(r"\[(\d+)\] 接单")
    await demo.type(accept.group(1))
    await demo.expect(r"✅ 已由 李团长 于 .* 接单")
    await demo.expect(rf"【机器人 → 农户 张大哥】您的需求 {tracking_no} 已由「水稻与植保专家服务团」团长 李团长 接单")

    await demo.type(":quit")
    assert await demo.finish() == 0, demo.output
    assert "再见" in demo.output
    assert "Traceback" not in demo.output and "ERROR" not in demo.output, demo.output
    assert list(tmp_path.iterdir()) == []  # nothing written where it was started: the data was temporary


async def test_a_kept_data_folder_is_reused_and_new_questions_still_count(tmp_path, demo_process):
    data = tmp_path / "demo-data"
    first = await demo_process(tmp_path, "--data", str(data))
    await first.expect(r"已导入演示名单")
    first_no = await ask_and_submit(first, QUESTION)
    assert await first.finish() == 0, first.output  # end of input ends the demo too

    again = await demo_process(tmp_path, "--data", str(data))
    await again.expect(r"沿用上次的演示数据")
    second_no = await ask_and_submit(again, "我家的猪不吃食还拉稀，发烧，怎么治")
    assert second_no != first_no
    await again.expect(rf"【机器人 → 团长 王团长】新需求 {second_no}")
    await again.type("/my")
    await again.expect(r"共 2 条")
    await again.type(":quit")
    assert await again.finish() == 0, again.output
