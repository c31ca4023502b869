"""What the page shows, as JSON: a merge result's counts, findings and rankings; an upload's verdict.

Plain data only: the page puts every text into the document as text (textContent), never as HTML.
"""

from __future__ import annotations

from xlsx_tool import findings as FX
from xlsx_tool.decimals import as_text
from xlsx_tool.judging.merge import COUNTED, IGNORED, REFUSED, FileRecord, MergeResult
from xlsx_tool.outputs.progress import deadline_text, report_state, summary_state
from xlsx_tool.outputs.summary import SEVERITY_ORDER, deductions_text, highlights_text


def status_json(result: MergeResult, version: int) -> dict:
    """收表进度: the counts, who is missing and whom to call, the refused files."""
    plan = result.plan
    left, when = deadline_text(plan.deadline, result.merged_on)
    return {
        "version": version,
        "title": plan.title,
        "period": plan.period,
        "deadline": f"{plan.deadline:%Y年%m月%d日}",
        "today": f"{result.merged_on:%Y年%m月%d日}",
        "days_left": left,
        "when": when,
        "received": result.received,
        "expected": result.expected,
        "summaries": [
            {"name": s.summary.name, "returned": len(s.rows), "expected": len(s.summary.units), "refused": s.refused,
             "missing": [u.name for u in s.missing],
             "leader": str(s.summary.leader or ""), "liaison": str(s.summary.liaison or ""),
             "contacts": s.summary.contacts, "summary_state": summary_state(s),
             "report_state": report_state(s)}
            for s in result.summaries
        ],
        "files": [{"name": f.name, "status": f.status, "reason": f.reason, "unit": f.unit, "summary": f.summary,
                   "refused": f.status == REFUSED, "counted": f.status == COUNTED, "ignored": f.status == IGNORED}
                  for f in result.files],
    }


def verdict(original: str, saved: str, rec: FileRecord) -> dict:
    """One uploaded source's verdict from `read_source` (before the merge picks among a unit's files)."""
    out = {"original": original, "saved": saved, "file": rec.name, "unit": rec.unit, "summary": rec.summary}
    if rec.status in (REFUSED, IGNORED):
        word = "拒收" if rec.status == REFUSED else "忽略"
        return {**out, "ok": False, "status": word, "text": f"{word}：{rec.reason}"}
    errors = FX.count(rec.findings, FX.ERROR)
    if rec.scored is None:  # a summary unit's 评分汇总表 or 简要核查报告
        return {**out, "ok": True, "status": "收到", "errors": errors, "text": f"收到：{rec.reason}"}
    text = f"收到：{rec.unit}（{rec.summary}），得分 {as_text(rec.scored.score)}"
    if errors:
        text += f"；有 {errors} 处错误，汇总后列入退回修改清单"
    return {**out, "ok": True, "status": "收到", "errors": errors, "text": text}


def unsaved(original: str, why: str, word: str = "拒收") -> dict:
    return {"original": original, "saved": "", "file": "", "unit": "", "summary": "", "ok": False,
            "status": word, "text": f"{word}：{why}"}


def merge_json(result: MergeResult, summary_files: list[dict], lists: list[dict], reports: list[dict]) -> dict:
    """汇总: counts, the one-third breaches, the 问题清单, each summary unit's 附件3, and the files written."""
    plan, rules = result.plan, result.plan.rules
    order = {u.name: i for i, u in enumerate(plan.units)}
    fs = sorted(result.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.summary, order.get(f.unit, 1 << 30), f.file))
    return {
        "received": result.received, "expected": result.expected, "files": len(result.files),
        "errors": result.count(FX.ERROR), "warnings": result.count(FX.WARNING), "infos": result.count(FX.INFO),
        "merged_on": f"{result.merged_on:%Y年%m月%d日}",
        "rule": f"{as_text(rules.high_score)}分及以上的单位不超过所核查单位的{rules.share_text}",
        "breaches": [{"summary": s.summary.name, "inspected": len(s.summary.units), "high": len(s.high),
                      "quota": s.quota, "units": [f"{r.unit.name} {as_text(r.scored.score)}分" for r in s.high]}
                     for s in result.quota_breaches],
        "findings": [{"severity": f.severity, "summary": f.summary, "unit": f.unit, "file": f.file, "sheet": f.sheet,
                      "cell": f.cell, "message": f.message, "expected": f.expected} for f in fs],
        "rankings": [
            {"summary": s.summary.name, "expected": len(s.summary.units),
             "rows": [{"rank": r.rank, "unit": r.unit.name, "highlights": highlights_text(r),
                       "deductions": deductions_text(r), "score": as_text(r.scored.score)} for r in s.rows],
             "missing": [u.name for u in s.missing], "high": len(s.high), "quota": s.quota, "breach": s.breach}
            for s in result.summaries if s.has_returns
        ],
        "downloads": {"summary": summary_files, "lists": lists, "reports": reports},
    }
