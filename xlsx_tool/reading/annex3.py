"""A summary unit's 附件3 评分汇总表 as typed by hand (Excel, WPS, Word), read into plain data.

The 22 summary units (核查组 / 直属机关党委) each send the 州直工委 their 附件3: a title, a line
"汇总单位：… 汇总时间：…", the header 排名 / 被核查单位 / 特色亮点 / 扣分情况 / 得分 and one row per
inspected unit.  Clerks type it freely: labels with spaces or full-width characters, scores as text
("93.5分", "９３．５"), several summary units in one workbook (one per sheet, or blocks one under
another).  Nothing is judged here: the merge compares what was reported with what it computed.

A sheet and a Word table are both read as a grid {(row, col): value}; one block finder serves both.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from xlsx_tool.forms.layout import a1
from xlsx_tool.textnorm import norm_name, norm_text, safe_text

__all__ = ["ReportedRow", "ReportedTable", "tables_in_book", "tables_in_docx", "stated_deductions",
           "match_summary", "parse_score", "parse_rank"]


@dataclass
class ReportedRow:
    where: str  # where a person finds it: "B7" (the 被核查单位 cell) or "表格1第3行"
    rank_text: str
    rank: int | None
    unit_text: str
    highlights: str
    deductions: str
    score_text: str
    score: Decimal | None  # None when the text is not a number


@dataclass
class ReportedTable:
    where: str  # sheet name, or "表格1" for the first Word table
    summary_text: str  # what follows 汇总单位：, "" if absent
    date_text: str  # what follows 汇总时间：
    title: str
    rows: list[ReportedRow] = field(default_factory=list)


# ---------------------------------------------------------------- cell values as text

def _text(v) -> str:
    """A value as the clerk sees it: 93.5 not 93.50000001, 1 not 1.0, a date as 2017年11月3日."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        # a typed number or a formula's result: 12 significant digits drop binary noise (93.5 + 0.1 sums)
        return f"{Decimal(format(v, '.12g')).normalize():f}" if v == v and abs(v) != float("inf") else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        return f"{v.year}年{v.month}月{v.day}日" if v.time() == dt.time() else f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, dt.date):
        return f"{v.year}年{v.month}月{v.day}日"
    return safe_text(str(v)).strip()


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_number(s: str) -> int | None:
    """"一"…"九十九" (ranks, 核查组 numbers); None for anything else."""
    if not s or any(ch not in _CN_DIGITS and ch != "十" for ch in s):
        return None
    if "十" not in s:
        return _CN_DIGITS[s] if len(s) == 1 else None
    tens, _, ones = s.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def parse_score(text: str) -> Decimal | None:
    """"93.5", "93.5分", "９３．５", " 93.5 " -> Decimal("93.5"); anything else None."""
    s = norm_text(text).removesuffix("分")
    if not _NUMBER.fullmatch(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


_RANK = re.compile(r"第?(\d+|[一二两三四五六七八九十]+)名?")


def parse_rank(text: str) -> int | None:
    """"1", "1.0", "第1名", "第一名", "１" -> 1; anything else None."""
    s = norm_text(text)
    if re.fullmatch(r"\d+\.0*", s):
        s = s.split(".")[0]
    m = _RANK.fullmatch(s)
    if not m:
        return None
    g = m.group(1)
    return int(g) if g.isdigit() else _cn_number(g)


_DEDUCTION = re.compile(r"扣(?:除|减|分)?[:：]?(\d+(?:\.\d+)?|[一二两三四五六七八九十]+|半)分")


def stated_deductions(text: str) -> list[Decimal]:
    """The amounts a 扣分情况 text states: "扣2分", "各扣0.5分", "扣 1 分", "扣２分", "扣一分" -> Decimals,
    in order; "扣分" without a number states nothing."""
    out = []
    for m in _DEDUCTION.finditer(norm_text(text or "")):
        g = m.group(1)
        if g == "半":
            out.append(Decimal("0.5"))
        elif g[0].isdigit():
            out.append(Decimal(g))
        elif (n := _cn_number(g)) is not None:
            out.append(Decimal(n))
    return out


# ---------------------------------------------------------------- labels

def _column_kind(label: str) -> str | None:
    n = norm_text(label).rstrip(":")
    if not n or len(n) > 12:
        return None
    if "被核查单位" in n or n in ("单位", "单位名称", "核查单位", "受检单位"):
        return "unit"
    if "亮点" in n or "特色" in n:
        return "highlights"
    if "扣分" in n:
        return "deductions"
    if n in ("排名", "名次", "排序") or n.startswith("排名"):
        return "rank"
    if "得分" in n or n in ("分数", "总分", "评分"):
        return "score"
    return None


def _header(row: dict[int, object]) -> dict[str, int] | None:
    """The columns of a 附件3 header row, or None: it needs 被核查单位 and 得分 at least."""
    cols: dict[str, int] = {}
    for c in sorted(row):
        kind = _column_kind(_text(row[c]))
        if kind and kind not in cols:
            cols[kind] = c
    return cols if {"unit", "score"} <= cols.keys() and len(cols) >= 3 else None


def _spaced(word: str) -> str:
    return r"\s*".join(map(re.escape, word))


_STAMP = re.compile(r"[（(]\s*盖\s*章\s*[）)]")
_SUMMARY_LABEL = re.compile(_spaced("汇总单位") + r"\s*(?:[（(]\s*盖\s*章\s*[）)])?\s*[:：]?")
_DATE_LABEL = re.compile(_spaced("汇总时间") + r"\s*[:：]?")


def _labelled(line: str) -> tuple[str, str] | None:
    """(汇总单位, 汇总时间) from a line such as "汇总单位：州委办直属机关党委（盖章）\t汇总时间：2017年11月3日";
    None when the line has neither label.  Cells of a row come joined by tabs: the value may be in the
    label's cell or the next one."""
    s = _SUMMARY_LABEL.search(line)
    d = _DATE_LABEL.search(line)
    if not s and not d:
        return None

    def value(m, stop):
        if not m:
            return ""
        end = stop.start() if stop and stop.start() > m.end() else len(line)
        return " ".join(_STAMP.sub("", line[m.end():end]).split())

    return value(s, d), value(d, s)


# ---------------------------------------------------------------- the grid

Grid = dict[tuple[int, int], object]


def _rows(grid: Grid) -> dict[int, dict[int, object]]:
    rows: dict[int, dict[int, object]] = {}
    for (r, c), v in grid.items():
        if _text(v):
            rows.setdefault(r, {})[c] = v
    return rows


def _line(row: dict[int, object]) -> str:
    return "\t".join(_text(row[c]) for c in sorted(row))


LOOK_ABOVE = 6  # rows above a header searched for its title and 汇总单位 line


def _blocks(grid: Grid, where: str, row_where: Callable[[int, int], str]) -> list[ReportedTable]:
    rows = _rows(grid)
    numbers = sorted(rows)
    headers = [(r, cols) for r in numbers if (cols := _header(rows[r]))]
    tables = []
    previous_end = min(numbers, default=0) - 1
    for i, (hr, cols) in enumerate(headers):
        next_header = headers[i + 1][0] if i + 1 < len(headers) else None
        # lines above: from the end of the previous block (or LOOK_ABOVE rows) to the header
        title = summary = date = ""
        above = [r for r in numbers if max(previous_end, hr - LOOK_ABOVE - 1) < r < hr]
        for r in above:
            line = _line(rows[r])
            found = _labelled(line)
            if found:
                summary, date = found[0] or summary, found[1] or date
            elif "汇总表" in norm_text(line) or "评分汇总" in norm_text(line):
                title = " ".join(line.split())
        table = ReportedTable(where, summary, date, title)
        r = hr + 1
        while r in rows and r != next_header:
            row = rows[r]
            get = {k: _text(row.get(c)) for k, c in cols.items()}
            if _labelled(_line(row)) or not any(get.get(k) for k in ("unit", "highlights", "deductions", "score")):
                break
            rank_text, score_text = get.get("rank", ""), get.get("score", "")
            table.rows.append(ReportedRow(row_where(r, cols["unit"]), rank_text, parse_rank(rank_text),
                                          get["unit"], get.get("highlights", ""), get.get("deductions", ""),
                                          score_text, parse_score(score_text)))
            r += 1
        previous_end = r - 1
        tables.append(table)
    return tables


def tables_in_book(book) -> list[ReportedTable]:
    """Every 附件3 block in every sheet of a `workbook.Book`, sheet by sheet, top to bottom.
    A sheet the reader refuses (too many cells) raises its `BookError`, as for a returned form."""
    out = []
    for name in book.sheet_names:
        sheet = book.sheet(name)
        out.extend(_blocks(sheet.cells, name, a1))
    return out


# ---------------------------------------------------------------- Word

def _docx_grid(table, before: list[str]) -> Grid:
    """The paragraphs before a table as rows -k..-1 (column 0), then its rows; a merged cell once
    (python-docx repeats a merged cell in every grid position it covers)."""
    grid: Grid = {}
    for i, text in enumerate(before):
        grid[(i - len(before), 0)] = text
    seen = set()  # the <w:tc> elements met: held here, so their proxies stay the same objects
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            grid[(r, c)] = safe_text(cell.text)
    return grid


def tables_in_docx(data: bytes) -> list[ReportedTable]:
    """Every 附件3 table of a .docx, with the title and 汇总单位 line from the paragraphs just before it
    (or from its own first rows).  A file python-docx cannot open gives []."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        content = list(document.iter_inner_content())
    except Exception:  # noqa: BLE001 — not a readable .docx: nothing reported from it
        return []
    out, before, n = [], [], 0
    for block in content:
        if isinstance(block, Table):
            n += 1
            where = f"表格{n}"
            lines = [t for t in before if t.strip()][-LOOK_ABOVE:]
            try:
                grid = _docx_grid(block, lines)
            except Exception:  # noqa: BLE001 — a table python-docx cannot lay out (irregular rows): skipped
                grid = {}
            out.extend(_blocks(grid, where, lambda r, c, w=where: f"{w}第{r + 1}行"))
            before = []
        else:
            before.append(safe_text(block.text))
    return out


# ---------------------------------------------------------------- naming a summary unit

_GROUP = re.compile(r"第([一二三四五六七八九十]+|\d+)(?:核查)?组")
_COMMITTEE = re.compile(r"(?:直属)?机关(?:党委|工委)")
_LEADING = ("关于", "中共", "中国共产党", "州直工委", "州直机关工委")


def match_summary(text: str, plan):
    """The plan's SummaryUnit a typed 汇总单位 (or a report's title) names, or None: "州委办直属机关党委",
    "州委办机关党委", "中共州委办直属机关党委（盖章）", "第一组", "第1核查组", "州直工委第一核查组".
    None for the blank template text ("×××直属机关党委（或第×核查组）") and for anything ambiguous."""
    key = norm_name(_STAMP.sub("", text or ""))
    if not key:
        return None
    for s in plan.summary_units:
        if norm_name(s.name) == key:
            return s
    m = _GROUP.search(key)
    if m:
        g = m.group(1)
        n = _group_number(g)
        found = [s for s in plan.summary_units if s.kind == "核查组"
                 and (mm := _GROUP.search(norm_name(s.name))) and _group_number(mm.group(1)) == n]
        return found[0] if len(found) == 1 else None
    m = _COMMITTEE.search(key)
    if not m:
        return None
    prefix = key[:m.start()]
    for word in _LEADING:
        prefix = prefix.removeprefix(word)
    if not prefix:
        return None
    committees = [s for s in plan.summary_units if s.kind == "直属机关党委" and s.parent]
    unit = plan.find_unit(prefix)
    found = [s for s in committees if norm_name(s.parent) == prefix or (unit and unit.name == s.parent)]
    if not found:  # "关于州委办…": the longest parent name the prefix ends with
        ends = [s for s in committees if prefix.endswith(norm_name(s.parent))]
        best = max((len(s.parent) for s in ends), default=0)
        found = [s for s in ends if len(s.parent) == best]
    return found[0] if len(found) == 1 else None


def _group_number(g: str) -> int | None:
    return int(g) if g.isdigit() else _cn_number(g)
