"""Loading a plan: YAML text to a validated `Plan`.

Every field is checked and a problem raises `PlanError` naming the file, the field and what is wrong.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from xlsx_tool.plan.model import DEFAULT_PLAN, Item, Person, Plan, PlanError, Rubric, Rules, SummaryUnit, Unit
from xlsx_tool.textnorm import norm_name


def load_plan(path: str | Path | None = None) -> Plan:
    """Load and validate a plan file; None loads the embedded 2017 Q3 plan."""
    if path is None:
        text = (Path(__file__).parent / DEFAULT_PLAN).read_text(encoding="utf-8")
        label = f"（内置）{DEFAULT_PLAN}"
    else:
        label = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise PlanError(label, "", "文件不存在") from None
        except UnicodeDecodeError:
            raise PlanError(label, "", "不是 UTF-8 编码的文本文件，请用 UTF-8 另存") from None
        except OSError as e:
            raise PlanError(label, "", f"无法读取（{e.strerror}）") from None
    data = _parse(text, label)
    return _build(data, label)


def _parse(text: str, label: str):
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        where, what = _yaml_problem(e, text)
        raise PlanError(label, where, f"YAML 格式错误：{what}") from None


# PyYAML's problem texts (libyaml's and the pure-Python loader's wording) and what they mean for
# someone editing a plan in Notepad; the first that matches is used.
_YAML_PROBLEMS = [
    (("',' or ']'",), "方括号 [ ] 没有配对：缺少逗号或右方括号“]”"),
    (("',' or '}'",), "花括号 { } 没有配对：缺少逗号或右花括号“}”"),
    (("mapping values are not allowed",), "这里不能再有冒号：一行只写一个“名称: 值”；值里有冒号时，请把值用引号括起来"),
    (("tab character",), "不能用 Tab 键缩进，请改用空格"),
    (("did not find expected key", "expected <block end>"), "缩进没有对齐：同一层的各行应当用同样多的空格缩进"),
    (("expected '-' indicator",), "列表中这一行缺少开头的“- ”，或者缩进没有对齐"),
    (("node content",), "这里缺少内容：可能多了逗号、冒号，或者括号没有配对"),
    (("undefined alias",), "用“*”引用了没有定义的名称；“*”开头的值请用引号括起来"),
    (("duplicate anchor",), "用“&”定义的名称重复了；“&”开头的值请用引号括起来"),
    (("unhashable key",), "名称（冒号前面的部分）不能是列表或花括号"),
    (("constructor for the tag",), "不认识以“!”开头的标记：请去掉它，或者把这个值用引号括起来"),
    (("unknown escape character",), "双引号里的反斜杠“\\”用法不对（Windows 路径请改用单引号括起来）"),
    (("block scalar",), "“|”或“>”开头的多行文字格式不对"),
]


def _yaml_problem(e, text: str) -> tuple[str, str]:
    """A YAML syntax error in Chinese: (line and column, what is wrong).  PyYAML's text is English."""
    import yaml

    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is not None:
        line, col = mark.line, mark.column
    else:  # a ReaderError: an unreadable character, known by its offset only
        pos = min(getattr(e, "position", 0) or 0, len(text))
        line = text.count("\n", 0, pos)
        col = pos - (text.rfind("\n", 0, pos) + 1)
    where = f"第{line + 1}行第{col + 1}列"
    lines = text.splitlines()
    here = lines[line][col:col + 1] if line < len(lines) else ""
    problem = f"{getattr(e, 'problem', None) or ''} {getattr(e, 'context', None) or ''}"
    if isinstance(e, yaml.reader.ReaderError):
        what = f"有不能用的控制字符（代码 {getattr(e, 'character', 0):#x}），请删除它"
    elif "cannot start any token" in problem:
        what = ("不能用 Tab 键缩进，请改用空格" if here == "\t" else
                f"“{here}”不能放在值的开头，请把这个值用引号括起来")
    elif "end of stream" in problem and "quoted" in problem:
        what = "引号没有配对：缺少结尾的引号"
    else:
        what = next((zh for keys, zh in _YAML_PROBLEMS if any(k in problem for k in keys)),
                    "格式不对，请检查这一行和上一行的缩进、冒号、引号和括号")
    start = getattr(e, "context_mark", None)
    if start is not None and mark is not None and start.line != mark.line:
        what += f"（有关的部分从第{start.line + 1}行第{start.column + 1}列开始）"
    return where, what


def _loader():
    """libyaml's safe loader when present (the pure-Python one takes 60 ms for this plan), reading
    dates as text: `_Fields` parses them, so that 2017-11-31 is an error that names its field."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class PlanLoader(base):
        yaml_implicit_resolvers = {
            ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
            for ch, rs in base.yaml_implicit_resolvers.items()
        }

    return PlanLoader


class _Fields:
    """Typed access to one mapping of the YAML, with the field path for messages."""

    def __init__(self, data, path: str, file: str):
        if not isinstance(data, dict):
            raise PlanError(file, path or "（顶层）", "应为键值映射")
        self.data, self.path, self.file = data, path, file

    def err(self, key: str, problem: str) -> PlanError:
        return PlanError(self.file, f"{self.path}.{key}" if self.path else key, problem)

    def get(self, key, kind, required=True, default=None):
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.err(key, "缺少此项")
            return default
        v = self.data[key]
        if kind is str:
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise self.err(key, "应为文字")
            v = str(v).strip()
            if not v:
                raise self.err(key, "不能为空")
            if any(ord(ch) < 32 and ch not in "\t\n" for ch in v):
                raise self.err(key, "含有控制字符（不可见字符），请删除")
            return v
        if kind is int:
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise self.err(key, "应为非负整数")
            return v
        if kind is Decimal:
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise self.err(key, "应为数字")
            try:
                d = Decimal(str(v))
            except InvalidOperation:
                raise self.err(key, f"应为数字，实为“{v}”") from None
            if not d.is_finite() or d < 0:
                raise self.err(key, "应为非负数字")
            return d
        if kind is dt.date:
            if isinstance(v, dt.datetime):
                v = v.date()
            if isinstance(v, str):
                try:
                    v = dt.date.fromisoformat(v.strip())
                except ValueError:
                    raise self.err(key, f"“{v}”不是有效日期，日期应写作 2017-10-23 的形式") from None
            if not isinstance(v, dt.date):
                raise self.err(key, "应为日期（如 2017-10-23）")
            return v
        if kind is list:
            if not isinstance(v, list):
                raise self.err(key, "应为列表")
            return v
        raise TypeError(kind)

    def sub(self, key, required=True):
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.err(key, "缺少此项")
            return None
        return _Fields(self.data[key], f"{self.path}.{key}" if self.path else key, self.file)


def _person(f: _Fields, key: str) -> Person | None:
    p = f.sub(key, required=False)
    if p is None:
        return None
    return Person(p.get("name", str), p.get("title", str, False, ""), p.get("phone", str, False, ""))


def _names(f: _Fields, key: str) -> tuple[str, ...]:
    raw = f.get(key, list, required=False, default=[])
    out = []
    for i, v in enumerate(raw):
        if not isinstance(v, str) or not v.strip():
            raise f.err(f"{key}[{i}]", "应为单位名称文字")
        out.append(v.strip())
    return tuple(out)


def _build(data, file: str) -> Plan:
    top = _Fields(data, "", file)
    r = top.sub("rules")
    share = r.get("high_share", list)
    if len(share) != 2 or not all(isinstance(x, int) and x > 0 for x in share) or share[0] > share[1]:
        raise r.err("high_share", "应写作 [分子, 分母]，如 [1, 3]")
    rules = Rules(
        max_score=r.get("max_score", Decimal),
        high_score=r.get("high_score", Decimal),
        high_share=Fraction(share[0], share[1]),
        test_pass_mark=r.get("test_pass_mark", Decimal, False, Decimal(60)),
        test_people=r.get("test_people", int, False, 5),
        test_item=r.get("test_item", int, False),
        test_step=r.get("test_step", Decimal, False, Decimal("0.5")),
        rectification_item=r.get("rectification_item", int, False),
    )

    summaries = []
    raw_sus = top.get("summary_units", list)
    if not raw_sus:
        raise top.err("summary_units", "至少应有一个汇总单位")
    for si, raw in enumerate(raw_sus, 1):
        s = _Fields(raw, f"summary_units[{si - 1}]", file)
        name = s.get("name", str)
        window = s.get("window", list)
        if len(window) != 2:
            raise s.err("window", "应写作 [开始日期, 结束日期]")
        w = _Fields({"start": window[0], "end": window[1]}, f"{s.path}.window", file)
        start, end = w.get("start", dt.date), w.get("end", dt.date)
        if end < start:
            raise s.err("window", f"结束日期 {end} 早于开始日期 {start}")
        units = []
        raw_units = s.get("units", list)
        if not raw_units:
            raise s.err("units", "至少应有一个被核查单位")
        for ui, ru in enumerate(raw_units, 1):
            upath = f"{s.path}.units[{ui - 1}]"
            if isinstance(ru, str):
                ru = {"name": ru}
            u = _Fields(ru, upath, file)
            units.append(
                Unit(
                    name=u.get("name", str),
                    summary=name,
                    code=f"{si:02d}{ui:02d}",
                    includes=_names(u, "includes"),
                    aliases=_names(u, "aliases"),
                )
            )
        summaries.append(
            SummaryUnit(
                name=name,
                kind=s.get("kind", str),
                window=(start, end),
                units=tuple(units),
                declared_count=s.get("declared_count", int, False),
                parent=s.get("parent", str, False),
                leader=_person(s, "leader"),
                liaison=_person(s, "liaison"),
            )
        )

    rb = top.sub("rubric")
    items = []
    raw_cats = rb.get("categories", list)
    if not raw_cats:
        raise rb.err("categories", "至少应有一个类别")
    for ci, rc in enumerate(raw_cats):
        c = _Fields(rc, f"rubric.categories[{ci}]", file)
        cname = c.get("name", str)
        raw_items = c.get("items", list)
        if not raw_items:
            raise c.err("items", "至少应有一个评分项")
        for ii, ri in enumerate(raw_items):
            it = _Fields(ri, f"{c.path}.items[{ii}]", file)
            mx, step = it.get("max", Decimal), it.get("step", Decimal)
            limit = it.get("limit", Decimal, False, mx)
            if step == 0:
                raise it.err("step", "每档扣分不能为0")
            if limit > mx:
                raise it.err("limit", f"最多扣分 {limit} 超过本项分值 {mx}")
            items.append(
                Item(
                    seq=it.get("seq", int),
                    category=cname,
                    text=it.get("text", str),
                    max=mx,
                    step=step,
                    limit=limit,
                    basis=it.get("basis", str, False, ""),
                )
            )
    seqs = [i.seq for i in items]
    if len(set(seqs)) != len(seqs):
        raise rb.err("categories", "评分项序号 seq 有重复")
    for key in ("test_item", "rectification_item"):
        seq = getattr(rules, key)
        if seq is not None and seq not in seqs:
            raise r.err(key, f"评分细则中没有第{seq}项")
    rubric = Rubric(tuple(items), rb.get("printed_total", Decimal, False))

    plan = Plan(
        id=top.get("id", str),
        period=top.get("period", str),
        title=top.get("title", str),
        form_title=top.get("form_title", str),
        summary_title=top.get("summary_title", str),
        issuer=top.get("issuer", str),
        issued=top.get("issued", dt.date),
        deadline=top.get("deadline", dt.date),
        report_to=top.get("report_to", str, False, ""),
        rules=rules,
        summary_units=tuple(summaries),
        rubric=rubric,
        source=file,
    )
    names = [s.name for s in summaries]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise top.err("summary_units", f"汇总单位名称重复：{'、'.join(dup)}")
    _index(plan)
    return plan


def _index(plan: Plan) -> None:
    """Name lookups. A name claimed by two units maps to neither (plan check reports it)."""
    for u in plan.units:
        plan._exact.setdefault(u.name, u)
        for key in {norm_name(n) for n in (u.name, u.display, *u.aliases)}:
            plan._norm[key] = None if key in plan._norm and plan._norm[key] is not u else u
