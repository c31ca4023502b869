"""简要核查报告: a draft .docx per summary unit and one overall, assembled from a `MergeResult`.

The wording is `report_unit` and `report_overall` (on the shared sentences of `report_text`):
`report_blocks(result, summary)` gives the content as plain data, so tests can check it against the
评分汇总表; the layout is `report_docx` (official-document style);
`write_reports` writes them all atomically.  The output is deterministic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xlsx_tool.files import safe_filename, write_atomic
from xlsx_tool.judging.merge import MergeResult, SummaryResult
from xlsx_tool.outputs.report_docx import build_docx
from xlsx_tool.outputs.report_overall import overall_blocks
from xlsx_tool.outputs.report_text import OVERALL, TODO, Block, block_text, report_title  # noqa: F401 (the API)
from xlsx_tool.outputs.report_unit import summary_blocks

REPORT_PREFIX = "简要核查报告"


def report_filename(summary_name: str | None) -> str:
    return f"{REPORT_PREFIX}-{safe_filename(summary_name or OVERALL)}.docx"


def report_blocks(result: MergeResult, summary: SummaryResult | None) -> list[Block]:
    """The content of one report: a summary unit's, or (None) the overall one."""
    return overall_blocks(result) if summary is None else summary_blocks(result, summary)


def build_report(result: MergeResult, summary: SummaryResult | None) -> bytes:
    """One report as .docx bytes (the same result gives the same bytes)."""
    return build_docx(report_blocks(result, summary),
                      title=report_title(result, summary.summary.name if summary else None),
                      subject=result.plan.period, stamp=dt.datetime.combine(result.merged_on, dt.time()),
                      keywords=REPORT_PREFIX)


def write_reports(result: MergeResult, out_dir) -> list[Path]:
    """Write 简要核查报告-<汇总单位>.docx for each summary unit and 简要核查报告-汇总.docx; return their paths.

    Each file is written atomically (a reader sees the old file or the new one, never half).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for s in [*result.summaries, None]:
        path = out / report_filename(s.summary.name if s else None)
        n = 2
        while path in paths:  # two names that differ only in characters Windows forbids
            path = out / f"{path.stem.rsplit('(', 1)[0]}({n}).docx"
            n += 1
        write_atomic(path, build_report(result, s))
        paths.append(path)
    return paths
