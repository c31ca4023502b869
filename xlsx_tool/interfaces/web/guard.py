"""Who may use the page: this machine's browser, holding the token printed at start, from the page itself.

* Host: only 127.0.0.1 / localhost / [::1] with the server's port (or the address given with --host):
  a web site that points its own name at 127.0.0.1 (DNS rebinding) is refused.
* Token: `?token=` on the first visit sets a cookie (HttpOnly, SameSite=Strict); every request
  needs one or the other.  Without it 401, with a wrong one 403, and no data either way.
* No request from another page is served (Sec-Fetch-Site cross-site or same-site).  A request that
  changes something (POST) must come from the page: same origin by Origin and Sec-Fetch-Site when
  the browser sends them, and always the CSRF header the page's script sets (a form on another
  site cannot set a header).  Pages on 127.0.0.1 at another port are the same
  *site* (cookies go along) but not the same *origin*: this is what refuses them.
* Every answer: a Content-Security-Policy without inline script, nosniff, no framing, no referrer.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, redirect, render_template, request

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
CSRF_HEADER = "X-XLSX-Tool-CSRF"
ANY = ("0.0.0.0", "::")


def install(app: Flask, token: str) -> None:
    app.config.update(TOKEN=token, CSRF=secrets.token_urlsafe(24), HOSTS=set(), COOKIE="xlsx_tool_token")
    app.before_request(_check)
    app.after_request(_headers)


def bind(app: Flask, host: str, port: int) -> None:
    """The names the page answers to, once the port is known."""
    names = set(LOCAL_NAMES)
    if host in ANY:
        names = None  # every address of the machine: its names are not known here; the token still guards
    elif host not in ("127.0.0.1", "localhost", "::1"):
        names.add(f"[{host}]" if ":" in host else host)
    hosts = None if names is None else {f"{n}:{port}" for n in names} | (names if port == 80 else set())
    app.config.update(HOSTS=hosts, COOKIE=f"xlsx_tool_token_{port}")  # cookies ignore the port: one name per server


def _denied(status: int, why: str) -> Response:
    resp = Response(render_template("denied.html", why=why), status=status, mimetype="text/html")
    return resp


def _check():
    cfg = _cfg()
    if cfg["HOSTS"] is not None and (request.host or "").lower() not in cfg["HOSTS"]:
        return _denied(403, "本页只能用启动时显示的地址（127.0.0.1）打开。")
    given = request.args.get("token")
    cookie = request.cookies.get(cfg["COOKIE"])
    if given is not None:
        if not _same(given, cfg["TOKEN"]):
            return _denied(403, "地址中的访问密钥不对。请复制启动窗口中显示的完整地址。")
        if request.method == "GET" and request.path == "/":
            # keep the token in a cookie and take it out of the address bar (and the history)
            resp = redirect("/", code=303)
            resp.set_cookie(cfg["COOKIE"], cfg["TOKEN"], httponly=True, samesite="Strict", path="/")
            return resp
    elif cookie is None:
        return _denied(401, "请用启动时显示的完整地址（含访问密钥）打开本页。")
    elif not _same(cookie, cfg["TOKEN"]):
        return _denied(403, "访问密钥已失效（程序可能已重新启动）。请用启动窗口中显示的新地址打开本页。")
    site = request.headers.get("Sec-Fetch-Site")
    if site in ("cross-site", "same-site"):  # another site, or another port of this machine: never the page
        return _denied(403, "不接受来自其他网页的请求。")
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("Origin")
        if site not in (None, "same-origin") or (origin is not None and origin.lower() != f"http://{request.host.lower()}"):
            return _denied(403, "不接受来自其他网页的操作。")
        if not _same(request.headers.get(CSRF_HEADER, ""), cfg["CSRF"]):
            return _denied(403, "操作缺少本页的校验码，请刷新本页后重试。")
    return None


def _headers(resp: Response) -> Response:
    h = resp.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h.setdefault("Cache-Control", "no-store")
    return resp


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _cfg():
    from flask import current_app

    return current_app.config
