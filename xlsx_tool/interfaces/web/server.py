"""Start the page: an Office, its Flask app, and waitress listening on 127.0.0.1 (pure Python, on Windows too)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import socket
from pathlib import Path
from typing import NamedTuple

from xlsx_tool.plan import Plan
from xlsx_tool.reading.limits import Limits

DEFAULT_PORT = 8017
THREADS = 8  # the page sends four uploads at a time and polls while they run


class Served(NamedTuple):
    server: object  # waitress's server: .run(), .close()
    url: str  # with the token
    port: int
    app: object
    office: object


def _port_free(host: str, port: int) -> bool:
    """A plain bind without SO_REUSEADDR: on Windows waitress's reuse flag would let it bind a port in use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def make_server(folder: Path, plan: Plan, host: str = "127.0.0.1", port: int | None = DEFAULT_PORT,
                today: dt.date | None = None, limits: Limits = Limits(), token: str | None = None) -> Served:
    """Bind (the given port, else any free one) and return the server, not yet running."""
    from waitress import create_server

    from xlsx_tool.interfaces.web import guard
    from xlsx_tool.interfaces.web.app import create_app
    from xlsx_tool.interfaces.web.office import Office

    token = token or secrets.token_urlsafe(24)
    office = Office(Path(folder), plan, limits, today)
    app = create_app(office, token)
    want = port or 0
    if want and not _port_free(host, want):
        want = 0
    # waitress warns at every queued request when many uploads arrive at once: expected here
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host=host, port=want, threads=THREADS, ident="xlsx-tool",
                           max_request_body_size=limits.max_file_bytes + 1024 * 1024)
    real = server.effective_port
    guard.bind(app, host, real)
    shown = "127.0.0.1" if host in guard.ANY else f"[{host}]" if ":" in host else host
    return Served(server, f"http://{shown}:{real}/?token={token}", real, app, office)
