"""`xlsx-tool merge` and `xlsx-tool demo` through click's CliRunner, on real returned workbooks."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from returns import PASSING_EXAM, FormEntries, ItemEntry, build_form

from xlsx_tool.interfaces.cli import cli

D = Decimal
COMMITTEE = "第一核查组"


def _returns(plan, folder: Path, bad: bool = False) -> dict[str, Decimal]:
    """Clean returns for all of 第一核查组 but its last unit; `bad` adds a text deduction that is an error.

    Scores 98, 95, 94, 93, 92, 91, 95, 90, 89: three at 95 or above, the most 10 units may have.
    """
    folder.mkdir(parents=True, exist_ok=True)
    units = plan.summary(COMMITTEE).units
    scores = {}
    for i, u in enumerate(units[:-1]):
        ded = [0, 3, 4, 5, 6, 7, 3, 8, 9][i]  # item 3: step 1, limit 10
        e = FormEntries(date=dt.date(2017, 10, 23), test=list(PASSING_EXAM),
                        items={3: ItemEntry(reason="未整改", deduction=ded or None)})
        if bad and i == 2:
            e.items[5] = ItemEntry(reason="未召开支委会", deduction="两分")
        (folder / f"{u.name}评分表(1).xlsx").write_bytes(build_form(plan, u, e))
        scores[u.name] = D(98 - ded)
    return scores


def _invoke(*args):
    return CliRunner().invoke(cli, ["merge", *map(str, args)], catch_exceptions=False)


def _ranking(path: Path) -> dict[str, Decimal]:
    ws = openpyxl.load_workbook(path)["全部单位排名"]
    return {r[1]: D(str(r[3])) for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None}


def test_clean_returns_exit_0(plan, tmp_path):
    scores = _returns(plan, tmp_path / "collected")
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "out", "--date", "2017-11-06")
    assert res.exit_code == 0, res.output
    assert f"收到评分表 {len(scores)}/137 份（共读取 {len(scores)} 个文件）；错误 0 条" in res.output
    assert "汇总表：" in res.output
    assert _ranking(tmp_path / "out" / "评分汇总表.xlsx") == scores


def test_errors_exit_1_and_output_still_written(plan, tmp_path):
    scores = _returns(plan, tmp_path / "collected", bad=True)
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "out", "--date", "2017-11-06")
    assert res.exit_code == 1, res.output
    assert "错误 1 条" in res.output
    assert "两分" in res.output  # the error is listed on the terminal
    out = tmp_path / "out" / "评分汇总表.xlsx"
    assert out.exists()
    assert _ranking(out) == scores  # 暂按不扣分: the text deduction scores nothing


def test_quota_breach_is_named_and_is_an_error(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    for u in plan.summary(COMMITTEE).units[:4]:  # 10 units: at most 3 at 95+
        e = FormEntries(date=dt.date(2017, 10, 23), test=list(PASSING_EXAM))
        (folder / f"{u.name}.xlsx").write_bytes(build_form(plan, u, e))
    res = _invoke(folder, "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert f"95分及以上超过三分之一：{COMMITTEE}。" in res.output


def test_missing_collected_dir_exit_2(tmp_path):
    res = _invoke(tmp_path / "没有这个文件夹", "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert f"找不到文件夹 {tmp_path / '没有这个文件夹'}。" in res.output
    assert not (tmp_path / "out").exists()


def test_relative_paths_are_shown_absolute(plan, tmp_path, monkeypatch):
    _returns(plan, tmp_path / "collected")
    monkeypatch.chdir(tmp_path)
    res = _invoke("collected", "--out", "汇总", "--date", "2017-11-06")
    assert res.exit_code == 0, res.output
    assert f"汇总表：{tmp_path / '汇总' / '评分汇总表.xlsx'}" in res.output


def test_empty_folder_warns_and_still_writes_the_summary(tmp_path):
    (tmp_path / "collected").mkdir()
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "out", "--date", "2017-11-06")
    assert res.exit_code == 0
    assert f"警告：文件夹 {tmp_path / 'collected'} 是空的。" in res.stderr
    ws = openpyxl.load_workbook(tmp_path / "out" / "评分汇总表.xlsx")["回收情况"]
    assert ws["A2"].value.startswith("汇总时间：2017年11月06日")


@pytest.mark.parametrize("content", [None, "id: [unclosed\n", "id: x\n"])
def test_bad_plan_exit_2(plan, tmp_path, content):
    _returns(plan, tmp_path / "collected")
    path = tmp_path / "plan.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    res = _invoke(tmp_path / "collected", "--plan", path, "--out", tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert "方案文件" in res.output and str(path) in res.output
    assert not (tmp_path / "out").exists()


def test_output_cannot_be_written_exit_3(plan, tmp_path):
    _returns(plan, tmp_path / "collected")
    (tmp_path / "a-file").write_text("x")
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "a-file" / "out")
    assert res.exit_code == 3, res.output
    assert "无法写入" in res.output


def test_json_output_matches_the_workbook(plan, tmp_path):
    scores = _returns(plan, tmp_path / "collected", bad=True)
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "out", "--json", "--date", "2017-11-06")
    assert res.exit_code == 1
    data = json.loads(res.stdout)  # the summary line goes to stderr
    line = f"收到评分表 {len(scores)}/137 份"
    assert line in res.stderr and line not in res.stdout
    assert {"units", "findings", "files", "summaries"} <= set(data)
    assert data["merged_on"] == "2017-11-06" and data["expected"] == 137 and data["received"] == len(scores)
    json_scores = {u["unit"]: D(str(u["score"])) for u in data["units"]}
    assert json_scores == scores == _ranking(tmp_path / "out" / "评分汇总表.xlsx")
    assert len(data["files"]) == len(scores) and all(f["sha256"] for f in data["files"])
    codes = [f["code"] for f in data["findings"]]
    assert codes.count("deduction-not-number") == 1 and data["errors"] == 1
    assert codes.count("unit-missing") == 1
    assert codes.count("summary-no-returns") == len(plan.summary_units) - 1
    ranks = {u["unit"]: u["rank"] for u in data["units"]}
    assert [ranks[u.name] for u in plan.summary(COMMITTEE).units[:-1]] == [1, 2, 4, 5, 6, 7, 2, 8, 9]


def test_date_sets_the_merge_date(plan, tmp_path):
    _returns(plan, tmp_path / "collected")
    res = _invoke(tmp_path / "collected", "--out", tmp_path / "out", "--date", "2017-11-06")
    assert res.exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "out" / "评分汇总表.xlsx")
    assert "汇总时间：2017年11月06日" in wb[COMMITTEE]["A2"].value
    assert wb["回收情况"]["A2"].value.startswith("汇总时间：2017年11月06日")
    bad = _invoke(tmp_path / "collected", "--out", tmp_path / "out2", "--date", "2017/11/06")
    assert bad.exit_code == 2


def test_demo_runs(tmp_path):
    d = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", str(d)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = d / "output" / "评分汇总表.xlsx"
    assert out.exists()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["回收情况", "问题清单", "全部单位排名"] and wb.sheetnames[-2:] == ["文件清单", "汇总表信息"]
    assert (d / "blank_forms").is_dir() and any((d / "collected").iterdir())
    assert "收到" in res.output and "/137 份" in res.output


