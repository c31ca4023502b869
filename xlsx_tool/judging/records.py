"""What a merge knows: what became of each file, the counted rows, each summary unit's result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from xlsx_tool import findings as FX
from xlsx_tool.judging.scoring import Scored
from xlsx_tool.plan import Plan, SummaryUnit, Unit

# a file's status, as 文件清单 shows it
COUNTED, DUPLICATE, COPY, REFUSED, IGNORED = "采用", "未采用（同一单位另有采用的文件）", "重复发送（只计一次）", "拒收", "忽略"
SUPERSEDED, RECEIVED = "未采用（各单位另有更直接的依据）", "已收到"
REPORT = "简要核查报告"  # a FileRecord's kind for a summary unit's report


@dataclass
class FileRecord:
    """What became of one file: counted, duplicate or refused, with the reason, its unit and score."""

    name: str  # as people see it: the path under collected/, "a.zip/b.xlsx" for an archive's member
    size: int = 0
    sha256: str = ""
    mtime: float = 0.0
    status: str = ""
    reason: str = ""
    unit: str = ""
    summary: str = ""
    scored: Scored | None = None
    findings: list[FX.Finding] = field(default_factory=list)
    kind: str = ""  # what the file is: a form, a summary (FORM, TOOL_SUMMARY, HAND_SUMMARY of scoring), REPORT
    sender: str = ""  # for what came in a saved e-mail: who sent it, and when
    sent: str = ""
    covers: list[str] = field(default_factory=list)  # a summary's or a report's summary units
    scores: dict[str, Scored] = field(default_factory=dict)  # a summary's units, by name

    @property
    def errors(self) -> int:
        return FX.count(self.findings, FX.ERROR)


@dataclass
class Row:
    """A counted return in the ranking; its ranks are set once all are known."""

    unit: Unit
    scored: Scored
    file: str
    rank: int = 0  # within its summary unit
    rank_all: int = 0


@dataclass
class SummaryResult:
    summary: SummaryUnit
    rows: list[Row]
    missing: list[Unit]
    refused: int
    high: list[Row]
    quota: int
    summary_files: list[str] = field(default_factory=list)  # its 评分汇总表 as received (tool-made or hand-made)
    report_files: list[str] = field(default_factory=list)  # its 简要核查报告 as received

    @property
    def summary_in(self) -> bool:
        """Whether its 评分汇总表 came, or every one of its units' forms (from which the office makes it)."""
        return bool(self.summary_files) or not self.missing

    @property
    def has_returns(self) -> bool:
        return bool(self.rows) or self.refused > 0

    @property
    def breach(self) -> bool:
        return len(self.high) > self.quota


@dataclass
class MergeResult:
    plan: Plan
    collected: str
    merged_on: dt.date
    files: list[FileRecord]
    summaries: list[SummaryResult]
    ranking: list[Row]
    findings: list[FX.Finding]

    @property
    def expected(self) -> int:
        return sum(len(s.summary.units) for s in self.summaries)

    @property
    def received(self) -> int:
        return len(self.ranking)

    def count(self, severity: str) -> int:
        return FX.count(self.findings, severity)

    @property
    def quota_breaches(self) -> list[SummaryResult]:
        return [s for s in self.summaries if s.breach]

    def only(self, summary_name: str) -> MergeResult:
        """The result as one summary unit sees it (`merge --summary-unit`): its units, its files and the
        findings about them or about no unit in particular; ranks are within it."""
        [s] = [s for s in self.summaries if s.summary.name == summary_name]
        rows = [Row(r.unit, r.scored, r.file, r.rank, r.rank) for r in s.rows]
        own = replace(s, rows=rows, high=[r for r in rows if r.scored.score >= self.plan.rules.high_score])
        files = [f for f in self.files if f.summary == summary_name or summary_name in f.covers
                 or not (f.summary or f.covers)]
        findings = [f for f in self.findings if f.summary in ("", summary_name)]
        return MergeResult(self.plan, self.collected, self.merged_on, files, [own], rows, findings)

    def routes(self) -> dict[str, int]:
        """How many counted units came by each route (评分表, 本工具汇总表, 手工汇总表)."""
        out: dict[str, int] = {}
        for r in self.ranking:
            out[r.scored.source] = out.get(r.scored.source, 0) + 1
        return out
