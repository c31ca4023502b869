"""The merge never writes into collected/, replaces its outputs atomically, and fails politely (issue 4.6).

* collected/: every entry's bytes, mode and times are the same before and after merges over
  the whole hostile corpus;
* a merge killed with SIGKILL before it writes, while the new summary is a temporary file, and
  right after the replacement leaves the previous (or the complete new) 评分汇总表.xlsx, readable,
  and nothing that looks like a summary beside it;
* an output that cannot be replaced (a file held open by Excel on Windows; here a file made
  immutable, a folder in its place, a file in place of the output folder) ends with exit code 3,
  a Chinese message, no traceback, and the previous summary untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/hostile.py, however pytest imports this file
import hostile as H  # noqa: E402
from xlsx_tool.judging.merge import merge  # noqa: E402
from xlsx_tool.outputs.summary import SUMMARY_FILE, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2017-11-06"
QUADRATIC = {"case_unclosed_rows", "case_unclosed_strings"}  # see test_hostile.test_unclosed_tags_finish


def cli(*args, cwd: Path, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("XLSX_TOOL_DEBUG", None)
    return [sys.executable, "-m", "xlsx_tool", *map(str, args)], dict(cwd=cwd, env=env, **kw)


def run_cli(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd, kw = cli(*args, cwd=cwd)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def tree_state(root: Path) -> dict[str, tuple]:
    """Every entry under root (not following links): kind, mode, size, mtime and content hash or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if p.is_symlink():
                what = ("link", os.readlink(p))
            elif p.is_dir():
                what = ("dir",)
            else:
                what = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            out[p.relative_to(root).as_posix()] = (*what, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    st = root.lstat()
    out["."] = ("dir", st.st_mode, st.st_mtime_ns, st.st_ctime_ns)
    return out


def english_words(text: str) -> list[str]:
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    text = re.sub(r"--?[a-zA-Z][a-zA-Z-]*", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text)
            if w.lower() not in {"excel", "wps", "xlsx", "xlsm", "xls", "ods", "zip", "xlsx_tool_debug"}]


def check_polite_failure(run: subprocess.CompletedProcess, codes=(3,)) -> None:
    assert run.returncode in codes, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert "程序内部错误" not in run.stderr
    message = run.stderr.strip()
    if message.startswith("用法："):  # a usage error: the usage line, then the message
        message = message.split("\n", 1)[1].strip()
    assert message.startswith("错误："), message
    assert "无法写入" in message or run.returncode == 2, message
    assert english_words(message) == [], f"English in the message: {message}"


# --------------------------------------------------------------------------- collected/ is read-only to us


def test_collected_is_never_written(plan, tmp_path):
    collected = tmp_path / "collected"
    H.build_baseline(collected, plan)
    cases = H.build_corpus(collected, plan, [c for c in H.CASES if c.__name__ not in QUADRATIC])
    outside = [p for c in cases for p in c.made if not p.is_relative_to(collected)]
    before, before_outside = tree_state(collected), {p: hashlib.sha256(p.read_bytes()).digest() for p in outside}

    run = run_cli("merge", collected, "--out", tmp_path / "out", "--json", "--date", TODAY, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    # the library too, and a second run over the same folder
    result = merge(plan, collected, workers=2, today=dt.date(2017, 11, 6))
    write_summary(result, tmp_path / "out2.xlsx")
    run2 = run_cli("merge", "collected", "--date", TODAY, cwd=tmp_path)  # default --out output/
    assert run2.returncode == 1, run2.stderr

    assert tree_state(collected) == before
    assert {p: hashlib.sha256(p.read_bytes()).digest() for p in outside} == before_outside
    assert (tmp_path / "output" / SUMMARY_FILE).is_file()


# --------------------------------------------------------------------------- killed midway


def _big_folder(plan, folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    forms = [H.low_form(plan, u) for u in H.HOSTILE_UNITS[:10]]
    for i in range(n):
        (folder / f"返回{i:05d}.xlsx").write_bytes(forms[i % len(forms)])


TEMP_PREFIXES = (".~tmp-", ".xlsx-tool-")


def temporaries(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.name.startswith(TEMP_PREFIXES))


def _summary_rows(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in wb["文件清单"].iter_rows())
    finally:
        wb.close()


def _assert_old_or_new_summary(out: Path, previous: bytes, new_rows: int, allowed: set[str]) -> None:
    """After a kill: the summary is the previous one, byte for byte, or the complete new one; never half;
    and nothing beside it that could be taken for a summary."""
    target = out / SUMMARY_FILE
    data = target.read_bytes()
    if data != previous:
        assert _summary_rows(target) == new_rows, "a half-written summary"
    else:
        _summary_rows(target)  # readable
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible <= allowed, visible - allowed
    strays = [p.name for p in out.iterdir() if p.name != SUMMARY_FILE and p.suffix.lower() == ".xlsx"]
    assert strays == []


def _summary_id(target: Path):
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _merge_killed_when(big: Path, out: Path, cwd: Path, moment) -> int | None:
    """Start a merge of `big` into `out` and SIGKILL it (and any process it started) the moment
    `moment()` is true, polling the output folder; returns its exit code if it ended first, None if
    killed.  The kill point is a state of the folder, never a fraction of a measured time."""
    cmd, kw = cli("merge", big, "--out", out, "--date", TODAY, cwd=cwd)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, **kw)
    try:
        while proc.poll() is None:
            if moment():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return None
            time.sleep(0.0005)  # a poll, not a deadline: the loop waits for a state, however long it takes
        return proc.returncode
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_killed_merge_leaves_previous_summary(plan, tmp_path):
    small, big, out, probe = tmp_path / "small", tmp_path / "big", tmp_path / "out", tmp_path / "probe"
    H.build_baseline(small, plan)
    _big_folder(plan, big, 1200)
    first = run_cli("merge", small, "--out", out, "--date", TODAY, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    previous = first_summary = (out / SUMMARY_FILE).read_bytes()
    # what a whole merge of the big folder writes: its summary's rows and the entries beside it
    full = run_cli("merge", big, "--out", probe, "--date", TODAY, cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    new_rows = _summary_rows(probe / SUMMARY_FILE)
    allowed = {p.name for p in probe.iterdir()} | {p.name for p in out.iterdir()}
    target = out / SUMMARY_FILE

    # 1. before anything is written: killed as soon as it runs
    assert _merge_killed_when(big, out, tmp_path, lambda: True) is None
    assert target.read_bytes() == previous
    _assert_old_or_new_summary(out, previous, new_rows, allowed)

    # 2. while the new summary is a temporary file: killed the moment one appears.  The kill lands
    # in that window when the temporary file is still there afterwards (a killed process removes
    # nothing); the poll may see it only after the replacement on a busy machine, so a few tries.
    caught = 0
    for _ in range(5):
        seen = set(temporaries(out))
        code = _merge_killed_when(big, out, tmp_path, lambda: any(
            t not in seen and t.startswith(".~tmp-") for t in temporaries(out)))
        assert code in (None, 0)
        left = [t for t in temporaries(out) if t not in seen and t.startswith(".~tmp-")]
        _assert_old_or_new_summary(out, previous, new_rows, allowed)
        if left:
            caught += 1
            assert target.read_bytes() == previous  # the temporary file never replaced it
            break
        previous = target.read_bytes()
    assert caught, "no kill landed while the new summary was a temporary file"

    # 3. right after the replacement: the new summary is complete
    before = _summary_id(target)
    code = _merge_killed_when(big, out, tmp_path, lambda: _summary_id(target) != before)
    assert code in (None, 0)
    assert _summary_id(target) != before
    assert _summary_rows(target) == new_rows
    _assert_old_or_new_summary(out, target.read_bytes(), new_rows, allowed)

    # a merge left alone replaces the summary
    done = run_cli("merge", big, "--out", out, "--date", TODAY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / SUMMARY_FILE).read_bytes() != first_summary
    assert _summary_rows(out / SUMMARY_FILE) == new_rows


def test_successful_merges_leave_no_temporary_files(plan, tmp_path):
    collected, out = tmp_path / "collected", tmp_path / "out"
    H.build_baseline(collected, plan)
    for _ in range(3):
        run = run_cli("merge", collected, "--out", out, "--date", TODAY, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
    assert (out / SUMMARY_FILE).is_file()
    assert temporaries(out) == []


# --------------------------------------------------------------------------- an output that cannot be written


def _make_immutable(path: Path) -> bool:
    """chattr +i: renaming over the file then fails with EPERM, as replacing a file Excel holds open fails on Windows."""
    if shutil.which("chattr") is None:
        return False
    r = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if r.returncode != 0:
        return False
    probe = path.with_name(".probe")
    probe.write_bytes(b"")
    try:
        os.replace(probe, path)
    except PermissionError:
        return True
    finally:
        probe.unlink(missing_ok=True)
    return False


def _make_mutable(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_summary_held_open(plan, tmp_path):
    """Replacing the summary is refused by the system (Excel has it open): exit 3, a Chinese message telling
    the office to close the file, the previous summary untouched, no temporary file left."""
    collected, out = tmp_path / "collected", tmp_path / "out"
    H.build_baseline(collected, plan)
    first = run_cli("merge", collected, "--out", out, "--date", TODAY, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    target = out / SUMMARY_FILE
    previous = target.read_bytes()
    locked = _make_immutable(target)
    readonly_dir = False
    if not locked:
        if os.geteuid() == 0:
            pytest.fail("cannot simulate a locked summary: `chattr +i` is not available here and root ignores "
                        "a read-only folder")
        out.chmod(0o555)  # a folder we may not write: the same PermissionError
        readonly_dir = True
    try:
        H.case_xlsm_macro(collected, plan)  # something new to write
        run = run_cli("merge", collected, "--out", out, "--date", TODAY, cwd=tmp_path)
    finally:
        if locked:
            _make_mutable(target)
        if readonly_dir:
            out.chmod(0o755)
    check_polite_failure(run)
    assert "Excel" in run.stderr and "关闭" in run.stderr
    assert str(target) in run.stderr or SUMMARY_FILE in run.stderr
    assert target.read_bytes() == previous
    assert temporaries(out) == []


def test_folder_in_place_of_summary(plan, tmp_path):
    collected, out = tmp_path / "collected", tmp_path / "out"
    H.build_baseline(collected, plan)
    (out / SUMMARY_FILE).mkdir(parents=True)
    (out / SUMMARY_FILE / "别人的文件.txt").write_text("不要删除")
    run = run_cli("merge", collected, "--out", out, "--date", TODAY, cwd=tmp_path)
    check_polite_failure(run)
    assert (out / SUMMARY_FILE / "别人的文件.txt").read_text() == "不要删除"
    assert temporaries(out) == []


def test_file_in_place_of_output_folder(plan, tmp_path):
    collected, out = tmp_path / "collected", tmp_path / "out"
    H.build_baseline(collected, plan)
    out.write_text("这是一个文件，不是文件夹")
    run = run_cli("merge", collected, "--out", out, "--date", TODAY, cwd=tmp_path)
    check_polite_failure(run, codes=(2, 3))  # a bad --out (usage) or an output that cannot be written
    assert out.read_text() == "这是一个文件，不是文件夹"
