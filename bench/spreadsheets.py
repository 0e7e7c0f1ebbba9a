"""Spreadsheet bombs against `jiceng import experts` (issue 13): each file is a few KB and
declares or unpacks to an enormous sheet. Run as staff would, in a process of its own, measuring
wall time and peak memory (the process's max RSS), and checking the database is unchanged. The
baseline beside it: the same command importing an honest 500-row directory.

    python -m bench.spreadsheets
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from storage.schema import upgrade

TARGET_SECONDS, TARGET_MB = 15.0, 400


def _honest(path: Path, rows: int = 500) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["姓名", "职称", "工作单位", "领域", "擅长", "服务地区", "所属服务团", "TelegramID", "手机"])
        writer.writerows([f"专家{n}", "高级农艺师", "湖南农业大学", "种植栽培", "水稻", "长沙市", "", "", ""]
                         for n in range(rows))
    return path


# A small wrapper process runs the import and reports its child's peak memory: max RSS is kept
# per process tree, so the measuring process must not have children of its own before.
_MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run([sys.executable, "-m", "bot.cli", "import", "experts", sys.argv[1]],
                      capture_output=True, text=True, timeout=120)
seconds = time.monotonic() - started
lines = (done.stdout + done.stderr).strip().splitlines() or [""]
# What the command says: its last line, leaving out log lines and the list of rows flagged for review.
last = [line for line in lines if " INFO " not in line and not line[:1].isspace() and not line.startswith("以下")] or [""]
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, done.returncode, last[-1], sep="\t")
"""


def _import(db: Path, path: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, what it said) of `jiceng import experts path`."""
    env = {**os.environ, "JICENG_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], env=env, capture_output=True, text=True,
                         timeout=180, check=True).stdout.strip()
    seconds, peak, code, last = out.split("\t", 3)
    return float(seconds), float(peak), int(code), last


def _build(make: str, path: Path) -> Path:
    """Write a bomb in a process of its own (building one takes memory the measure must not see)."""
    subprocess.run([sys.executable, "-c", f"from pathlib import Path; from bench.bombs import {make}; "
                    f"{make}(Path({str(path)!r}))"], check=True, timeout=120)
    return path


def _experts(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM experts").fetchone()[0]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="jiceng-bombs-"))
    rows = []
    for make in ("whole_grid", "far_cell", "small_deflate_bomb", "deflate_bomb", "many_rows"):
        db = folder / f"{make}.db"
        upgrade(f"sqlite+aiosqlite:///{db}")
        path = _build(make, folder / f"{make}.xlsx")
        seconds, peak, code, last = _import(db, path)
        rows.append((make, path.stat().st_size, seconds, peak, code, _experts(db), last))
    db = folder / "honest.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    honest = _import(db, _honest(folder / "honest.csv"))
    print("| file | size | refused in (s) | peak memory (MB) | exit | experts written | says |")
    print("|---|---|---|---|---|---|---|")
    for name, size, seconds, peak, code, written, last in rows:
        print(f"| {name} | {size / 1024:.1f} KB | {seconds:.2f} | {peak:.0f} | {code} | {written} | {last[:60]} |")
    print(f"| baseline: honest 500-row .csv | – | {honest[0]:.2f} (imported) | {honest[1]:.0f} | {honest[2]} | "
          f"{_experts(db)} | {honest[3][:60]} |")
    print(f"\ntarget: every bomb refused in < {TARGET_SECONDS:.0f} s with peak memory < {TARGET_MB} MB, 0 experts written")


if __name__ == "__main__":
    main()
