#!/usr/bin/env python3
"""Speed budget ("Foundations on kept libraries", "A page in the browser"): merge (and, for information,
generate) at N units against the I/O floor and other readers, the page's 汇总 against the CLI's merge,
and the start of `--help`, in one run on one machine.

    python3 bench/run.py --units 137 --units 10000 --json bench/results/latest.json

Kept apart from the test suite (pytest never collects bench/).  See bench/README.md for what
every figure and baseline means.  Nothing here asserts a time: it measures, prints ratios and
PASS/FAIL against the issue's targets, and writes a JSON result.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import multiprocessing as mp
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from html.parser import HTMLParser
from decimal import Decimal
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from xlsx_tool.forms import layout as L  # noqa: E402
from xlsx_tool.reading.workbook import Limits  # noqa: E402
from xlsx_tool.reading.collect import Source  # noqa: E402
from xlsx_tool.files import write_zip  # noqa: E402
from xlsx_tool.forms.writer import FormEntries, ItemEntry, build_form  # noqa: E402
from xlsx_tool.forms.generate import form_filename  # noqa: E402
from xlsx_tool.judging.merge import decide, read_all, read_source  # noqa: E402
from xlsx_tool.plan import Plan, load_plan  # noqa: E402
from xlsx_tool.outputs.summary import build_summary, to_json  # noqa: E402

PY = sys.executable
MERGE_DATE = "2017-11-06"
WINDOW = (dt.date(2017, 10, 25), dt.date(2017, 10, 31))

# The budget ("Foundations on kept libraries"; the page from "A page in the browser"), measured in one run.
T_MERGE_SMALL_N = 137  # the real campaign's returns
T_MERGE_SMALL_S = 0.6  # merge of 137 returns, end to end, at most this many seconds
T_MERGE_FLOOR = 6.0  # merge of 10,000: wall <= 6x the I/O floor (per workbook)
T_MERGE_OPENPYXL = 15.0  # merge of 10,000 >= 15x faster than the openpyxl loop
T_MERGE_MB = 300.0  # merge peak memory at 10,000 returns (and flat in N)
T_HELP = 1.5  # `--help` <= 1.5x `python -c "import click"`
T_PAGE = 1.0  # the page's 汇总 costs no more than the CLI's merge of the same returns
T_BOTH_CORES = 1.5  # (user+sys)/wall at or above this = both cores used (for information)


PYCACHE: Path | None = None  # compiled bytecode for the CLI runs, kept in the scratch folder


def env(bytecode: bool = True, root: Path = ROOT) -> dict:
    """The CLI runs as an installed package would: bytecode compiled once and reused (the source tree is
    left alone: the cache lives in the scratch folder).  bytecode=False: every module compiled at start.
    root: the source tree run (another one for --old-tree, with its own bytecode cache)."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(root) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.pop("XLSX_TOOL_DEBUG", None)
    if bytecode and PYCACHE:
        e.pop("PYTHONDONTWRITEBYTECODE", None)
        e["PYTHONPYCACHEPREFIX"] = str(PYCACHE if root == ROOT else PYCACHE.with_name("pycache-old"))
    else:
        e["PYTHONDONTWRITEBYTECODE"] = "1"
        e.pop("PYTHONPYCACHEPREFIX", None)
    return e


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- synthetic plan


def synthetic_plan(n: int, seed: int, path: Path) -> Plan:
    """The embedded plan's header, rules and rubric; n units over summary units of 50-200 units."""
    from xlsx_tool.plan import DEFAULT_PLAN

    base = yaml.safe_load((ROOT / "xlsx_tool" / "plan" / DEFAULT_PLAN).read_text(encoding="utf-8"))
    rng = random.Random(seed)
    sizes, left = [], n
    while left > 0:
        s = left if left <= 200 else rng.randint(50, min(200, left - 50))
        sizes.append(s)
        left -= s
    sus, k = [], 0
    for si, size in enumerate(sizes, 1):
        units = []
        for _ in range(size):
            k += 1
            name = f"测试单位{k:05d}"
            units.append({"name": name, "includes": [f"{name}下属中心"]} if k % 10 == 0 else name)
        sus.append({
            "name": f"第{si:03d}直属机关党委",
            "kind": "直属机关党委",
            "window": [WINDOW[0].isoformat(), WINDOW[1].isoformat()],
            "leader": {"name": f"组长{si}", "title": "书记", "phone": f"1390000{si:04d}"} if si % 2 else None,
            "liaison": {"name": f"联络员{si}", "phone": f"1380000{si:04d}"} if si % 2 else None,
            "declared_count": size,
            "units": units,
        })
    base["summary_units"] = sus
    path.write_text(yaml.safe_dump(base, allow_unicode=True, sort_keys=False), encoding="utf-8")
    plan = load_plan(path)
    assert len(plan.units) == n, (len(plan.units), n)
    return plan


# --------------------------------------------------------------------------- returns and what the merge must say

REASONS = ["7月未召开支委会", "台账资料不全", "未见会议记录", "活动无图片资料", "学习笔记不全", "未按时整改"]
HIGHLIGHTS = ["“主题党日+”形式新颖", "党建阵地建设规范", "学习台账详实"]

# One problem per chosen return (or per chosen unit), each with what the merge must report.
KINDS = ("text-number", "not-number", "over-limit", "step", "no-reason", "date-missing", "date-outside",
         "date-text", "copy", "two-versions", "missing", "junk")
FILE_CODES = {"text-number": "deduction-text-number", "not-number": "deduction-not-number",
              "over-limit": "deduction-over-limit", "step": "deduction-step", "no-reason": "deduction-no-reason",
              "date-missing": "date-missing", "date-outside": "date-outside-window", "date-text": "date-text"}
# Formulas in a form whose 扣分 is text show #VALUE!; the merge notes the difference: allowed alongside.
# Over the limit, the tool counts the limit while the form's formula took the number typed: noted too.
ALSO_ALLOWED = {"text-number": {"cached-mismatch"}, "not-number": {"cached-mismatch"}, "over-limit": {"cached-mismatch"}}


def _num(d: Decimal):
    return int(d) if d == d.to_integral_value() else float(d)


def _choices(item) -> list[Decimal]:
    steps = int(item.limit / item.step)
    return [item.step * k for k in range(1, steps + 1)] + ([item.limit] if item.limit % item.step else [])


def _pick_items(plan: Plan) -> dict[str, object]:
    special = {plan.rules.test_item, getattr(plan.rules, "rectification_item", None)}
    items = [i for i in plan.rubric.items if i.seq not in special]
    return {
        "text": next(i for i in items if i.step == 1 and i.limit >= 2),  # "2分"
        "over": next(i for i in items if i.limit + i.step <= i.max),  # limit + one step
        "step": next(i for i in items if i.step >= 1 and i.limit > i.step / 2),  # half a step
    }


_GENEROUS: dict[int, set[str]] = {}


def generous(plan: Plan, unit) -> bool:
    """Every third summary unit (the first, fourth, …) marks generously: more than a third of its units
    reach 95, so the one-third rule must fire there."""
    if id(plan) not in _GENEROUS:
        _GENEROUS[id(plan)] = {s.name for i, s in enumerate(plan.summary_units) if i % 3 == 0}
    return unit.summary in _GENEROUS[id(plan)]


def entries_for(plan: Plan, idx: int, kind: str | None, seed: int, version: int = 2) -> FormEntries:
    """Deterministic entries of unit idx; `kind` adds one problem. Recomputed, never stored."""
    rng = random.Random(seed * 1_000_003 + idx * 7 + version)
    kind_hand = generous(plan, plan.units[idx])
    e = FormEntries(date=WINDOW[0] + dt.timedelta(days=rng.randint(0, (WINDOW[1] - WINDOW[0]).days)))
    for item in plan.rubric.items:
        ie = ItemEntry()
        if rng.random() < (0.02 if kind_hand else 0.2):
            ie.deduction = _num(rng.choice(_choices(item)))
            ie.reason = rng.choice(REASONS)
        if rng.random() < 0.1:
            ie.highlight = rng.choice(HIGHLIGHTS)
        e.items[item.seq] = ie
    if plan.rules.test_item:  # the knowledge test: every member tested, a few fail
        marks = [80, 85, 90, 95, 100] if kind_hand else [55, 58, 60, 72, 80, 85, 90, 95, 100]
        e.test = [(f"党员{k}", rng.choice(marks)) for k in range(plan.rules.test_people)]
    pick = _pick_items(plan)
    if kind == "text-number":
        e.items[pick["text"].seq] = ItemEntry(reason="会议记录不全", deduction="2分")
    elif kind == "not-number":
        e.items[pick["text"].seq] = ItemEntry(reason="见附件", deduction="未扣")
    elif kind == "over-limit":
        it = pick["over"]
        e.items[it.seq] = ItemEntry(reason="未落实", deduction=_num(it.limit + it.step))
    elif kind == "step":
        it = pick["step"]
        e.items[it.seq] = ItemEntry(reason="部分落实", deduction=_num(it.step / 2))
    elif kind == "no-reason":
        e.items[pick["text"].seq] = ItemEntry(reason="", deduction=1)
    elif kind == "date-missing":
        e.date = None
    elif kind == "date-outside":
        e.date = WINDOW[1] + dt.timedelta(days=3)
    elif kind == "date-text":
        e.date = f"{WINDOW[0].month}月{WINDOW[0].day + 1}日"
    elif kind == "two-versions" and version == 1:
        e.items[plan.rubric.items[0].seq] = ItemEntry(reason="初稿", deduction=_num(plan.rubric.items[0].limit))
    return e


def expected_score(plan: Plan, e: FormEntries) -> Decimal:
    """Computed here from the entries, independently of the tool."""
    rules = plan.rules
    failed = sum(1 for _name, score in e.test if Decimal(str(score)) < rules.test_pass_mark)
    total = Decimal(0)
    for item in plan.rubric.items:
        d = e.items.get(item.seq, ItemEntry()).deduction
        if d is None or d == "":
            used = Decimal(0)
        elif isinstance(d, str):
            t = d.strip().removesuffix("分")
            try:
                used = Decimal(t)
            except Exception:
                used = Decimal(0)
        else:
            used = Decimal(str(d))
        if used > item.limit:  # "超过本项最多可扣的 N 分；暂按 N 分计算"
            used = item.limit
        if item.seq == rules.test_item:
            used = min(item.limit, used + failed * rules.test_step)
        total += max(Decimal(0), item.max - used)
    return min(total, plan.rules.max_score)


def design(plan: Plan, n: int, seed: int) -> dict:
    """Which units get which problem; the rest are clean returns, some delivered inside zips."""
    rng = random.Random(seed + 1)
    per_kind = max(1, round(n * 0.002))
    zipped = max(5, round(n * 0.01))
    chosen = rng.sample(range(n), per_kind * len(KINDS) + zipped)
    kinds: dict[int, str] = {}
    for j, idx in enumerate(chosen[: per_kind * len(KINDS)]):
        kinds[idx] = KINDS[j % len(KINDS)]
    return {"kinds": kinds, "zipped": set(chosen[per_kind * len(KINDS):]), "per_kind": per_kind}


_FILL: tuple | None = None


def _fill_init(plan, seed, root):
    global _FILL
    _FILL = (plan, seed, root)


def _rel_path(plan: Plan, idx: int) -> str:
    u = plan.units[idx]
    si = next(i for i, s in enumerate(plan.summary_units, 1) if s.name == u.summary)
    return f"{si:02d}-{u.summary}/{form_filename(u)}"


def _fill_one(job) -> tuple[int, int]:
    idx, kind, where = job
    plan, seed, root = _FILL
    unit = plan.units[idx]
    path = Path(root) / where / _rel_path(plan, idx)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = build_form(plan, unit, entries_for(plan, idx, kind, seed))
    path.write_bytes(data)
    os.utime(path, (1_509_000_000 + idx, 1_509_000_000 + idx))
    if kind == "two-versions":  # an older, different first version, renamed as mail clients do
        older = build_form(plan, unit, entries_for(plan, idx, kind, seed, version=1))
        p1 = path.with_name(path.stem + "(1).xlsx")
        p1.write_bytes(older)
        os.utime(p1, (1_508_000_000 + idx, 1_508_000_000 + idx))
    return idx, len(data)


def fill_returns(plan: Plan, d: dict, seed: int, collected: Path, workers: int) -> dict:
    """Write the returns with build_form (seeded entries) in a fork pool; zips, copies and junk after."""
    n = len(plan.units)
    jobs = []
    for idx in range(n):
        kind = d["kinds"].get(idx)
        if kind == "missing":
            continue
        where = "_zip_stage" if idx in d["zipped"] else "."
        jobs.append((idx, kind, where))
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    sizes = []
    with ctx.Pool(workers, initializer=_fill_init, initargs=(plan, seed, str(collected))) as pool:
        for _idx, size in pool.imap_unordered(_fill_one, jobs, chunksize=16):
            sizes.append(size)
    # zips of returns, one per summary unit, as emailed from Chinese Windows (GBK names)
    stage = collected / "_zip_stage"
    zips = 0
    if stage.exists():
        for folder in sorted(p for p in stage.iterdir() if p.is_dir()):
            members = [(f.name, f.read_bytes()) for f in sorted(folder.iterdir())]
            write_zip(collected / f"{folder.name}-回收.zip", members, (2017, 10, 31, 18, 0, 0))
            zips += 1
        shutil.rmtree(stage)
    copies, junk = [], []
    for idx, kind in sorted(d["kinds"].items()):
        src = collected / _rel_path(plan, idx)
        if kind == "copy":  # the same bytes sent again by someone else
            dst = collected / "重复发送" / f"{plan.units[idx].name}.xlsx"
            dst.parent.mkdir(exist_ok=True)
            shutil.copy2(src, dst)
            copies.append((idx, dst.relative_to(collected).as_posix()))
        elif kind == "junk":  # an Excel lock file and a note next to the returns
            lock = src.with_name("~$" + src.name)
            lock.write_bytes(b"\x00" * 165)
            note = src.with_name(f"说明{idx}.txt")
            note.write_text("附件为评分表", encoding="utf-8")
            junk += [lock.relative_to(collected).as_posix(), note.relative_to(collected).as_posix()]
    return {"seconds": time.perf_counter() - t0, "files": len(sizes), "bytes": sum(sizes),
            "mean_kb": sum(sizes) / max(1, len(sizes)) / 1024, "zips": zips, "copies": copies, "junk": junk}


def verify(plan: Plan, d: dict, seed: int, fill: dict, report: dict) -> dict:
    """Is everything the merge must say said, and nothing about clean returns?  From `merge --json`."""
    problems: list[str] = []
    n = len(plan.units)
    kinds = d["kinds"]
    exp_score = {plan.units[i].name: expected_score(plan, entries_for(plan, i, kinds.get(i), seed))
                 for i in range(n) if kinds.get(i) != "missing"}
    got = {u["unit"]: Decimal(str(u["score"])) for u in report["units"]}
    if report["received"] != len(exp_score):
        problems.append(f"received {report['received']}, expected {len(exp_score)}")
    wrong = [name for name, s in exp_score.items() if got.get(name) != s]
    if wrong:
        problems.append(f"{len(wrong)} scores differ, e.g. {wrong[0]}: {got.get(wrong[0])} != {exp_score[wrong[0]]}")

    # per-file findings: the expected code on each problem file, none on clean files
    findings = report["findings"]
    by_file: dict[str, list[dict]] = {}
    for f in findings:
        by_file.setdefault(f["file"], []).append(f)
    pick = _pick_items(plan)
    row = {k: L.item_row(plan.rubric.items.index(it)) for k, it in pick.items()}
    date_ref = L.a1(*L.DATE_CELL)
    cell_of = {"text-number": L.a1(row["text"], L.COL_DEDUCTION), "not-number": L.a1(row["text"], L.COL_DEDUCTION),
               "over-limit": L.a1(row["over"], L.COL_DEDUCTION), "step": L.a1(row["step"], L.COL_DEDUCTION),
               "no-reason": L.a1(row["text"], L.COL_REASON), "date-missing": date_ref, "date-outside": date_ref,
               "date-text": date_ref}
    expected_files: dict[str, set[str]] = {}
    found_expected = 0
    for idx, kind in kinds.items():
        if kind not in FILE_CODES:
            continue
        name = _rel_path(plan, idx)
        code = FILE_CODES[kind]
        expected_files[name] = {code} | ALSO_ALLOWED.get(kind, set())
        hit = [f for f in by_file.get(name, []) if f["code"] == code and f["cell"] == cell_of[kind]]
        if hit:
            found_expected += 1
        else:
            problems.append(f"{name}: {code} at {cell_of[kind]} not reported")
    for name in [c for _i, c in fill["copies"]]:
        expected_files[name] = {"file-duplicate-copy"}
        if not any(f["code"] == "file-duplicate-copy" for f in by_file.get(name, [])):
            problems.append(f"{name}: file-duplicate-copy not reported")
        else:
            found_expected += 1
    for name in fill["junk"]:
        expected_files[name] = {"file-ignored"}
        if not any(f["code"] == "file-ignored" for f in by_file.get(name, [])):
            problems.append(f"{name}: file-ignored not reported")
        else:
            found_expected += 1
    unexpected = []
    for name, fs in by_file.items():
        if not name:
            continue
        allowed = expected_files.get(name)
        if allowed is None:
            if any(f["code"] != "unit-duplicate" for f in fs):
                unexpected.append(f"{name}: {[f['code'] for f in fs]}")
        else:
            extra = [f["code"] for f in fs if f["code"] not in allowed]
            if extra:
                unexpected.append(f"{name}: {extra}")
    spurious = [f"{len(unexpected)} files with findings nobody put there, e.g. {unexpected[:3]}"] if unexpected else []

    # merge-level findings: missing units, two versions of one unit, the one-third rule
    codes_by_unit: dict[str, set[str]] = {}
    for f in findings:
        codes_by_unit.setdefault(f["unit"], set()).add(f["code"])
    for idx, kind in kinds.items():
        u = plan.units[idx].name
        if kind == "missing" or kind == "two-versions":
            code = "unit-missing" if kind == "missing" else "unit-duplicate"
            if code in codes_by_unit.get(u, set()):
                found_expected += 1
            else:
                problems.append(f"{u}: {code} not reported")
    high_by_summary: dict[str, int] = {}
    for name, s in exp_score.items():
        if s >= plan.rules.high_score:
            su = plan.unit(name).summary
            high_by_summary[su] = high_by_summary.get(su, 0) + 1
    exp_quota = {s.name for s in plan.summary_units if high_by_summary.get(s.name, 0) > plan.rules.quota(len(s.units))}
    got_quota = {f["summary"] for f in findings if f["code"] == "quota-exceeded"}
    if exp_quota != got_quota:
        problems.append(f"quota-exceeded for {sorted(got_quota)}, expected {sorted(exp_quota)}")
    exp_level = sum(1 for k in kinds.values() if k in ("missing", "two-versions")) + len(exp_quota)
    level_codes = {"unit-missing", "unit-duplicate", "quota-exceeded", "summary-no-returns"}
    got_level = sum(1 for f in findings if f["code"] in level_codes)
    if got_level != exp_level:
        problems.append(f"{got_level} merge-level findings, expected {exp_level}")
    return {
        "ok": not problems,
        "no_spurious": not unexpected,
        "spurious_files": len(unexpected),
        "spurious": spurious + unexpected[:20],
        "units_scored": len(got),
        "scores_checked": len(exp_score),
        "expected_findings_found": found_expected,
        "quota_exceeded_summaries": len(exp_quota),
        "findings_total": len(findings),
        "problems": problems[:20],
    }


# --------------------------------------------------------------------------- measuring a command


class TreeSampler(threading.Thread):
    """Sums Rss and Pss (/proc/PID/smaps_rollup) over a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop = threading.Event()
        self.peak_pss = self.peak_rss = 0
        self.max_procs = 0
        self.samples = 0

    @staticmethod
    def _tree(root: int) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    s = fh.read()
            except OSError:
                continue
            ppid = int(s[s.rfind(b")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], [root]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(children.get(p, []))
        return out

    def run(self):
        while not self.stop.is_set():
            rss = pss = 0
            pids = self._tree(self.pid)
            for p in pids:
                try:
                    with open(f"/proc/{p}/smaps_rollup", "rb") as fh:
                        for line in fh:
                            if line.startswith(b"Rss:"):
                                rss += int(line.split()[1])
                            elif line.startswith(b"Pss:"):
                                pss += int(line.split()[1])
                except OSError:
                    pass
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.max_procs = max(self.max_procs, len(pids))
            self.samples += 1
            self.stop.wait(self.interval)


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine so far, now) from /proc/stat."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / hz, time.perf_counter()


def others_cores(before: tuple[float, float], own_cpu: float) -> float:
    """CPU used by everything else on the machine meanwhile, in cores (other sessions, tests, LibreOffice)."""
    busy, now = machine_busy()
    wall = now - before[1]
    return max(0.0, (busy - before[0] - own_cpu) / wall) if wall > 0 else 0.0


QUIET_WAIT = 0.0  # seconds to wait, at most, for other programs to go quiet before a timed step


def wait_quiet(label: str, threshold: float = 0.35) -> float:
    """Before a timed step: wait (at most QUIET_WAIT s) until other programs use < threshold cores."""
    if QUIET_WAIT <= 0:
        return -1.0
    deadline = time.perf_counter() + QUIET_WAIT
    while True:
        b0, c0 = machine_busy(), time.process_time()
        time.sleep(1.0)
        load = others_cores(b0, time.process_time() - c0)
        if load < threshold or time.perf_counter() > deadline:
            if load >= threshold:
                log(f"  {label}: machine still busy ({load:.2f} cores used by others); measuring anyway")
            return load
        time.sleep(2.0)


def run_measured(args: list[str], stdout_path: Path | None = None, cwd: Path | None = None,
                 root: Path = ROOT) -> dict:
    """Wall, user+sys (the command and its reaped children), peak memory of the whole process tree."""
    wait_quiet(Path(args[3]).name if len(args) > 3 else "command")
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    busy0, own0 = machine_busy(), time.process_time()  # own: this process's sampler thread is not "others"
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=out, stderr=err, env=env(root=root), cwd=cwd or ROOT)
    sampler = TreeSampler(p.pid)
    sampler.start()
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop.set()
    sampler.join()
    if stdout_path:
        out.close()
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")
    cpu = ru.ru_utime + ru.ru_stime
    return {"wall_s": wall, "cpu_s": cpu, "cpu_per_wall": cpu / wall, "exit": p.returncode,
            "others_cores": others_cores(busy0, cpu + time.process_time() - own0),
            "peak_pss_mb": sampler.peak_pss / 1024, "peak_rss_sum_mb": sampler.peak_rss / 1024,
            "max_rss_one_process_mb": ru.ru_maxrss / 1024, "processes": sampler.max_procs,
            "samples": sampler.samples, "stderr_tail": stderr[-400:]}


def median_run(args: list[str], runs: int, bytecode: bool = True) -> dict:
    e = env(bytecode)
    wait_quiet(" ".join(args[-2:]))
    subprocess.run(args, env=e, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm
    times, codes = [], set()
    busy0, ru0 = machine_busy(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(args, env=e, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
        codes.add(r.returncode)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    return {"median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000, "runs": runs,
            "exit": sorted(codes), "others_cores": others_cores(busy0, own)}


def interleaved_runs(cmds: dict[str, list[str]], runs: int) -> dict:
    """median_run's figures for several commands run in turn, one round after another."""
    e = env(True)
    wait_quiet("startup")
    for cmd in cmds.values():  # warm
        subprocess.run(cmd, env=e, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: dict[str, list[float]] = {n: [] for n in cmds}
    codes: dict[str, set] = {n: set() for n in cmds}
    busy0, ru0 = machine_busy(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        for name, cmd in cmds.items():
            t0 = time.perf_counter()
            r = subprocess.run(cmd, env=e, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append((time.perf_counter() - t0) * 1000)
            codes[name].add(r.returncode)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    others = others_cores(busy0, ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime)
    return {n: {"median_ms": statistics.median(ts), "min_ms": min(ts), "runs": runs, "exit": sorted(codes[n]),
                "others_cores": others, "per_round_ms": ts} for n, ts in times.items()}


# --------------------------------------------------------------------------- readers, per file

FORM_ROWS = range(L.ROW_FIRST_ITEM, L.ROW_FIRST_ITEM + 15)


def _pick(get, ident_get) -> dict:
    """The values the merge uses: identity, unit, date, per item 分值/text/highlight/reason/扣分/得分, totals."""
    items = [(get(r, L.COL_TEXT), get(r, L.COL_MAX), get(r, L.COL_HIGHLIGHT), get(r, L.COL_REASON),
              get(r, L.COL_DEDUCTION), get(r, L.COL_SCORE)) for r in FORM_ROWS]
    return {"identity": [ident_get(i, 1) for i in range(1, len(L.IDENTITY_KEYS) + 1)],
            "unit": get(*L.INFO_UNIT), "date": get(*L.DATE_CELL), "items": items,
            "subtotal": get(L.ROW_FIRST_ITEM + 15, L.COL_SCORE), "total": get(L.ROW_FIRST_ITEM + 16, L.COL_SCORE)}


def read_floor(path: str) -> int:
    """The I/O floor: open the zip, read the bytes of the form sheet, the identity sheet and shared strings."""
    with zipfile.ZipFile(path) as z:
        return (len(z.read("xl/worksheets/sheet1.xml")) + len(z.read("xl/worksheets/sheet3.xml"))
                + len(z.read("xl/sharedStrings.xml")))


def read_openpyxl(path: str) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws, idn = wb[L.FORM_SHEET], wb[L.IDENTITY_SHEET]
    return _pick(lambda r, c: ws.cell(r + 1, c + 1).value, lambda r, c: idn.cell(r + 1, c + 1).value)


def read_openpyxl_ro(path: str) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[L.FORM_SHEET].iter_rows(max_row=L.ROW_FIRST_ITEM + 17, max_col=7, values_only=True))
    irows = list(wb[L.IDENTITY_SHEET].iter_rows(max_col=2, values_only=True))
    wb.close()
    return _pick(lambda r, c: rows[r][c], lambda r, c: irows[r][c])


def _read_pandas(path: str, engine: str) -> dict:
    import pandas as pd

    dfs = pd.read_excel(path, sheet_name=[L.FORM_SHEET, L.IDENTITY_SHEET], header=None, engine=engine)
    f, i = dfs[L.FORM_SHEET], dfs[L.IDENTITY_SHEET]
    return _pick(lambda r, c: f.iat[r, c], lambda r, c: i.iat[r, c])


def read_pandas_openpyxl(path: str) -> dict:
    return _read_pandas(path, "openpyxl")


def read_pandas_calamine(path: str) -> dict:
    return _read_pandas(path, "calamine")


def read_calamine(path: str) -> dict:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(path)
    rows = wb.get_sheet_by_name(L.FORM_SHEET).to_python(skip_empty_area=False)
    irows = wb.get_sheet_by_name(L.IDENTITY_SHEET).to_python(skip_empty_area=False)
    return _pick(lambda r, c: rows[r][c], lambda r, c: irows[r][c])


_PLAN: Plan | None = None


def read_tool(path: str):
    """The tool's own per-file work (read, identify, score: `merge.read_source`), one process."""
    p = Path(path)
    return read_source(Source(p.name, p.read_bytes(), 0.0), _PLAN, Limits())


READERS = {
    "floor": ("I/O floor: zip open + read form sheet, identity sheet and shared-strings bytes", read_floor),
    "calamine": ("python-calamine, the two sheets' cells", read_calamine),
    "tool_read_source": ("xlsx-tool merge.read_source, in process, one core", read_tool),
    "pandas_calamine": ("pandas.read_excel(engine='calamine'), two sheets", read_pandas_calamine),
    "openpyxl_read_only": ("openpyxl.load_workbook(read_only=True)", read_openpyxl_ro),
    "pandas_openpyxl": ("pandas.read_excel(engine='openpyxl'), two sheets", read_pandas_openpyxl),
    "openpyxl": ("openpyxl.load_workbook() (default)", read_openpyxl),
}
FAST = {"floor", "calamine", "tool_read_source"}
FAST_REPEATS = 3  # the fast readers are timed three times and the best loop kept


def _as_number(v):
    if v is None or v == "" or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return str(v)


def _same_values(a: dict, b: dict) -> bool:
    """Same identity, unit and per-item 分值, reason and 扣分 (得分 is a formula text in openpyxl's default)."""
    key = lambda x: ([str(v) for v in x["identity"]], str(x["unit"]),  # noqa: E731
                     [(_as_number(i[1]), _as_number(i[3]), _as_number(i[4])) for i in x["items"]])
    return key(a) == key(b)


def time_loop(fn, paths: list[str], repeats: int = 1) -> float:
    """The best of `repeats` loops: a lower bound such as the floor must not be raised by a moment
    when another program took the core (that would flatter every ratio against it)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, time.perf_counter() - t0)
    return best


def _chunk_count(fn_name_paths) -> int:
    fn_name, paths = fn_name_paths
    fn = READERS[fn_name][1]
    for p in paths:
        fn(p)
    return len(paths)


def time_pool(fn_name: str, paths: list[str], workers: int) -> float:
    chunks = [paths[i:i + 200] for i in range(0, len(paths), 200)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        sum(pool.map(_chunk_count, [(fn_name, c) for c in chunks]))
    return time.perf_counter() - t0


def bench_readers(plan: Plan, collected: Path, sample: int, workers: int, seed: int) -> dict:
    global _PLAN
    _PLAN = plan
    paths = sorted(str(p) for p in collected.rglob("*.xlsx") if not p.name.startswith("~$"))
    for p in paths:  # the page cache holds every file, as for the merge
        Path(p).read_bytes()
    rng = random.Random(seed + 2)
    small = sorted(rng.sample(paths, min(sample, len(paths))))
    fast = paths if len(paths) <= 4 * sample else sorted(rng.sample(paths, 4 * sample))
    ref = read_calamine(small[0])
    out = {}
    for name, (what, fn) in READERS.items():
        use = fast if name in FAST else small
        fn(use[0])  # imports, caches
        wait_quiet(name)
        busy0 = machine_busy()
        c0 = time.process_time()
        secs = time_loop(fn, use, FAST_REPEATS if name in FAST else 1)
        row = {"what": what, "files": len(use), "per_file_ms": secs / len(use) * 1000,
               "sampled": len(use) < len(paths), "others_cores": others_cores(busy0, time.process_time() - c0)}
        if name not in ("floor", "tool_read_source"):
            row["same_values"] = _same_values(fn(small[0]), ref)
        out[name] = row
        log(f"  {name}: {row['per_file_ms']:.3f} ms/file over {len(use)} files")
    for name in ("floor", "calamine"):
        secs = time_pool(name, fast, workers)
        out[f"{name}_{workers}proc"] = {"what": f"{READERS[name][0]}, {workers} processes (fork pool)",
                                        "files": len(fast), "per_file_ms": secs / len(fast) * 1000,
                                        "sampled": len(fast) < len(paths)}
    return out


# --------------------------------------------------------------------------- writers, per form


def plain_xlsxwriter_form(plan: Plan, unit) -> bytes:
    """What a Python user would write with xlsxwriter for the same form: the same cells, merges, formulas
    (with cached values), data validations and the guide/identity sheets; one border format; no
    conditional formats, print setup, protection or document properties."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    f = wb.add_format({"border": 1, "text_wrap": True, "valign": "vcenter", "font_name": "宋体"})
    ws = wb.add_worksheet(L.FORM_SHEET)
    s = plan.summary(unit.summary)
    ws.merge_range(0, 0, 0, 6, plan.form_title, f)
    ws.write_string(1, 0, L.UNIT_LABEL)
    ws.write_string(1, 1, unit.name)
    ws.merge_range(1, 2, 1, 3, L.SUMMARY_LABEL + s.name, f)
    ws.write_string(1, 4, L.DATE_LABEL)
    ws.merge_range(1, 5, 1, 6, "", f)
    ws.data_validation(1, 5, 1, 5, {"validate": "date", "criteria": "between",
                                    "minimum": dt.datetime.combine(s.window[0], dt.time()),
                                    "maximum": dt.datetime.combine(s.window[1], dt.time()),
                                    "input_title": "核查时间", "input_message": "请填写实地核查的日期"})
    for c, h in enumerate(L.HEADERS):
        ws.write_string(2, c, h, f)
    for i, item in enumerate(plan.rubric.items):
        r = 3 + i
        ws.write_string(r, 0, item.category, f)
        ws.write_string(r, 1, item.text, f)
        ws.write_number(r, 2, _num(item.max), f)
        ws.write_blank(r, 3, None, f)
        ws.write_blank(r, 4, None, f)
        ws.write_blank(r, 5, None, f)
        ws.write_formula(r, 6, f"=MAX(0,C{r + 1}-F{r + 1})", f, _num(item.max))
        ws.data_validation(r, 5, r, 5, {"validate": "decimal", "criteria": "between", "minimum": 0,
                                        "maximum": _num(item.limit), "input_title": f"第{item.seq}项扣分",
                                        "input_message": item.basis[:250]})
    n = len(plan.rubric.items)
    ws.write_string(3 + n, 0, L.SUBTOTAL_LABEL, f)
    for c in (2, 5, 6):
        col = "CDEFG"[c - 2]
        ws.write_formula(3 + n, c, f"=SUM({col}4:{col}{3 + n})", f, _num(plan.rubric.total) if c != 5 else 0)
    ws.write_string(4 + n, 0, "核定得分", f)
    ws.write_formula(4 + n, 6, f"=MIN(98,G{4 + n})", f, 98)
    if plan.rules.test_item:  # the knowledge-test table under the form
        t = 6 + n
        ws.merge_range(t, 0, t, 6, L.TEST_TITLE, f)
        for c, h in enumerate(L.TEST_HEADERS):
            ws.write_string(t + 1, c, h, f)
        people = plan.rules.test_people
        for k in range(people):
            r = t + 2 + k
            ws.write_number(r, 0, k + 1, f)
            ws.write_blank(r, 1, None, f)
            ws.write_blank(r, 2, None, f)
            ws.data_validation(r, 2, r, 2, {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100})
            ws.write_formula(r, 3, f'=IF(C{r + 1}="","",IF(C{r + 1}<60,"不及格","及格"))', f, "")
        r = t + 2 + people
        ws.merge_range(r, 0, r, 4, L.TEST_DEDUCTION_LABEL.format(seq=plan.rules.test_item), f)
        ws.write_formula(r, 5, f'=COUNTIF(D{t + 3}:D{r},"不及格")*0.5', f, 0)
    g = wb.add_worksheet(L.GUIDE_SHEET)
    for i in range(20):
        g.write_string(i, 0, f"填表说明第{i}行：扣分只填数字，凡扣分必须写明原因。")
    idn = wb.add_worksheet(L.IDENTITY_SHEET)
    idn.write_string(0, 0, L.IDENTITY_MARK)
    for i, (_k, label) in enumerate(L.IDENTITY_KEYS, 1):
        idn.write_string(i, 0, label)
        idn.write_string(i, 1, unit.name)
    idn.hide()
    wb.close()
    return buf.getvalue()


def bench_writers(plan: Plan, sample: int, scratch: Path, floor_files: int) -> dict:
    units = plan.units[:: max(1, len(plan.units) // sample)][:sample]
    wait_quiet("writers")
    build_form(plan, units[0])
    plain_xlsxwriter_form(plan, units[0])
    gc.collect()
    t0 = time.perf_counter()
    for u in units:
        build_form(plan, u)
    t_build = (time.perf_counter() - t0) / len(units)
    t0 = time.perf_counter()
    for u in units:
        plain_xlsxwriter_form(plan, u)
    t_plain = (time.perf_counter() - t0) / len(units)
    gc.collect()
    t0 = time.perf_counter()
    forms = sum(1 for u in plan.units if build_form(plan, u))
    t_all = (time.perf_counter() - t0) / forms
    data = build_form(plan, units[0])
    d = scratch / "floor_write"
    d.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(floor_files):
        (d / f"{i:05d}-评分细则.xlsx").write_bytes(data)
    t_floor = (time.perf_counter() - t0) / floor_files
    shutil.rmtree(d)
    return {
        "floor_write": {"what": "write one already-built form's bytes to a new file", "files": floor_files,
                        "per_form_ms": t_floor * 1000},
        "xlsxwriter_memory": {"what": "plain xlsxwriter, same cells/formulas/validations, to memory, one core",
                              "forms": len(units), "per_form_ms": t_plain * 1000},
        "tool_build_all": {"what": "xlsx-tool build_form (every blank form), in process, one core",
                           "forms": forms, "per_form_ms": t_all * 1000},
        "tool_build_form": {"what": "xlsx-tool form_writer.build_form (a pre-filled form), one core",
                            "forms": len(units), "per_form_ms": t_build * 1000},
        "form_kb": len(data) / 1024,
    }


# --------------------------------------------------------------------------- merge phases, profiles


def _mem() -> dict[str, int]:
    """This process's VmRSS and VmHWM (peak) in kB."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def merge_phases(plan: Plan, collected: Path, profile_dir: Path | None = None) -> dict:
    """The merge's own phases, in process, as the CLI runs them (default workers), with this process's
    memory: what the records keep, and the peak while the summary workbook is built."""
    from xlsx_tool.reading import collect

    gc.collect()
    t0 = time.perf_counter()
    if hasattr(collect, "list_files"):  # one file at a time (the bytes are dropped as it goes)
        n_src = sum(1 for p in collect.list_files(collected) for _ in collect.sources_of(collected, p, Limits()))
    else:
        n_src = sum(1 for _ in collect.iter_sources(collected, Limits()))
    t_scan = time.perf_counter() - t0
    gc.collect()
    m0 = _mem()["VmRSS"]
    _reset_peak()
    t0 = time.perf_counter()
    files = read_all(plan, collected, Limits())
    t_read = time.perf_counter() - t0
    m_read_peak = _mem()["VmHWM"]
    gc.collect()
    m_records = _mem()["VmRSS"]
    t0 = time.perf_counter()
    result = decide(plan, files, str(collected), dt.date(2017, 11, 6))
    t_decide = time.perf_counter() - t0
    gc.collect()
    _reset_peak()
    t0 = time.perf_counter()
    data = build_summary(result)
    t_summary = time.perf_counter() - t0
    m_summary_peak = _mem()["VmHWM"]
    t0 = time.perf_counter()
    json.dumps(to_json(result), ensure_ascii=False, indent=1)
    t_json = time.perf_counter() - t0
    # What the page's 汇总 does beyond the CLI's merge: it reads on one core (office.WORKERS = 1) and
    # also writes the 简要核查报告 drafts (jobs.run_merge).
    from xlsx_tool.interfaces.jobs import write_merge, write_report

    t0 = time.perf_counter()
    read_all(plan, collected, Limits(), workers=1)
    t_read_1 = time.perf_counter() - t0
    scratch = Path(tempfile.mkdtemp(prefix="xlsx-bench-out-"))
    t0 = time.perf_counter()
    write_merge(result, scratch)
    t_write_merge = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_report(result, scratch)
    t_reports = time.perf_counter() - t0
    shutil.rmtree(scratch)
    out = {"sources": n_src, "scan_and_read_bytes_s": t_scan, "read_all_s": t_read, "decide_s": t_decide,
           "build_summary_s": t_summary, "summary_kb": len(data) / 1024, "to_json_s": t_json,
           "read_all_one_core_s": t_read_1, "write_merge_s": t_write_merge, "write_reports_s": t_reports,
           "mem_records_mb": (m_records - m0) / 1024, "mem_records_kb_per_file": (m_records - m0) / max(1, len(files)),
           "mem_peak_read_all_mb": (m_read_peak - m0) / 1024, "mem_peak_summary_mb": (m_summary_peak - m0) / 1024}
    if profile_dir:
        pr = cProfile.Profile()
        pr.enable()
        build_summary(result)
        pr.disable()
        st = io.StringIO()
        pstats.Stats(pr, stream=st).strip_dirs().sort_stats("tottime").print_stats(25)
        (profile_dir / f"profile-build_summary-{len(plan.units)}.txt").write_text(st.getvalue(), encoding="utf-8")
        print(f"\n--- cProfile build_summary, N={len(plan.units)} (top 25 by tottime) ---")
        print("\n".join(st.getvalue().splitlines()[:37]))
    return out


def profile(plan: Plan, collected: Path, out_dir: Path, top: int = 25) -> dict:
    global _PLAN
    _PLAN = plan
    paths = sorted(str(p) for p in collected.rglob("*.xlsx") if not p.name.startswith("~$"))[:400]
    blobs = [(Path(p).name, Path(p).read_bytes()) for p in paths]
    out = {}
    for name, fn in (("read_source", lambda: [read_source(Source(n, b, 0.0), plan, Limits()) for n, b in blobs]),
                     ("build_form", lambda: [build_form(plan, u) for u in plan.units[:60]])):
        fn()
        pr = cProfile.Profile()
        pr.enable()
        fn()
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).strip_dirs().sort_stats("tottime").print_stats(top)
        path = out_dir / f"profile-{name}.txt"
        path.write_text(s.getvalue(), encoding="utf-8")
        out[name] = str(path)
        print(f"\n--- cProfile {name} (top {top} by tottime) ---")
        print("\n".join(s.getvalue().splitlines()[:top + 12]))
    # where a merge of an empty folder spends its start: -X importtime, by cumulative time
    empty = out_dir / "_empty"
    empty.mkdir(exist_ok=True)
    r = subprocess.run([PY, "-X", "importtime", "-m", "xlsx_tool", "merge", str(empty), "--out", str(out_dir / "_empty_out"),
                        "--date", MERGE_DATE], env=env(), cwd=ROOT, capture_output=True, text=True)
    shutil.rmtree(empty, ignore_errors=True)
    shutil.rmtree(out_dir / "_empty_out", ignore_errors=True)
    rows = []
    for line in r.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0].split(":")[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    text = "\n".join(f"{c / 1000:8.1f} ms cumulative {s_ / 1000:7.1f} ms self  {m}" for c, s_, m in rows[:40])
    (out_dir / "profile-merge-empty-imports.txt").write_text(text, encoding="utf-8")
    out["merge_empty_imports"] = [{"module": m.strip(), "cumulative_ms": c / 1000, "self_ms": s_ / 1000}
                                  for c, s_, m in rows[:25]]
    print("\n--- merge of an empty folder: imports by cumulative time (-X importtime) ---")
    print("\n".join(text.splitlines()[:25]))
    return out


# --------------------------------------------------------------------------- the page's 汇总


class _Meta(HTMLParser):
    """The page's CSRF value, from <meta name="csrf" content=… data-header=…> (as app.js reads it)."""

    def __init__(self):
        super().__init__()
        self.csrf: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("name") == "csrf":
            self.csrf = (a.get("data-header") or "", a.get("content") or "")


def _cpu_of_tree(pid: int) -> float:
    """user+sys seconds so far of a running process and its live descendants (/proc/PID/stat)."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in TreeSampler._tree(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                f = fh.read().rsplit(b")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / hz  # utime, stime
        except OSError:
            pass
    return total


class PageClient:
    """What app.js does, over HTTP: open the page with the token (cookie), read the CSRF value, poll
    api/status, POST api/job/merge and poll api/job/<id> every 300 ms until it is done."""

    def __init__(self, url: str):
        import http.cookiejar

        self.base = url.split("?", 1)[0]
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(url, timeout=60).read().decode("utf-8")  # 303 to "/", cookie set
        meta = _Meta()
        meta.feed(page)
        assert meta.csrf, "the page has no CSRF meta"
        self.csrf = meta.csrf

    def get(self, path: str, timeout: float = 600) -> dict:
        with self.opener.open(self.base + path, timeout=timeout) as r:
            return json.loads(r.read())

    def post(self, path: str) -> dict:
        req = urllib.request.Request(self.base + path, data=b"", method="POST", headers={self.csrf[0]: self.csrf[1]})
        with self.opener.open(req, timeout=60) as r:
            return json.loads(r.read())


def bench_page(base: Path, plan_path: Path, runs: int) -> dict:
    """The page's 汇总 on the real server (`xlsx-tool serve`, folder `base` whose collected/ holds the
    returns): wall from the POST to the poll that sees it done, as the clerk waits for it, with the page's
    own 2-second status poll going on.  The server's CPU and the peak Pss of its process are sampled."""
    serve = subprocess.Popen([PY, "-m", "xlsx_tool", "serve", str(base), "--plan", str(plan_path), "--port", "0",
                              "--no-browser", "--date", MERGE_DATE], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env(), cwd=ROOT, text=True)
    try:
        url = ""
        for line in serve.stdout:
            if line.startswith("http://"):
                url = line.strip()
                break
        if not url:
            raise SystemExit("xlsx-tool serve printed no address")
        client = PageClient(url)
        t0 = time.perf_counter()
        client.get("api/status")  # opening the page: the first status merges the folder (untimed below)
        out: dict = {"open_status_s": time.perf_counter() - t0, "runs_wall_s": [], "runs_cpu_s": [],
                     "runs_peak_pss_mb": [], "runs_others_cores": [], "states": []}
        for _ in range(runs):
            wait_quiet("page merge")
            sampler = TreeSampler(serve.pid)
            sampler.start()
            busy0, cpu0, own0 = machine_busy(), _cpu_of_tree(serve.pid), time.process_time()
            t0 = time.perf_counter()
            job = client.post("api/job/merge")
            next_status = t0 + 2.0
            while job["state"] == "running":
                time.sleep(0.3)
                if time.perf_counter() >= next_status:  # the page keeps polling its status meanwhile
                    client.get("api/status")
                    next_status += 2.0
                job = client.get(f"api/job/{job['id']}")
            wall = time.perf_counter() - t0
            cpu = _cpu_of_tree(serve.pid) - cpu0
            sampler.stop.set()
            sampler.join()
            out["runs_wall_s"].append(wall)
            out["runs_cpu_s"].append(cpu)
            out["runs_peak_pss_mb"].append(sampler.peak_pss / 1024)
            out["runs_others_cores"].append(others_cores(busy0, cpu + time.process_time() - own0))
            out["states"].append(job["state"])
            if job["state"] != "done" or job["problems"]:
                raise SystemExit(f"the page's merge: {job['state']} {job['problems']}")
        k = sorted(range(runs), key=lambda i: out["runs_wall_s"][i])[runs // 2]
        out.update(wall_s=out["runs_wall_s"][k], cpu_s=out["runs_cpu_s"][k], peak_pss_mb=out["runs_peak_pss_mb"][k],
                   others_cores=out["runs_others_cores"][k], cpu_per_wall=out["runs_cpu_s"][k] / out["runs_wall_s"][k])
        return out
    finally:
        serve.terminate()
        serve.wait(30)


def merge_runs(args: list[str], runs: int, floor, root: Path = ROOT) -> dict:
    """`runs` end-to-end merges, each between two floors; the run with the median wall, all walls beside."""
    runs_out = []
    wait_quiet("floor before the merges")
    before = floor()
    for _ in range(runs):
        run = run_measured(args, root=root)
        after = floor()  # a floor on each side of every run: its own, the mean of the two
        run["floor_before_ms"], run["floor_after_ms"] = before, after
        run["floor_ms"] = (before + after) / 2
        runs_out.append(run)
        before = after
    m = sorted(runs_out, key=lambda r: r["wall_s"])[len(runs_out) // 2]
    m["runs_wall_s"] = [r["wall_s"] for r in runs_out]
    m["runs_floor_ms"] = [r["floor_ms"] for r in runs_out]
    m["runs_others_cores"] = [r["others_cores"] for r in runs_out]
    m["runs_cpu_per_wall"] = [r["cpu_per_wall"] for r in runs_out]
    return m


def per_workbook(m: dict, workbooks: int) -> None:
    """Per-workbook figures and the ratio to the floor, each run against its own floors, the median kept."""
    m["workbooks"] = workbooks
    m["per_file_ms"] = m["wall_s"] / workbooks * 1000
    m["cpu_per_file_ms"] = m["cpu_s"] / workbooks * 1000
    m["runs_x_floor"] = [w / workbooks * 1000 / f for w, f in zip(m["runs_wall_s"], m["runs_floor_ms"])]
    m["x_floor_paired"] = sorted(m["runs_x_floor"])[len(m["runs_x_floor"]) // 2]


# --------------------------------------------------------------------------- one N


def bench_n(n: int, args, work: Path) -> dict:
    log(f"N={n}: plan")
    base = work / f"n{n}"
    base.mkdir(parents=True)
    plan_path = base / "plan.yaml"
    plan = synthetic_plan(n, args.seed, plan_path)
    res: dict = {"units": n, "summary_units": len(plan.summary_units)}

    log(f"N={n}: generate (CLI, end to end)")
    gen = run_measured([PY, "-m", "xlsx_tool", "generate", "--plan", str(plan_path), "--out", str(base / "blank")])
    if gen["exit"] != 0:
        raise SystemExit(f"generate failed: {gen['stderr_tail']}")
    blank = sorted((base / "blank").rglob("*.xlsx"))
    gen["forms"] = len(blank)
    gen["per_form_ms"] = gen["wall_s"] / n * 1000
    gen["cpu_per_form_ms"] = gen["cpu_s"] / n * 1000
    res["generate"] = gen
    shutil.rmtree(base / "blank")

    log(f"N={n}: generate baselines")
    res["writers"] = bench_writers(plan, min(args.sample, n, 300), base, min(n, 2000))

    log(f"N={n}: fill returns ({args.workers} processes)")
    d = design(plan, n, args.seed)
    collected = base / "collected"
    fill = fill_returns(plan, d, args.seed, collected, args.workers)
    res["fill"] = {k: v for k, v in fill.items() if k not in ("copies", "junk")}
    res["fill"]["problems_injected"] = {k: sum(1 for v in d["kinds"].values() if v == k) for k in KINDS}
    res["fill"]["in_zips"] = len(d["zipped"])
    files_on_disk = sum(1 for p in collected.rglob("*") if p.is_file())

    log(f"N={n}: merge (CLI, end to end, {args.merge_runs} runs, each between two floors)")
    # The median of a few runs: on a shared machine one run can take half as long again as the next,
    # and the machine's speed drifts over minutes.  So each run is paired with the floor timed just
    # before and just after it (the mean of the two), on the same files, and the ratio is taken per
    # pair (see the targets).
    xlsx = sorted(str(p) for p in collected.rglob("*.xlsx") if not p.name.startswith("~$"))
    floor_files = sorted(random.Random(args.seed + 3).sample(xlsx, min(4 * args.sample, len(xlsx))))
    floor = lambda: time_loop(read_floor, floor_files, FAST_REPEATS) / len(floor_files) * 1000  # noqa: E731
    merge_cmd = ["-m", "xlsx_tool", "merge", str(collected), "--plan", str(plan_path), "--out", str(base / "out"),
                 "--date", MERGE_DATE]
    m = merge_runs([PY, *merge_cmd], args.merge_runs, floor)
    m["returns"] = n - sum(1 for v in d["kinds"].values() if v == "missing")
    m["files_on_disk"] = files_on_disk
    res["merge"] = m
    if m["exit"] not in (0, 1):
        raise SystemExit(f"merge failed: {m['stderr_tail']}")

    log(f"N={n}: merge --json (checks complete?)")
    jpath = base / "merge.json"
    mj = run_measured([PY, *merge_cmd[:-4], "--out", str(base / "out2"), "--date", MERGE_DATE, "--json"],
                      stdout_path=jpath)
    report = json.loads(jpath.read_text(encoding="utf-8"))
    res["merge_json"] = {k: mj[k] for k in ("wall_s", "cpu_s", "peak_pss_mb", "exit")}
    res["checks"] = verify(plan, d, args.seed, fill, report)
    # per file = per workbook read (returns, resent copies and first versions, zip members included)
    workbooks = sum(1 for f in report["files"] if f["file"].endswith(".xlsx") and "~$" not in f["file"])
    per_workbook(m, workbooks)
    del report

    log(f"N={n}: the page's 汇总 (xlsx-tool serve, HTTP, {args.merge_runs} runs)")
    res["page"] = bench_page(base, plan_path, args.merge_runs)
    shutil.rmtree(base / "output", ignore_errors=True)

    if args.old_tree:
        old = Path(args.old_tree).resolve()
        old_py = str(old / ".venv" / "bin" / "python")
        log(f"N={n}: merge with the old code ({old}), {args.merge_runs} runs")
        empty = base / "empty-old"  # compile its bytecode first, as the new code's was by `generate`
        empty.mkdir()
        subprocess.run([old_py, "-m", "xlsx_tool", "merge", str(empty), "--out", str(base / "out-old"), "--date",
                        MERGE_DATE], env=env(root=old), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        om = merge_runs([old_py, *merge_cmd[:-4], "--out", str(base / "out-old"), "--date", MERGE_DATE],
                        args.merge_runs, floor, root=old)
        per_workbook(om, workbooks)
        om["tree"] = str(old)
        res["merge_old"] = om
        shutil.rmtree(base / "out-old", ignore_errors=True)

    log(f"N={n}: merge phases (in process)")
    res["merge_phases"] = merge_phases(plan, collected, (Path(args.json).parent if args.json else base)
                                       if args.profile else None)

    log(f"N={n}: readers per file")
    res["readers"] = bench_readers(plan, collected, args.sample, args.workers, args.seed)
    if args.profile:
        res["profiles"] = profile(plan, collected, Path(args.json).parent if args.json else base)
    if not args.keep:
        shutil.rmtree(base)
    return res


def bench_startup(work: Path, runs: int) -> dict:
    empty = work / "empty"
    empty.mkdir()
    cmds = {
        "python_pass": [PY, "-c", "pass"],
        "import_click": [PY, "-c", "import click"],
        "tool_help": [PY, "-m", "xlsx_tool", "--help"],
        "tool_merge_empty": [PY, "-m", "xlsx_tool", "merge", str(empty), "--out", str(work / "empty_out"),
                             "--date", MERGE_DATE],
        "import_yaml": [PY, "-c", "import yaml"],
        "import_xlsxwriter": [PY, "-c", "import xlsxwriter"],
        "import_openpyxl": [PY, "-c", "import openpyxl"],
        "import_pandas": [PY, "-c", "import pandas"],
        "import_calamine": [PY, "-c", "import python_calamine"],
    }
    script = shutil.which("xlsx-tool")
    if script:
        cmds["xlsx_tool_script_help"] = [script, "--help"]
    out = {}
    # The three compared commands run in turn, round after round, so that each tool run has a click
    # run next to it in time (the machine's speed drifts over minutes); each is its own median.
    compared = ("import_click", "tool_help", "tool_merge_empty")
    out.update(interleaved_runs({n: cmds[n] for n in compared}, runs))
    for name, cmd in cmds.items():
        if name not in compared:
            out[name] = median_run(cmd, 3 if name.startswith("import_") else runs)
        out[name]["cmd"] = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
    click = out["import_click"]["per_round_ms"]
    for name in ("tool_help", "tool_merge_empty"):  # the ratio in each round, for information
        out[name]["x_click_paired"] = statistics.median(t / c for t, c in zip(out[name]["per_round_ms"], click))
    for name in ("tool_help", "tool_merge_empty"):  # for information: no bytecode cache at all
        r = median_run(cmds[name], 3, bytecode=False)
        r["cmd"] = out[name]["cmd"] + "   [no bytecode cache]"
        out[name + "_no_pyc"] = r
    return out


# --------------------------------------------------------------------------- report


def verdicts(results: dict) -> list[dict]:
    out = []

    def check(name, ok, measured, target, at=""):
        out.append({"target": name, "pass": bool(ok), "measured": measured, "target_value": target, "at": at})

    ns = sorted(results["n"], key=int)
    big = results["n"][ns[-1]]
    at = f"N={ns[-1]}"
    m, r = big["merge"], big["readers"]
    if str(T_MERGE_SMALL_N) in results["n"]:
        s = results["n"][str(T_MERGE_SMALL_N)]["merge"]
        check(f"merge of {T_MERGE_SMALL_N} returns, end to end", s["wall_s"] <= T_MERGE_SMALL_S,
              f"{s['wall_s']:.2f} s (median of runs " + ", ".join(f"{w:.2f}" for w in s["runs_wall_s"]) + ")",
              f"<= {T_MERGE_SMALL_S} s", f"N={T_MERGE_SMALL_N}")
    floor = r["floor"]["per_file_ms"]
    check(f"merge within {T_MERGE_FLOOR:g}x of the I/O floor, end to end (median of the runs, each against the "
          "floors timed just before and after it)", m["x_floor_paired"] <= T_MERGE_FLOOR,
          f"{m['x_floor_paired']:.1f}x (runs: " + ", ".join(
              f"{w / m['workbooks'] * 1000:.3f} ms / {f:.3f} ms = {x:.1f}x"
              for w, f, x in zip(m["runs_wall_s"], m["runs_floor_ms"], m["runs_x_floor"]))
          + f"); against the readers' floor {floor:.3f} ms: {m['per_file_ms'] / floor:.1f}x", f"<= {T_MERGE_FLOOR:g}x", at)
    ox = r["openpyxl"]["per_file_ms"]
    check(f"merge at least {T_MERGE_OPENPYXL:g}x faster than the openpyxl loop", ox / m["per_file_ms"] >= T_MERGE_OPENPYXL,
          f"{ox / m['per_file_ms']:.1f}x ({ox:.2f} ms vs {m['per_file_ms']:.3f} ms)", f">= {T_MERGE_OPENPYXL:g}x", at)
    check(f"merge peak memory at most {T_MERGE_MB:.0f} MB", m["peak_pss_mb"] <= T_MERGE_MB,
          f"{m['peak_pss_mb']:.0f} MB (Pss summed over processes; Rss sum {m['peak_rss_sum_mb']:.0f} MB)",
          f"<= {T_MERGE_MB:.0f} MB", at)
    if len(ns) > 1:
        small = results["n"][ns[0]]
        dn = big["merge"]["workbooks"] - small["merge"]["workbooks"]
        slope_kb = (big["merge"]["peak_pss_mb"] - small["merge"]["peak_pss_mb"]) * 1024 / dn
        file_kb = big["fill"]["mean_kb"]
        ph = big["merge_phases"]
        check("merge memory flat in N (grows by less than one return's bytes per return)", slope_kb < file_kb,
              f"+{slope_kb:.1f} KB per return (N={ns[0]}: {small['merge']['peak_pss_mb']:.0f} MB, "
              f"N={ns[-1]}: {big['merge']['peak_pss_mb']:.0f} MB; in process: records {ph['mem_records_kb_per_file']:.1f} "
              f"KB/file, summary workbook peak +{ph['mem_peak_summary_mb']:.0f} MB)",
              f"< {file_kb:.1f} KB (mean return size)", f"N={ns[0]}..{ns[-1]}")
    st = results.get("startup")
    if st:
        click = st["import_click"]["median_ms"]
        t, x = st["tool_help"]["median_ms"], st["tool_help"]["x_click_paired"]
        check(f"`xlsx-tool --help` within {T_HELP:g}x of `python -c \"import click\"`", x <= T_HELP,
              f"{x:.2f}x, median of each round's ratio ({t:.0f} ms; click {click:.0f} ms)", f"<= {T_HELP:g}x", "startup")
    for n in ns:
        p, cm = results["n"][n].get("page"), results["n"][n]["merge"]
        if p:
            check("the page's 汇总 costs no more than the CLI's merge (HTTP POST to done, against the CLI's wall)",
                  p["wall_s"] <= T_PAGE * cm["wall_s"],
                  f"{p['wall_s'] / cm['wall_s']:.2f}x ({p['wall_s']:.2f} s vs {cm['wall_s']:.2f} s; page on "
                  f"{p['cpu_per_wall']:.2f} cores, peak {p['peak_pss_mb']:.0f} MB)", f"<= {T_PAGE:g}x", f"N={n}")
    for n in ns:
        c = results["n"][n]["checks"]
        check("the merge's checks stay complete", c["ok"],
              f"{c['scores_checked']} scores, {c['expected_findings_found']} expected findings found"
              + ("" if c["ok"] else f"; {c['problems'][:2]}"), "all", f"N={n}")
        check("no findings on clean returns", c["no_spurious"],
              f"{c['spurious_files']} clean files with findings" + (f", e.g. {c['spurious'][1]}" if c["spurious"] else ""),
              "0", f"N={n}")
    return out


def print_report(results: dict) -> None:
    for n in sorted(results["n"], key=int):
        r = results["n"][n]
        g, w, m, rd, ph = r["generate"], r["writers"], r["merge"], r["readers"], r["merge_phases"]
        print(f"\n=== N = {n} units ({r['summary_units']} summary units) ===")
        print(f"generate (CLI, end to end): {g['wall_s']:.2f} s wall, {g['cpu_s']:.2f} s cpu "
              f"({g['cpu_per_wall']:.2f} cores; other programs meanwhile {g['others_cores']:.2f} cores), "
              f"peak {g['peak_pss_mb']:.0f} MB; {g['per_form_ms']:.2f} ms/form")
        fw = w["floor_write"]["per_form_ms"]
        print(f"  {'per form':<64} {'ms':>8} {'x floor':>8} {'x tool':>8}")
        rows = [("xlsx-tool generate, end to end (wall / N)", g["per_form_ms"])]
        rows += [(f"{v['what']}", v["per_form_ms"]) for k, v in w.items() if isinstance(v, dict)]
        for what, ms in rows:
            print(f"  {what[:64]:<64} {ms:>8.3f} {ms / fw:>8.1f} {ms / g['per_form_ms']:>8.2f}")
        f = r["fill"]
        print(f"fill: {f['files']} returns ({f['mean_kb']:.1f} KB each, {f['in_zips']} inside {f['zips']} zips) "
              f"in {f['seconds']:.1f} s")
        walls = ", ".join(f"{w:.2f}" for w in m.get("runs_wall_s", [m["wall_s"]]))
        cores = "both cores used" if m["cpu_per_wall"] >= T_BOTH_CORES else "one core"
        print(f"merge (CLI, end to end; median of runs {walls} s): {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s cpu ({m['cpu_per_wall']:.2f} cores, {cores}; "
              f"other programs meanwhile {m['others_cores']:.2f} cores), "
              f"peak {m['peak_pss_mb']:.0f} MB Pss / {m['peak_rss_sum_mb']:.0f} MB Rss over {m['processes']} processes, "
              f"largest process {m['max_rss_one_process_mb']:.0f} MB; {m['workbooks']} workbooks, "
              f"{m['per_file_ms']:.3f} ms/workbook; exit {m['exit']}")
        print(f"  phases in process: scan+read bytes {ph['scan_and_read_bytes_s']:.2f} s, read_all {ph['read_all_s']:.2f} s, "
              f"decide {ph['decide_s']:.2f} s, summary xlsx {ph['build_summary_s']:.2f} s, json {ph['to_json_s']:.2f} s; "
              f"read_all on one core {ph['read_all_one_core_s']:.2f} s, write_merge {ph['write_merge_s']:.2f} s, "
              f"write_report {ph['write_reports_s']:.2f} s")
        print(f"  main process memory: records kept {ph['mem_records_mb']:.0f} MB ({ph['mem_records_kb_per_file']:.1f} KB/file), "
              f"peak while reading +{ph['mem_peak_read_all_mb']:.0f} MB, peak while writing the summary "
              f"+{ph['mem_peak_summary_mb']:.0f} MB")
        fl = rd["floor"]["per_file_ms"]
        print(f"  {'per file':<64} {'ms':>8} {'x floor':>8} {'x tool':>8} {'others':>7}")
        rows = [("xlsx-tool merge, end to end (wall / workbooks read)", m["per_file_ms"], "", m["others_cores"])]
        rows += [(v["what"] + (f" [{v['files']} files]" if v["sampled"] else ""), v["per_file_ms"],
                  "" if v.get("same_values", True) else " (values differ!)", v.get("others_cores")) for v in rd.values()]
        for what, ms, note, oth in rows:
            o = f"{oth:>7.2f}" if oth is not None else f"{'':>7}"
            print(f"  {what[:64]:<64} {ms:>8.3f} {ms / fl:>8.1f} {ms / m['per_file_ms']:>8.2f} {o}{note}")
        p = r.get("page")
        if p:
            print(f"page 汇总 (xlsx-tool serve, POST api/job/merge to done; runs "
                  + ", ".join(f"{w:.2f}" for w in p["runs_wall_s"]) + f" s): {p['wall_s']:.2f} s wall = "
                  f"{p['wall_s'] / m['wall_s']:.2f}x the CLI's merge, {p['cpu_s']:.2f} s cpu ({p['cpu_per_wall']:.2f} cores; "
                  f"others {p['others_cores']:.2f}), peak {p['peak_pss_mb']:.0f} MB Pss; opening the page (first "
                  f"api/status, a merge) {p['open_status_s']:.2f} s")
        om = r.get("merge_old")
        if om:
            print(f"merge, OLD code ({om['tree']}; median of runs " + ", ".join(f"{w:.2f}" for w in om["runs_wall_s"])
                  + f" s): {om['wall_s']:.2f} s wall, {om['cpu_s']:.2f} s cpu, peak {om['peak_pss_mb']:.0f} MB Pss, "
                  f"{om['per_file_ms']:.3f} ms/workbook = {om['x_floor_paired']:.1f}x floor; exit {om['exit']}; "
                  f"new/old wall {m['wall_s'] / om['wall_s']:.2f}")
        mj = r["merge_json"]
        print(f"merge --json (the checks run): {mj['wall_s']:.2f} s wall, {mj['cpu_s']:.2f} s cpu, "
              f"peak {mj['peak_pss_mb']:.0f} MB Pss")
        c = r["checks"]
        print(f"checks: {'complete' if c['ok'] else 'INCOMPLETE'} — {c['units_scored']} units scored, "
              f"{c['expected_findings_found']} expected findings found, one-third rule broken in "
              f"{c['quota_exceeded_summaries']} summary units, {c['findings_total']} findings in all"
              + ("" if c["ok"] else f"\n  {c['problems']}")
              + ("" if c["no_spurious"] else f"\n  spurious: {c['spurious'][:4]}"))
    st = results.get("startup")
    if st:
        print("\n=== startup (median of runs, ms) ===")
        click = st["import_click"]["median_ms"]
        for k, v in st.items():
            paired = f", {v['x_click_paired']:.2f}x paired" if "x_click_paired" in v else ""
            print(f"  {v['cmd'][:70]:<70} {v['median_ms']:>7.0f} {v['median_ms'] / click:>6.2f}x click"
                  f"   (others {v['others_cores']:.2f} cores{paired})")
    print("\n=== targets ===")
    for v in results["targets"]:
        print(f"  {'PASS' if v['pass'] else 'FAIL'}  {v['target']} [{v['at']}]: {v['measured']} (target {v['target_value']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--units", type=int, action="append", help="N units (repeat: --units 137 --units 10000)")
    ap.add_argument("--json", help="write the result here (e.g. bench/results/latest.json)")
    ap.add_argument("--sample", type=int, default=500,
                    help="files per slow alternative (openpyxl, pandas); fast readers use 4x this (default 500)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for filling and 2-process floors")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--startup-runs", type=int, default=21, help="rounds of the startup commands (default 21)")
    ap.add_argument("--merge-runs", type=int, default=3, help="end-to-end merges per N; the median is reported (default 3)")
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile read_source, build_form and build_summary; -X importtime of an empty merge "
                         "(text next to --json)")
    ap.add_argument("--workdir", help="scratch folder (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--old-tree", metavar="DIR",
                    help="also merge the same returns with the code in DIR (its own DIR/.venv), for a before/after")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each timed step wait up to SECONDS for other programs to use < 0.35 cores")
    args = ap.parse_args()
    units = args.units or [137]
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="xlsx-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    global PYCACHE, QUIET_WAIT
    PYCACHE = work / "pycache"
    QUIET_WAIT = args.wait_quiet

    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    def git(*a):
        r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    changed = git("status", "--porcelain", "--", "xlsx_tool")
    results = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "library": {"commit": git("rev-parse", "--short", "HEAD"),
                    "uncommitted_changes": changed.splitlines() if changed else []},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_at_start": os.getloadavg()},
        "versions": {p: version(p) for p in ("XlsxWriter", "openpyxl", "pandas", "python-calamine", "click", "PyYAML")},
        "settings": {"units": units, "sample": args.sample, "workers": args.workers, "seed": args.seed},
        "n": {},
    }
    try:
        if not args.no_startup:
            log("startup")
            results["startup"] = bench_startup(work, args.startup_runs)
        for n in units:
            results["n"][str(n)] = bench_n(n, args, work)
            if args.json:  # partial results survive a later failure
                Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        results["targets"] = verdicts(results)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    lib = results["library"]
    print(f"library: commit {lib['commit']}" + (f", {len(lib['uncommitted_changes'])} uncommitted changes under xlsx_tool/"
                                                if lib["uncommitted_changes"] else ""))
    print_report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nresult: {args.json}")


if __name__ == "__main__":
    main()
