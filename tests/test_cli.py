"""The `jiceng` command as staff use it, and `jiceng run` as a separate process polling a
Bot API server over HTTP, the way the acceptance tests drive it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.standin import BotApiStandIn
from bot.telegram.startup import BOT_USERNAME
from storage.db import create_engine, session_factory
from storage.models import Setting

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
TOKEN = "654321:CLI-TEST"


@pytest.fixture
def env(monkeypatch, db_url):
    monkeypatch.setenv("JICENG_DATABASE_URL", db_url)
    monkeypatch.delenv("JICENG_BOT_USERNAME", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return db_url


def test_import_teams_then_experts_and_reimport_updates(env, capsys):
    assert main(["import", "teams", str(EXAMPLES / "teams.csv")]) == 0
    assert "新增 3 个" in capsys.readouterr().out
    assert main(["import", "experts", str(EXAMPLES / "experts.xlsx")]) == 0
    assert main(["import", "teams", str(EXAMPLES / "teams.csv")]) == 0
    assert "更新 3 个" in capsys.readouterr().out


def test_bad_file_imports_nothing_and_names_the_rows(env, tmp_path, capsys):
    bad = tmp_path / "teams.csv"
    bad.write_text("服务团名称,领域,服务地区,团长TelegramID\n好团,植物保护,长沙市,\n坏团,不存在的领域,长沙市,1.38E+10\n", "utf-8")
    assert main(["import", "teams", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "第 3 行" in err and "科学计数法" in err
    assert main(["invite", "leader", "好团"]) == 1  # nothing was imported
    assert "好团" in capsys.readouterr().err


def test_staff_add_and_invite_link_uses_the_bots_stored_username(env, capsys):
    assert main(["staff", "add", "123456789", "--name", "王工作人员"]) == 0
    assert "王工作人员" in capsys.readouterr().out
    assert main(["import", "teams", str(EXAMPLES / "teams.csv")]) == 0

    async def remember_username():
        engine = create_engine(env)
        async with session_factory(engine).begin() as session:
            session.add(Setting(key=BOT_USERNAME, value="jiceng_demo_bot"))
        await engine.dispose()

    asyncio.run(remember_username())
    capsys.readouterr()
    assert main(["invite", "leader", "长沙市种植业专家服务团"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/jiceng_demo_bot?start=")
    code = link.rsplit("=", 1)[1]

    assert main(["invite", "list"]) == 0
    listed = capsys.readouterr().out
    assert code[:8] in listed and "团长" in listed and "可用" in listed and "有效至" in listed
    assert main(["invite", "revoke", code[:8]]) == 0
    assert "已收回" in capsys.readouterr().out
    assert main(["invite", "revoke", "nosuchcode"]) == 1
    assert "没有这个邀请码" in capsys.readouterr().err


def test_staff_confirm_a_takeover_on_the_command_line(env, tmp_path, capsys):
    from bot.services import invites
    from bot.services.people import ensure_person
    from bot.telegram.common import account_of

    teams = tmp_path / "teams.csv"
    teams.write_text("服务团名称,领域,服务地区,团长TelegramID\n好团,植物保护,长沙市,1001\n", "utf-8")
    assert main(["import", "teams", str(teams)]) == 0

    async def open_invite():
        engine = create_engine(env)
        sessions = session_factory(engine)
        code = await invites.create(sessions, "leader", "好团")
        async with sessions.begin() as session:
            newcomer = await ensure_person(session, account_of(1002), "赵新")
        await invites.redeem(sessions, code, newcomer.id)
        await engine.dispose()
        return code

    code = asyncio.run(open_invite())
    capsys.readouterr()
    assert main(["invite", "list"]) == 0
    assert "待确认更换" in capsys.readouterr().out
    assert main(["invite", "confirm", code[:8]]) == 0
    assert "已确认更换" in capsys.readouterr().out
    assert main(["invite", "refuse", code[:8]]) == 0
    assert "之前已处理" in capsys.readouterr().out


def test_run_without_a_token_explains_what_to_set(env, capsys):
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


async def test_jiceng_run_serves_a_farmer_and_a_leader_over_http_and_stops_on_sigterm(tmp_path):
    db_url = f"sqlite+aiosqlite:///{tmp_path}/run.db"  # empty: `jiceng run` creates the schema
    async with BotApiStandIn(token=TOKEN, bot_username="jiceng_cli_bot") as api:
        api.refusals["setMyCommands"] = "Bad Request: not supported by this server"
        api.refusals["deleteWebhook"] = "Bad Request: webhooks are not supported"
        environment = {
            **os.environ, "JICENG_DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": f"{api.url}/bot",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=environment,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            api.send_text(1001, "/start", first_name="张大哥")
            await api.wait_for_message(1001, "专家服务基层", timeout=60)
            api.send_text(1001, "我家的猪不吃食还拉稀，怎么办")
            confirm = await api.wait_for_message(1001, "提交", timeout=15)
            api.press(1001, confirm, "提交")
            await api.wait_idle()
            assert "XQ" in api.current(confirm).text
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, stderr.decode()
        assert "refused the command menu" in stderr.decode()  # refused command menu: logged, not fatal


def test_staff_delete_a_farmers_personal_data(env, capsys):
    from bot.services.people import ensure_person
    from bot.telegram.common import account_of

    async def a_farmer():
        engine = create_engine(env)
        async with session_factory(engine).begin() as session:
            await ensure_person(session, account_of(777), "张大哥")
        await engine.dispose()

    asyncio.run(a_farmer())
    assert main(["forget", "777"]) == 0
    assert "已删除个人信息" in capsys.readouterr().out
    assert main(["forget", "777"]) == 1  # nobody by that account any more
    assert "没有 TelegramID 为 777 的人" in capsys.readouterr().err
