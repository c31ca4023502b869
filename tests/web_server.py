"""Helpers for the page's tests: the real `xlsx-tool serve` in a subprocess, Debian's Chromium, raw HTTP.

The server is started as the office starts it (`xlsx-tool serve FOLDER --no-browser --port 0`) and
its address is read from the line it prints; it is stopped with Ctrl-C (SIGINT) and must exit 0.
"""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_\-]+)$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Server:
    def __init__(self, folder: Path, *args: str):
        self.folder = Path(folder)
        exe = Path(sys.executable).with_name("xlsx-tool")
        # no PYTHONUNBUFFERED: the address must reach a pipe by itself (serve flushes it)
        self.proc = subprocess.Popen([str(exe), "serve", str(folder), "--no-browser", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines = []
        for line in self.proc.stdout:  # blocks until the server prints its address (or exits)
            self.lines.append(line.rstrip("\n"))
            m = URL_LINE.match(self.lines[-1])
            if m:
                self.url, self.port, self.token = self.lines[-1], int(m.group(1)), m.group(2)
                break
        else:
            raise AssertionError(f"serve printed no address: {self.lines} {self.proc.stderr.read()}")
        self.base = f"http://127.0.0.1:{self.port}"
        self.cookie = f"xlsx_tool_token_{self.port}={self.token}"

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out + err

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                host: str | None = None, auth: bool = True) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Host": host or f"127.0.0.1:{self.port}"}
        if auth:
            h["Cookie"] = self.cookie
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def csrf(self) -> tuple[str, str]:
        """(header, value) as the page's script sends it, read from the page."""
        status, _, page = self.request("GET", "/")
        assert status == 200
        m = re.search(rb'<meta name="csrf" content="([^"]+)" data-header="([^"]+)">', page)
        return m.group(2).decode(), m.group(1).decode()


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with the file names exactly as given (what a hostile client can send)."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                f"Content-Type: {XLSX_TYPE}\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def office_folder(root: Path) -> Path:
    for sub in ("blank_forms", "collected", "output"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the page's tests: apt-get install -y chromium (Debian's package)")
    return CHROMIUM


def launch(p):
    return p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
