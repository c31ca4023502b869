"""From every file's record to the merge's result: copies counted once, one return chosen per unit,
ranks, missing returns and the one-third rule per summary unit."""

from __future__ import annotations

import datetime as dt

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.judging.records import COPY, COUNTED, DUPLICATE, REFUSED, FileRecord, MergeResult, Row, SummaryResult
from xlsx_tool.plan import Plan


def drop_copies(files: list[FileRecord]) -> None:
    """A file sent twice (the same bytes) counts once: the later ones become copies of the first.
    Empty files are not copies of one another: each is refused on its own."""
    first_by_hash: dict[str, FileRecord] = {}
    for rec in files:
        if not rec.size:
            continue
        first = first_by_hash.setdefault(rec.sha256, rec)
        if first is not rec:
            rec.findings = [FX.make("file-duplicate-copy", file=rec.name, other=first.name)]
            rec.status, rec.reason, rec.scored = COPY, rec.findings[0].message, None
            rec.unit, rec.summary = first.unit, first.summary


def choose(plan: Plan, files: list[FileRecord]) -> tuple[dict[str, FileRecord], list[FX.Finding]]:
    """One return per unit when several different ones came: first one without errors, then the
    latest modified, then the last by path.  Returns the chosen record by unit, and the findings."""
    by_unit: dict[str, list[FileRecord]] = {}
    for rec in files:
        if rec.scored is not None and rec.status != COPY:
            by_unit.setdefault(rec.unit, []).append(rec)
    chosen: dict[str, FileRecord] = {}
    findings = []
    for unit_name, recs in by_unit.items():
        best = max(recs, key=lambda r: (r.errors == 0, r.mtime, r.name))
        chosen[unit_name] = best
        best.status = COUNTED
        if len(recs) == 1:
            continue
        rivals = [r for r in recs if r is not best]
        if best.errors == 0 and any(r.errors for r in rivals):
            why = "没有错误" if any(r.mtime > best.mtime for r in rivals) else "没有错误，且修改时间最新"
        else:
            why = "修改时间最新" if all(r.mtime < best.mtime for r in rivals) else "修改时间相同，按文件路径取最后一个"
        findings.append(FX.make("unit-duplicate", file=best.name, unit=unit_name, summary=plan.unit(unit_name).summary,
                                count=len(recs), files="、".join(r.name for r in recs), chosen=best.name, why=why))
        for r in rivals:
            r.status, r.reason = DUPLICATE, f"{unit_name} 采用了 {best.name}"
    return chosen, findings


def rank(rows: list[Row], order: dict[str, int], attr: str) -> list[Row]:
    """Highest score first; ties share a rank (1, 2, 2, 4) and keep the plan's order."""
    rows = sorted(rows, key=lambda r: (-r.scored.score, order[r.unit.name]))
    prev, place = None, 0
    for i, r in enumerate(rows, 1):
        if r.scored.score != prev:
            place, prev = i, r.scored.score
        setattr(r, attr, place)
    return rows


def summarise(plan: Plan, chosen: dict[str, FileRecord], files: list[FileRecord]
              ) -> tuple[list[SummaryResult], list[FX.Finding]]:
    """Each summary unit's ranked rows, missing units and the one-third rule."""
    order = {u.name: i for i, u in enumerate(plan.units)}
    refused: dict[str, int] = {}
    for rec in files:
        if rec.status == REFUSED and rec.summary:
            refused[rec.summary] = refused.get(rec.summary, 0) + 1
    rules = plan.rules
    summaries, findings = [], []
    for s in plan.summary_units:
        rows = rank([Row(u, chosen[u.name].scored, chosen[u.name].name) for u in s.units if u.name in chosen], order, "rank")
        high = [r for r in rows if r.scored.score >= rules.high_score]
        sr = SummaryResult(s, rows, [u for u in s.units if u.name not in chosen], refused.get(s.name, 0), high,
                           rules.quota(len(s.units)))
        summaries.append(sr)
        if not sr.has_returns:
            findings.append(FX.make("summary-no-returns", summary=s.name, count=len(s.units)))
            continue
        for u in sr.missing:
            findings.append(FX.make("unit-missing", unit=u.name, summary=s.name, contacts=s.contacts))
        if sr.breach:
            findings.append(FX.make("quota-exceeded", summary=s.name, inspected=len(s.units),
                                    high=as_text(rules.high_score), count=len(high), quota=sr.quota, share=rules.share_text,
                                    units="、".join(f"{r.unit.name} {as_text(r.scored.score)}分" for r in high)))
    return summaries, findings


def decide(plan: Plan, files: list[FileRecord], collected: str, today: dt.date) -> MergeResult:
    drop_copies(files)
    chosen, duplicates = choose(plan, files)
    # a set-aside duplicate's own findings no longer matter
    findings = duplicates + [f for rec in files if rec.status != DUPLICATE for f in rec.findings]
    summaries, per_summary = summarise(plan, chosen, files)
    order = {u.name: i for i, u in enumerate(plan.units)}
    ranking = rank([r for s in summaries for r in s.rows], order, "rank_all")
    return MergeResult(plan, collected, today, files, summaries, ranking, findings + per_summary)
