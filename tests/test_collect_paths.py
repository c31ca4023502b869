"""Whatever lies in collected/, each entry ends used or refused with a finding that names it, the
summary is written for the rest, and memory stays bounded whatever sizes the files claim.

Real folders, links, pipes and zips on disk; the merge run as the program (`python -m xlsx_tool`)
where the whole run is what is tested."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
from returns import write_form

from xlsx_tool.judging.merge import COUNTED, REFUSED, merge
from xlsx_tool.outputs.summary import build_summary, to_json

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2017-11-06"
GOOD = ["州纪委监察局", "州委组织部", "州委宣传部", "州委统战部", "州委政法委", "州政府办", "州发改委", "州人社局",
        "州经信委", "州国土资源局", "州委办", "州教育和体育局", "州科技局", "州民政局", "州财政局", "州住建局",
        "州交通运输局", "州农业委", "州林业局", "州水利局"]


def records(result, name):
    return [f for f in result.files if f.name == name]


def the_finding(result, name):
    [rec] = records(result, name)
    assert len(rec.findings) == 1, rec.findings
    return rec, rec.findings[0]


def survives_output(result) -> None:
    """The summary and the JSON can be written: no text in them that an output cannot hold."""
    openpyxl.load_workbook(io.BytesIO(build_summary(result)))
    json.dumps(to_json(result), ensure_ascii=False).encode("utf-8")


def test_links_in_a_circle_and_pipes_are_refused_by_name(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    write_form(folder, "州财政局.xlsx", plan, "州财政局")
    os.symlink("环2", folder / "环1")
    os.symlink("环1", folder / "环2")
    os.symlink("自己", folder / "自己")
    os.mkfifo(folder / "管道.xlsx")
    result = merge(plan, folder, today=None)
    for name in ("环1", "环2", "自己"):
        rec, f = the_finding(result, name)
        assert rec.status == REFUSED and f.code == "file-unreadable" and "循环链接" in f.message
    rec, f = the_finding(result, "管道.xlsx")
    assert rec.status == REFUSED and f.code == "file-unsupported" and "不是普通文件" in f.message
    [good] = records(result, "州财政局.xlsx")
    assert good.status == COUNTED
    survives_output(result)


def test_a_name_that_is_not_utf8_is_shown_with_replacement_characters_and_read(plan, tmp_path):
    folder = tmp_path / "collected"
    folder.mkdir()
    src = write_form(tmp_path, "x.xlsx", plan, "州财政局")
    raw = os.fsencode(folder) + b"/" + "州财政局评分表.xlsx".encode("gbk")  # as copied from a Chinese Windows disk
    with open(raw, "wb") as f:
        f.write(src.read_bytes())
    result = merge(plan, folder)
    [rec] = result.files
    assert rec.status == COUNTED and rec.unit == "州财政局"
    assert "\ufffd" in rec.name and rec.name.endswith(".xlsx")
    survives_output(result)


def test_a_folder_that_cannot_be_opened_is_a_finding(plan, tmp_path):
    """A path longer than the system allows (PATH_MAX): the walk cannot open the folder at its end.
    (Permissions cannot be tested here: the tests run as root, who may open anything.)"""
    folder = tmp_path / "collected"
    folder.mkdir()
    write_form(folder, "州财政局.xlsx", plan, "州财政局")
    fd = os.open(folder, os.O_RDONLY)
    depth = 0
    try:
        while depth * 181 < 4400:  # past PATH_MAX (4096), built relative to each level's descriptor
            os.mkdir("深" * 60, dir_fd=fd)
            nxt = os.open("深" * 60, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = nxt, depth + 1
        with open(os.open("州民政局.xlsx", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "wb") as f:
            f.write(b"x")
    finally:
        os.close(fd)
    result = merge(plan, folder)
    refused = [f for f in result.files if f.status == REFUSED]
    assert refused, [f.name for f in result.files]
    for rec in refused:
        assert rec.findings[0].code == "file-unreadable" and rec.name.startswith("深"), rec
    assert {f.status for f in result.files if f.name == "州财政局.xlsx"} == {COUNTED}
    survives_output(result)
    subprocess.run(["rm", "-rf", str(folder)], check=False)  # shutil cannot remove what it cannot name


# --------------------------------------------------------------------------- memory


def _zip(path: Path, members: list[tuple[str, bytes, int]], claim: dict[str, int]) -> None:
    """Write a zip to `path`; each member is (name, chunk, times): the chunk written that many times,
    streamed, so that a 400 MB member never sits in this process's memory (its children would inherit
    the peak).  `claim` sets a member's uncompressed size, in its local header and in the central
    directory alike, as a crafted file would."""
    with zipfile.ZipFile(path, "w") as z:
        for name, chunk, times in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            with z.open(info, "w") as f:
                for _ in range(times):
                    f.write(chunk)
    data = bytearray(path.read_bytes())
    infos = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()}
    for name, size in claim.items():
        struct.pack_into("<I", data, infos[name].header_offset + 22, size)
        p = data.rfind(b"PK\x05\x06")
        count, _size, offset = struct.unpack_from("<HII", data, p + 10)
        for _ in range(count):
            n, e, c = struct.unpack_from("<HHH", data, offset + 28)
            if data[offset + 46:offset + 46 + n].decode() == name:
                struct.pack_into("<I", data, offset + 24, size)
            offset += 46 + n + e + c
    path.write_bytes(bytes(data))


MB = 1 << 20
ZEROS = b"\0" * MB


def test_lying_sizes_and_bombs_cannot_take_the_memory(plan, tmp_path):
    """20 good returns beside an e-mailed .zip whose member claims 1 KB but inflates to 400 MB, one
    that claims 2 GB, an .ods whose content.xml lies alike, and a zip bomb: the merge finishes under a
    1.5 GB address-space limit, with a finding for each bad file, in less than 300 MB."""
    prlimit = shutil.which("prlimit")
    assert prlimit, "prlimit (util-linux) is needed"
    folder = tmp_path / "collected"
    folder.mkdir()
    for unit in GOOD:
        write_form(folder, f"{unit}.xlsx", plan, unit)
    _zip(folder / "少报大小.zip", [("州商务局.xlsx", ZEROS, 400)], {"州商务局.xlsx": 1024})
    _zip(folder / "多报大小.zip", [("州审计局.xlsx", b"\0" * 1000, 1)], {"州审计局.xlsx": 2_000_000_000})
    _zip(folder / "少报大小.ods", [("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", 1),
                                   ("content.xml", b" " * MB, 400)], {"content.xml": 4096})  # never well-formed: no matter
    _zip(folder / "炸弹.zip", [("州环保局.xlsx", ZEROS, 400)], {})  # honest about its 400 MB, just huge
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the merge reports its own peak (and its workers'), measured by the kernel, on its last line of stderr
    # (VmHWM, not ru_maxrss: the latter keeps the peak of the test process this one was forked from)
    measured = ("import re, resource, runpy, sys\n"
                "try:\n    runpy.run_module('xlsx_tool', run_name='__main__')\n"
                "finally:\n"
                "    own = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
                "    print(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), file=sys.stderr)\n")
    run = subprocess.run([prlimit, "--as=1500000000", sys.executable, "-c", measured, "merge", str(folder),
                          "--out", str(tmp_path / "out"), "--json", "--date", TODAY],
                         capture_output=True, text=True, timeout=600, env=env)
    peak_kb = int(run.stderr.strip().splitlines()[-1])
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    result = json.loads(run.stdout)
    files = {f["file"]: f for f in result["files"]}
    assert sum(f["status"] == COUNTED for f in files.values()) == len(GOOD)
    for name in ("少报大小.zip/州商务局.xlsx", "多报大小.zip", "少报大小.ods", "炸弹.zip"):
        assert files[name]["status"] == REFUSED, (name, files.get(name))
    assert (tmp_path / "out" / "评分汇总表.xlsx").is_file()
    assert peak_kb < 300 * 1024, f"peak {peak_kb / 1024:.0f} MB"


def test_merging_the_current_folder_does_not_read_its_own_output(plan, tmp_path):
    """`xlsx-tool merge .` writes output/ inside the folder it reads: a second run must not take last
    run's summary or correction lists for returns; and --json keeps standard output to the JSON alone."""
    write_form(tmp_path, "州财政局.xlsx", plan, "州财政局")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "xlsx_tool", "merge", ".", "--json", "--date", TODAY]
    for _ in range(2):
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert run.returncode in (0, 1), run.stderr
        result = json.loads(run.stdout)  # JSON alone on stdout
        assert [f["file"] for f in result["files"]] == ["州财政局.xlsx"]
    assert (tmp_path / "output" / "评分汇总表.xlsx").is_file()


def test_a_threaded_program_reads_on_a_pool_without_forking_itself(plan, tmp_path, monkeypatch):
    """The page's server has threads: forking it is unsafe, so the pool starts fresh workers there
    (forkserver), and they give what one process gives."""
    import threading

    import xlsx_tool.judging.merge as M

    for unit in GOOD[:12]:
        write_form(tmp_path / "c", f"{unit}.xlsx", plan, unit)
    monkeypatch.setattr(M, "PARALLEL_FROM", 4)
    got = {}
    worker = threading.Thread(target=lambda: got.setdefault("r", merge(plan, tmp_path / "c", workers=2)))
    worker.start()
    worker.join()
    alone = merge(plan, tmp_path / "c", workers=1)
    assert [(r.unit.name, r.scored.score) for r in got["r"].ranking] == [(r.unit.name, r.scored.score) for r in alone.ranking]
    assert got["r"].received == 12
