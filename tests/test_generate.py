"""The generator: the blank-form set on disk (folders, zips, names), determinism, atomicity, and every
generated workbook read back with independent readers (openpyxl, python-calamine, Info-ZIP unzip).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils import range_boundaries
from python_calamine import CalamineWorkbook

from xlsx_tool.forms import layout
from xlsx_tool.files import zip_member_name
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.forms.generate import form_filename, generate, summary_folder
from xlsx_tool.plan import load_plan

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
PLAN_2018 = GOLDEN / "plan_2018q1.yaml"

MAXES = [5, 5, 10, 5, 8, 5, 5, 6, 10, 8, 6, 10, 3, 5, 7]
HEADERS = ["核实项目", "核查内容及评分标准", "分值", "特色亮点", "扣分情况", "扣分", "得分"]
WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
STAGING = (".xlsx-tool-staging-", ".xlsx-tool-old-", ".~tmp-")


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every entry under root (hidden ones included): relative path -> bytes (None for folders)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        out[p.relative_to(root).as_posix()] = None if p.is_dir() else p.read_bytes()
    return out


def serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


def windows_valid(name: str) -> bool:
    return (
        not WINDOWS_BAD.search(name)
        and not name.endswith((".", " "))
        and name.split(".")[0].upper() not in WINDOWS_RESERVED
        and len(name.encode("utf-8")) <= 255
        and name.strip() == name
    )


@pytest.fixture(scope="module")
def generated(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "blank_forms"
    ticks = []
    result = generate(plan, out, progress=ticks.append)
    return out, result, ticks


@pytest.fixture(scope="module")
def books(plan, generated):
    """openpyxl workbooks (formulas) for a group unit and a committee unit."""
    out = generated[0]
    res = {}
    for name in ("州财政局", "州统计局"):
        u = plan.unit(name)
        path = out / summary_folder(plan, u.summary) / form_filename(u)
        res[name] = openpyxl.load_workbook(path)
    return res


def form_path(plan, out: Path, unit_name: str) -> Path:
    u = plan.unit(unit_name)
    return out / summary_folder(plan, u.summary) / form_filename(u)


# --------------------------------------------------------------------------- the set on disk


def test_set_layout(plan, generated):
    out, result, ticks = generated
    assert result.forms == 137
    assert len(ticks) == 137 and sum(ticks) == 137
    folders = [summary_folder(plan, s.name) for s in plan.summary_units]
    assert folders[0] == "01-第一核查组" and folders[3] == "04-州委办直属机关党委" and folders[-1] == "22-州国资委直属机关党委"
    assert result.folders == folders
    assert result.zips == [f + ".zip" for f in folders]
    entries = sorted(p.name for p in out.iterdir())
    assert entries == sorted(folders + [f + ".zip" for f in folders])  # nothing else: no staging leftovers
    for f in folders:
        assert (out / f).is_dir() and (out / f"{f}.zip").is_file()
    xlsx = list(out.rglob("*.xlsx"))
    assert len(xlsx) == 137
    for s in plan.summary_units:
        got = sorted(p.name for p in (out / summary_folder(plan, s.name)).iterdir())
        assert got == sorted(form_filename(u) for u in s.units)
        assert len(got) == len(s.units)


def test_file_names_valid_on_windows(plan, generated):
    out = generated[0]
    names = [p.name for p in out.rglob("*")]
    assert len(names) == 137 + 44
    bad = [n for n in names if not windows_valid(n)]
    assert bad == []
    for u in plan.units:
        name = form_filename(u)
        assert u.name in name
        assert name.endswith(".xlsx")
    # names that Windows would refuse are made safe, keeping the readable part
    from xlsx_tool.files import safe_filename

    for raw in ['州A/B', '州A:B', 'A<B>C', 'x"y', "a|b?c*", "单位.", "单位 ", "CON", "con.txt", "LPT1", "a\tb"]:
        assert windows_valid(safe_filename(raw)), raw


def _expected_members(plan, s) -> list[str]:
    return [form_filename(u) for u in s.units]


def test_zip_members_gbk(plan, generated):
    out = generated[0]
    for s in plan.summary_units:
        folder = summary_folder(plan, s.name)
        with zipfile.ZipFile(out / f"{folder}.zip", metadata_encoding="gbk") as zf:
            assert zf.namelist() == _expected_members(plan, s)
            assert zf.testzip() is None
            for info in zf.infolist():
                assert not info.flag_bits & 0x800  # names stored in GBK, as Chinese Windows Explorer expects
                assert info.date_time == (2017, 10, 20, 0, 0, 0)
                assert zf.read(info) == (out / folder / info.filename).read_bytes()
                # the raw name bytes decode as GBK to the real name
                assert info.orig_filename.encode("gbk").decode("gbk") == info.filename


def test_zip_member_name_helper(plan, generated):
    out = generated[0]
    for s in plan.summary_units:
        with zipfile.ZipFile(out / f"{summary_folder(plan, s.name)}.zip") as zf:  # default cp437 decoding
            assert [zip_member_name(i) for i in zf.infolist()] == _expected_members(plan, s)


def test_zip_members_via_infozip_unzip(plan, generated, tmp_path):
    out = generated[0]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    for s in plan.summary_units:
        folder = summary_folder(plan, s.name)
        z = out / f"{folder}.zip"
        expected = _expected_members(plan, s)
        names = subprocess.run(["unzip", "-Z1", str(z)], capture_output=True, env=env, check=True).stdout
        assert names.decode("utf-8").splitlines() == expected
        listing = subprocess.run(["unzip", "-l", str(z)], capture_output=True, env=env, check=True).stdout.decode("utf-8")
        for n in expected:
            assert n in listing
        assert f"{len(expected)} file" in listing
        # unpacking gives the right names and bytes
        dest = tmp_path / folder
        subprocess.run(["unzip", "-q", "-o", str(z), "-d", str(dest)], env=env, check=True)
        assert sorted(p.name for p in dest.iterdir()) == sorted(expected)
        for n in expected:
            assert (dest / n).read_bytes() == (out / folder / n).read_bytes()


# --------------------------------------------------------------------------- determinism


def test_byte_identical_across_runs(plan, generated, tmp_path):
    first = snapshot(generated[0])
    generate(plan, tmp_path / "again")
    assert snapshot(tmp_path / "again") == first


def test_byte_identical_across_processes(generated, tmp_path):
    """Two separate processes (different hash seeds and time zones) write the same bytes as the library."""
    outs = []
    for seed, tz in (("1", "UTC"), ("4242", "Asia/Shanghai")):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz, "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "-m", "xlsx_tool", "generate", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
        outs.append(snapshot(out))
    assert len([k for k, v in outs[0].items() if v is not None]) == 137 + 22
    assert outs[0].keys() == outs[1].keys()
    differing = [k for k in outs[0] if outs[0][k] != outs[1][k]]
    assert differing == []
    assert outs[0] == snapshot(generated[0])


# --------------------------------------------------------------------------- atomicity


def _failing_entries(plan, at: int = 49) -> dict[str, FormEntries]:
    """Entries whose 50th unit has a malformed FormEntries (items is not a mapping): build_form raises."""
    return {plan.units[at].name: FormEntries(items=None)}


def test_failed_run_leaves_nothing(plan, tmp_path):
    out = tmp_path / "fresh"
    ticks = []
    with pytest.raises(Exception):
        generate(plan, out, entries=_failing_entries(plan), progress=ticks.append)
    assert len(ticks) == 49  # it really failed midway
    assert not out.exists() or list(out.iterdir()) == []


def test_failed_run_keeps_previous_set(plan, generated, tmp_path):
    out = tmp_path / "previous"
    shutil.copytree(generated[0], out)
    (out / "说明.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(out)
    with pytest.raises(Exception):
        generate(plan, out, entries=_failing_entries(plan))
    assert snapshot(out) == before
    assert not [p for p in out.rglob("*") if p.name.startswith(STAGING)]


def test_interrupted_run_keeps_previous_set(plan, generated, tmp_path):
    """Ctrl-C in the middle (KeyboardInterrupt from the progress callback) changes nothing."""
    out = tmp_path / "previous"
    shutil.copytree(generated[0], out)
    before = snapshot(out)

    def progress(n, seen=[]):  # noqa: B006
        seen.append(n)
        if len(seen) == 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(plan, out, progress=progress)
    assert snapshot(out) == before


def test_successful_run_replaces_previous_set(plan, generated, tmp_path):
    out = tmp_path / "previous"
    shutil.copytree(generated[0], out)
    before = snapshot(out)
    entries = {"州财政局": FormEntries(items={1: ItemEntry(reason="未定期研究部署", deduction=2)})}
    generate(plan, out, entries=entries)
    after = snapshot(out)
    assert after.keys() == before.keys()
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == ["02-第二核查组.zip", "02-第二核查组/州财政局-评分细则.xlsx"]
    rows = CalamineWorkbook.from_path(str(form_path(plan, out, "州财政局"))).get_sheet_by_name("评分细则").to_python()
    assert rows[3][6] == 3 and rows[19][6] == 96


def test_same_safe_name_twice_gives_two_files(tmp_path):
    """Two units whose names differ only in characters Windows forbids must not overwrite each other."""
    text = PLAN_2018.read_text(encoding="utf-8")
    text = text.replace("      - 县供销社/合作联社\n", "      - 县供销社/合作联社\n      - 县供销社:合作联社\n")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("declared_count: 3", "declared_count: 4"), encoding="utf-8")
    p = load_plan(path)
    out = tmp_path / "out"
    result = generate(p, out)
    files = list((out / "01-县直第一核查组").iterdir())
    assert len(files) == 4 == result.forms - 4
    with zipfile.ZipFile(out / "01-县直第一核查组.zip", metadata_encoding="gbk") as zf:
        names = zf.namelist()
    assert len(names) == len(set(names)) == 4


def test_long_unit_name(tmp_path):
    """A long unit name still gives a file whose name fits the 255-byte limit of Linux file systems."""
    long_name = "湘西土家族苗族自治州" + "某某某中心" * 18  # 100 characters
    text = PLAN_2018.read_text(encoding="utf-8").replace("      - 县教育局\n", f"      - {long_name}\n")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    p = load_plan(path)
    out = tmp_path / "out"
    generate(p, out)
    names = [q.name for q in (out / "01-县直第一核查组").iterdir()]
    assert len(names) == 3
    long_file = [n for n in names if n.startswith("湘西土家族苗族自治州")]
    assert len(long_file) == 1 and windows_valid(long_file[0]) and long_file[0].endswith(".xlsx")


# --------------------------------------------------------------------------- generated forms are sound workbooks


def test_generated_forms_read_exactly_like_build_form(plan, generated):
    """However the generator produces them, the files hold exactly what build_form(plan, unit) writes."""
    out = generated[0]
    # every file is a sound zip; the content is compared for the first and last unit of each summary unit
    # and for every unit with "（含…）" sub-offices (their guide line differs)
    for u in plan.units:
        with zipfile.ZipFile(form_path(plan, out, u.name)) as zf:
            assert zf.testzip() is None
    sample = {s.units[0].name for s in plan.summary_units} | {s.units[-1].name for s in plan.summary_units}
    sample |= {u.name for u in plan.units if u.includes or u.aliases}
    for u in [u for u in plan.units if u.name in sample]:
        with zipfile.ZipFile(form_path(plan, out, u.name)) as got, zipfile.ZipFile(io.BytesIO(build_form(plan, u))) as want:
            assert got.testzip() is None
            assert got.namelist() == want.namelist()
            for name in want.namelist():
                assert got.read(name) == want.read(name), (u.name, name)


def test_generated_forms_pass_infozip_test(plan, generated):
    out = generated[0]
    for s in plan.summary_units:
        folder = out / summary_folder(plan, s.name)
        r = subprocess.run(["unzip", "-tq", str(folder / "*.xlsx")], capture_output=True)
        assert r.returncode == 0, r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def _plan_with_names(tmp_path, names: list[str]):
    """The 2018 test plan with extra units (written as JSON strings, valid YAML) in its first group."""
    import json

    text = PLAN_2018.read_text(encoding="utf-8")
    extra = "".join(f"      - {json.dumps(n, ensure_ascii=False)}\n" for n in names)
    text = text.replace("      - 县教育局\n", "      - 县教育局\n" + extra)
    path = tmp_path / "names.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_names_with_markup_characters(tmp_path):
    """Names with XML's special characters, or with text that looks like Excel's _xHHHH_ escape, come back
    from the generated files exactly as from build_form (and as the plan spells them)."""
    names = ['县A&B<C>"D\'局', "县<b>粗</b>局", "县_x0041_局"]
    p = load_plan(_plan_with_names(tmp_path, names))
    out = tmp_path / "out"
    generate(p, out)
    for n in names:
        u = p.unit(n)
        path = form_path(p, out, n)
        assert windows_valid(path.name)
        want = build_form(p, u)
        got_ws = openpyxl.load_workbook(path)["评分细则"]
        assert got_ws["B2"].value == openpyxl.load_workbook(io.BytesIO(want))["评分细则"]["B2"].value
        got = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("评分细则").to_python()[1][1]
        assert got == _calamine_rows(want)[1][1] == n


def test_name_with_control_character(tmp_path):
    """A control character (e.g. a pasted \\a) is refused by the plan loader or gives a well-formed workbook."""
    from xlsx_tool.plan import PlanError

    name = "县\a铃局"
    try:
        p = load_plan(_plan_with_names(tmp_path, [name]))
    except PlanError as e:
        assert "units" in e.field
        return
    out = tmp_path / "out"
    generate(p, out)
    path = form_path(p, out, name)
    ws = openpyxl.load_workbook(path)["评分细则"]  # raises on malformed XML
    assert ws["B2"].value == openpyxl.load_workbook(io.BytesIO(build_form(p, p.unit(name))))["评分细则"]["B2"].value


# --------------------------------------------------------------------------- every form, fast (calamine)


def test_every_form_identity_and_info_line(plan, generated):
    out = generated[0]
    fp = plan.rubric.fingerprint
    for u in plan.units:
        wb = CalamineWorkbook.from_path(str(form_path(plan, out, u.name)))
        assert wb.sheet_names == ["评分细则", "填表说明", "表单信息"]
        rows = wb.get_sheet_by_name("评分细则").to_python()
        assert rows[0][0] == plan.form_title
        assert rows[1][:3] == ["被核查单位：", u.name, f"核查组：{u.summary}"]
        assert rows[1][4] == "核查时间："
        ident = {r[0]: r[1] for r in wb.get_sheet_by_name("表单信息").to_python()[1:]}
        expected = {"方案编号": plan.id, "核查期间": plan.period, "被核查单位": u.name, "单位编号": u.code,
                    "汇总单位": u.summary, "表单版本": layout.FORM_VERSION, "评分细则指纹": fp}
        assert {k: ident.get(k) for k in expected} == expected
        assert [r[6] for r in rows[3:18]] == MAXES
        assert rows[18][6] == 98 and rows[19][6] == 98


# --------------------------------------------------------------------------- one form in depth (openpyxl)


def test_sheets_and_identity(plan, books):
    for name, wb in books.items():
        u = plan.unit(name)
        assert wb.sheetnames == ["评分细则", "填表说明", "表单信息"]
        assert [ws.sheet_state for ws in wb] == ["visible", "visible", "hidden"]
        assert wb.active.title == "评分细则"
        ident = wb["表单信息"]
        assert ident["A1"].value == "xlsx-tool 表单信息（请勿修改本表）"
        values = {r[0].value: r[1].value for r in ident.iter_rows(min_row=2)}
        assert values["方案编号"] == "xiangxi-zhizhi-2017q3"
        assert values["核查期间"] == "2017年第三季度"
        assert values["被核查单位"] == name
        assert values["汇总单位"] == u.summary
        assert values["表单版本"] == layout.FORM_VERSION and values["表单版本"]
        assert values["评分细则指纹"] == plan.rubric.fingerprint
        assert wb.properties.creator == plan.issuer
        assert wb.properties.created == dt.datetime(2017, 10, 20)


def test_title_info_and_headers(plan, books):
    wb = books["州财政局"]
    ws = wb["评分细则"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert ws["A1"].value == "2017年三季度州直单位党组织书记履行党建工作责任实地核查评分细则"
    assert "A1:G1" in merged
    assert ws["A2"].value == "被核查单位："
    assert ws["B2"].value == "州财政局"
    assert ws["C2"].value == "核查组：第二核查组"
    assert "C2:D2" in merged
    assert ws["E2"].value == "核查时间："
    assert ws["F2"].value is None and "F2:G2" in merged
    assert "年" in ws["F2"].number_format and "月" in ws["F2"].number_format
    assert [ws.cell(3, c).value for c in range(1, 8)] == HEADERS
    assert books["州统计局"]["评分细则"]["C2"].value == "核查组：州发改委直属机关党委"
    assert ws.freeze_panes == "A4"


def test_categories_items_and_maxima(plan, books):
    ws = books["州财政局"]["评分细则"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    row = 4
    for cat, items in plan.rubric.categories:
        assert ws.cell(row, 1).value == cat
        if len(items) > 1:
            assert f"A{row}:A{row + len(items) - 1}" in merged
        else:
            assert not any(m.startswith(f"A{row}:") for m in merged)
        row += len(items)
    assert {"A4:A6", "A7:A9", "A10:A12", "A13:A14", "A15:A16"} <= merged
    assert ws["A17"].value == "六、基层党建工作投入保障情况" and ws["A18"].value == "七、干部作风建设和党风廉政建设情况"
    golden = [line.split("\t", 2)[2] for line in (GOLDEN / "2017q3_rubric.txt").read_text(encoding="utf-8").splitlines()
              if line.startswith("I\t")]
    texts = [ws.cell(r, 2).value for r in range(4, 19)]
    assert texts == [it.text for it in plan.rubric.items] == golden
    maxes = [ws.cell(r, 3).value for r in range(4, 19)]
    assert maxes == MAXES and all(type(v) is int for v in maxes)
    for r in range(4, 19):
        assert ws.cell(r, 4).value in (None, "") and ws.cell(r, 5).value in (None, "") and ws.cell(r, 6).value is None
    assert ws["A19"].value == "小计" and "A19:B19" in merged
    assert ws["A20"].value == "核定得分（最高98分）" and "A20:F20" in merged


def _test_item(plan):
    """The item whose deduction also takes the knowledge test's (a block below the table), if the plan has one."""
    return getattr(plan.rules, "test_item", None)


def test_formulas(plan, books):
    ws = books["州财政局"]["评分细则"]
    for i, it in enumerate(plan.rubric.items):
        r = 4 + i
        f = ws.cell(r, 7).value
        if it.seq == _test_item(plan):
            # =MAX(0,C12-MIN(10,F12+F29)): the test's deduction, from a formula cell below the table
            m = re.fullmatch(rf"=MAX\(0,C{r}-MIN\({int(it.limit)},F{r}\+F(\d+)\)\)", f)
            assert m, f
            assert int(m.group(1)) > 20 and str(ws[f"F{m.group(1)}"].value).startswith("=")
        else:
            assert f == f"=MAX(0,C{r}-F{r})"
    assert ws["C19"].value == "=SUM(C4:C18)"
    assert ws["F19"].value == "=C19-G19"  # the points actually lost, every cap and the test's part included
    assert ws["G19"].value == "=SUM(G4:G18)"
    assert ws["G20"].value == "=MIN(98,G19)"


def test_cached_values(plan, generated):
    path = form_path(plan, generated[0], "州财政局")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("评分细则").to_python()
    assert [rows[r][6] for r in range(3, 18)] == MAXES
    assert rows[18][2] == 98 and rows[18][5] == 0 and rows[18][6] == 98
    assert rows[19][6] == 98
    # every formula in the file carries a stored value
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    root = ElementTree.fromstring(zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml"))
    with_formula = {c.get("r"): c for c in root.iterfind(".//m:c", ns) if c.find("m:f", ns) is not None}
    assert {f"G{r}" for r in range(4, 21)} | {"C19", "F19"} <= set(with_formula)
    missing = [ref for ref, c in with_formula.items() if c.find("m:v", ns) is None]
    assert missing == []


# ---- data validation


def _excel_bool(formula: str, cell: str, value: float) -> bool:
    """Evaluate a validation or conditional-format formula of the form the generator writes, for a number."""
    expr = formula.lstrip("=").replace("<>", "!=")
    expr = re.sub(r"(?<![<>!=])=(?!=)", "==", expr)
    expr = re.sub(rf"\b{cell}\b", "X", expr)
    assert not re.search(r"\b[A-Z]{1,2}\d+\b", expr), f"unexpected reference in {formula}"
    env = {
        "AND": lambda *a: all(a), "OR": lambda *a: any(a), "NOT": lambda a: not a,
        "ISNUMBER": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "ROUND": lambda v, n: float(Decimal(repr(v)).quantize(Decimal(1).scaleb(-n), rounding="ROUND_HALF_UP")),
        "INT": math.floor, "X": value,
    }
    return bool(eval(expr, {"__builtins__": {}}, env))  # noqa: S307 — our own generated formula


def _validations(ws) -> dict[str, object]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            c1, r1, c2, r2 = range_boundaries(rng)
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out[f"{openpyxl.utils.get_column_letter(c)}{r}"] = dv
    return out


def test_deduction_validation(plan, books):
    ws = books["州财政局"]["评分细则"]
    dvs = _validations(ws)
    in_table = {c for c in dvs if int(re.sub(r"[A-Z]+", "", c)) <= 20}
    assert in_table == {"F2"} | {f"F{r}" for r in range(4, 19)}
    for dv in ws.data_validations.dataValidation:  # any validation (blocks below the table too) fits Excel's limits
        for text, limit in ((dv.promptTitle, 32), (dv.errorTitle, 32), (dv.prompt, 255), (dv.error, 255)):
            assert len(text or "") <= limit, text
    for i, it in enumerate(plan.rubric.items):
        r = 4 + i
        cell = f"F{r}"
        dv = dvs[cell]
        assert dv.type == "custom"
        assert dv.allow_blank
        assert dv.showErrorMessage and dv.showInputMessage
        assert dv.errorStyle in (None, "stop")
        f = dv.formula1
        assert f.startswith(f"AND(ISNUMBER({cell}),")
        lim = str(int(it.limit)) if it.limit == int(it.limit) else str(it.limit)
        step = str(int(it.step)) if it.step == int(it.step) else str(it.step)
        assert f"{cell}<={lim}" in f and f"/{step}," in f
        # the formula accepts exactly what the plan's rule accepts
        top = float(it.max) + 2
        candidates = [k / 4 for k in range(-4, int(top * 4) + 1)]
        for v in candidates:
            assert _excel_bool(f, cell, v) == it.allows(Decimal(repr(v))), (it.seq, v)
        # texts: Chinese, and within Excel's limits (title 32, message 255)
        for text, limit in ((dv.promptTitle, 32), (dv.errorTitle, 32), (dv.prompt, 255), (dv.error, 255)):
            assert text and re.search(r"[\u4e00-\u9fff]", text)
            assert len(text) <= limit, text
        assert dv.promptTitle.startswith(f"第{it.seq}项")
        assert lim in dv.error


def test_date_validation(plan, books):
    for name, (start, end) in (("州财政局", (dt.date(2017, 10, 23), dt.date(2017, 10, 24))),
                               ("州统计局", (dt.date(2017, 10, 25), dt.date(2017, 10, 31)))):
        ws = books[name]["评分细则"]
        dv = _validations(ws)["F2"]
        assert dv.type == "date"
        assert dv.operator in (None, "between")
        assert (int(dv.formula1), int(dv.formula2)) == (serial(start), serial(end))
        assert dv.showErrorMessage and dv.allow_blank
        for text, limit in ((dv.promptTitle, 32), (dv.errorTitle, 32), (dv.prompt, 255), (dv.error, 255)):
            assert text and re.search(r"[\u4e00-\u9fff]", text) and len(text) <= limit
        assert f"{start:%Y-%m-%d}" in dv.prompt and f"{end:%Y-%m-%d}" in dv.prompt
        assert plan.unit(name).summary in dv.error


def test_validation_survives_a_long_basis(tmp_path):
    """A plan whose 说明 (basis) is long still gets a validation on that item; the prompt is shortened to fit."""
    text = (Path(__file__).parents[1] / "xlsx_tool" / "plan" / "2017q3.yaml").read_text(encoding="utf-8")
    old = 'basis: "每次扣0.5分，最多扣至分值6分"'
    assert old in text
    path = tmp_path / "long.yaml"
    path.write_text(text.replace(old, 'basis: "' + "每次扣0.5分，最多扣至分值6分。" * 20 + '"'), encoding="utf-8")
    p = load_plan(path)
    ws = openpyxl.load_workbook(io.BytesIO(build_form(p, p.units[0])))["评分细则"]
    dvs = _validations(ws)
    assert "F11" in dvs  # item 8
    assert len(dvs["F11"].prompt) <= 255


# ---- conditional formats, protection, print setup, fonts


def _cf_by_cell(ws) -> dict[str, list]:
    out: dict[str, list] = {}
    for rng, rules in ws.conditional_formatting._cf_rules.items():
        for part in str(rng.sqref).split():
            c1, r1, c2, r2 = range_boundaries(part)
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out.setdefault(f"{openpyxl.utils.get_column_letter(c)}{r}", []).extend(rules)
    return out


def test_conditional_formats(plan, books):
    ws = books["州财政局"]["评分细则"]
    cf = _cf_by_cell(ws)
    for i, it in enumerate(plan.rubric.items):
        cell = f"F{4 + i}"
        assert cell in cf, cell
        formula = cf[cell][0].formula[0]
        assert cf[cell][0].dxf is not None
        # lights up exactly for a filled-in number the rule rejects
        for v in (0, 0.5, 1, 2, 3, float(it.limit), float(it.max) + 1, -1):
            assert _excel_bool(formula, cell, v) == (not it.allows(Decimal(repr(v)))), (it.seq, v)
        assert f'{cell}<>""' in formula
    for r in range(4, 19):
        assert f"E{r}" in cf
    assert "E4:E18" in {str(rng.sqref) for rng in ws.conditional_formatting._cf_rules}
    e = cf["E4"][0].formula[0]
    assert "F4" in e and "E4" in e and "LEN" in e
    d = cf["F2"][0].formula[0]
    assert "DATE(2017,10,23)" in d and "DATE(2017,10,24)" in d
    d2 = _cf_by_cell(books["州统计局"]["评分细则"])["F2"][0].formula[0]
    assert "DATE(2017,10,25)" in d2 and "DATE(2017,10,31)" in d2


def test_protection(books):
    wb = books["州财政局"]
    ws = wb["评分细则"]
    assert ws.protection.sheet
    assert not ws.protection.password  # protection against accidents, no password to lose
    # (iterate only within the used range: iter_rows creates cells, which would move max_row)
    unlocked = {c.coordinate for row in ws.iter_rows(min_row=1, max_row=20, max_col=ws.max_column) for c in row
                if not c.protection.locked}
    inputs = {f"{col}{r}" for col in "DEF" for r in range(4, 19)}
    assert unlocked == {"F2", "G2"} | inputs  # G2 is the covered half of the merged date cell F2:G2
    # below the table (input blocks, if any): no formula is left unlocked
    for row in ws.iter_rows(min_row=21, max_row=ws.max_row, max_col=ws.max_column):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                assert c.protection.locked, c.coordinate
    assert wb["填表说明"].protection.sheet and wb["表单信息"].protection.sheet


def test_print_setup(books):
    ws = books["州财政局"]["评分细则"]
    ps = ws.page_setup
    assert int(ps.paperSize) == 9  # A4
    assert ps.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ps.fitToWidth in (None, 1, "1")  # absent means 1
    assert int(ps.fitToHeight) == 0
    assert ws.print_title_rows == "$2:$3"
    # the whole form, table and any blocks below it: A1 to G<last used row>
    assert ws.print_area == f"'评分细则'!$A$1:$G${ws.max_row}"
    assert ws.max_row >= 20


def test_fonts_named_songti(books):
    wb = books["州财政局"]
    for f in wb._fonts:
        assert f.name == "宋体" and f.charset == 134
    for sheet in ("评分细则", "填表说明"):
        for row in wb[sheet].iter_rows():
            for c in row:
                if c.value not in (None, ""):
                    assert c.font.name == "宋体", (sheet, c.coordinate)


def test_fonts_not_tied_to_theme(plan, generated):
    """A font with <scheme val="minor"/> is drawn in the theme's font (Calibri for Latin text in Excel),
    whatever its name says: every font must name 宋体 without a theme scheme."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    styles = ElementTree.fromstring(zipfile.ZipFile(form_path(plan, generated[0], "州财政局")).read("xl/styles.xml"))
    fonts = styles.find(f"{ns}fonts").findall(f"{ns}font")
    assert fonts
    for font in fonts:
        assert font.find(f"{ns}name").get("val") == "宋体"
    tied = [f for f in fonts if f.find(f"{ns}scheme") is not None and f.find(f"{ns}scheme").get("val") != "none"]
    assert tied == []


# --------------------------------------------------------------------------- build_form with entries


def _calamine_rows(data: bytes):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("评分细则").to_python()


def test_entries_cached_scores(plan):
    u = plan.unit("州财政局")
    data = build_form(plan, u, FormEntries(dt.date(2017, 10, 23), {1: ItemEntry("亮点", "未定期研究部署", 2)}))
    rows = _calamine_rows(data)
    assert rows[3][3:7] == ["亮点", "未定期研究部署", 2, 3]
    assert rows[1][5] == dt.date(2017, 10, 23)
    assert rows[18][5] == 2 and rows[18][6] == 96
    assert rows[19][6] == 96


def test_entries_several_items(plan):
    u = plan.unit("州统计局")
    items = {1: ItemEntry(deduction=2), 8: ItemEntry(deduction=0.5), 3: ItemEntry(deduction=12)}
    rows = _calamine_rows(build_form(plan, u, FormEntries(items=items)))
    scores = [rows[r][6] for r in range(3, 18)]
    expected = list(MAXES)
    expected[0], expected[7], expected[2] = 3, 5.5, 0  # MAX(0, 10-12) = 0
    assert scores == expected
    assert rows[18][5] == 12.5  # points lost: item 3 loses its 10, not the 12 typed
    assert rows[18][6] == rows[19][6] == 98 - 2 - 0.5 - 10


def test_entries_total_capped(plan):
    u = plan.unit("州统计局")
    rows = _calamine_rows(build_form(plan, u, FormEntries(items={3: ItemEntry(deduction=-5)})))
    assert rows[5][6] == 15
    assert rows[18][6] == 103
    assert rows[19][6] == 98  # =MIN(98,G19)


def test_entries_text_deduction_gives_value_error(plan):
    u = plan.unit("州财政局")
    items = {1: ItemEntry(deduction=2), 3: ItemEntry(reason="整改未完成", deduction="2分")}
    data = build_form(plan, u, FormEntries("10月23日", items))
    ws = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["评分细则"]
    assert ws["F6"].value == "2分"  # kept exactly as typed
    assert ws["F2"].value == "10月23日"
    assert ws["G6"].value == "#VALUE!"
    assert ws["G4"].value == 3 and ws["G5"].value == 5
    assert ws["G19"].value == "#VALUE!" and ws["G20"].value == "#VALUE!"
    assert ws["F19"].value == "#VALUE!"  # =C19-G19 follows the error
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    g6 = re.search(r'<c r="G6"([^>]*)>(.*?)</c>', xml)
    assert 't="e"' in g6.group(1) and "<v>#VALUE!</v>" in g6.group(2)


def test_entries_blank_and_zero(plan):
    u = plan.unit("州财政局")
    items = {1: ItemEntry(deduction=0), 2: ItemEntry(deduction=""), 3: ItemEntry(deduction=None)}
    rows = _calamine_rows(build_form(plan, u, FormEntries(items=items)))
    assert [rows[r][6] for r in range(3, 18)] == MAXES
    assert rows[19][6] == 98


def test_blank_entries_same_bytes_as_no_entries(plan):
    u = plan.unit("州财政局")
    assert build_form(plan, u, FormEntries()) == build_form(plan, u) == build_form(plan, u, None)


def test_generate_with_entries_fills_only_that_unit(tmp_path):
    p = load_plan(PLAN_2018)
    out = tmp_path / "out"
    generate(p, out, entries={"县人民医院": FormEntries(items={5: ItemEntry(reason="少一次", deduction=0.5)})})
    rows = CalamineWorkbook.from_path(str(out / "02-县卫生局直属机关党委" / "县人民医院-评分细则.xlsx")) \
        .get_sheet_by_name("评分细则").to_python()
    assert rows[7][5] == 0.5 and rows[7][6] == 22
    assert rows[8][6] == 99.5 and rows[9][6] == 99.5
    other = CalamineWorkbook.from_path(str(out / "02-县卫生局直属机关党委" / "县中医院-评分细则.xlsx")) \
        .get_sheet_by_name("评分细则").to_python()
    assert other[9][6] == 100


# --------------------------------------------------------------------------- the worksheet class's shortcut


def test_form_worksheet_prepares_every_formula_as_xlsxwriter_does(plan):
    """FormWorksheet skips XlsxWriter's future-function rewrite for the form's own formulas: for every
    formula of a filled form (cells, validations, conditional formats) the result must be XlsxWriter's."""
    from xlsxwriter.worksheet import Worksheet

    from xlsx_tool.forms.worksheet import FormWorksheet

    entries = FormEntries(date=dt.date(2017, 10, 23), items={1: ItemEntry(reason="原因", deduction=2)},
                          test=[("张三", 50)], rectified=[("已整改", "")])
    wb = openpyxl.load_workbook(io.BytesIO(build_form(plan, plan.unit("州财政局"), entries, ["问题一", "问题二"])))
    ws = wb[layout.FORM_SHEET]
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    formulas += ["=" + dv.formula1 for dv in ws.data_validations.dataValidation if dv.formula1]
    formulas += ["=" + f for cf in ws.conditional_formatting for rule in cf.rules for f in rule.formula]
    assert len(formulas) > 50
    ours, theirs = FormWorksheet(), Worksheet()
    for f in formulas + ["=XLOOKUP(A1,B:B,C:C)", "=SUM(A1:A3)+_xlfn.STDEV.S(A1:A3)", "{=SUM(A1:A3*B1:B3)}",
                         "=FILTER(A1:A9,B1:B9>0)", "=STDEV.S(A1:A3)"]:
        for expand in (False, True):
            assert ours._prepare_formula(f, expand) == theirs._prepare_formula(f, expand), (f, expand)
