"""简要核查报告 drafts: one .docx per summary unit and one overall, checked as a reader sees them.

Returns are real forms (build_form + FormEntries) merged from a folder.  All 23 .docx files are
converted to PDF in ONE LibreOffice (Writer) start with its own profile, and the text pdftotext
extracts is checked against numbers computed here from what was typed (item score = max(0, max -
deduction), total = min(98, sum), ranks 1, 2, 2, 4).  A missing LibreOffice or Writer fails, never skips.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import lo
from insight_returns import MERGED_ON, RETURNS, D, expected_score, merged_returns
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form
from xlsx_tool.forms.generate import form_filename, summary_folder
from xlsx_tool.judging.merge import merge
from xlsx_tool.outputs.report import block_text, build_report, report_blocks, write_reports

pytestmark = pytest.mark.libreoffice

TODO = "（待补充）"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

FIRST, OFFICE, SILENT = "第一核查组", "州委办直属机关党委", "第二核查组"


def fmt(d: Decimal) -> str:
    return f"{d.normalize():f}"


def score(plan, typed) -> Decimal:
    return expected_score(plan, typed)


def ranks(scores: dict[str, Decimal]) -> dict[str, int]:
    return {k: 1 + sum(1 for o in scores.values() if o > v) for k, v in scores.items()}


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def result(plan, tmp_path_factory):
    return merged_returns(plan, tmp_path_factory.mktemp("report-returns"))


@pytest.fixture(scope="module")
def reports(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "output"
    return write_reports(result, out)


def _pdftotext() -> str:
    exe = shutil.which("pdftotext")
    if not exe:
        pytest.fail("pdftotext not found: apt-get install -y poppler-utils", pytrace=False)
    return exe


def docx_to_pdf(files: list[Path], outdir: Path) -> list[Path]:
    """All files in ONE soffice start with a fresh profile of its own; every output must exist (tests/lo.py)."""
    return lo.convert(files, "pdf", outdir, timeout=300)


@pytest.fixture(scope="module")
def pdf_text(reports, tmp_path_factory):
    """{summary name or 汇总: (flat text, layout lines, pdfinfo)} for every report."""
    exe = _pdftotext()
    pdfs = docx_to_pdf(reports, tmp_path_factory.mktemp("report-pdf") / "pdf")
    out = {}
    for docx_path, pdf in zip(reports, pdfs):
        key = docx_path.stem.removeprefix("简要核查报告-")
        layout = subprocess.run([exe, "-enc", "UTF-8", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                check=True).stdout
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        # the page numbers ("— 3 —") taken out, so that a sentence across a page break reads whole
        lines = [flat(line) for line in layout.splitlines() if line.strip()]
        out[key] = (re.sub(r"—\d+—", "", flat(layout)), lines, info)
    return out


# --------------------------------------------------------------------------- the files


def test_one_report_per_summary_unit_and_one_overall(plan, reports):
    assert len(reports) == len(plan.summary_units) + 1 == 23
    assert [p.name for p in reports] == [f"简要核查报告-{s.name}.docx" for s in plan.summary_units] + ["简要核查报告-汇总.docx"]
    folder = reports[0].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in reports)  # no temporary files left
    for p in reports:
        assert zipfile.is_zipfile(p)


def test_output_is_deterministic(result, reports, tmp_path):
    again = write_reports(result, tmp_path / "again")
    for a, b in zip(reports, again):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert build_report(result, None) == reports[-1].read_bytes()
    with zipfile.ZipFile(reports[0]) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode("utf-8")
        assert "docProps/thumbnail.jpeg" not in z.namelist()
    assert "2017-11-06T00:00:00Z" in core and core.count("2017-11-06T00:00:00Z") >= 2
    assert "xlsx-tool" in core


def _runs(data: bytes) -> list[tuple[str, str | None, float | None]]:
    """(text, East Asian font, size in pt) of every run with text in the body."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = ET.fromstring(z.read("word/document.xml"))
    out = []
    for r in root.iter(f"{W}r"):
        text = "".join(t.text or "" for t in r.iter(f"{W}t"))
        if not text:
            continue
        fonts = r.find(f"{W}rPr/{W}rFonts")
        sz = r.find(f"{W}rPr/{W}sz")
        out.append((text, fonts.get(f"{W}eastAsia") if fonts is not None else None,
                    int(sz.get(f"{W}val")) / 2 if sz is not None else None))
    return out


def test_official_document_style(result, reports):
    runs = _runs(reports[0].read_bytes())
    title = runs[0]
    assert title[0].startswith(FIRST + "关于") and title[0].endswith("情况的简要报告")
    assert title[1] == "方正小标宋简体" and title[2] == 22  # 二号
    assert all(f for _, f, _ in runs), "every run names its East Asian font"
    body = [r for r in runs if r[1] == "仿宋"]
    assert body and all(size in (16, 12) for _, _, size in body)  # 三号 body, 小四 in tables
    headings = [t for t, f, _ in runs if f == "黑体" and re.match(r"^[一二三四五六七八九十]+、", t)]
    numerals = [h.split("、")[0] for h in headings]
    assert numerals == list("一二三四五六七八")  # numbered sections, in order, none skipped
    assert [h.split("、", 1)[1] for h in headings] == ["核查基本情况", "总体情况", "特色亮点", "存在的主要问题",
                                                       "评分标准执行情况", "评分排名", "未交评分表的单位", "下一步工作打算"]
    with zipfile.ZipFile(reports[0]) as z:
        doc = z.read("word/document.xml").decode("utf-8")
        fonts = z.read("word/fontTable.xml").decode("utf-8")
    assert 'w:w="11906"' in doc and 'w:h="16838"' in doc  # A4 in twentieths of a point
    assert 'w:altName w:val="宋体"' in fonts  # 方正小标宋简体 falls back to 宋体 where it is missing


def test_blocks_say_what_is_missing_rather_than_invent(plan, result):
    silent = next(s for s in result.summaries if s.summary.name == SILENT)
    text = block_text(report_blocks(result, silent))
    assert f"尚未收到{SILENT}报送的评分表（应交10份，已采用0份）" in text
    assert "排名\t" not in text and "特色亮点”栏" not in text and TODO in text
    first = next(s for s in result.summaries if s.summary.name == FIRST)
    text = block_text(report_blocks(result, first))
    assert "核查方式和过程" + TODO + "。" in text and "\n2017年×月×日" in text
    assert "下一步工作打算\n针对存在问题拟采取的措施" + TODO + "。" in text


# --------------------------------------------------------------------------- what a reader sees (PDF text)


def test_reports_print_on_a4(pdf_text):
    for key, (_, _, info) in pdf_text.items():
        assert "(A4)" in info, key


def test_summary_report_numbers_match_the_data(plan, pdf_text):
    text, lines, _ = pdf_text[FIRST]
    su = plan.summary(FIRST)
    got = {u.name: score(plan, RETURNS[u.name][1]) for u in su.units if u.name in RETURNS}
    missing = [u.name for u in su.units if u.name not in RETURNS]
    assert missing == ["州委宣传部", "州人社局"]
    title = FIRST + "关于" + plan.title.removesuffix("工作方案") + "情况的简要报告"
    assert text.startswith(title)
    assert "初稿" in text and TODO in text
    assert f"应核查10个单位，已收到并采用评分表{len(got)}份，尚有2个单位未交" in text
    avg = (sum(got.values(), Decimal(0)) / len(got)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    best, worst = max(got.values()), min(got.values())
    assert f"平均分{avg}分" in text
    assert f"最高分{fmt(best)}分（州纪委监察局），最低分{fmt(worst)}分（州经信委）" in text
    # when: the plan's window and the dates typed in the forms (one form has none)
    assert "方案规定的核查时间为2017年10月23日至2017年10月24日" in text
    assert "实地核查于2017年10月23日至2017年10月24日进行，另有1份评分表未填写核查时间。" in text
    assert "组长吴超" in text and "联络员罗文竹" in text  # from the plan
    # strengths, as typed
    assert "州纪委监察局：廉政教育常态化（第15项" in text
    assert "州委组织部：主题党日与脱贫攻坚结合（第4项" in text
    # the most common problem: item 5, six units, 10 points
    five = [u for u in got if 5 in RETURNS[u][1] and RETURNS[u][1][5][0]]
    lost5 = sum((D(RETURNS[u][1][5][0]) for u in five), Decimal(0))
    assert f"1.第5项（落实“三会一课”制度）：{len(five)}个单位扣分（占75.0%），共扣{fmt(lost5)}分" in text
    for u in five:
        d, reason, _ = RETURNS[u][1][5]
        assert f"{u}扣{fmt(D(d))}分，{reason}" in text
    assert "州委政法委扣1.5分（未写原因）" in text  # no reason typed: as the 评分汇总表 says it
    # the one-third rule
    high = sorted((u for u, s in got.items() if s >= 95), key=lambda u: (-got[u], [x.name for x in su.units].index(u)))
    assert len(high) == 5
    assert "95分及以上上限为3个；实际5个：" + "、".join(f"{u}{fmt(got[u])}分" for u in high) in text
    assert "超出上限2个，不符合规定" in text
    # ranking table: one line per unit, rank, name, score, date
    rk = ranks(got)
    for u, s in got.items():
        date = RETURNS[u][0].isoformat() if RETURNS[u][0] else "未填写"
        assert f"{rk[u]}{u}{fmt(s)}{date}" in lines, u
    assert rk["州政府办"] == rk["州国土资源局"] == 4 and rk["州委统战部"] == 6
    # missing units
    assert f"截至{cn_date(MERGED_ON)}，以下2个单位的评分表尚未收到：州委宣传部、州人社局" in text
    assert text.endswith(f"{FIRST}2017年×月×日")  # signed, date left to fill in, last page


def test_complete_summary_unit_without_highlights(plan, pdf_text):
    text, lines, _ = pdf_text[OFFICE]
    got = {u.name: score(plan, RETURNS[u.name][1]) for u in plan.summary(OFFICE).units}
    assert "应核查4个单位，已收到并采用评分表4份，全部交齐" in text
    assert f"{OFFICE}所核查的4个单位的评分表均已收到" in text
    assert "“特色亮点”栏均未填写" in text
    assert "95分及以上上限为1个；实际1个：州委党史研究室95分，符合规定" in text
    rk = ranks(got)
    for u, s in got.items():
        assert f"{rk[u]}{u}{fmt(s)}{RETURNS[u][0].isoformat()}" in lines, u
    assert "核查方式和过程" + TODO + "。" in text and "参加核查人员" + TODO + "。" in text  # the plan names nobody


def test_summary_unit_with_no_returns_says_so(plan, pdf_text):
    for name in (SILENT, "州国资委直属机关党委"):
        text, lines, _ = pdf_text[name]
        units = [u.name for u in plan.summary(name).units]
        assert f"尚未收到{name}报送的评分表（应交{len(units)}份，已采用0份）" in text
        assert f"以下{len(units)}个单位的评分表尚未收到：{'、'.join(units)}" in text
        assert "无法汇总" in text and TODO in text
        assert "平均分" not in text and "排名" not in text.replace("和排名", "")


def test_overall_report(plan, result, pdf_text):
    text, lines, _ = pdf_text["汇总"]
    got = {u: score(plan, typed) for u, (_, typed) in RETURNS.items()}
    assert text.startswith("关于" + plan.title.removesuffix("工作方案") + "情况的简要报告（汇总）")
    assert f"应核查137个单位，已收到并采用评分表{len(got)}份，尚有{137 - len(got)}个单位未交" in text
    avg = (sum(got.values(), Decimal(0)) / len(got)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert f"平均分{avg}分" in text
    assert "3个核查组（第一核查组、第二核查组、第三核查组）核查31个单位" in text
    assert "19个直属机关党委" in text and "核查106个单位" in text
    rk = ranks(got)
    for u, s in got.items():
        assert f"{rk[u]}{u}{fmt(s)}" in text, u  # two units a row: rank, unit, score
    # per summary unit: expected, returned, average, high/quota
    first = [s for u, s in got.items() if plan.unit(u).summary == FIRST]
    first_avg = (sum(first, Decimal(0)) / len(first)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert f"{FIRST}10{len(first)}{first_avg}5/3" in lines
    assert f"{SILENT}100—" + "—" in lines
    assert "1个汇总单位超出上限" in text and "第一核查组核查10个单位，95分及以上上限为3个；实际5个" in text
    silent = [s.name for s in plan.summary_units if s.name not in (FIRST, OFFICE)]
    assert f"其中{len(silent)}个汇总单位尚未报送任何可采用的评分表，详见下表：" in text
    assert f"{SILENT}10全部未交" in lines
    assert f"{FIRST}2州委宣传部、州人社局" in lines
    assert "廉政教育常态化" in text  # strengths from every summary unit
    assert "（落款单位）" in text


def test_every_report_names_its_summary_unit_and_date(plan, pdf_text):
    for s in plan.summary_units:
        text, _, _ = pdf_text[s.name]
        assert text.startswith(s.name + "关于"), s.name
        assert f"汇总时间{cn_date(MERGED_ON)}" in text, s.name
        assert "中共湘西自治州直属机关工作委员会：" in text, s.name


def _one_form(plan, tmp_path, unit_name: str, items: dict):
    unit = plan.unit(unit_name)
    folder = tmp_path / "in" / summary_folder(plan, unit.summary)
    folder.mkdir(parents=True)
    (folder / form_filename(unit)).write_bytes(build_form(plan, unit, FormEntries(dt.date(2017, 10, 23), items)))
    res = merge(plan, tmp_path / "in", today=MERGED_ON)
    return res, next(x for x in res.summaries if x.summary.name == unit.summary)


def test_text_from_the_forms_is_text(plan, tmp_path):
    """Reasons and highlights are written as typed: markup characters and a leading "=" stay text."""
    res, s = _one_form(plan, tmp_path, "州审计局", {
        3: ItemEntry(reason="=SUM(A1) <未整改>&“台账”", deduction=2),
        6: ItemEntry(highlight="<b>组织生活会</b> & 谈心谈话")})
    text = "".join(t for t, _, _ in _runs(build_report(res, s)))
    assert "州审计局扣2分，=SUM(A1) <未整改>&“台账”。" in text
    assert "州审计局：<b>组织生活会</b> & 谈心谈话（第6项" in text


def test_characters_xml_cannot_hold_are_dropped(plan, result):
    """A control character that reached a reason (pasted from elsewhere) must not break the .docx."""
    row = next(r for r in result.ranking if r.unit.name == "州委统战部")
    item = next(i for i in row.scored.items if i.seq == 4)
    saved = item.reason
    try:
        item.reason = "未开展\x07主题\x0b党日"
        s = next(x for x in result.summaries if x.summary.name == FIRST)
        text = "".join(t for t, _, _ in _runs(build_report(result, s)))
    finally:
        item.reason = saved
    assert "州委统战部扣2分，未开展主题党日" in text


def test_multi_line_text_from_excel_reads_as_one_sentence(plan, tmp_path):
    """Text pasted with Windows line ends: Excel (and xlsxwriter) store the CR as _x000D_ in the file; the
    reader must decode it, and the report joins the lines with "；"."""
    res, s = _one_form(plan, tmp_path, "州审计局", {
        3: ItemEntry(reason="支委会记录缺9月\r\n党员大会未开", deduction=2),
        6: ItemEntry(highlight="谈心谈话全覆盖\n建立台账")})
    reason = next(i.reason for i in res.ranking[0].scored.items if i.seq == 3)
    assert "_x000D_" not in reason, f"the reader left Excel's escape in the text: {reason!r}"
    text = "".join(t for t, _, _ in _runs(build_report(res, s)))
    assert "州审计局扣2分，支委会记录缺9月；党员大会未开。" in text
    assert "州审计局：谈心谈话全覆盖；建立台账（第6项" in text
