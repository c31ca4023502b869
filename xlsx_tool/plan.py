"""The campaign as data: units, summary units, rubric and rules, loaded from a YAML plan.

A new quarter or prefecture is a new plan file, never a code change.  Loading
validates every field and raises `PlanError` naming the file, the field and the
problem; softer flaws of a valid plan (counts that disagree, a printed total
that is not the sum of the items) are findings of `plan_check`.
"""

from __future__ import annotations

import datetime as dt
import marshal
import os
import re
import sys
import zlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from .textnorm import norm_name

DEFAULT_PLAN = "2017q3.yaml"
_PARENS = re.compile(r"\([^)]*\)")


class PlanError(Exception):
    """A plan file that cannot be used: names the file, the field and the problem."""

    def __init__(self, file: str, field: str, problem: str):
        self.file, self.field, self.problem = file, field, problem
        where = f"字段 {field}：" if field else ""
        super().__init__(f"方案文件 {file} 有误：{where}{problem}")


# Immutable records are NamedTuples where they can be: every run defines them at start, and a frozen
# dataclass costs 0.9 ms to define (its methods are generated), a NamedTuple 0.07 ms.  Rubric and
# Plan are plain dataclasses: they cache derived values (cached_property needs an instance __dict__).


class Person(NamedTuple):
    name: str
    title: str = ""
    phone: str = ""

    def __str__(self) -> str:
        return " ".join(x for x in (self.name, self.title, self.phone) if x)


class Unit(NamedTuple):
    name: str
    summary: str  # name of the summary unit that inspects it
    code: str  # stable within a plan: summary index + unit index, e.g. "0103"
    includes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        return f"{self.name}（含{'、'.join(self.includes)}）" if self.includes else self.name


class SummaryUnit(NamedTuple):
    name: str
    kind: str
    window: tuple[dt.date, dt.date]
    units: tuple[Unit, ...]
    declared_count: int | None = None
    parent: str | None = None
    leader: Person | None = None
    liaison: Person | None = None

    @property
    def contacts(self) -> str:
        parts = []
        if self.leader:
            parts.append(f"组长 {self.leader}")
        if self.liaison:
            parts.append(f"联络员 {self.liaison}")
        return "；".join(parts) or "（方案未列联系人）"


class Item(NamedTuple):
    seq: int
    category: str
    text: str
    max: Decimal
    step: Decimal
    limit: Decimal
    basis: str = ""

    def allows(self, deduction: Decimal) -> bool:
        """0..limit in whole steps; the limit itself is allowed when it is a cap (各扣2分, 分值5)."""
        if deduction < 0 or deduction > self.limit:
            return False
        return deduction == self.limit or (deduction / self.step) == int(deduction / self.step)


@dataclass  # read-only by convention: frozen=True would cost 0.6 ms more to define, at every start
class Rubric:
    items: tuple[Item, ...]
    printed_total: Decimal | None = None

    @property
    def categories(self) -> list[tuple[str, list[Item]]]:
        out: list[tuple[str, list[Item]]] = []
        for it in self.items:
            if not out or out[-1][0] != it.category:
                out.append((it.category, []))
            out[-1][1].append(it)
        return out

    @property
    def total(self) -> Decimal:
        return sum((it.max for it in self.items), Decimal(0))

    @cached_property  # read for every returned file
    def fingerprint(self) -> str:
        """Short hash of what scoring depends on: item numbers, texts, maxima, steps, limits."""
        import hashlib  # here: only merging needs it (3 ms at start)
        import json

        canon = [[it.seq, it.text, str(it.max), str(it.step), str(it.limit)] for it in self.items]
        blob = json.dumps(canon, ensure_ascii=False, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


class Rules(NamedTuple):
    max_score: Decimal = Decimal(98)
    high_score: Decimal = Decimal(95)
    high_share: Fraction = Fraction(1, 3)
    test_pass_mark: Decimal = Decimal(60)
    test_people: int = 5
    test_item: int | None = None  # the item whose deduction includes the knowledge test
    test_step: Decimal = Decimal("0.5")  # per member who fails
    rectification_item: int | None = None  # the item scored on last quarter's problems

    @property
    def share_text(self) -> str:
        """1/3 -> "三分之一"."""
        digits = "零一二三四五六七八九十"
        n, d = self.high_share.numerator, self.high_share.denominator
        cn = lambda k: digits[k] if k <= 10 else str(k)  # noqa: E731
        return f"{cn(d)}分之{cn(n)}"

    def quota(self, inspected: int) -> int:
        """How many units at or above `high_score` a summary unit of `inspected` may have."""
        return int(self.high_share * inspected)  # floor


@dataclass  # read-only by convention, as Rubric
class Plan:
    id: str
    period: str
    title: str
    form_title: str
    summary_title: str
    issuer: str
    issued: dt.date
    deadline: dt.date
    report_to: str
    rules: Rules
    summary_units: tuple[SummaryUnit, ...]
    rubric: Rubric
    source: str = ""
    _exact: dict = field(default_factory=dict, compare=False, repr=False)
    _norm: dict = field(default_factory=dict, compare=False, repr=False)

    def item(self, seq: int | None) -> Item | None:
        return next((it for it in self.rubric.items if it.seq == seq), None)

    @property
    def units(self) -> list[Unit]:
        return [u for s in self.summary_units for u in s.units]

    def summary(self, name: str) -> SummaryUnit:
        return self._summaries[name]

    @cached_property  # asked for every returned file
    def _summaries(self) -> dict[str, SummaryUnit]:
        out: dict[str, SummaryUnit] = {}
        for s in self.summary_units:
            out.setdefault(s.name, s)  # the first of a name, as the linear search gave
        return out

    def unit(self, name: str) -> Unit | None:
        """Exact plan name."""
        return self._exact.get(name)

    def find_unit(self, text: str) -> Unit | None:
        """Match free text (a typed 被核查单位) by name, alias or "名称（含…）", normalised."""
        key = norm_name(text)
        if not key:
            return None
        found = self._norm.get(key)
        if found is None and "(" in key:
            # "州烟草专卖局（公司）", "州食品药品监督管理局（州酒类产销管理局）": the name before the parenthesis
            found = self._norm.get(_PARENS.sub("", key))
        return found


def summary_folder(plan: Plan, summary_name: str) -> str:
    """"01-第一核查组": the number keeps folders in the plan's order in Explorer."""
    from .files import safe_filename

    index = next(i for i, s in enumerate(plan.summary_units, 1) if s.name == summary_name)
    return f"{index:02d}-{safe_filename(summary_name)}"


# --------------------------------------------------------------------------- loading


def load_plan(path: str | Path | None = None) -> Plan:
    """Load and validate a plan file; None loads the embedded 2017 Q3 plan.

    The parsed YAML comes from a cache keyed on the file's text when it can (see `_parse`)."""
    if path is None:
        # a plain path, not importlib.resources: that import alone costs 17 ms at every start
        text = (Path(__file__).parent / "plans" / DEFAULT_PLAN).read_text(encoding="utf-8")
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
    """The YAML data of `text`, from the parse cache when it holds exactly this text."""
    entry = _cache_entry(text)
    found = _cache_read(entry, text)
    if found is not _MISS:
        return found
    import yaml  # local: a cache hit never imports it (17 ms)

    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:  # never cached: raised afresh on every run
        mark = getattr(e, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise PlanError(label, where, f"YAML 格式错误：{getattr(e, 'problem', e)}") from None
    _cache_write(entry, text, data)
    return data


# Parse cache.  `merge` of an empty folder must start about as fast as `import click`, and importing
# PyYAML (17 ms) and parsing the plan (7 ms) each run was most of the difference, although the plan
# file almost never changes.  An entry holds the plan's text and its parsed YAML data (marshal: a
# builtin, and the data are only dict/list/str/int/float/bool/None); it is used only for exactly the
# same text, so a name, an mtime or a crc32 collision can never give another plan's data.  Validation
# (`_build`) runs on cached data as on fresh data.  Every failure of the cache is a miss: it can
# make a run slower, never fail or different.  Bump the format when `_loader` changes what it returns.
_CACHE_FORMAT = "xlsx-tool plan cache 1"
_MISS = object()


def _cache_dir() -> str | None:
    """XLSX_TOOL_CACHE (empty: no cache), else the platform's per-user cache folder."""
    env = os.environ.get("XLSX_TOOL_CACHE")
    if env is not None:
        return env or None
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        path = os.path.join(base, "xlsx-tool", "cache")
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # unset, empty or relative: the XDG default
            base = os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "xlsx-tool")
    return path if os.path.isabs(path) else None  # no home: no cache, never a folder under the cwd


def _cache_entry(text: str) -> str | None:
    """The entry's file for `text`: crc32 of the text (the entry itself holds the text to compare),
    and the Python version, since marshal's format may change between versions."""
    folder = _cache_dir()
    if folder is None:
        return None
    crc = zlib.crc32(text.encode("utf-8", "surrogatepass"))
    return os.path.join(folder, f"plan-{crc:08x}-py{sys.version_info[0]}{sys.version_info[1]}.marshal")


def _cache_read(entry: str | None, text: str):
    """The cached data for exactly `text`, or _MISS."""
    if entry is None:
        return _MISS
    try:
        with open(entry, "rb") as f:
            cached = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError, MemoryError):  # absent, unreadable, corrupt
        return _MISS
    if type(cached) is tuple and len(cached) == 3 and cached[0] == _CACHE_FORMAT and cached[1] == text:
        return cached[2]
    return _MISS  # another text with the same crc32, an old format, or a foreign file


def _cache_write(entry: str | None, text: str, data) -> None:
    """Store atomically, as every output is written (files.write_atomic); never raises."""
    if entry is None:
        return
    try:
        blob = marshal.dumps((_CACHE_FORMAT, text, data))
    except ValueError:  # e.g. an explicit !!timestamp gives a date: such a plan is not cached
        return
    from .files import write_atomic  # only on a miss: its imports are not paid at every start

    try:
        os.makedirs(os.path.dirname(entry), exist_ok=True)
        write_atomic(Path(entry), blob)
    except OSError:
        pass


def _loader():
    """libyaml's safe loader when present (the pure-Python one takes 60 ms for this plan), reading
    dates as text: `_Fields` parses them, so that 2017-11-31 is an error that names its field.
    A change to what this returns must bump `_CACHE_FORMAT`: cached data would otherwise differ."""
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
