"""The plan model: the embedded 2017 Q3 plan against the source document, plan checks, bad plan files,
the `plan` CLI commands, and a second plan that must work without a code change.

Expected values below are transcribed from the source document
(shared/seed/000_394aad04d1aeef2a.txt); the rubric texts are in tests/golden/2017q3_rubric.txt,
copied verbatim from 附件2.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlsx_tool.interfaces.cli import cli
from xlsx_tool.findings import ERROR
from xlsx_tool.plan import PlanError, load_plan
from xlsx_tool.plan.check import check_plan

GOLDEN = Path(__file__).parent / "golden"
PLAN_2018 = GOLDEN / "plan_2018q1.yaml"


def embedded_text() -> str:
    return (resources.files("xlsx_tool.plan") / "2017q3.yaml").read_text(encoding="utf-8")


def edited_plan(tmp_path: Path, old: str, new: str, name: str = "plan.yaml") -> Path:
    """The embedded plan's YAML with the first occurrence of `old` replaced by `new`."""
    text = embedded_text()
    assert old in text, f"test setup: {old!r} not in the embedded plan"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the source, transcribed

# 三、核查分组: (group, leader, liaison, units); names without the source's padding spaces ("吴  超").
GROUPS = [
    ("第一核查组", ("吴超", "州直工委副书记", "13974352972"), ("罗文竹", "州直工委宣传部副部长", "15207431222"),
     ["州纪委监察局", "州委组织部", "州委宣传部", "州委统战部", "州委政法委", "州政府办", "州发改委", "州人社局",
      "州经信委", "州国土资源局"]),
    ("第二核查组", ("全东成", "州直工委副书记", "13574317828"), ("黄曦", "州直党员培训中心干部", "15080862266"),
     ["州委办", "州教育和体育局", "州科技局", "州民政局", "州财政局", "州住建局", "州交通运输局", "州农业委",
      "州林业局", "州水利局"]),
    ("第三核查组", ("彭秀清", "州直工委委员、组织部部长", "13974300033"), ("向甫州", "州直工委办公室副主任", "15874334737"),
     ["州商务局", "州卫生和计生委", "州审计局", "州环保局", "州人大常委会机关", "州政协机关", "州国资委",
      "湘西民族职业技术学院", "湘西长行村镇银行", "州旅游港澳外事侨务局", "国家统计局湘西调查队"]),
]

# 附件1 第二部分, in order: (parent, declared count, units exactly as printed).
COMMITTEES = [
    ("州委办", 4, ["州委政策研究室", "州接待处", "州档案局", "州委党史研究室"]),
    ("州委组织部", 8, ["州委党校", "州委老干部局", "州总工会", "团州委", "州妇联", "州老干活动中心", "州编办", "州直工委"]),
    ("州委宣传部", 11, ["州委讲师团", "团结报社", "州文联", "州文广新局", "州广播电视台", "州文化市场综合执法局",
                   "州文物管理局", "州羊峰山电视调频转播台", "湘西武陵山民族文艺传习中心",
                   "省新华书店有限责任公司湘西分公司", "省新华书店实业发展有限责任公司湘西分公司"]),
    ("州委统战部", 4, ["州委台办", "州工商联", "州侨联", "州民宗委"]),
    ("州委政法委", 9, ["州委610办", "州公安局", "州中级人民法院", "州人民检察院", "州司法局", "吉首监狱",
                   "州强制隔离戒毒所", "州国家安全局", "州交警支队"]),
    ("州政府办", 14, ["州人防办", "州政府法制办", "州政府口岸办", "州信访局", "州地方志办", "州公共资源交易中心",
                  "州安全生产监督管理局", "州工商局", "州质量技术监督局", "州政务服务中心", "州住房公积金管理中心",
                  "州红十字会", "州食品药品监督管理局（州酒类产销管理局）", "州食品药品检验所"]),
    ("州发改委", 1, ["州统计局"]),
    ("州经信委", 8, ["州国税局", "州地税局", "州烟草专卖局（公司）", "州无线电管理处", "中国电信湘西分公司",
                 "中国移动湘西分公司", "州邮政分公司", "国网湘西供电公司"]),
    ("州教育和体育局", 7, ["吉首大学师范学院", "州民族广播电视大学", "州民族中学", "州教育科学研究院", "州教育考试院",
                     "州全民健身中心", "州体育学校"]),
    ("州科技局", 2, ["州科协", "州地震局"]),
    ("州民政局", 2, ["州残联", "州肿瘤医院"]),
    ("州人社局", 6, ["州医保局", "州机关社保局", "州社保局", "州劳动人事争议仲裁院", "州工伤保险局", "州就业服务管理局"]),
    ("州国土资源局", 2, ["省405队", "省245队"]),
    ("州住建局", 2, ["州城乡规划管理处", "州建筑规划勘察设计院"]),
    ("州交通运输局", 6, ["州公路局", "州邮政管理局", "州地方海事局", "州交通建设质量安全监督管理处", "州道路运输管理处",
                    "州汽车运输总公司"]),
    ("州农业委", 10, ["州扶贫开发办", "州畜牧水产局", "州农机局", "州气象局", "州移民局", "州供销联社", "州农科院",
                  "州农经站", "州外资外援办", "州水文局"]),
    ("州商务局", 4, ["州粮食局", "州贸促会", "州投资促进事务局", "中石化湘西州分公司"]),
    ("州卫生和计生委", 5, ["州人民医院", "州民族中医院", "州疾控中心", "州卫生计生综合监督执法局", "州妇幼保健院"]),
    ("州国资委", 1, ["州国有资产投资公司"]),
]

# The two printed names whose parenthesis is not "（含…）": the plan keeps the main name.
PRINTED_TO_PLAN = {"州食品药品监督管理局（州酒类产销管理局）": "州食品药品监督管理局", "州烟草专卖局（公司）": "州烟草专卖局"}

# 附件1 第一部分, verbatim (the 31 units with their "（含…）" sub-offices; "州委统战部直" is the source's typo).
PART1 = (
    "州纪委监察局、州委办（含州国家保密局、州委督查室、州委机要局）、州委组织部、州委宣传部（含州社科联）、州委统战部直、"
    "州委政法委、州政府办（含州机关事务服务中心、长沙办事处、上海联络处、深圳办事处）、州发改委（含州重点建设项目办）、"
    "州经信委、州教育和体育局、州科技局、州民政局、州财政局（含州财源建设办、州国库集中支付核算中心、州非税收入管理局）、"
    "州人社局、州国土资源局（含州国土资源执法监察支队、州土地开发整理中心）、州住建局（含州风景园林管理办）、州交通运输局、"
    "州农业委、州林业局、州水利局、州商务局、州卫生和计生委、州审计局、州环保局、州人大常委会机关、州政协机关、州国资委、"
    "湘西民族职业技术学院、湘西长行村镇银行、州旅游港澳外事侨务局、国家统计局湘西调查队"
)

MAXES = [5, 5, 10, 5, 8, 5, 5, 6, 10, 8, 6, 10, 3, 5, 7]


def part1_entries() -> list[tuple[str, str, list[str]]]:
    """(printed text, name, includes) for each entry of PART1; splits on 、 outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in PART1 + "、":
        if ch == "（":
            depth += 1
        elif ch == "）":
            depth -= 1
        if ch == "、" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    entries = []
    for text in out:
        m = re.fullmatch(r"(.+?)（含(.+)）", text)
        entries.append((text, m.group(1), m.group(2).split("、")) if m else (text, text, []))
    return entries


def golden_rubric() -> tuple[list[tuple[str, list[tuple[int, str]]]], int]:
    cats: list[tuple[str, list[tuple[int, str]]]] = []
    printed = None
    for line in (GOLDEN / "2017q3_rubric.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("C\t"):
            cats.append((line[2:], []))
        elif line.startswith("I\t"):
            _, mx, text = line.split("\t", 2)
            cats[-1][1].append((int(mx), text))
        elif line.startswith("T\t"):
            printed = int(line[2:])
    return cats, printed


# --------------------------------------------------------------------------- embedded plan: units


def test_summary_units_and_unit_counts(plan):
    assert len(plan.summary_units) == 22
    kinds = [s.kind for s in plan.summary_units]
    assert kinds == ["核查组"] * 3 + ["直属机关党委"] * 19
    assert len(plan.units) == 137
    assert [len(s.units) for s in plan.summary_units[:3]] == [10, 10, 11]
    assert sum(len(s.units) for s in plan.summary_units[:3]) == 31
    assert sum(len(s.units) for s in plan.summary_units[3:]) == 106
    # every unit name is unique, and each unit points at the summary unit that lists it
    assert len({u.name for u in plan.units}) == 137
    for s in plan.summary_units:
        for u in s.units:
            assert u.summary == s.name
            assert plan.unit(u.name) is u


def test_groups_match_source(plan):
    for s, (name, leader, liaison, units) in zip(plan.summary_units[:3], GROUPS):
        assert s.name == name
        assert s.kind == "核查组"
        assert [u.name for u in s.units] == units
        assert s.declared_count == len(units)
        assert (s.leader.name, s.leader.title, s.leader.phone) == leader
        assert (s.liaison.name, s.liaison.title, s.liaison.phone) == liaison
        assert s.window == (dt.date(2017, 10, 23), dt.date(2017, 10, 24))
        # the contact line used in reminders carries both phones exactly
        assert leader[2] in s.contacts and liaison[2] in s.contacts


def test_committees_match_source(plan):
    committees = plan.summary_units[3:]
    assert [s.parent for s in committees] == [c[0] for c in COMMITTEES]
    for s, (parent, count, printed) in zip(committees, COMMITTEES):
        assert s.kind == "直属机关党委"
        assert s.name == f"{parent}直属机关党委"
        assert s.declared_count == count
        assert len(s.units) == count, s.name
        assert [u.name for u in s.units] == [PRINTED_TO_PLAN.get(n, n) for n in printed]
        assert s.window == (dt.date(2017, 10, 25), dt.date(2017, 10, 31))
        assert s.leader is None and s.liaison is None
        # each committee belongs to one of the 31 directly inspected units
        assert plan.unit(parent) is not None and plan.unit(parent).summary in {g[0] for g in GROUPS}


def test_deadline_and_header_fields(plan):
    assert plan.deadline == dt.date(2017, 11, 7)
    assert plan.issued == dt.date(2017, 10, 20)
    assert plan.report_to == "983014926@qq.com"
    assert plan.issuer == "中共湘西自治州直属机关工作委员会"
    assert plan.form_title == "2017年三季度州直单位党组织书记履行党建工作责任实地核查评分细则"
    assert plan.summary_title == "2017年三季度州直单位党组织书记履行党建工作责任实地核查评分汇总表"
    assert plan.period == "2017年第三季度"
    for s in plan.summary_units:
        assert s.window[0] <= s.window[1] <= plan.deadline


def test_includes_sub_offices_match_part1(plan):
    entries = part1_entries()
    assert len(entries) == 31
    group_units = {u.name for s in plan.summary_units[:3] for u in s.units}
    seen = set()
    for printed, name, includes in entries:
        u = plan.find_unit(printed)
        assert u is not None, printed
        assert u.name in group_units
        assert list(u.includes) == includes, printed
        seen.add(u.name)
    assert seen == group_units
    fin = plan.unit("州财政局")
    assert fin.includes == ("州财源建设办", "州国库集中支付核算中心", "州非税收入管理局")
    assert fin.display == "州财政局（含州财源建设办、州国库集中支付核算中心、州非税收入管理局）"
    assert len(plan.unit("州政府办").includes) == 4
    assert plan.unit("州纪委监察局").includes == ()


# --------------------------------------------------------------------------- find_unit


@pytest.mark.parametrize("text, expected", [
    ("州财政局", "州财政局"),
    ("州财政局（含州财源建设办、州国库集中支付核算中心、州非税收入管理局）", "州财政局"),
    ("州财政局(含州财源建设办)", "州财政局"),  # half-width parentheses, partial list
    ("州财政局（含 州财源建设办 ）", "州财政局"),
    (" 州 财 政 局 ", "州财政局"),
    ("州财政局\u3000", "州财政局"),  # ideographic space
    ("\u00a0州财政局\t\n", "州财政局"),
    ("州委６１０办", "州委610办"),  # full-width digits
    ("省４０５队", "省405队"),
    ("州委宣传部（含州社科联）", "州委宣传部"),
    ("州委统战部直", "州委统战部"),  # the source's typo, as an alias
    ("州酒类产销管理局", "州食品药品监督管理局"),
    ("州烟草专卖公司", "州烟草专卖局"),
    ("国家统计局湘西调查队", "国家统计局湘西调查队"),
])
def test_find_unit_tolerant(plan, text, expected):
    u = plan.find_unit(text)
    assert u is not None, text
    assert u.name == expected


@pytest.mark.parametrize("text", ["", "   ", "（含州社科联）", "州不存在局", "州财", "第一核查组"])
def test_find_unit_unknown(plan, text):
    assert plan.find_unit(text) is None


def test_unit_is_exact(plan):
    assert plan.unit("州财政局") is not None
    assert plan.unit(" 州财政局") is None
    assert plan.unit("州财政局（含州财源建设办、州国库集中支付核算中心、州非税收入管理局）") is None


def test_find_unit_accepts_every_name_as_printed_in_the_source(plan):
    """An inspector who copies a unit name from the 方案 must be recognised, whatever its parenthesis."""
    printed = [n for _, _, units in COMMITTEES for n in units] + [t for t, _, _ in part1_entries()]
    unresolved = [n for n in printed if plan.find_unit(n) is None]
    assert unresolved == []


# --------------------------------------------------------------------------- rubric and rules


def test_rubric_matches_source(plan):
    cats, printed = golden_rubric()
    rb = plan.rubric
    assert len(rb.categories) == 7
    assert len(rb.items) == 15
    assert [c for c, _ in rb.categories] == [c for c, _ in cats]
    for (cat, items), (gcat, gitems) in zip(rb.categories, cats):
        assert [it.text for it in items] == [t for _, t in gitems], cat
        assert [it.max for it in items] == [Decimal(m) for m, _ in gitems]
    assert [it.seq for it in rb.items] == list(range(1, 16))
    assert [int(it.max) for it in rb.items] == MAXES
    assert rb.total == Decimal(98)
    assert rb.printed_total == Decimal(100) == Decimal(printed)
    for it in rb.items:
        assert it.text.startswith(f"{it.seq}、")
        assert Decimal(0) < it.step <= it.limit <= it.max
        assert isinstance(it.max, Decimal) and isinstance(it.step, Decimal) and isinstance(it.limit, Decimal)


def test_item_allows(plan):
    items = {it.seq: it for it in plan.rubric.items}
    one = items[1]  # 扣2分 once, max 5
    assert one.allows(Decimal(0)) and one.allows(Decimal(2))
    assert not one.allows(Decimal(1)) and not one.allows(Decimal(4)) and not one.allows(Decimal(-2))
    four = items[4]  # 各扣2分, capped at the item's 5
    assert [d for d in range(0, 7) if four.allows(Decimal(d))] == [0, 2, 4, 5]
    eight = items[8]  # 每次扣0.5分, max 6
    assert eight.allows(Decimal("0.5")) and eight.allows(Decimal("6")) and eight.allows(Decimal("3.5"))
    assert not eight.allows(Decimal("0.25")) and not eight.allows(Decimal("6.5"))


def test_rules(plan):
    r = plan.rules
    assert r.max_score == Decimal(98)
    assert r.high_score == Decimal(95)
    assert r.high_share == Fraction(1, 3)
    assert [r.quota(n) for n in (1, 2, 3, 4, 10, 11, 14)] == [0, 0, 1, 1, 3, 3, 4]


def test_rubric_fingerprint_stable_and_sensitive(plan, tmp_path):
    fp = plan.rubric.fingerprint
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    assert load_plan().rubric.fingerprint == fp
    changed = load_plan(edited_plan(tmp_path, "          max: 7\n", "          max: 8\n"))
    assert changed.rubric.fingerprint != fp


# --------------------------------------------------------------------------- check_plan


def test_check_embedded_plan(plan):
    found = check_plan(plan)
    codes = [f.code for f in found]
    total = [f for f in found if f.code == "plan-total-mismatch"]
    assert len(total) == 1
    assert "100" in total[0].message and "98" in total[0].message
    tight = sorted(f.summary for f in found if f.code == "plan-tight-quota")
    expected = sorted(s.name for s in plan.summary_units if len(s.units) < 3)
    assert tight == expected
    assert len(tight) == 6  # 州发改委、州国资委 (1) and 州科技局、州民政局、州国土资源局、州住建局 (2)
    for f in found:
        if f.code == "plan-tight-quota":
            assert f.summary in f.message
    assert "plan-duplicate-unit" not in codes
    assert "plan-count-mismatch" not in codes
    assert "plan-window-late" not in codes
    assert not [f for f in found if f.severity == ERROR]


def test_check_duplicate_unit(tmp_path):
    path = edited_plan(tmp_path, "      - 州委政策研究室\n", "      - 州委政策研究室\n      - 州财政局\n")
    p = load_plan(path)
    dups = [f for f in check_plan(p) if f.code == "plan-duplicate-unit"]
    assert len(dups) == 1
    assert dups[0].severity == ERROR
    assert "州财政局" in dups[0].message and "第二核查组" in dups[0].message and "州委办直属机关党委" in dups[0].message
    assert dups[0].file == str(path)
    # the added name also breaks the declared count of 4
    mism = [f for f in check_plan(p) if f.code == "plan-count-mismatch"]
    assert [f.summary for f in mism] == ["州委办直属机关党委"]
    # an ambiguous name is matched to neither unit
    assert p.find_unit("州财政局") is None


def test_check_duplicate_unit_after_normalising(tmp_path):
    """The same unit written with a space and full-width digits is still a duplicate."""
    path = edited_plan(tmp_path, "      - 州委政策研究室\n", "      - 州委政策研究室\n      - 州委 ６１０办\n")
    dups = [f for f in check_plan(load_plan(path)) if f.code == "plan-duplicate-unit"]
    assert len(dups) == 1 and "610" in dups[0].message


def test_check_count_mismatch(tmp_path):
    path = edited_plan(tmp_path, "    declared_count: 11\n    units:\n      - 州商务局\n",
                       "    declared_count: 12\n    units:\n      - 州商务局\n")
    found = [f for f in check_plan(load_plan(path)) if f.code == "plan-count-mismatch"]
    assert len(found) == 1
    f = found[0]
    assert f.summary == "第三核查组"
    assert "12" in f.message and "11" in f.message


def test_check_window_after_deadline(tmp_path):
    path = edited_plan(tmp_path, "window: [2017-10-25, 2017-10-31]", "window: [2017-10-25, 2017-11-09]")
    late = [f for f in check_plan(load_plan(path)) if f.code == "plan-window-late"]
    assert [f.summary for f in late] == ["州委办直属机关党委"]


# --------------------------------------------------------------------------- bad plan files

BAD_PLANS = [
    # (case, old, new, expected field)
    ("missing-top-field", "deadline: 2017-11-07", "# deadline removed", "deadline"),
    ("missing-nested-field", "    kind: 核查组\n", "", "summary_units[0].kind"),
    ("max-not-a-number", "          max: 5\n", "          max: 五分\n", "rubric.categories[0].items[0].max"),
    ("max-a-list", "          max: 5\n", "          max: [5]\n", "rubric.categories[0].items[0].max"),
    ("window-reversed", "window: [2017-10-23, 2017-10-24]", "window: [2017-10-24, 2017-10-23]",
     "summary_units[0].window"),
    ("window-not-a-date", "window: [2017-10-23, 2017-10-24]", "window: [2017-10-23, 十月底]",
     "summary_units[0].window.end"),
    ("limit-above-max", "          step: 2\n          limit: 2\n", "          step: 2\n          limit: 6\n",
     "rubric.categories[0].items[0].limit"),
    ("step-zero", "          step: 2\n          limit: 2\n", "          step: 0\n          limit: 2\n",
     "rubric.categories[0].items[0].step"),
    ("share-not-a-pair", "high_share: [1, 3]", "high_share: 1/3", "rules.high_share"),
]


@pytest.mark.parametrize("case, old, new, field", BAD_PLANS, ids=[c[0] for c in BAD_PLANS])
def test_bad_plan_names_file_and_field(tmp_path, case, old, new, field):
    path = edited_plan(tmp_path, old, new, name=f"{case}.yaml")
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    e = ei.value
    assert e.file == str(path)
    assert e.field == field
    assert e.problem
    assert str(path) in str(e) and field in str(e)


@pytest.mark.parametrize("old, new, where", [
    ("window: [2017-10-23, 2017-10-24]", "window: [2017-10-23, 2017-13-01]", "window"),
    ("window: [2017-10-25, 2017-10-31]", "window: [2017-10-25, 2017-10-32]", "window"),
    ("deadline: 2017-11-07", "deadline: 2017-11-31", "deadline"),
], ids=["month-13", "october-32", "november-31"])
def test_impossible_calendar_date(tmp_path, old, new, where):
    """A date YAML recognises by its shape but that does not exist (a typo like 2017-11-31) is a PlanError
    naming the file and the field (or at least the line), never a crash; the CLI exits 2."""
    path = edited_plan(tmp_path, old, new, name="date.yaml")
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    e = ei.value
    assert e.file == str(path) and str(path) in str(e)
    assert where in e.field or re.fullmatch(r"第\d+行第\d+列", e.field), e.field
    out = tmp_path / "X"
    r = run("generate", "--plan", str(path), "--out", str(out))
    assert r.exit_code == 2, r.output
    assert str(path) in r.stderr
    assert not out.exists()


def test_yaml_syntax_error(tmp_path):
    path = edited_plan(tmp_path, "id: xiangxi-zhizhi-2017q3", "id: [xiangxi-zhizhi-2017q3", name="syntax.yaml")
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    e = ei.value
    assert e.file == str(path)
    assert re.fullmatch(r"第\d+行第\d+列", e.field)
    assert "YAML" in e.problem
    assert str(path) in str(e)


def test_missing_plan_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    assert ei.value.file == str(path)
    assert "不存在" in ei.value.problem
    assert str(path) in str(ei.value)


@pytest.mark.parametrize("content, field", [(b"", "（顶层）"), (b"- a\n- b\n", "（顶层）")])
def test_plan_not_a_mapping(tmp_path, content, field):
    path = tmp_path / "odd.yaml"
    path.write_bytes(content)
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    assert ei.value.field == field and str(path) in str(ei.value)


def test_plan_not_utf8(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(embedded_text().encode("gbk"))
    with pytest.raises(PlanError) as ei:
        load_plan(path)
    assert "UTF-8" in ei.value.problem and str(path) in str(ei.value)


def test_plan_with_bom_loads(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + embedded_text().encode("utf-8"))
    assert len(load_plan(path).units) == 137


# --------------------------------------------------------------------------- CLI


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("case, old, new, field", BAD_PLANS[:3] + BAD_PLANS[4:7], ids=[c[0] for c in BAD_PLANS[:3] + BAD_PLANS[4:7]])
def test_cli_generate_bad_plan(tmp_path, case, old, new, field):
    path = edited_plan(tmp_path, old, new, name=f"{case}.yaml")
    out = tmp_path / "X"
    r = run("generate", "--plan", str(path), "--out", str(out))
    assert r.exit_code == 2, r.output
    assert str(path) in r.stderr and field in r.stderr
    assert "Traceback" not in r.output
    assert not out.exists()


def test_cli_generate_bad_plan_keeps_previous_output(tmp_path):
    out = tmp_path / "X"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    path = edited_plan(tmp_path, "id: xiangxi-zhizhi-2017q3", "id: [xiangxi", name="syntax.yaml")
    r = run("generate", "--plan", str(path), "--out", str(out))
    assert r.exit_code == 2
    assert str(path) in r.stderr and "YAML" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_generate_missing_plan(tmp_path):
    out = tmp_path / "X"
    missing = tmp_path / "nope.yaml"
    r = run("generate", "--plan", str(missing), "--out", str(out))
    assert r.exit_code == 2
    assert str(missing) in r.stderr
    assert not out.exists()


def test_cli_plan_check_exit_codes(tmp_path):
    r = run("plan", "check")
    assert r.exit_code == 0, r.output
    assert "137" in r.stdout and "22" in r.stdout
    assert "100" in r.stdout and "98" in r.stdout  # the printed-total warning

    dup = edited_plan(tmp_path, "      - 州委政策研究室\n", "      - 州委政策研究室\n      - 州财政局\n", name="dup.yaml")
    r = run("plan", "check", "--plan", str(dup))
    assert r.exit_code == 1, r.output
    assert "州财政局" in r.stdout and ERROR in r.stdout

    count = edited_plan(tmp_path, "    declared_count: 11\n", "    declared_count: 12\n", name="count.yaml")
    r = run("plan", "check", "--plan", str(count))
    assert r.exit_code == 0  # a count mismatch is a warning
    assert "第三核查组" in r.stdout

    bad = edited_plan(tmp_path, "          max: 5\n", "          max: 五分\n", name="bad.yaml")
    r = run("plan", "check", "--plan", str(bad))
    assert r.exit_code == 2
    assert str(bad) in r.stderr and "rubric.categories[0].items[0].max" in r.stderr

    r = run("plan", "check", "--plan", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 2


def test_cli_plan_show(plan):
    r = run("plan", "show")
    assert r.exit_code == 0, r.output
    out = r.stdout
    for s in plan.summary_units:
        assert s.name in out
    for _, leader, liaison, _ in GROUPS:
        assert leader[0] in out and leader[2] in out
        assert liaison[0] in out and liaison[2] in out
    assert "137" in out
    assert "评分细则" in out and "15 项" in out
    for cat, _ in plan.rubric.categories:
        assert cat in out
    assert "98" in out and "100" in out
    assert "2017年11月07日" in out


# --------------------------------------------------------------------------- a second plan


def test_second_plan_loads():
    p = load_plan(PLAN_2018)
    assert p.id == "luxi-xianzhi-2018q1"
    assert [s.name for s in p.summary_units] == ["县直第一核查组", "县卫生局直属机关党委"]
    assert len(p.units) == 7
    assert len(p.rubric.items) == 5 and len(p.rubric.categories) == 3
    assert p.rubric.total == Decimal(100)
    assert p.rules.max_score == Decimal(100) and p.rules.high_share == Fraction(1, 4)
    assert p.rubric.fingerprint != load_plan().rubric.fingerprint
    assert p.find_unit("县委办（含县委督查室）").name == "县委办"
    assert p.find_unit("县民族中医院").name == "县中医院"
    assert p.find_unit("州财政局") is None
    codes = [f.code for f in check_plan(p)]
    assert "plan-total-mismatch" not in codes and "plan-duplicate-unit" not in codes


def test_second_plan_check_uses_its_own_share():
    """The plan says 1/4: a finding must not quote the 2017 plan's 三分之一."""
    p = load_plan(PLAN_2018)
    tight = [f for f in check_plan(p) if f.code == "plan-tight-quota"]
    assert [f.summary for f in tight] == ["县直第一核查组"]
    assert "三分之一" not in tight[0].message


def test_second_plan_end_to_end(tmp_path):
    import openpyxl

    out = tmp_path / "forms"
    r = run("plan", "check", "--plan", str(PLAN_2018))
    assert r.exit_code == 0, r.output
    r = run("plan", "show", "--plan", str(PLAN_2018))
    assert r.exit_code == 0 and "县卫生局直属机关党委" in r.stdout and "田小林" in r.stdout
    r = run("generate", "--plan", str(PLAN_2018), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "01-县直第一核查组", "01-县直第一核查组.zip", "02-县卫生局直属机关党委", "02-县卫生局直属机关党委.zip"]
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx"))
    assert files == sorted([
        "01-县直第一核查组/县委办-评分细则.xlsx", "01-县直第一核查组/县教育局-评分细则.xlsx",
        "01-县直第一核查组/县供销社_合作联社-评分细则.xlsx",
        "02-县卫生局直属机关党委/县人民医院-评分细则.xlsx", "02-县卫生局直属机关党委/县中医院-评分细则.xlsx",
        "02-县卫生局直属机关党委/县疾控中心-评分细则.xlsx", "02-县卫生局直属机关党委/县妇幼保健院-评分细则.xlsx",
    ])
    p = load_plan(PLAN_2018)
    wb = openpyxl.load_workbook(out / "01-县直第一核查组" / "县供销社_合作联社-评分细则.xlsx")
    ws = wb["评分细则"]
    assert ws["A1"].value == p.form_title
    assert ws["B2"].value == "县供销社/合作联社"
    assert ws["C2"].value == "核查组：县直第一核查组"
    assert [ws.cell(r, 2).value for r in range(4, 9)] == [it.text for it in p.rubric.items]
    assert [ws.cell(r, 3).value for r in range(4, 9)] == [20, 2.5, 30, 25, 22.5]
    assert [ws.cell(r, 7).value for r in range(4, 9)] == [f"=MAX(0,C{r}-F{r})" for r in range(4, 9)]
    assert ws["G9"].value == "=SUM(G4:G8)"
    assert ws["G10"].value == "=MIN(100,G9)"
    assert ws["A10"].value == "核定得分（最高100分）"
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert {"A4:A5", "A7:A8"} <= merged and not any(m.startswith("A6:") for m in merged)
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert set(dvs) == {"F2", "F4", "F5", "F6", "F7", "F8"}
    assert "F8<=5" in dvs["F8"].formula1 and "/0.5," in dvs["F8"].formula1
    serial = lambda d: (d - dt.date(1899, 12, 30)).days  # noqa: E731
    assert (dvs["F2"].formula1, dvs["F2"].formula2) == (str(serial(dt.date(2018, 3, 26))), str(serial(dt.date(2018, 3, 28))))
    info = {r[0].value: r[1].value for r in wb["表单信息"].iter_rows(min_row=2)}
    assert info["方案编号"] == "luxi-xianzhi-2018q1"
    assert info["核查期间"] == "2018年第一季度"
    assert info["评分细则指纹"] == p.rubric.fingerprint
    assert ws.print_area == "'评分细则'!$A$1:$G$10"


def test_second_plan_guide_states_its_own_rules(tmp_path):
    """The guide sheet quotes the plan's rules: 90 分 and one quarter, not the 2017 plan's one third."""
    import io

    import openpyxl

    from xlsx_tool.forms.writer import build_form

    p = load_plan(PLAN_2018)
    wb = openpyxl.load_workbook(io.BytesIO(build_form(p, p.units[0])))
    lines = [c.value for c in wb["填表说明"]["A"] if c.value]
    assert any("100 分" in x for x in lines)
    share = [x for x in lines if "90 分" in x]
    assert len(share) == 1
    assert "三分之一" not in share[0]
    assert "四分之一" in share[0] or "1/4" in share[0]
    assert any("2018年04月13日" in x for x in lines)
