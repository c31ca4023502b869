"""Which unit a returned form is for: its hidden identity sheet says, else the 被核查单位 it names."""

from __future__ import annotations

import re

from xlsx_tool import findings as FX
from xlsx_tool.judging.records import REFUSED, FileRecord
from xlsx_tool.plan import Plan, Unit
from xlsx_tool.reading.form import RawForm
from xlsx_tool.textnorm import norm_text

_PERIOD = re.compile(r"(\d{4})年(?:第)?([一二三四1-4])季度")


def _period_of(title: str) -> tuple[str, str] | None:
    m = _PERIOD.search(norm_text(title))
    return (m.group(1), m.group(2)) if m else None


def refuse(rec: FileRecord, finding: FX.Finding) -> FileRecord:
    rec.findings.append(finding)
    rec.status, rec.reason = REFUSED, finding.message
    return rec


def identify(form: RawForm, plan: Plan, rec: FileRecord) -> Unit | None:
    """The unit a form is for, from its identity sheet, else from the 被核查单位 it names; None (and the
    record refused, with the reason) for another period's form or a unit not in the plan."""
    ident = form.identity
    name = rec.name
    text = form.unit_text or ""
    if ident:
        if ident.get("plan_id") != plan.id:
            found = ident.get("period") or ident.get("plan_id") or "未知"
            refuse(rec, FX.make("identity-other-plan", file=name, found=found, expected=plan.period))
            return None
        unit = plan.unit(ident.get("unit", ""))
        if unit is None:
            refuse(rec, FX.make("identity-unknown-unit", file=name, text=ident.get("unit", "")))
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
        refuse(rec, FX.make("identity-other-plan", file=name, found=form.title, expected=plan.period))
        return None
    unit = plan.find_unit(text)
    if unit is None:
        refuse(rec, FX.make("identity-unknown-unit", file=name, sheet=form.sheet, cell=form.unit_cell or "",
                              text=text or "（空）"))
        return None
    rec.findings.append(FX.make("identity-missing", file=name, sheet=form.sheet, cell=form.unit_cell or "",
                                unit=unit.name, summary=unit.summary, text=text))
    return unit
