"""The staff console (server-rendered with aiohttp-jinja2, served by `jiceng web` under /console):
staff sign in by the one-time link the bot sends on /console (or by phone) and see their own area.
Every page checks the staff member's scope on the server; every export and action is audited.
The pages live in one module per part (signin, overview, demands, directory, notices, trainings,
registries, bases, reports, exports); this module joins them and names the routes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console.bases import BasePages
from bot.console.common import (
    _hours,
    _level,
    _mask,
    _percent,
    _region_name,
    _static_folder,
    _status_name,
    _when,
)
from bot.console.demands import DemandPages
from bot.console.directory import DirectoryPages
from bot.console.exports import ExportPages
from bot.console.notices import NoticePages
from bot.console.overview import OverviewPages
from bot.console.registries import RegistryPages
from bot.console.reports import ReportPages
from bot.console.signin import SigninPages
from bot.console.trainings import TrainingPages
from intents import taxonomy

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings
    from bot.web.signin import SignIn


class Console(SigninPages, OverviewPages, DemandPages, DirectoryPages, NoticePages, TrainingPages,
              RegistryPages, BasePages, ReportPages, ExportPages):
    def __init__(self, services: Services, upload_dir: str | Path, signin: SignIn | None,
                 settings: Settings) -> None:
        self.services = services
        self.settings = settings
        self.upload_dir = Path(upload_dir)
        self.signin = signin  # the web chat's phone + SMS code sign-in, when it is served

    def attach(self, app: web.Application) -> None:
        env = aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("bot.console", "templates"),
                                   autoescape=jinja2.select_autoescape(default=True))
        env.globals.update(field_name=taxonomy.field_name, region_name=_region_name, status_name=_status_name,
                           when=_when, hours=_hours, level=_level, percent=_percent, mask=_mask)
        env.filters.update(field_name=taxonomy.field_name, region_name=_region_name)
        from bot.services.bases import ACTION_NAMES
        from bot.services.bases import STATUS_NAMES as BASE_STATUS

        env.globals.update(base_status=lambda s: BASE_STATUS.get(s, s), action_name=lambda a: ACTION_NAMES.get(a, a))
        app.router.add_get("/console/login", self.login)
        app.router.add_post("/console/login", self.login_with_link)
        app.router.add_post("/console/logout", self.logout)
        app.router.add_post("/console/login/code", self.login_code)
        app.router.add_post("/console/login/verify", self.login_verify)
        app.router.add_get("/console/", self.dashboard)
        app.router.add_get("/console", self.dashboard)
        app.router.add_get("/console/demands", self.demands)
        app.router.add_get("/console/demands/{id}", self.demand)
        app.router.add_post("/console/demands/{id}/{action}", self.demand_action)
        app.router.add_get("/console/export.csv", self.export_csv)
        app.router.add_get("/console/export.xlsx", self.export_xlsx)
        app.router.add_get("/console/directory", self.directory)
        app.router.add_post("/console/directory", self.directory_check)
        app.router.add_post("/console/directory/confirm", self.directory_import)
        app.router.add_get("/console/experts/{id}", self.expert)
        app.router.add_post("/console/experts/{id}", self.expert_save)
        app.router.add_get("/console/experts/{id}/certificate.docx", self.expert_certificate)
        app.router.add_post("/console/experts/{id}/assess", self.expert_assess)
        app.router.add_get("/console/notices", self.notices)
        app.router.add_post("/console/notices", self.notice_compose)
        app.router.add_get("/console/notices/{id}", self.notice_progress)
        app.router.add_get("/console/notices/{id}/events", self.notice_events)
        app.router.add_post("/console/notices/{id}/cancel", self.notice_cancel)
        app.router.add_get("/console/trainings", self.trainings)
        app.router.add_get("/console/trainings/{id}", self.training)
        app.router.add_post("/console/trainings/{id}/attend", self.training_attend)
        app.router.add_get("/console/enterprises", self.enterprises)
        app.router.add_get("/console/achievements", self.achievements)
        app.router.add_post("/console/achievements", self.achievement_agreement)
        app.router.add_get("/console/bases", self.bases)
        app.router.add_post("/console/bases", self.base_declare)
        app.router.add_get("/console/bases/{id}", self.base)
        app.router.add_post("/console/bases/{id}/{action}", self.base_action)
        app.router.add_get("/console/bases/{id}/evidence/{key}/{n}", self.base_evidence)
        app.router.add_get("/console/reports", self.reports)
        app.router.add_get("/console/reports/hours.xlsx", self.report_hours)
        app.router.add_get("/console/reports/trainees.xlsx", self.report_trainees)
        app.router.add_get("/console/reports/service-record.xlsx", self.report_service_record)
        app.router.add_get("/console/reports/teams.xlsx", self.report_teams)
        app.router.add_get("/console/reports/signups/{id}.xlsx", self.report_signups)
        app.router.add_static("/console/static", _static_folder())
