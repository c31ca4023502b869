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
        mark = getattr(e, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise PlanError(label, where, f"YAML 格式错误：{getattr(e, 'problem', e)}") from None


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
