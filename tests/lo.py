"""A small harness for driving a real LibreOffice (headless) from the tests.

- `soffice_path()`: the soffice binary; a missing LibreOffice FAILS the test
  (never a skip) and says how to install it.
- `make_profile(dir)`: a fresh user profile whose `registrymodifications.xcu`
  sets OOXMLRecalcMode=0 and ODFRecalcMode=0 ("always recalculate on load").
  LibreOffice 7.4 otherwise keeps the cached values of an xlsx (see
  notes/field-facts.md).  Every call gets its own profile, so two calls never
  hand their work to each other.
- `convert(files, fmt, outdir)`: one soffice start for many files; checks that
  every output exists (soffice exits 0 even when a file could not be loaded).
- `fill_with_uno(jobs)`: runs `lo_uno_fill.py` under Debian's /usr/bin/python3
  (which has `uno`): one soffice session types values into cells as a person
  would, recalculates and stores each workbook as xlsx / xls / ods.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

INSTALL_HINT = ("LibreOffice (headless) is needed for these tests: run `bash .ci/run`, or "
                "`apt-get install -y --no-install-recommends libreoffice-calc-nogui python3-uno`")
UNO_PYTHON = "/usr/bin/python3"
UNO_SCRIPT = Path(__file__).with_name("lo_uno_fill.py")

# --convert-to filters: an explicit filter name per format, so the output type never depends on defaults
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
    "pdf": "pdf:calc_pdf_Export",
}

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class LibreOfficeError(AssertionError):
    """LibreOffice did not do what was asked (a failed conversion, a crashed UNO session, a timeout)."""


def soffice_path() -> str:
    """The soffice executable, or fail the calling test (never skip) with how to install it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        for cand in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice"):
            if os.access(cand, os.X_OK):
                found = cand
                break
    if not found:
        pytest.fail(f"soffice not found. {INSTALL_HINT}", pytrace=False)
    return found


def require_uno() -> str:
    """Debian's python with the `uno` module, or fail with how to install it."""
    if not os.access(UNO_PYTHON, os.X_OK):
        pytest.fail(f"{UNO_PYTHON} not found. {INSTALL_HINT}", pytrace=False)
    r = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.fail(f"{UNO_PYTHON} cannot `import uno` ({r.stderr.strip()[-200:]}). {INSTALL_HINT}", pytrace=False)
    return UNO_PYTHON


def make_profile(base: Path | None = None) -> Path:
    """A new, empty LibreOffice user installation forcing recalculation on load; returns its directory."""
    base = Path(base) if base is not None else Path(tempfile.mkdtemp(prefix="lo-profile-"))
    prof = base / f"lo-profile-{uuid.uuid4().hex[:8]}"
    (prof / "user").mkdir(parents=True)
    (prof / "user" / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
    return prof


def profile_arg(profile: Path) -> str:
    return f"-env:UserInstallation={Path(profile).resolve().as_uri()}"


def _run(cmd: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run in its own process group; on timeout kill the whole group (soffice forks soffice.bin)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, signal.SIGTERM, grace=5)
        out, err = proc.communicate()
        raise LibreOfficeError(f"timed out after {timeout:.0f} s: {' '.join(cmd[:4])} …\n{out[-2000:]}\n{err[-2000:]}")
    finally:
        if proc.poll() is None:
            _kill_group(proc, signal.SIGKILL, grace=0)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen, sig: int, grace: float) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    if grace:
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap_office(pid_file: Path) -> None:
    """Kill the soffice process group the UNO script started, if it is still there (normally it is not)."""
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if b"soffice" in cmdline or b"oosplash" in cmdline:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the pyenv interpreter's paths must not leak into LibreOffice's python
    env.pop("PYTHONHOME", None)
    env.setdefault("SAL_USE_VCLPLUGIN", "svp")
    return env


def convert(files, fmt: str, outdir: Path, timeout: float = 180, profile: Path | None = None) -> list[Path]:
    """Convert many files in ONE soffice start (forced recalculation on load); return the outputs in order.

    Outputs are named like the inputs with the new suffix, so the inputs' stems must be distinct and
    outdir must not be the inputs' folder when the format is unchanged.
    """
    files = [Path(f).resolve() for f in files]
    if not files:
        return []
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    stems = [f.stem for f in files]
    assert len(set(stems)) == len(stems), f"two inputs would write the same output: {stems}"
    outputs = [outdir / f"{f.stem}.{fmt}" for f in files]
    assert not any(o in files for o in outputs), "output would overwrite its input: use another outdir"
    for o in outputs:
        if o.exists():
            o.unlink()
    prof = profile or make_profile(outdir.parent)
    cmd = [soffice_path(), profile_arg(prof), "--headless", "--invisible", "--nologo", "--norestore",
           "--nolockcheck", "--convert-to", FILTERS.get(fmt, fmt), "--outdir", str(outdir), *map(str, files)]
    r = _run(cmd, timeout, _env())
    missing = [o.name for o in outputs if not o.is_file() or o.stat().st_size == 0]
    if r.returncode != 0 or missing:
        raise LibreOfficeError(f"soffice --convert-to {fmt}: exit {r.returncode}, missing outputs {missing}\n"
                               f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    return outputs


def fill_with_uno(jobs: list[dict], timeout: float = 240, profile: Path | None = None, workdir: Path | None = None) -> list[dict]:
    """Type values into workbooks in ONE LibreOffice session, recalculate and store them.

    A job: {"input": path, "outputs": [{"path": p, "format": "xlsx"|"xls"|"ods"}],
            "cells": [{"sheet": name, "cell": "F4", "value": ..., "kind": "text"|"number"|"typed"|"date"}]}
    ("output"/"format" for a single output also work).  kind: "text" = setString (stays text),
    "number" = setValue, "typed" = what a person types (setFormula: "2" becomes a number, "2分" stays
    text), "date" = a typed ISO date that must end up as a date serial.

    Returns the script's per-job report: for each job the cell types/values LibreOffice holds after
    typing and recalculation ({"cells": {"评分细则!F4": ["VALUE", 2.0, "2"], ...}}).
    """
    soffice_path()
    python = require_uno()
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="lo-uno-"))
    workdir.mkdir(parents=True, exist_ok=True)
    norm = []
    for j in jobs:
        outs = j.get("outputs") or [{"path": j["output"], "format": j["format"]}]
        norm.append({"input": str(Path(j["input"]).resolve()),
                     "outputs": [{"path": str(Path(o["path"]).resolve()), "format": o["format"]} for o in outs],
                     "cells": j.get("cells", []),
                     "read_back": j.get("read_back", [])})
        for o in norm[-1]["outputs"]:
            Path(o["path"]).parent.mkdir(parents=True, exist_ok=True)
            if Path(o["path"]).exists():
                Path(o["path"]).unlink()
    jobs_file = workdir / "uno-jobs.json"
    report_file = workdir / "uno-report.json"
    pid_file = workdir / "soffice.pid"
    jobs_file.write_text(json.dumps(norm, ensure_ascii=False), encoding="utf-8")
    prof = profile or make_profile(workdir)
    cmd = [python, str(UNO_SCRIPT), "--soffice", soffice_path(), "--profile", str(prof),
           "--jobs", str(jobs_file), "--report", str(report_file), "--timeout", str(max(30, timeout - 20)),
           "--pidfile", str(pid_file)]
    try:
        r = _run(cmd, timeout, _env())
    finally:
        _reap_office(pid_file)
    if r.returncode != 0 or not report_file.is_file():
        raise LibreOfficeError(f"UNO fill failed (exit {r.returncode})\nstdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    missing = [o["path"] for j in norm for o in j["outputs"] if not Path(o["path"]).is_file()]
    if missing:
        raise LibreOfficeError(f"UNO fill wrote no file for {missing}\n{r.stderr[-3000:]}")
    return report
