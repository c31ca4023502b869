"""Flaws of a valid plan, as findings: what a careful reader of the source document would flag."""

from __future__ import annotations

from collections import defaultdict

from xlsx_tool.findings import Finding, make
from xlsx_tool.plan import Plan
from xlsx_tool.textnorm import norm_name


def check_plan(plan: Plan) -> list[Finding]:
    out: list[Finding] = []
    f = plan.source
    rb, rules = plan.rubric, plan.rules
    if rb.printed_total is not None and rb.printed_total != rb.total:
        out.append(make("plan-total-mismatch", file=f, printed=rb.printed_total, total=rb.total))
    if rb.total > rules.max_score:
        out.append(make("plan-max-score", file=f, total=rb.total, max_score=rules.max_score))
    for it in rb.items:
        if it.limit != it.max and (it.limit / it.step) != int(it.limit / it.step):
            out.append(make("plan-limit-step", file=f, seq=it.seq, limit=it.limit, step=it.step, max=it.max))

    seen: dict[str, list[str]] = defaultdict(list)
    for s in plan.summary_units:
        for u in s.units:
            for n in {norm_name(x) for x in (u.name, *u.aliases)}:
                seen[n].append(f"{s.name}/{u.name}")
        if s.declared_count is not None and s.declared_count != len(s.units):
            out.append(make("plan-count-mismatch", file=f, summary=s.name, declared=s.declared_count, actual=len(s.units)))
        if s.window[1] > plan.deadline:
            out.append(make("plan-window-late", file=f, summary=s.name, end=s.window[1], deadline=plan.deadline))
        if rules.quota(len(s.units)) == 0:  # then any 95+ score breaks the rule
            out.append(make("plan-tight-quota", file=f, summary=s.name, count=len(s.units),
                            high=rules.high_score, quota=rules.quota(len(s.units)), share=rules.share_text))
    for name, where in seen.items():
        if len(where) > 1:
            out.append(make("plan-duplicate-unit", file=f, name=name, count=len(where), where="、".join(where)))
    no_contacts = [s.name for s in plan.summary_units if not s.leader and not s.liaison]
    if no_contacts:
        shown = "、".join(no_contacts[:3]) + (" 等" if len(no_contacts) > 3 else "")
        out.append(make("plan-no-contacts", file=f, count=len(no_contacts), names=shown))
    return out
