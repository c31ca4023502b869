"""The page on the office's machine: token, Host, same-origin writes, hostile upload names, size limit, headers.

A real `xlsx-tool serve` in a subprocess, spoken to with raw HTTP (what any program on the machine,
or a page on another site, can send) and, for the cross-site POST, from a real Chromium.
"""

from __future__ import annotations

import http.client
import http.server
import signal
import json
import threading
import time
from pathlib import Path

import pytest

import returns as R
from web_server import Server, launch, multipart, office_folder
from xlsx_tool.reading.limits import Limits


@pytest.fixture()
def served(tmp_path):
    folder = office_folder(tmp_path / "office")
    s = Server(folder, "--date", "2017-11-01")
    yield s
    code, out = s.stop()
    assert code == 0, out
    assert "已停止" in out


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_every_request_needs_the_token(served):
    for path in ("/", "/api/status", "/api/forms", "/static/app.js", "/download/f1/x.xlsx"):
        status, headers, body = served.request("GET", path, auth=False)
        assert status == 401, path
        assert "137" not in body.decode() and "核查组" not in body.decode()  # no data
    status, _, body = served.request("GET", "/api/status", auth=False, headers={"Cookie": f"xlsx_tool_token_{served.port}=wrong"})
    assert status == 403 and b"received" not in body
    status, _, _ = served.request("GET", "/api/status?token=wrong", auth=False)
    assert status == 403
    # the first visit with ?token= sets the cookie and takes the token out of the address
    status, headers, _ = served.request("GET", f"/?token={served.token}", auth=False)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"xlsx_tool_token_{served.port}={served.token}")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, body = served.request("GET", "/api/status")
    assert status == 200 and json.loads(body)["expected"] == 137


def test_other_host_names_are_refused(served):
    """DNS rebinding: a site whose name points at 127.0.0.1 sends its own name as Host."""
    for host in ("evil.example", f"evil.example:{served.port}", "127.0.0.1:1", f"127.0.0.2:{served.port}"):
        status, _, body = served.request("GET", "/api/status", host=host)
        assert status == 403, host
        assert b"received" not in body
    for host in (f"127.0.0.1:{served.port}", f"localhost:{served.port}", f"LOCALHOST:{served.port}"):
        assert served.request("GET", "/api/status", host=host)[0] == 200, host


def test_writes_must_come_from_the_page(served, plan):
    header, value = served.csrf()
    body, ctype = multipart([("a.xlsx", R.build_form(plan, plan.units[0], R.entries()))])
    base = {"Content-Type": ctype}
    refused = [
        {},  # no CSRF header (a form on another site cannot add one)
        {header: "wrong"},
        {header: value, "Origin": "http://evil.example"},
        {header: value, "Origin": "http://127.0.0.1:1"},  # same site, other origin
        {header: value, "Sec-Fetch-Site": "cross-site"},
        {header: value, "Sec-Fetch-Site": "same-site"},
    ]
    for extra in ({"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"}):  # reads too
        assert served.request("GET", "/api/status", headers=extra)[0] == 403
    for extra in refused:
        status, _, _ = served.request("POST", "/api/upload", body, {**base, **extra})
        assert status == 403, extra
        assert served.request("POST", "/api/job/merge", b"", {**extra})[0] == 403, extra
    assert _files(served.folder / "collected") == set()
    assert _files(served.folder / "output") == set()
    ok = {**base, header: value, "Origin": f"http://127.0.0.1:{served.port}", "Sec-Fetch-Site": "same-origin"}
    status, _, data = served.request("POST", "/api/upload", body, ok)
    assert status == 200, data
    assert _files(served.folder / "collected") == {"a.xlsx"}


def test_hostile_upload_names_stay_in_collected(served, plan, tmp_path):
    header, value = served.csrf()
    data = R.build_form(plan, plan.units[1], R.entries())
    names = ["../../x.xlsx", "..\\..\\y.xlsx", "/etc/z.xlsx", "C:\\Windows\\w.xlsx", "CON.xlsx", "nul.xlsx",
             "com1.xlsx", "a<b>:c.xlsx", "..", "x.xlsx"]
    body, ctype = multipart([(n, data) for n in names])
    status, _, out = served.request("POST", "/api/upload", body, {"Content-Type": ctype, header: value})
    assert status == 200, out
    verdicts = json.loads(out)["verdicts"]
    saved = [v["saved"] for v in verdicts if v["saved"]]
    collected = served.folder / "collected"
    assert _files(collected) == set(saved)
    # nothing written beside or above collected/, none replaced: x.xlsx twice is x.xlsx and "x (2).xlsx"
    assert _files(served.folder) == {f"collected/{n}" for n in saved}
    assert not (tmp_path / "x.xlsx").exists() and not (served.folder / "x.xlsx").exists()
    assert {"x.xlsx", "x (2).xlsx", "z.xlsx", "_CON.xlsx", "_nul.xlsx", "_com1.xlsx", "a_b__c.xlsx"} <= set(saved)
    # a backslash inside the quoted file name is an escape in multipart: "..\\..\\y" arrives as "....y"
    assert len(saved) == 9 and not any("/" in n or "\\" in n or n in (".", "..") for n in saved)
    # "..": no suffix, not a workbook: refused and not saved
    assert [v for v in verdicts if v["original"] == ".."][0]["saved"] == ""
    for p in collected.iterdir():
        assert p.resolve().parent == collected.resolve()
    # the same bytes a second time count once: the later copies are "重复发送"
    status, _, body = served.request("GET", "/api/status")
    st = json.loads(body)
    assert st["received"] == 1


def test_size_limit_and_download_headers(served, plan):
    header, value = served.csrf()
    big = b"PK\x03\x04" + b"\x00" * Limits().max_file_bytes
    body, ctype = multipart([("big.xlsx", big)])
    status, _, out = served.request("POST", "/api/upload", body, {"Content-Type": ctype, header: value})
    assert status in (200, 413)
    assert "上限" in out.decode()
    assert _files(served.folder / "collected") == set()
    # every answer: the policy, nosniff; downloads only of files the page made, as attachments
    status, headers, page = served.request("GET", "/")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert b"<script>" not in page and b"http://" not in page.replace(b"http://127.0.0.1:8017", b"")  # no CDN
    for path in ("/download/f1/x", "/download/../../etc/passwd", "/download/f1/..%2f..%2fetc%2fpasswd",
                 "/static/../office.py"):
        assert served.request("GET", path)[0] == 404, path
    status, _, job = served.request("POST", "/api/job/generate", b"", {header: value})
    assert status == 202
    job_id = json.loads(job)["id"]
    while json.loads(served.request("GET", f"/api/job/{job_id}")[2])["state"] == "running":
        time.sleep(0.1)
    zips = json.loads(served.request("GET", "/api/forms")[2])["zips"]
    assert len(zips) == len(plan.summary_units)
    status, headers, data = served.request("GET", "/" + zips[0]["url"])
    assert status == 200 and data[:2] == b"PK"
    assert headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''01-" in headers["content-disposition"]
    assert headers["x-content-type-options"] == "nosniff"


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Another page on this machine (127.0.0.1, another port: the same site, not the same origin)."""

    target = ""

    def do_GET(self):  # noqa: N802
        page = f"""<!doctype html><meta charset="utf-8"><body>
<form id="f" method="post" enctype="multipart/form-data" action="{self.target}/api/job/merge"></form>
<script>
const fd = new FormData();
fd.append("files", new Blob(["PK\\u0003\\u0004"]), "evil.xlsx");
Promise.all([
  fetch("{self.target}/api/upload", {{method: "POST", mode: "no-cors", credentials: "include", body: fd}}),
  fetch("{self.target}/api/upload", {{method: "POST", mode: "no-cors", credentials: "include", body: fd,
        headers: {{"X-XLSX-Tool-CSRF": "guess"}}}}),
]).finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


def test_a_page_on_another_port_cannot_post(served):
    from playwright.sync_api import sync_playwright

    _Hostile.target = served.base
    hostile = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=hostile.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.goto(served.url)  # the office's page first: the browser now holds the cookie
            assert page.locator("#received").inner_text() != ""
            page.goto(f"http://127.0.0.1:{hostile.server_address[1]}/")
            page.wait_for_url(f"{served.base}/api/job/merge")  # the form went; its answer:
            assert "不接受" in page.content() or "校验码" in page.content()
            browser.close()
    finally:
        hostile.shutdown()
    assert _files(served.folder / "collected") == set()
    assert _files(served.folder / "output") == set()


def test_a_taken_port_gives_another(tmp_path):
    import socket

    folder = office_folder(tmp_path / "office")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = Server(folder, "--port", str(port))  # the later --port wins over the helper's --port 0
        try:
            assert s.port != port
            assert f"端口 {port} 已被占用，改用 {s.port}。" in s.lines
            assert s.request("GET", "/api/status")[0] == 200
        finally:
            code, out = s.stop()
    assert code == 0, out


def test_another_address_is_announced(tmp_path):
    """--host: a warning on stderr; the page answers to that address and still needs the token."""
    import subprocess
    import sys

    folder = office_folder(tmp_path / "office")
    exe = Path(sys.executable).with_name("xlsx-tool")
    proc = subprocess.Popen([str(exe), "serve", str(folder), "--no-browser", "--port", "0", "--host", "127.0.0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        for line in proc.stdout:
            if line.startswith("http://"):
                break
        url = line.strip()
        assert url.startswith("http://127.0.0.2:")
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.2", port, timeout=30)
        conn.request("GET", "/api/status", headers={"Host": f"127.0.0.2:{port}"})
        assert conn.getresponse().status == 401
        conn = http.client.HTTPConnection("127.0.0.2", port, timeout=30)
        token = url.split("token=")[1]
        conn.request("GET", f"/api/status?token={token}", headers={"Host": f"127.0.0.2:{port}"})
        assert conn.getresponse().status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "警告" in err and "127.0.0.2" in err


def test_an_output_that_cannot_be_written_leaves_the_others(served, plan):
    """评分汇总表.xlsx blocked (here: a folder of that name): the page says so and still offers the reports."""
    header, value = served.csrf()
    body, ctype = multipart([("a.xlsx", R.build_form(plan, plan.units[0], R.entries()))])
    assert served.request("POST", "/api/upload", body, {"Content-Type": ctype, header: value})[0] == 200
    (served.folder / "output" / "评分汇总表.xlsx").mkdir()
    status, _, job = served.request("POST", "/api/job/merge", b"", {header: value})
    assert status == 202
    job = json.loads(job)
    while job["state"] == "running":
        time.sleep(0.1)
        job = json.loads(served.request("GET", f"/api/job/{job['id']}")[2])
    assert job["state"] == "done"
    assert len(job["problems"]) == 1 and "无法写入" in job["problems"][0] and "评分汇总表.xlsx" in job["problems"][0]
    downloads = job["result"]["downloads"]
    assert downloads["summary"] == []
    assert len(downloads["reports"]) == len(plan.summary_units) + 1
    status, headers, data = served.request("GET", "/" + downloads["reports"][-1]["url"])
    assert status == 200 and data[:2] == b"PK" and headers["content-disposition"].startswith("attachment;")
    assert job["result"]["received"] == 1


def test_a_zip_upload_gives_a_verdict_per_form(served, plan, tmp_path):
    """A zip as e-mailed (GBK names on Chinese Windows): saved whole, one verdict per form inside."""
    from xlsx_tool.files import write_zip

    a, b = plan.units[0], plan.units[1]
    archive = tmp_path / "第一核查组交回.zip"
    write_zip(archive, [(f"{a.name}.xlsx", R.build_form(plan, a, R.entries())),
                        (f"{b.name}.xlsx", R.build_form(plan, b, R.entries())), ("说明.txt", "见附件".encode())])
    header, value = served.csrf()
    body, ctype = multipart([(archive.name, archive.read_bytes())])
    status, _, out = served.request("POST", "/api/upload", body, {"Content-Type": ctype, header: value})
    assert status == 200
    files = json.loads(out)["files"]
    assert len(files) == 1 and [v["unit"] for v in files[0] if v["ok"]] == [a.name, b.name]
    assert [v["status"] for v in files[0]] == ["收到", "收到", "忽略"]
    assert files[0][2]["file"] == f"{archive.name}/说明.txt"
    assert _files(served.folder / "collected") == {archive.name}
    assert json.loads(served.request("GET", "/api/status")[2])["received"] == 2
