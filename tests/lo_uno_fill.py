"""Fill workbooks in LibreOffice through UNO, as a person would.  Run by Debian's /usr/bin/python3.

    /usr/bin/python3 lo_uno_fill.py --soffice /usr/bin/soffice --profile DIR --jobs jobs.json --report out.json

Starts ONE soffice listening on a private pipe with its own profile, and for each job: opens the
workbook (hidden), types the values into the cells, calls calculateAll() and stores it in each
requested format.  soffice is terminated at the end, also on errors, timeouts and SIGTERM.
Not a test module (pytest collects only test_*.py); imported by nobody.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

import uno  # noqa: F401  (Debian's python3-uno)
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "xls": "MS Excel 97", "ods": "calc8"}


class Stop(Exception):
    pass


def _on_signal(signum, _frame):
    raise Stop(f"signal {signum}")


def props(**kw):
    out = []
    for k, v in kw.items():
        p = PropertyValue()
        p.Name, p.Value = k, v
        out.append(p)
    return tuple(out)


def describe(cell) -> list:
    """[type, value, string, error] as LibreOffice holds it now."""
    t = cell.getType().value  # EMPTY / VALUE / TEXT / FORMULA
    err = cell.getError()
    return [t, cell.getValue(), cell.getString(), err, cell.getFormula() if t == "FORMULA" else ""]


def start_office(soffice: str, profile: str) -> tuple[subprocess.Popen, str]:
    pipe = f"xlsxtool_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    cmd = [soffice, f"-env:UserInstallation={Path(profile).resolve().as_uri()}", "--headless", "--invisible",
           "--nologo", "--norestore", "--nolockcheck", "--nodefault",
           f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, pipe


def connect(pipe: str, proc: subprocess.Popen, deadline: float):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
    while True:
        try:
            ctx = resolver.resolve(url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError(f"soffice exited with {proc.returncode} before accepting a connection")
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not accept a connection in time")
            time.sleep(0.1)


def stop_office(proc: subprocess.Popen, desktop) -> None:
    if desktop is not None:  # a clean shutdown first
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 — the bridge dies with the office; that is the point
            pass
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    # oosplash forks soffice.bin: make sure the whole group is gone
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def type_into(cell, value, kind: str) -> None:
    if kind == "text":
        cell.setString(str(value))
    elif kind == "number":
        cell.setValue(float(value))
    elif kind in ("typed", "date"):
        # XCell.setFormula with a non-formula string is interpreted as typed input (English locale):
        # "2" -> number 2, "0.5" -> 0.5, "2017-10-23" -> a date, "2分" -> text.
        cell.setFormula(str(value))
    elif kind == "clear":
        cell.setString("")
    else:
        raise ValueError(f"unknown kind {kind!r}")


def run_job(desktop, job: dict) -> dict:
    t0 = time.monotonic()
    url = uno.systemPathToFileUrl(job["input"])
    doc = desktop.loadComponentFromURL(url, "_blank", 0, props(Hidden=True, ReadOnly=False))
    if doc is None:
        raise RuntimeError(f"could not load {job['input']}")
    try:
        t1 = time.monotonic()
        sheets = doc.getSheets()
        seen = {}
        for c in job["cells"]:
            sheet = sheets.getByName(c["sheet"])
            cell = sheet.getCellRangeByName(c["cell"])
            type_into(cell, c["value"], c.get("kind", "typed"))
            if c.get("kind") == "date" and cell.getType().value != "VALUE":
                raise RuntimeError(f"{c['sheet']}!{c['cell']}: typed date {c['value']!r} did not become a date")
        doc.calculateAll()
        for ref in job.get("read_back", []):
            sheet_name, cell_ref = ref.split("!")
            seen[ref] = describe(sheets.getByName(sheet_name).getCellRangeByName(cell_ref))
        for c in job["cells"]:
            ref = f"{c['sheet']}!{c['cell']}"
            seen[ref] = describe(sheets.getByName(c["sheet"]).getCellRangeByName(c["cell"]))
        t2 = time.monotonic()
        for out in job["outputs"]:
            doc.storeToURL(uno.systemPathToFileUrl(out["path"]),
                           props(FilterName=FILTERS[out["format"]], Overwrite=True))
        t3 = time.monotonic()
        return {"input": job["input"], "cells": seen,
                "seconds": {"load": round(t1 - t0, 3), "type": round(t2 - t1, 3), "store": round(t3 - t2, 3)}}
    finally:
        try:
            doc.close(True)
        except Exception:  # noqa: BLE001
            doc.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--soffice", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--timeout", type=float, default=200)
    ap.add_argument("--pidfile", default="")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    signal.alarm(int(a.timeout))
    jobs = json.loads(Path(a.jobs).read_text(encoding="utf-8"))
    proc, pipe = start_office(a.soffice, a.profile)
    if a.pidfile:  # the harness kills this group itself if this script cannot (hung in a UNO call)
        Path(a.pidfile).write_text(str(proc.pid))
    desktop = None
    try:
        t0 = time.monotonic()
        desktop = connect(pipe, proc, time.monotonic() + 60)
        started = time.monotonic() - t0
        report = [run_job(desktop, job) for job in jobs]
        if report:
            report[0]["seconds"]["startup"] = round(started, 3)
        Path(a.report).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
        return 0
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        return 1
    finally:
        signal.alarm(0)
        stop_office(proc, desktop)


if __name__ == "__main__":
    sys.exit(main())
