"""The page's routes (Flask): the page, its JSON, uploads, the two jobs and the downloads.

Served by waitress (server.py); every request passes guard.py's checks first.
"""

from __future__ import annotations

from flask import Flask, abort, jsonify, render_template, request, send_file

from xlsx_tool.interfaces.web import guard
from xlsx_tool.interfaces.web.office import Office
from xlsx_tool.reading.limits import MB

UPLOAD_SLACK = 256 * 1024  # the multipart envelope around one file


def create_app(office: Office, token: str) -> Flask:
    app = Flask(__name__)
    # the page sends at most the size limit a request: a larger request is cut off unread
    app.config["MAX_CONTENT_LENGTH"] = office.limits.max_file_bytes + UPLOAD_SLACK
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    guard.install(app, token)
    plan = office.plan

    @app.get("/")
    def index():
        return render_template("index.html", plan=plan, csrf=app.config["CSRF"], csrf_header=guard.CSRF_HEADER,
                               max_bytes=office.limits.max_file_bytes, max_mb=office.limits.max_file_bytes // MB,
                               collected=str(office.collected), out=str(office.out), blank=str(office.blank))

    @app.get("/api/status")
    def status():
        return jsonify(office.status())

    @app.post("/api/upload")
    def upload():
        per_file = []  # the page sends a few files a request: fewer requests, the same verdicts
        for storage in request.files.getlist("files"):
            data = storage.stream.read(office.limits.max_file_bytes + 1)
            per_file.append(office.accept_upload(storage.filename or "", data))
        return jsonify({"files": per_file, "verdicts": [v for vs in per_file for v in vs]})

    @app.post("/api/job/<kind>")
    def start(kind: str):
        if kind not in ("merge", "generate"):
            abort(404)
        job = office.start(kind)
        if job is None:
            return jsonify({"error": "另一项工作正在进行，请等它完成后再试。"}), 409
        return jsonify(job.to_json()), 202

    @app.get("/api/job/<job_id>")
    def job(job_id: str):
        found = office.jobs.get(job_id)
        if found is None:
            abort(404)
        return jsonify(found.to_json())

    @app.get("/api/forms")
    def forms():
        return jsonify({"zips": office.blank_zips(), "folder": str(office.blank)})

    @app.get("/download/<key>/<path:_name>")
    def download(key: str, _name: str):
        path = office.download(key)
        if path is None:
            abort(404)
        # always an attachment, with its type from the suffix: the browser saves it, never shows it
        return send_file(path, as_attachment=True, download_name=path.name, max_age=0)

    @app.errorhandler(413)
    def too_large(_e):
        return jsonify({"verdicts": [], "error": f"文件超过 {office.limits.max_file_bytes // MB} MB 的上限，未保存。"}), 413

    @app.errorhandler(404)
    def not_found(_e):
        return jsonify({"error": "没有这个文件或页面。"}), 404

    @app.errorhandler(405)
    def wrong_method(_e):
        return jsonify({"error": "本页不支持这种操作。"}), 405

    @app.errorhandler(500)
    def internal(_e):
        return jsonify({"error": "程序内部错误。请把运行 xlsx-tool serve 的窗口中的信息发给技术人员。"}), 500

    return app
