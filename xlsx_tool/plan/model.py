"""The campaign as data: units, summary units, rubric and rules, loaded from a YAML plan.

A new quarter or prefecture is a new plan file, never a code change.  Loading
validates every field and raises `PlanError` naming the file, the field and the
problem; softer flaws of a valid plan (counts that disagree, a printed total
that is not the sum of the items) are findings of `plan.check`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

from xlsx_tool.textnorm import norm_name

DEFAULT_PLAN = "2017q3.yaml"
_PARENS = re.compile(r"\([^)]*\)")


class PlanError(Exception):
    """A plan file that cannot be used: names the file, the field and the problem."""

    def __init__(self, file: str, field: str, problem: str):
        self.file, self.field, self.problem = file, field, problem
        where = f"{field}，" if field.startswith("第") else f"字段 {field}：" if field else ""  # 第3行第5列: a place
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
        return "；".join(parts) or "方案未列联系人"  # shown inside brackets by its users


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
    from xlsx_tool.files import safe_filename

    index = next(i for i, s in enumerate(plan.summary_units, 1) if s.name == summary_name)
    return f"{index:02d}-{safe_filename(summary_name)}"
