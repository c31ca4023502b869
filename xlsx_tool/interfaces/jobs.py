"""What `merge` and `report` write, as library functions the command line and the page both call.

`guard(path, work)` runs each write: the command line's turns a failed write into its message and
exit code; the page's records the message and goes on with the next file, so that a summary held
open in Excel does not keep the correction lists from being written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from xlsx_tool.judging.merge import MergeResult, merge
from xlsx_tool.reading.limits import Limits

Guard = Callable[[Path, Callable[[], object]], None]


def _run(path: Path, work: Callable[[], object]) -> None:
    work()


class Written(NamedTuple):
    summary: Path | None  # None when it could not be written (the guard said why)
    lists: list[Path]
    reports: list[Path]


def write_merge(result: MergeResult, out: Path, guard: Guard = _run) -> tuple[Path | None, list[Path]]:
    """评分汇总表.xlsx and the 退回修改清单 folder, as `xlsx-tool merge` writes them."""
    from xlsx_tool.outputs.corrections import FOLDER, write_lists
    from xlsx_tool.outputs.summary import SUMMARY_FILE, write_summary

    out = Path(out)
    target = out / SUMMARY_FILE
    lists: list[Path] = []
    done: list[Path] = []
    guard(target, lambda: (out.mkdir(parents=True, exist_ok=True), write_summary(result, target), done.append(target)))
    guard(out / FOLDER, lambda: lists.extend(write_lists(result, out)))
    return (done[0] if done else None), lists


def write_report(result: MergeResult, out: Path, guard: Guard = _run) -> list[Path]:
    """The 简要核查报告 drafts, as `xlsx-tool report` writes them."""
    from xlsx_tool.outputs.report import write_reports

    out = Path(out)
    paths: list[Path] = []
    guard(out, lambda: (out.mkdir(parents=True, exist_ok=True), paths.extend(write_reports(result, out))))
    return paths


def run_merge(plan, collected: Path, out: Path, today: dt.date | None = None, limits: Limits = Limits(),
              progress: Callable[[int], None] | None = None, guard: Guard = _run,
              workers: int | None = None) -> tuple[MergeResult, Written]:
    """Read collected/, then write what `merge` and `report` write: the page's 汇总 in one call."""
    result = merge(plan, Path(collected), limits, workers=workers, progress=progress, today=today)
    summary, lists = write_merge(result, out, guard)
    return result, Written(summary, lists, write_report(result, out, guard))
