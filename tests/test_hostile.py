"""Hostile and broken returns (issue 4): every bad input meets a clear Chinese message, nothing is lost.

The corpus is made by code (tests/hostile.py).  Each case is merged together with a
baseline of valid returns; the baseline units' results must be exactly as without it, the
bad file must be in 文件清单 and 问题清单 with the status and finding code it deserves, and
a refused file's reason must be Chinese and tell the office what to do.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/hostile.py, however pytest imports this file
import hostile as H  # noqa: E402
from xlsx_tool.reading.workbook import Limits  # noqa: E402
from xlsx_tool.judging.merge import merge  # noqa: E402
from xlsx_tool.outputs.summary import SUMMARY_FILE, build_summary, to_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2017, 11, 6)

# Cases whose files make a reader that scans ahead for each closing tag do quadratic work:
# they are run in a subprocess with a time-out (see test_unclosed_tags_finish), never in-process.
QUADRATIC = {"case_unclosed_rows", "case_unclosed_strings"}
CASES = [c for c in H.CASES if c.__name__ not in QUADRATIC]

# Words allowed in a Chinese message: product and format names.
ALLOWED_WORDS = {"excel", "wps", "xlsx", "xlsm", "xls", "ods", "zip", "xml", "dtd", "word", "opendocument", "et",
                 "ett", "sha", "mb", "kb", "gb", "csv", "macos", "windows", "vba"}


# --------------------------------------------------------------------------- helpers


def run_cli(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("XLSX_TOOL_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "xlsx_tool", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def english_words(text: str) -> list[str]:
    """ASCII words in a message that are not file or format names, paths, or command options."""
    text = re.sub(r"--[a-z][a-z-]*", " ", text)
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    text = re.sub(r"[\w.()（）~$=+-]*\.(xlsx|xlsm|xls|ods|zip|et|ett|db|ini)\b", " ", text, flags=re.I)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in ALLOWED_WORDS]


def has_chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def unit_snapshot(result, names: list[str]) -> dict:
    """What the merge says about each of these files and their units: status, findings, score, ranks."""
    rows = {r.file: r for r in result.ranking}
    out = {}
    for rec in result.files:
        if rec.name not in names:
            continue
        row = rows.get(rec.name)
        out[rec.name] = {
            "status": rec.status, "reason": rec.reason, "unit": rec.unit, "summary": rec.summary, "sha256": rec.sha256,
            "findings": sorted((f.code, f.message, f.cell) for f in rec.findings),
            "score": str(rec.scored.score) if rec.scored else None,
            "items": [(i.seq, str(i.deduction), str(i.score), i.reason, i.highlight) for i in rec.scored.items]
            if rec.scored else None,
            "rank": row.rank if row else None, "rank_all": row.rank_all if row else None,
        }
    return out


def json_snapshot(data: dict, names: list[str]) -> dict:
    units = {u["file"]: u for u in data["units"] if u["file"] in names}
    files = {f["file"]: {k: f[k] for k in ("status", "reason", "unit", "summary", "sha256")}
             for f in data["files"] if f["file"] in names}
    findings = sorted((f["code"], f["message"], f["file"], f["cell"]) for f in data["findings"] if f["file"] in names
                      and f["code"] != "unit-duplicate")
    return {"units": units, "files": files, "findings": findings}


def codes_for(result, name: str) -> set[str]:
    rec = next(r for r in result.files if r.name == name)
    return {f.code for f in rec.findings} | {f.code for f in result.findings if f.file == name}


def check_case(case: H.Case, result) -> list[str]:
    """Everything wrong with how the merge treated this case's files (empty: all right)."""
    problems = []
    by_name = {r.name: r for r in result.files}
    for name, want in case.files.items():
        rec = by_name.get(name)
        if rec is None:
            problems.append(f"{name}: not in the file list at all (files: {sorted(by_name)})")
            continue
        if not want.allows(rec.status):
            problems.append(f"{name}: status {rec.status!r}, expected {want.status!r} ({rec.reason})")
        if want.code and want.code not in codes_for(result, name):
            problems.append(f"{name}: no finding {want.code!r} (has {sorted(codes_for(result, name))})")
        if want.unit and rec.unit != want.unit:
            problems.append(f"{name}: matched to {rec.unit!r}, expected {want.unit!r}")
        if want.score is not None and rec.status == H.COUNTED and (rec.scored is None or rec.scored.score != want.score):
            problems.append(f"{name}: score {rec.scored.score if rec.scored else None}, expected {want.score}")
        for f in rec.findings:
            if "意外错误" in f.message:
                problems.append(f"{name}: the reader crashed: {f.message}")
        if rec.status == H.REFUSED:
            refusal = next((f for f in rec.findings if f.severity == "错误"), None)
            if refusal is None:
                problems.append(f"{name}: refused without an error finding")
                continue
            if not has_chinese(rec.reason):
                problems.append(f"{name}: reason not in Chinese: {rec.reason}")
            words = english_words(rec.reason)
            if words:
                problems.append(f"{name}: English in the reason {words}: {rec.reason}")
            if "请" not in rec.reason and not getattr(refusal, "expected", ""):
                problems.append(f"{name}: the reason does not tell the office what to do: {rec.reason}")
    return problems


# --------------------------------------------------------------------------- the baseline


@pytest.fixture(scope="module")
def baseline(plan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline") / "collected"
    names = H.build_baseline(folder, plan, mtime=dt.datetime(2017, 10, 26, 10, 0).timestamp())
    result = merge(plan, folder, workers=1, today=TODAY)
    assert all(r.status == H.COUNTED for r in result.files), [(r.name, r.status, r.reason) for r in result.files]
    assert not [f for f in result.findings if f.severity == "错误"]
    assert len(result.ranking) == len(H.BASELINE)
    return folder, names, unit_snapshot(result, names)


def test_baseline_scores_leave_room_below(baseline, plan):
    """Counted hostile forms score below every baseline form, so they cannot move a baseline rank."""
    _folder, _names, snap = baseline
    assert min(float(s["score"]) for s in snap.values()) > H.LOW_SCORE
    baseline_summaries = {plan.unit(u).summary for u in H.BASELINE}
    assert not baseline_summaries & {plan.unit(u).summary for u in H.HOSTILE_UNITS}


# --------------------------------------------------------------------------- one case at a time


@pytest.mark.parametrize("make", CASES, ids=[c.__name__[5:] for c in CASES])
def test_case_alone(make, plan, baseline, tmp_path):
    folder0, names, before = baseline
    folder = tmp_path / "collected"
    H.copy_tree(folder0, folder)
    case = make(folder, plan)
    result = merge(plan, folder, workers=1, today=TODAY)

    assert check_case(case, result) == []
    assert unit_snapshot(result, names) == before, "a bad file changed another file's result"
    # every file in the folder is accounted for, the bad ones included
    assert {r.name for r in result.files} >= set(case.files) | set(names)
    # the summary can be written
    assert build_summary(result)[:2] == b"PK"


# --------------------------------------------------------------------------- all at once, through the command line


@pytest.fixture(scope="module")
def all_cases(plan, baseline, tmp_path_factory):
    folder0, names, _ = baseline
    work = tmp_path_factory.mktemp("all")
    folder = work / "collected"
    H.copy_tree(folder0, folder)
    cases = H.build_corpus(folder, plan, CASES)
    ref = run_cli("merge", folder0, "--out", work / "ref", "--json", "--date", TODAY, cwd=work)
    run = run_cli("merge", folder, "--out", work / "out", "--json", "--date", TODAY, cwd=work)
    return work, folder, cases, names, ref, run


def test_all_cases_exit_code_and_no_traceback(all_cases):
    _work, _folder, _cases, _names, ref, run = all_cases
    assert ref.returncode == 0, ref.stderr
    assert run.returncode == 1, run.stderr  # done, errors found in the inputs
    for out in (run.stdout, run.stderr):
        assert "Traceback" not in out
        assert "程序内部错误" not in out
    assert "汇总表" in run.stderr


def test_all_cases_baseline_unchanged(all_cases):
    _work, _folder, _cases, names, ref, run = all_cases
    assert json_snapshot(json.loads(run.stdout), names) == json_snapshot(json.loads(ref.stdout), names)


def test_all_cases_statuses_in_json(all_cases):
    _work, _folder, cases, _names, _ref, run = all_cases
    files = {f["file"]: f for f in json.loads(run.stdout)["files"]}
    wrong = []
    for case in cases:
        for name, want in case.files.items():
            if name not in files:
                wrong.append(f"{case.name}: {name} missing")
            elif not want.allows(files[name]["status"]):
                wrong.append(f"{case.name}: {name} is {files[name]['status']}, expected {want.status}")
    assert wrong == []


def _table(ws, *headers: str) -> list[dict]:
    """Rows of a titled table in an output sheet, as dicts keyed by the given headers."""
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if all(h in row for h in headers):
            cols = {h: row.index(h) for h in headers}
            return [{h: r[c] for h, c in cols.items()} for r in rows[i + 1:] if any(v is not None for v in r)]
    raise AssertionError(f"no header row with {headers} in {ws.title}")


def test_all_cases_in_file_list_and_problem_list(all_cases):
    work, _folder, cases, _names, _ref, _run = all_cases
    wb = openpyxl.load_workbook(work / "out" / SUMMARY_FILE)
    listed = {r["文件"]: r["状态"] for r in _table(wb["文件清单"], "文件", "状态")}
    problems = _table(wb["问题清单"], "文件", "问题说明", "代码")
    missing = []
    for case in cases:
        for name, want in case.files.items():
            if name not in listed:
                missing.append(f"文件清单 lacks {name}")
            elif not want.allows(listed[name]):
                missing.append(f"文件清单: {name} is {listed[name]}, expected {want.status}")
            if want.code:
                if not any(p["文件"] == name and p["代码"] == want.code for p in problems):
                    missing.append(f"问题清单 lacks {want.code} for {name}")
            elif want.status == H.DUPLICATE:
                if not any(name in (p["问题说明"] or "") for p in problems):
                    missing.append(f"问题清单 never names the set-aside {name}")
    assert missing == []


def _output_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


FORMULA_FRAGMENTS = ["cmd", "calc", "HYPERLINK", "1+1", "2+3"]


def test_no_return_text_becomes_a_formula(all_cases):
    """Every text from a return is a string in the output's XML, never a formula (issue 4.4)."""
    work, _folder, _cases, _names, _ref, _run = all_cases
    parts = _output_parts(work / "out" / SUMMARY_FILE)
    formulas = [(n, m) for n, x in parts.items() if n.startswith("xl/worksheets/")
                for m in re.findall(r"<f\b[^>]*>(.*?)</f>", x, re.S)]
    bad = [(n, f) for n, f in formulas if any(frag.lower() in f.lower() for frag in FORMULA_FRAGMENTS)]
    assert bad == []
    # ... and they are there, as text
    strings = parts.get("xl/sharedStrings.xml", "") + "".join(x for n, x in parts.items() if n.startswith("xl/worksheets/"))
    for t in ("=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", H.FORMULA_FILE):
        assert t.replace("'", "&apos;") in strings or t in strings, t
    # no defined name or data validation smuggles one in either
    wbxml = parts["xl/workbook.xml"]
    assert "cmd|" not in wbxml


def test_formula_texts_read_back_as_text(all_cases):
    work, _folder, _cases, _names, _ref, _run = all_cases
    wb = openpyxl.load_workbook(work / "out" / SUMMARY_FILE)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and ("cmd|" in c.value or "1+1" in c.value):
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)


def test_long_text_loses_nothing(all_cases, plan):
    """A 32,767-character reason and highlight: the summary stays within Excel's cell limit and every
    deducted item still shows in the unit's 扣分情况 (a cut must not swallow the other items)."""
    work, _folder, _cases, _names, _ref, run = all_cases
    unit = H.HOSTILE_UNITS[17]
    data = json.loads(run.stdout)
    u = next(x for x in data["units"] if x["unit"] == unit)
    assert {i["seq"] for i in u["items"] if i["deduction"]} == set(H.LOW_DEDUCTIONS)
    wb = openpyxl.load_workbook(work / "out" / SUMMARY_FILE)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not isinstance(c.value, str) or len(c.value) <= 32767, (ws.title, c.coordinate)
    ws = wb[plan.unit(unit).summary[:31]]
    rows = _table(ws, "被核查单位", "扣分情况")
    cell = next(r["扣分情况"] for r in rows if r["被核查单位"] == unit)
    for seq in H.LOW_DEDUCTIONS:
        assert f"第{seq}项" in cell, f"item {seq}'s deduction is cut from 附件3 ({len(cell)} characters)"


def test_refused_reasons_in_json_are_chinese(all_cases):
    _work, _folder, cases, _names, _ref, run = all_cases
    files = {f["file"]: f for f in json.loads(run.stdout)["files"]}
    bad = [(n, files[n]["reason"]) for c in cases for n in c.files
           if n in files and files[n]["status"] == H.REFUSED and (not has_chinese(files[n]["reason"])
                                                                 or english_words(files[n]["reason"]))]
    assert bad == []


# --------------------------------------------------------------------------- termination


def test_unclosed_tags_finish(plan, baseline, tmp_path):
    """A few KB on disk, 200,000 tags that never close: the merge must finish (in seconds; the time-out
    here is 40 times what a linear reader needs) and leave the baseline as it was."""
    folder0, names, _ = baseline
    folder = tmp_path / "collected"
    H.copy_tree(folder0, folder)
    cases = [H.case_unclosed_rows(folder, plan), H.case_unclosed_strings(folder, plan)]
    ref = run_cli("merge", folder0, "--out", tmp_path / "ref", "--json", "--date", TODAY, cwd=tmp_path)
    try:
        run = run_cli("merge", folder, "--out", tmp_path / "out", "--json", "--date", TODAY, cwd=tmp_path, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the merge did not finish within 30 s on 2 files of ~20 KB with unclosed <row>/<si> tags: "
                    "the reader must take linear time on malformed parts (a regular-expression reader once took hours)")
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    data = json.loads(run.stdout)
    files = {f["file"]: f["status"] for f in data["files"]}
    for case in cases:
        for name, want in case.files.items():
            assert want.allows(files[name])
    assert json_snapshot(data, names) == json_snapshot(json.loads(ref.stdout), names)


# --------------------------------------------------------------------------- entities


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        body = b"<!ENTITY leaked 'LEAKED'>" if self.path.endswith(".dtd") else b"LEAKED-BY-HTTP"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_entities_expand_nothing_and_fetch_nothing(plan, baseline, tmp_path):
    folder0, names, before = baseline
    folder = tmp_path / "collected"
    H.copy_tree(folder0, folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x"
        assert urllib.request.urlopen(url + "-selftest", timeout=10).read() == b"LEAKED-BY-HTTP"  # the trap works
        _Recorder.hits.clear()
        secret = tmp_path / "secret.txt"
        secret.write_text("SECRET-FROM-DISK\n")
        H._write(folder, "外部实体-http.xlsx", H.xxe_bytes(plan, H.HOSTILE_UNITS[7], url))
        H._write(folder, "外部实体-http-padded.xlsx", H.xxe_bytes(plan, H.HOSTILE_UNITS[8], url, pad=5000))
        H._write(folder, "外部实体-file.xlsx", H.xxe_bytes(plan, H.HOSTILE_UNITS[9], secret.as_uri()))
        H._write(folder, "外部实体-file-padded.xlsx", H.xxe_bytes(plan, H.HOSTILE_UNITS[10], secret.as_uri(), pad=5000))
        H.case_billion_laughs(folder, plan)
        result = merge(plan, folder, workers=1, today=TODAY)
        summary = build_summary(result)
        text = json.dumps(to_json(result), ensure_ascii=False)
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    assert "SECRET-FROM-DISK" not in text and "LEAKED" not in text
    assert "lollol" not in text
    parts = "".join(_output_parts_bytes(summary).values())
    assert "SECRET-FROM-DISK" not in parts and "LEAKED" not in parts and "lollol" not in parts
    assert unit_snapshot(result, names) == before
    # a part that declares a DTD is refused, wherever in its prolog the DTD sits
    status = {r.name: r.status for r in result.files}
    for name in ("外部实体-http.xlsx", "外部实体-http-padded.xlsx", "外部实体-file.xlsx", "外部实体-file-padded.xlsx"):
        assert status[name] == H.REFUSED, (name, status[name])


def _output_parts_bytes(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


# --------------------------------------------------------------------------- limits


def test_default_limits_are_far_above_a_real_form(plan):
    form = H.low_form(plan, H.HOSTILE_UNITS[0])
    with zipfile.ZipFile(io.BytesIO(form)) as z:
        unzipped = sum(i.file_size for i in z.infolist())
    limits = Limits()
    assert limits.max_file_bytes >= 100 * len(form)
    assert limits.max_unzipped_bytes >= 100 * unzipped
    assert limits.max_cells >= 100 * 7 * 60  # a form has a few hundred cells


def _padded(plan, unit: str, *, stored: int = 0, spaces: int = 0) -> bytes:
    """A valid form plus an incompressible extra part (file size) or trailing spaces in its sheet (unzipped size)."""
    data = H.low_form(plan, unit)
    if spaces:
        data = H.rezip(data, H._part("", H.SHEET1, lambda b: b.replace(b"</sheetData>", b"</sheetData>" + b" " * spaces)))
    if stored:
        data = H.rezip(data, add={"docProps/thumbnail.bin": os.urandom(stored)})
    return data


def test_limits_can_be_changed_from_the_command_line(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    big_file, big_unzipped, many_cells = "大文件.xlsx", "解压后大.xlsx", "单元格多.xlsx"
    (folder / big_file).write_bytes(_padded(plan, H.HOSTILE_UNITS[0], stored=int(1.5 * H.MB)))
    (folder / big_unzipped).write_bytes(_padded(plan, H.HOSTILE_UNITS[1], spaces=8 * H.MB))
    (folder / many_cells).write_bytes(H.cells_bomb(plan, H.HOSTILE_UNITS[2], cells=250_000))

    default = run_cli("merge", folder, "--out", tmp_path / "a", "--json", "--date", TODAY, cwd=tmp_path)
    changed = run_cli("merge", folder, "--out", tmp_path / "b", "--json", "--date", TODAY, "--max-file-mb", 1,
                      "--max-unzipped-mb", 6, "--max-cells", 300_000, cwd=tmp_path)
    for run in (default, changed):
        assert run.returncode in (0, 1), run.stderr
        assert "Traceback" not in run.stderr
    a = {f["file"]: f for f in json.loads(default.stdout)["files"]}
    b = {f["file"]: f for f in json.loads(changed.stdout)["files"]}
    assert [a[n]["status"] for n in (big_file, big_unzipped, many_cells)] == [H.COUNTED, H.COUNTED, H.REFUSED]
    assert [b[n]["status"] for n in (big_file, big_unzipped, many_cells)] == [H.REFUSED, H.REFUSED, H.COUNTED]
    # each refusal names the option that lifts it
    assert "--max-file-mb" in b[big_file]["reason"]
    assert "--max-unzipped-mb" in b[big_unzipped]["reason"]
    assert "--max-cells" in a[many_cells]["reason"], a[many_cells]["reason"]


def test_cell_limit_in_library(plan):
    """Limits(max_cells) bounds the cells a sheet spans (the rectangle a reader lays out)."""
    from xlsx_tool.reading.workbook import BookError, open_book
    from xlsx_tool.reading.form import read_form

    form = H.low_form(plan, H.HOSTILE_UNITS[0])
    read_form(open_book(form, ".xlsx", Limits()))
    with pytest.raises(BookError) as e:
        read_form(open_book(form, ".xlsx", Limits(max_cells=50)))
    assert e.value.code == "file-too-large"
