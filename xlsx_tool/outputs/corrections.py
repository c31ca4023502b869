"""Correction lists: for each summary unit whose returns have errors, what to send back and fix.

The folder is rebuilt on every merge: a fixed return (picked by the duplicate rule)
drops its lines, and a summary unit with nothing left to fix loses its list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from xlsx_tool import findings as FX
from xlsx_tool.files import safe_filename, staged_dir
from xlsx_tool.judging.merge import MergeResult
from xlsx_tool.plan import summary_folder
from xlsx_tool.outputs.summary import SEVERITY_ORDER
from xlsx_tool.outputs.tables import Tables, new_book

FOLDER = "退回修改清单"
# Findings about the merge itself, not about a file the group can fix.
NOT_FOR_GROUPS = {"unit-duplicate", "summary-no-returns", "file-ignored", "file-duplicate-copy", "file-macro"}


def correction_lines(result: MergeResult) -> dict[str, list[FX.Finding]]:
    """Summary unit name -> its errors and warnings, only for summary units with at least one error;
    errors first, then warnings, each in the plan's order of units."""
    by_summary: dict[str, list[FX.Finding]] = {}
    for f in result.findings:
        if f.summary and f.severity != FX.INFO and f.code not in NOT_FOR_GROUPS:
            by_summary.setdefault(f.summary, []).append(f)
    order = {u.name: i for i, u in enumerate(result.plan.units)}
    return {
        s: sorted(fs, key=lambda f: (SEVERITY_ORDER[f.severity], order.get(f.unit, 1 << 30), f.file, f.cell))
        for s, fs in by_summary.items()
        if any(f.severity == FX.ERROR for f in fs)
    }


def build_list(result: MergeResult, summary_name: str, lines: list[FX.Finding]) -> bytes:
    # dated like the summary, by the merge's date: the same returns give the same bytes
    wb, buf = new_book(f"{summary_name}：评分表退回修改清单", result.merged_on)
    B = Tables(wb)
    ws = wb.add_worksheet("退回修改清单")
    plan = result.plan
    errors = sum(1 for f in lines if f.severity == FX.ERROR)
    sev = {FX.ERROR: B.error, FX.WARNING: B.warn, FX.INFO: B.center}
    B.table(ws, ["序号", "被核查单位", "文件", "单元格", "问题", "应当", "级别"], [5, 18, 26, 7, 50, 32, 6],
            ([i, f.unit, f.file, (f.cell, B.center), f.message, f.expected, (f.severity, sev[f.severity])]
             for i, f in enumerate(lines, 1)),
            title=f"{summary_name}：评分表退回修改清单",
            info=f"{plan.period}  汇总时间：{result.merged_on:%Y年%m月%d日}  “错误”{errors}条须改正，“警告”请核实；"
                 f"改好后请于 {plan.deadline:%Y年%m月%d日} 前重新交回。")
    wb.close()
    return buf.getvalue()


def build_lists(result: MergeResult, by_summary: dict[str, list[FX.Finding]] | None = None) -> Iterator[tuple[str, bytes]]:
    """(file name, workbook) of each summary unit's list, one at a time; `by_summary`: correction_lines, if at hand."""
    for name, lines in (correction_lines(result) if by_summary is None else by_summary).items():
        yield f"{safe_filename(summary_folder(result.plan, name))}-退回修改清单.xlsx", build_list(result, name, lines)


def write_lists(result: MergeResult, out_dir: Path) -> list[Path]:
    """Replace out_dir/退回修改清单/ as a whole; returns the lists written."""
    folder = Path(out_dir) / FOLDER
    by_summary = correction_lines(result)
    if not by_summary and (not folder.exists() or folder.is_dir() and not any(folder.iterdir())):
        folder.mkdir(parents=True, exist_ok=True)  # nothing to write and nothing to take away: no staging
        return []
    written = []
    with staged_dir(Path(out_dir)) as stage:
        folder = stage / FOLDER
        folder.mkdir()
        for file_name, data in build_lists(result, by_summary):
            (folder / file_name).write_bytes(data)
            written.append(Path(out_dir) / FOLDER / file_name)
    return written
