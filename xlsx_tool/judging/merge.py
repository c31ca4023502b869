"""The aggregator: read every returned file, match it to a unit, score it, apply the rules.

`merge(plan, collected)` returns a `MergeResult`: every file accounted for (counted, duplicate
or refused, with the reason and its SHA-256), every unit's recomputed score and rank, and every
finding.  Writing it out is `outputs.summary`'s job.  One file's trouble is a finding about that
file, never an exception that costs everyone the summary.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path

from xlsx_tool import findings as FX
from xlsx_tool.judging.decide import decide
from xlsx_tool.judging.identify import identify, refuse
from xlsx_tool.judging.records import (COPY, COUNTED, DUPLICATE, IGNORED, RECEIVED, REFUSED, REPORT, FileRecord,
                                       MergeResult, Row, SummaryResult)
from xlsx_tool.judging.scoring import FORM, score_form
from xlsx_tool.judging.summaries import read_hand_tables, read_tool_summary
from xlsx_tool.plan import Plan
from xlsx_tool.reading.collect import DOCUMENTS, Source, sources_of, walk
from xlsx_tool.reading.form import read_form
from xlsx_tool.reading.limits import Limits
from xlsx_tool.reading.workbook import BookError, open_book

__all__ = ["COPY", "COUNTED", "DUPLICATE", "IGNORED", "REFUSED", "FileRecord", "MergeResult", "Row", "SummaryResult",
           "merge", "read_all", "read_source"]

# Files; below this a process pool costs more than it saves.  Measured on the demo's 139 files (2 cores):
# one process 0.52-0.57 s, a forked pool of two 0.30-0.33 s; starting the pool costs about 20 ms.
PARALLEL_FROM = 40


def read_source(src: Source, plan: Plan, limits: Limits) -> FileRecord:
    """Read, identify and score one source; any problem is a refusal, never an exception."""
    rec = FileRecord(src.name, mtime=src.mtime)
    if src.mail:
        rec.sender, rec.sent = src.mail
    if src.data is None:
        f = FX.make(src.code, file=src.name, **(src.params or {}))
        rec.findings.append(f)
        rec.status = IGNORED if f.severity == FX.INFO else REFUSED
        rec.reason = f.message
        return rec
    rec.size = len(src.data)
    rec.sha256 = sha256(src.data).hexdigest()
    try:
        if src.suffix in DOCUMENTS:
            return _read_document(src, plan, rec)
        book = open_book(src.data, src.suffix, limits)
        if book.has_macros:
            rec.findings.append(FX.make("file-macro", file=src.name))
        try:
            form = read_form(book)
        except BookError as e:
            if e.code == "file-not-form" and _read_summary(book, plan, rec):
                return rec
            raise
        if book.kind in ("xls", "xlsb"):
            rec.findings.append(FX.make("file-formulas-unknown", file=src.name, kind=f".{book.kind}"))
        rec.kind = FORM
        unit = identify(form, plan, rec)
        if unit is None:
            return rec
        rec.unit, rec.summary = unit.name, unit.summary  # a refusal from here on still counts for its committee
        missing = [it.seq for it in plan.rubric.items if it.seq not in form.items]
        if missing:
            raise BookError("file-not-form", f"表中找不到第{'、'.join(map(str, missing))}项（行被删除或改动）")
        if form.other_sheets:
            rec.findings.append(FX.make("form-sheet-copies", file=src.name, sheet=form.sheet, unit=unit.name,
                                        summary=unit.summary, count=len(form.other_sheets) + 1, chosen=form.sheet,
                                        names="、".join(f"“{n}”" for n in [form.sheet, *form.other_sheets])))
        scored = score_form(form, plan, unit, src.name)
    except BookError as e:
        # `todo` is what to ask the sender for; for a limit, the option that raises it
        return refuse(rec, FX.make(e.code, file=src.name, why=e.why, todo=e.todo, option=e.todo))
    except Exception as e:  # noqa: BLE001 — a reader bug must not stop the merge; say so plainly
        return refuse(rec, FX.make("file-unreadable", file=src.name,
                                   why=f"读取时出现意外错误：{type(e).__name__}", todo="请把此文件交给技术人员检查"))
    rec.scored = scored
    rec.findings.extend(scored.findings)
    return rec


def _read_summary(book, plan: Plan, rec: FileRecord) -> bool:
    """A summary unit's 评分汇总表 (made by this tool, or typed by hand) instead of a form: True if it is one."""
    from xlsx_tool.reading.annex3 import tables_in_book

    tables = tables_in_book(book)
    if read_tool_summary(book, tables, plan, rec):
        pass
    elif any(t.rows for t in tables):
        read_hand_tables(tables, plan, rec)
    else:
        return False
    if FX.count(rec.findings, FX.ERROR) and not rec.scores:
        rec.status, rec.reason = REFUSED, next(f.message for f in rec.findings if f.severity == FX.ERROR)
    else:
        rec.status, rec.reason = RECEIVED, f"{rec.kind}（{'、'.join(rec.covers) or '未写明汇总单位'}，{len(rec.scores)} 个单位）"
    return True


def _read_document(src: Source, plan: Plan, rec: FileRecord) -> FileRecord:
    """A Word document (or .doc/.pdf/.wps): a summary unit's 简要核查报告, a 附件3 typed as a Word table, or
    neither (ignored, with the reason)."""
    from xlsx_tool.reading.annex3 import tables_in_docx
    from xlsx_tool.reading.reports import report_of

    summary = report_of(src.name, src.data, plan)  # first: a report may hold a ranking table of its own
    if summary is not None:
        rec.kind, rec.covers = REPORT, [summary.name]
        rec.status, rec.reason = RECEIVED, f"{summary.name}的简要核查报告"
        return rec
    tables = tables_in_docx(src.data) if src.suffix == ".docx" else []
    if any(t.rows for t in tables):
        read_hand_tables(tables, plan, rec)
        rec.status, rec.reason = RECEIVED, f"{rec.kind}（{'、'.join(rec.covers) or '未写明汇总单位'}，{len(rec.scores)} 个单位）"
        return rec
    f = FX.make("file-ignored", file=src.name, why="既不是评分表或汇总表，也看不出是哪个汇总单位的简要核查报告"
                                                   "（文件名或标题中应有汇总单位名称和“简要核查报告”）")
    rec.findings.append(f)
    rec.status, rec.reason = IGNORED, f.message
    return rec


def _read_path(plan: Plan, root: Path, path: Path, limits: Limits) -> list[FileRecord]:
    # The bytes live only while this file is read: memory stays flat however many files there are.
    try:
        return [read_source(src, plan, limits) for src in sources_of(root, path, limits)]
    except Exception as e:  # noqa: BLE001 — the walk itself must not stop the merge either
        return [refuse(FileRecord(str(path)), FX.make("file-unreadable", file=str(path),
                                                      why=f"读取时出现意外错误：{type(e).__name__}",
                                                      todo="请把此文件交给技术人员检查"))]


_WORKER: tuple | None = None


def _init(plan, root, limits, paths):
    global _WORKER
    _WORKER = (plan, root, limits, paths)


def _work(i: int) -> list[FileRecord]:
    plan, root, limits, paths = _WORKER
    return _read_path(plan, root, paths[i], limits)


def read_all(plan: Plan, collected: Path, limits: Limits, workers: int | None = None,
             progress: Callable[[int], None] | None = None, skip: tuple[Path, ...] = ()) -> list[FileRecord]:
    """Every file under `collected` (but the folders in `skip`) as a record, in a stable order; on all
    cores when there are many."""
    paths, problems = walk(collected, skip)
    out = [read_source(p, plan, limits) for p in problems]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    done = 0
    if workers > 1 and len(paths) >= PARALLEL_FROM:
        done = _read_in_pool(plan, collected, limits, paths, workers, out, progress)
    for path in paths[done:]:
        out.extend(_read_path(plan, collected, path, limits))
        if progress:
            progress(1)
    return out


def _read_in_pool(plan: Plan, collected: Path, limits: Limits, paths: list[Path], workers: int,
                  out: list[FileRecord], progress) -> int:
    """Read `paths` on `workers` processes into `out`; returns how many paths were read (all, unless the
    pool broke: the caller reads the rest itself, so that a lost worker costs time, not the merge)."""
    import multiprocessing as mp
    import threading
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork where it is safe (no other thread, as in the command line): the workers inherit the plan and the
    # paths instead of having them pickled.  In a threaded program (the page's server) a fresh process is
    # started instead, as on Windows.
    methods = mp.get_all_start_methods()
    method = ("fork" if "fork" in methods and threading.active_count() == 1 else
              "forkserver" if "forkserver" in methods else "spawn")
    done = 0
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context(method), initializer=_init,
                                 initargs=(plan, collected, limits, paths)) as pool:
            # chunks big enough to spare the pipe, small enough that the last ones keep both cores busy
            chunk = max(1, min(64, len(paths) // (workers * 8)))
            for recs in pool.map(_work, range(len(paths)), chunksize=chunk):
                for rec in recs:
                    if rec.scored is not None:  # the plan's own unit, not the copy that came through the pipe
                        rec.scored.unit = plan.unit(rec.unit)
                out.extend(recs)
                done += 1
                if progress:
                    progress(1)
    except BrokenProcessPool:
        pass
    return done


def merge(plan: Plan, collected: Path, limits: Limits = Limits(), workers: int | None = None,
          progress: Callable[[int], None] | None = None, today: dt.date | None = None,
          skip: tuple[Path, ...] = ()) -> MergeResult:
    """`skip`: folders not to read, such as the merge's own output folder when it lies inside `collected`."""
    files = read_all(plan, Path(collected), limits, workers, progress, skip)
    return decide(plan, files, str(collected), today or dt.date.today())
