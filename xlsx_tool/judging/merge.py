"""The aggregator: read every returned file, match it to a unit, score it, apply the rules.

`merge(plan, collected)` returns a `MergeResult`: every file accounted for
(counted, duplicate or refused, with the reason and its SHA-256), every unit's
recomputed score and rank, and every finding.  Writing it out is `summary_writer`'s job.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from xlsx_tool import findings as FX
from xlsx_tool.reading.collect import Source, list_files, sources_of
from xlsx_tool.decimals import as_text
from xlsx_tool.reading.limits import Limits
from xlsx_tool.plan import Plan, SummaryUnit, Unit
from xlsx_tool.textnorm import norm_text

if TYPE_CHECKING:
    from xlsx_tool.judging.scoring import Scored

PARALLEL_FROM = 300  # sources; below this a process pool costs more than it saves

COUNTED, DUPLICATE, COPY, REFUSED, IGNORED = "采用", "未采用（同一单位另有采用的文件）", "重复发送（只计一次）", "拒收", "忽略"


# The records are plain classes and NamedTuples, not dataclasses: a merge defines them at every
# start, and a dataclass costs 0.25 ms to define (its methods are generated and compiled).


class FileRecord:
    """What became of one file: counted, duplicate or refused, with the reason, its unit and score."""

    __slots__ = ("name", "size", "sha256", "mtime", "status", "reason", "unit", "summary", "scored", "findings")

    def __init__(self, name: str, size: int = 0, sha256: str = "", mtime: float = 0.0, status: str = "",
                 reason: str = "", unit: str = "", summary: str = "", scored: Scored | None = None,
                 findings: list[FX.Finding] | None = None):
        self.name, self.size, self.sha256, self.mtime = name, size, sha256, mtime
        self.status, self.reason, self.unit, self.summary = status, reason, unit, summary
        self.scored = scored
        self.findings: list[FX.Finding] = [] if findings is None else findings

    def __repr__(self) -> str:
        return f"FileRecord({self.name!r}, {self.status!r}, unit={self.unit!r}, reason={self.reason!r})"

    @property
    def errors(self) -> int:
        return FX.count(self.findings, FX.ERROR)


class Row:
    """A counted return in the ranking; its ranks are set once all are known."""

    __slots__ = ("unit", "scored", "file", "rank", "rank_all")

    def __init__(self, unit: Unit, scored: Scored, file: str, rank: int = 0, rank_all: int = 0):
        self.unit, self.scored, self.file = unit, scored, file
        self.rank = rank  # within its summary unit
        self.rank_all = rank_all

    def __repr__(self) -> str:
        return f"Row({self.unit.name!r}, score={self.scored.score}, rank={self.rank}, rank_all={self.rank_all})"


class SummaryResult(NamedTuple):
    summary: SummaryUnit
    rows: list[Row]
    missing: list[Unit]
    refused: int
    high: list[Row]
    quota: int

    @property
    def has_returns(self) -> bool:
        return bool(self.rows) or self.refused > 0

    @property
    def breach(self) -> bool:
        return len(self.high) > self.quota


class MergeResult(NamedTuple):
    plan: Plan
    collected: str
    merged_on: dt.date
    files: list[FileRecord]
    summaries: list[SummaryResult]
    ranking: list[Row]
    findings: list[FX.Finding]

    @property
    def expected(self) -> int:
        return len(self.plan.units)

    @property
    def received(self) -> int:
        return len(self.ranking)

    def count(self, severity: str) -> int:  # (replaces tuple.count: a result is not searched as a tuple)
        return FX.count(self.findings, severity)

    @property
    def quota_breaches(self) -> list[SummaryResult]:
        return [s for s in self.summaries if s.breach]


# --------------------------------------------------------------------------- one file

_PERIOD = re.compile(r"(\d{4})年(?:第)?([一二三四1-4])季度")


def _period_of(title: str) -> tuple[str, str] | None:
    m = _PERIOD.search(norm_text(title))
    return (m.group(1), m.group(2)) if m else None


def read_source(src: Source, plan: Plan, limits: Limits) -> FileRecord:
    """Read, identify and score one source; any problem is a refusal, never an exception."""
    # The readers (and hashlib) load with the first file: a merge of an empty folder starts without them.
    from hashlib import sha256

    from xlsx_tool.reading.workbook import BookError, open_book
    from xlsx_tool.reading.form import read_form
    from xlsx_tool.judging.scoring import score_form

    rec = FileRecord(src.name, mtime=src.mtime)
    if src.data is None:
        f = FX.make(src.code, file=src.name, **(src.params or {}))
        rec.findings.append(f)
        rec.status = IGNORED if f.severity == FX.INFO else REFUSED
        rec.reason = f.message
        return rec
    rec.size = len(src.data)
    rec.sha256 = sha256(src.data).hexdigest()
    try:
        book = open_book(src.data, src.suffix, limits)
        if book.has_macros:
            rec.findings.append(FX.make("file-macro", file=src.name))
        if book.kind != "xlsx":
            rec.findings.append(FX.make("file-formulas-unknown", file=src.name, kind=f".{book.kind}"))
        form = read_form(book)
        unit = _identify(form, plan, rec)
        if unit is None:
            return rec
        rec.unit, rec.summary = unit.name, unit.summary  # a refusal from here on still counts for its committee
        missing = [it.seq for it in plan.rubric.items if it.seq not in form.items]
        if missing:
            raise BookError("file-not-form", f"表中找不到第{'、'.join(map(str, missing))}项（行被删除或改动）")
        scored = score_form(form, plan, unit, src.name)
    except BookError as e:
        # `todo` is what to ask the sender for; for a limit, the option that raises it
        return _refused(rec, FX.make(e.code, file=src.name, why=e.why, todo=e.todo, option=e.todo))
    except Exception as e:  # noqa: BLE001 — a reader bug must not stop the merge; say so plainly
        return _refused(rec, FX.make("file-unreadable", file=src.name,
                                     why=f"读取时出现意外错误：{type(e).__name__}", todo="请把此文件交给技术人员检查"))
    rec.scored = scored
    rec.findings.extend(scored.findings)
    return rec


def _refused(rec: FileRecord, finding: FX.Finding) -> FileRecord:
    rec.findings.append(finding)
    rec.status, rec.reason = REFUSED, finding.message
    return rec


def _identify(form, plan: Plan, rec: FileRecord) -> Unit | None:
    ident = form.identity
    name = rec.name
    text = form.unit_text or ""
    if ident:
        if ident.get("plan_id") != plan.id:
            found = ident.get("period") or ident.get("plan_id") or "未知"
            _refused(rec, FX.make("identity-other-plan", file=name, found=found, expected=plan.period))
            return None
        unit = plan.unit(ident.get("unit", ""))
        if unit is None:
            _refused(rec, FX.make("identity-unknown-unit", file=name, text=ident.get("unit", "")))
            return None
        where = dict(file=name, sheet=form.sheet, unit=unit.name, summary=unit.summary)
        if text and plan.find_unit(text) is not unit:
            rec.findings.append(FX.make("identity-text-mismatch", cell=form.unit_cell or "", text=text, **where))
        if ident.get("summary") and ident["summary"] != unit.summary:
            rec.findings.append(FX.make("identity-summary-mismatch", found=ident["summary"], expected=unit.summary,
                                        **{**where, "summary": unit.summary}))
        if ident.get("rubric") != plan.rubric.fingerprint:
            rec.findings.append(FX.make("identity-rubric-changed", found=ident.get("rubric") or "无",
                                        expected=plan.rubric.fingerprint, **where))
        return unit
    theirs, ours = _period_of(form.title), _period_of(plan.form_title)
    if theirs and ours and theirs != ours:
        _refused(rec, FX.make("identity-other-plan", file=name, found=form.title, expected=plan.period))
        return None
    unit = plan.find_unit(text)
    if unit is None:
        _refused(rec, FX.make("identity-unknown-unit", file=name, sheet=form.sheet, cell=form.unit_cell or "",
                              text=text or "（空）"))
        return None
    rec.findings.append(FX.make("identity-missing", file=name, sheet=form.sheet, cell=form.unit_cell or "",
                                unit=unit.name, summary=unit.summary, text=text))
    return unit


# --------------------------------------------------------------------------- the whole folder

_WORKER: tuple | None = None


def _init(plan, root, limits, paths):
    global _WORKER
    _WORKER = (plan, root, limits, paths)


def _read_path(plan: Plan, root: Path, path: Path, limits: Limits) -> list[FileRecord]:
    # The bytes live only while this file is read: memory stays flat however many files there are.
    return [read_source(src, plan, limits) for src in sources_of(root, path, limits)]


def _work(i: int) -> list[FileRecord]:
    plan, root, limits, paths = _WORKER
    return _read_path(plan, root, paths[i], limits)


def read_all(plan: Plan, collected: Path, limits: Limits, workers: int | None = None,
             progress: Callable[[int], None] | None = None) -> list[FileRecord]:
    paths = list_files(collected)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    out: list[FileRecord] = []
    if workers > 1 and len(paths) >= PARALLEL_FROM:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        # the workers have the list of paths (from the fork): only numbers go down the pipe
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(plan, collected, limits, paths)) as pool:
            for recs in pool.map(_work, range(len(paths)), chunksize=64):
                for rec in recs:
                    if rec.scored is not None:  # the plan's own unit, not the copy that came through the pipe
                        rec.scored.unit = plan.unit(rec.unit)
                out.extend(recs)
                if progress:
                    progress(1)
        return out
    for path in paths:
        out.extend(_read_path(plan, collected, path, limits))
        if progress:
            progress(1)
    return out


def merge(plan: Plan, collected: Path, limits: Limits = Limits(), workers: int | None = None,
          progress: Callable[[int], None] | None = None, today: dt.date | None = None) -> MergeResult:
    files = read_all(plan, Path(collected), limits, workers, progress)
    return decide(plan, files, str(collected), today or dt.date.today())


def _rank(rows: list[Row], order: dict[str, int], attr: str) -> list[Row]:
    """Highest score first; ties share a rank (1, 2, 2, 4) and keep the plan's order."""
    rows = sorted(rows, key=lambda r: (-r.scored.score, order[r.unit.name]))
    prev, rank = None, 0
    for i, r in enumerate(rows, 1):
        if r.scored.score != prev:
            rank, prev = i, r.scored.score
        setattr(r, attr, rank)
    return rows


def decide(plan: Plan, files: list[FileRecord], collected: str, today: dt.date) -> MergeResult:
    findings: list[FX.Finding] = []
    # 1. the same bytes twice: count once
    first_by_hash: dict[str, FileRecord] = {}
    for rec in files:
        if not rec.sha256:
            continue
        if rec.sha256 in first_by_hash:
            first = first_by_hash[rec.sha256]
            rec.findings = [FX.make("file-duplicate-copy", file=rec.name, other=first.name)]
            rec.status, rec.reason, rec.scored = COPY, rec.findings[0].message, None
            rec.unit, rec.summary = first.unit, first.summary
        else:
            first_by_hash[rec.sha256] = rec
    # 2. distinct files for one unit: the duplicate rule picks one
    by_unit: dict[str, list[FileRecord]] = {}
    for rec in files:
        if rec.scored is not None and rec.status != COPY:
            by_unit.setdefault(rec.unit, []).append(rec)
    chosen: dict[str, FileRecord] = {}
    for unit_name, recs in by_unit.items():
        best = max(recs, key=lambda r: (r.errors == 0, r.mtime, r.name))
        chosen[unit_name] = best
        best.status = COUNTED
        if len(recs) > 1:
            rivals = [r for r in recs if r is not best]
            if best.errors == 0 and any(r.errors for r in rivals):
                why = "没有错误" if any(r.mtime > best.mtime for r in rivals) else "没有错误，且修改时间最新"
            else:
                why = "修改时间最新" if all(r.mtime < best.mtime for r in rivals) else "修改时间相同，按文件路径取最后一个"
            unit = plan.unit(unit_name)
            findings.append(FX.make("unit-duplicate", file=best.name, unit=unit_name, summary=unit.summary,
                                    count=len(recs), files="、".join(r.name for r in recs), chosen=best.name, why=why))
            for r in recs:
                if r is not best:
                    r.status, r.reason = DUPLICATE, f"{unit_name} 采用了 {best.name}"
    for rec in files:
        if rec.status != DUPLICATE:  # a set-aside duplicate's own findings no longer matter
            findings.extend(rec.findings)

    # 3. per summary unit: ranks, missing returns, the one-third rule
    order = {u.name: i for i, u in enumerate(plan.units)}
    refused_by_summary: dict[str, int] = {}
    for rec in files:
        if rec.status == REFUSED and rec.summary:
            refused_by_summary[rec.summary] = refused_by_summary.get(rec.summary, 0) + 1
    rows_all: list[Row] = []
    summaries: list[SummaryResult] = []
    rules = plan.rules
    for s in plan.summary_units:
        rows = [Row(u, chosen[u.name].scored, chosen[u.name].name) for u in s.units if u.name in chosen]
        rows = _rank(rows, order, "rank")
        rows_all.extend(rows)
        missing = [u for u in s.units if u.name not in chosen]
        high = [r for r in rows if r.scored.score >= rules.high_score]
        sr = SummaryResult(s, rows, missing, refused_by_summary.get(s.name, 0), high, rules.quota(len(s.units)))
        summaries.append(sr)
        if not sr.has_returns:
            findings.append(FX.make("summary-no-returns", summary=s.name, count=len(s.units)))
            continue
        for u in missing:
            findings.append(FX.make("unit-missing", unit=u.name, summary=s.name, contacts=s.contacts))
        if sr.breach:
            findings.append(FX.make("quota-exceeded", summary=s.name, inspected=len(s.units),
                                    high=as_text(rules.high_score), count=len(high), quota=sr.quota, share=rules.share_text,
                                    units="、".join(f"{r.unit.name} {as_text(r.scored.score)}分" for r in high)))
    ranking = _rank(rows_all, order, "rank_all")
    return MergeResult(plan, collected, today, files, summaries, ranking, findings)
