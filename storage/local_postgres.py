"""A throwaway PostgreSQL server from Debian's `postgresql` package, for the test suite, the
benchmarks and trying jiceng on one machine: `initdb` into a temporary folder, start on a free
port on 127.0.0.1 with trust authentication, and remove it all on stop.

`initdb` refuses to run as root, so as root the server runs as the `postgres` user the package
creates. Nothing here is meant for production (see README “Production”)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

NOT_INSTALLED = "没有找到 PostgreSQL（Debian: apt-get install postgresql）"


def bin_dir() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                   if p.parent.name.isdigit() else 0)
    return found[-1] if found and (found[-1] / "initdb").exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalPostgres:
    root: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def sql(self, statement: str, database: str = "postgres", check: bool = True) -> str:
        """Run one statement with psql (outside any transaction: CREATE/DROP DATABASE work)."""
        result = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                           "-v", "ON_ERROR_STOP=1", "-qAtc", statement, check=check)
        return result.stdout.strip()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start(max_connections: int = 300, durable: bool = False) -> LocalPostgres:
    """A fresh server on a free port (about a second). RuntimeError when PostgreSQL is missing.
    Not `durable`: no fsync (tests); durable: PostgreSQL's own defaults (benchmarks)."""
    found = bin_dir()
    if found is None:
        raise RuntimeError(NOT_INSTALLED)
    root = Path(tempfile.mkdtemp(prefix="jiceng-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = LocalPostgres(root, _free_port(), found)
    server._run("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync")
    options = f"-p {server.port} -h 127.0.0.1 -k {root} -c max_connections={max_connections}"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    server._run("pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-t", "60", "-o", options,
                "start")
    return server
