"""收表进度 in words, for `xlsx-tool status` and the page alike: the deadline, and what each summary unit
still owes (its units' forms, its 评分汇总表, its 简要核查报告)."""

from __future__ import annotations

import datetime as dt

from xlsx_tool.judging.records import SummaryResult
from xlsx_tool.judging.scoring import FORM


def day_text(d: dt.date, today: dt.date) -> str:
    """A date for a message: without the year only when it is this year's."""
    return f"{d:%m月%d日}" if d.year == today.year else f"{d:%Y年%m月%d日}"


def deadline_text(deadline: dt.date, today: dt.date) -> tuple[int, str]:
    """(days left, "距上报截止（11月07日）还有 1 天")."""
    left = (deadline - today).days
    day = day_text(deadline, today)
    return left, (f"距上报截止（{day}）还有 {left} 天" if left > 0 else
                  "今天是上报截止日" if left == 0 else f"已超过上报截止日期（{day}）{-left} 天")


def summary_state(s: SummaryResult) -> str:
    """Whether a summary unit's 评分汇总表 is in: sent up ("已交"), not needed because the office has every
    one of its units' forms and makes it itself ("不需要"), or still owed ("未交")."""
    if s.summary_files:
        return "已交"
    return "不需要" if not s.missing and all(r.scored.source == FORM for r in s.rows) else "未交"


def report_state(s: SummaryResult) -> str:
    return "已交" if s.report_files else "未交"


def still_owed(s: SummaryResult) -> list[str]:
    """What a summary unit still has to send up, besides its units' missing forms."""
    return (["评分汇总表"] if summary_state(s) == "未交" and s.rows else []) + (["简要核查报告"] if not s.report_files else [])
