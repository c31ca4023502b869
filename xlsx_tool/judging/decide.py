"""From every file's record to the merge's result: copies counted once, one return chosen per unit (a
form before a summary made by this tool, before a hand-made 附件3), ranks, missing returns, the
one-third rule and what each summary unit has sent up (its 评分汇总表, its 简要核查报告)."""

from __future__ import annotations

import datetime as dt

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.judging.records import (COPY, COUNTED, DUPLICATE, RECEIVED, REFUSED, REPORT, SUPERSEDED, FileRecord,
                                       MergeResult, Row, SummaryResult)
from xlsx_tool.judging.scoring import FORM, HAND_SUMMARY, TOOL_SUMMARY, Scored
from xlsx_tool.plan import Plan

EVIDENCE = {FORM: 0, TOOL_SUMMARY: 1, HAND_SUMMARY: 2}  # the lower, the more direct


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


def weigh(plan: Plan, forms: dict[str, FileRecord], files: list[FileRecord]
          ) -> tuple[dict[str, tuple[Scored, str]], list[FX.Finding]]:
    """Every unit's score from its most direct evidence: its chosen form, else a summary made by this
    tool, else a hand-made 附件3 (the latest of a kind).  Any two sources that disagree on a score are
    a finding naming both files."""
    evidence: dict[str, list[tuple[Scored, FileRecord]]] = {}
    for name, rec in forms.items():
        evidence[name] = [(rec.scored, rec)]
    summaries = [rec for rec in files if rec.scores and rec.status == RECEIVED]
    for rec in sorted(summaries, key=lambda r: (-r.mtime, r.name)):  # the latest first among equals
        for name, scored in rec.scores.items():
            evidence.setdefault(name, []).append((scored, rec))
    chosen: dict[str, tuple[Scored, str]] = {}
    findings = []
    used: set[int] = set()
    for name, found in evidence.items():
        best, best_rec = min(found, key=lambda e: EVIDENCE[e[0].source])  # stable: the latest of a kind
        chosen[name] = (best, best_rec.name)
        used.add(id(best_rec))
        for scored, rec in found:
            if rec is not best_rec and scored.score != best.score:
                findings.append(FX.make("source-score-mismatch", file=best_rec.name, here=best_rec.name, unit=name,
                                        summary=best.unit.summary, score=as_text(best.score), other=rec.name,
                                        other_score=as_text(scored.score), chosen=best.source))
    for rec in summaries:
        rec.status = COUNTED if id(rec) in used else SUPERSEDED
    return chosen, findings


def summarise(plan: Plan, chosen: dict[str, tuple[Scored, str]], files: list[FileRecord]
              ) -> tuple[list[SummaryResult], list[FX.Finding]]:
    """Each summary unit's ranked rows, missing units, the one-third rule and what it sent up."""
    order = {u.name: i for i, u in enumerate(plan.units)}
    refused: dict[str, int] = {}
    sent_up: dict[str, tuple[list[str], list[str]]] = {s.name: ([], []) for s in plan.summary_units}
    for rec in files:
        if rec.status == REFUSED and rec.summary:
            refused[rec.summary] = refused.get(rec.summary, 0) + 1
        if rec.status in (RECEIVED, COUNTED, SUPERSEDED) and rec.covers:
            for name in rec.covers:
                sent_up[name][rec.kind == REPORT].append(rec.name)
    rules = plan.rules
    summaries, findings = [], []
    for s in plan.summary_units:
        rows = rank([Row(u, *chosen[u.name]) for u in s.units if u.name in chosen], order, "rank")
        high = [r for r in rows if r.scored.score >= rules.high_score]
        sr = SummaryResult(s, rows, [u for u in s.units if u.name not in chosen], refused.get(s.name, 0), high,
                           rules.quota(len(s.units)), *sent_up[s.name])
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
    forms, duplicates = choose(plan, files)
    chosen, disagreements = weigh(plan, forms, files)
    # a set-aside duplicate's own findings no longer matter
    findings = duplicates + [f for rec in files if rec.status != DUPLICATE for f in rec.findings] + disagreements
    summaries, per_summary = summarise(plan, chosen, files)
    order = {u.name: i for i, u in enumerate(plan.units)}
    ranking = rank([r for s in summaries for r in s.rows], order, "rank_all")
    return MergeResult(plan, collected, today, files, summaries, ranking, findings + per_summary)
