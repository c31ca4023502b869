"""The office's folder as the page sees it: progress, uploads, and the long jobs (汇总, 生成评分表).

Every number and verdict comes from the library the command line uses: `merge` for the counts,
`sources_of` + `read_source` for an uploaded file's verdict, `jobs.run_merge` for 汇总 and
`generate` for the blank forms.  Nothing here judges a file itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from xlsx_tool.errors_zh import describe
from xlsx_tool.files import safe_filename
from xlsx_tool.judging.merge import IGNORED, merge, read_source
from xlsx_tool.plan import Plan
from xlsx_tool.reading.collect import DOCUMENTS, WORKBOOK_SUFFIXES, list_files, sources_of, suffix_of
from xlsx_tool.reading.limits import MB, Limits

from xlsx_tool.interfaces.web import views

# forms, zips of them, saved e-mails, and what summary units send up (附件3 in Word, 简要核查报告)
UPLOAD_SUFFIXES = WORKBOOK_SUFFIXES | {".zip", ".eml"} | DOCUMENTS
# The progress view re-reads collected/ on one core (137 returns take about 0.15 s; it runs whenever a file
# changes); the 汇总 button reads on every core for a big plan, as the command line does (the pool then
# starts its workers afresh rather than forking this threaded server: judging.merge.read_all).
WORKERS = 1


class Job:
    """One long piece of work in a thread: its progress and, when done, what the page shows."""

    def __init__(self, kind: str, total: int):
        self.id = f"{kind}-{next(_ids)}"
        self.kind, self.total, self.done = kind, max(total, 1), 0
        self.step = "正在准备"
        self.state = "running"  # running, done, failed
        self.result: dict | None = None
        self.problems: list[str] = []  # outputs that could not be written (the others still were)

    def tick(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "done": self.done, "total": self.total,
                "step": self.step, "result": self.result, "problems": self.problems}


_ids = itertools.count(1)


class Office:
    """FOLDER with blank_forms/, collected/ and output/, and the plan in use."""

    def __init__(self, folder: Path, plan: Plan, limits: Limits = Limits(), today: dt.date | None = None,
                 collected: Path | None = None, out: Path | None = None, blank: Path | None = None):
        folder = Path(folder)
        self.folder, self.plan, self.limits = folder, plan, limits
        self.collected = Path(collected or folder / "collected")
        self.out = Path(out or folder / "output")
        self.blank = Path(blank or folder / "blank_forms")
        self._today = today
        self._status_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._job_lock = threading.Lock()
        self._status: tuple[object, dict] | None = None
        self._version = 0
        self.jobs: dict[str, Job] = {}
        self.running: Job | None = None
        self._downloads: dict[str, Path] = {}
        self._keys: dict[Path, str] = {}

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    # ------------------------------------------------------------------ progress

    def _fingerprint(self) -> tuple:
        """What the counts depend on: every file's path, size and time, and the day."""
        marks = []
        for path in list_files(self.collected) if self.collected.is_dir() else ():
            try:
                st = os.stat(path)
                marks.append((str(path), st.st_size, st.st_mtime_ns))
            except OSError:
                marks.append((str(path), -1, 0))
        return (self.today(), tuple(marks))

    def status(self) -> dict:
        """收表进度; merged again only when a file in collected/ changed (copied by hand or uploaded)."""
        with self._status_lock:
            mark = self._fingerprint()
            if self._status is None or self._status[0] != mark:
                self.collected.mkdir(parents=True, exist_ok=True)
                result = merge(self.plan, self.collected, self.limits, workers=WORKERS, today=self.today())
                self._version += 1
                self._status = (mark, views.status_json(result, self._version))
            return self._status[1]

    # ------------------------------------------------------------------ uploads

    def accept_upload(self, name: str, data: bytes) -> list[dict]:
        """Save one uploaded file into collected/ (never over another) and judge it; one verdict per source."""
        base = upload_name(name)
        suffix = suffix_of(base)
        if len(data) > self.limits.max_file_bytes:
            return [views.unsaved(name, f"文件 {len(data) / MB:.1f} MB，超过 {self.limits.max_file_bytes / MB:.0f} MB 的上限，未保存")]
        if suffix not in UPLOAD_SUFFIXES:
            return [views.unsaved(name, f"不是评分表文件（{suffix or '无扩展名'}），未保存；"
                                        "请上传评分表（.xlsx、.xls、.ods、.zip）、汇总表、简要核查报告（.docx、.pdf）或保存的邮件（.eml）")]
        try:
            path = self._save(base, data)
        except OSError as e:
            return [views.unsaved(name, f"无法保存到 {self.collected}：{describe(e)}")]
        records = [read_source(src, self.plan, self.limits) for src in sources_of(self.collected, path, self.limits)]
        if records and all(r.status == IGNORED for r in records):
            # a lock file (~$…) or a system file: the merge would skip it, so it need not stay in collected/
            path.unlink(missing_ok=True)
            return [views.unsaved(name, f"{r.reason}，未保存", "忽略") for r in records]
        return [views.verdict(name, path.name, r) for r in records]

    def _save(self, base: str, data: bytes) -> Path:
        """Write to a temporary file outside collected/ (a half-written file is never read there), then
        link it under the first free name: the link fails rather than replace a file already there."""
        self.collected.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".xlsx-tool-upload-", dir=self.collected.parent)
        except OSError:
            fd, tmp = tempfile.mkstemp(prefix="~$upload-", dir=self.collected)  # ignored by the merge as a lock file
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with self._save_lock:
                for candidate in numbered(base):
                    target = self.collected / candidate
                    try:
                        os.link(tmp, target)
                        return target
                    except FileExistsError:
                        continue
                    except OSError:  # a file system without hard links (FAT): claim the name, then move in
                        try:
                            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                        except FileExistsError:
                            continue
                        os.replace(tmp, target)
                        return target
            raise FileExistsError(base)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # ------------------------------------------------------------------ downloads

    def key(self, path: Path) -> str:
        """A download's id: only files the page produced or listed can be fetched, never a path from a request."""
        path = Path(path)
        with self._save_lock:
            if path not in self._keys:
                k = f"f{len(self._keys) + 1}"
                self._keys[path], self._downloads[k] = k, path
            return self._keys[path]

    def download(self, key: str) -> Path | None:
        path = self._downloads.get(key)
        return path if path is not None and path.is_file() else None

    def link(self, path: Path, label: str | None = None) -> dict:
        return {"name": label or path.name, "url": f"download/{self.key(path)}/{quote(path.name)}"}

    # ------------------------------------------------------------------ jobs

    def start(self, kind: str) -> Job | None:
        """Start 汇总 ("merge") or 生成评分表 ("generate") in a thread; None while another job runs."""
        with self._job_lock:
            if self.running is not None and self.running.state == "running":
                return None
            if kind == "merge":
                total = (len(list_files(self.collected)) if self.collected.is_dir() else 0) + 3
                job, work = Job(kind, total), self._merge
            else:
                job, work = Job(kind, len(self.plan.units)), self._generate
            self.jobs[job.id] = self.running = job
        threading.Thread(target=self._run, args=(job, work), name=job.id, daemon=True).start()
        return job

    def _run(self, job: Job, work: Callable[[Job], dict]) -> None:
        try:
            job.result = work(job)
            job.state = "done"
        except Exception as e:  # noqa: BLE001 — the page says what failed instead of hanging
            job.problems.append(f"程序内部错误（{type(e).__name__}）：{describe(e) if isinstance(e, OSError) else e}")
            job.state = "failed"

    def _guard(self, job: Job) -> Callable[[Path, Callable[[], object]], None]:
        def guard(path: Path, work: Callable[[], object]) -> None:
            job.step = f"正在写入 {path.name}"
            try:
                work()
            except PermissionError:
                job.problems.append(f"无法写入 {path}：文件可能正被 Excel/WPS 打开，请关闭该文件后再点“汇总”。")
            except OSError as e:
                job.problems.append(f"无法写入 {path}：{describe(e)}。")
            job.tick()
        return guard

    def _merge(self, job: Job) -> dict:
        from xlsx_tool.interfaces.jobs import run_merge

        job.step = "正在读取交回的评分表"
        self.collected.mkdir(parents=True, exist_ok=True)
        result, written = run_merge(self.plan, self.collected, self.out, today=self.today(), limits=self.limits,
                                    progress=job.tick, guard=self._guard(job), workers=None)
        files = ([self.link(written.summary)] if written.summary else [])
        return views.merge_json(result, files, [self.link(p) for p in written.lists],
                                [self.link(p) for p in written.reports])

    def _generate(self, job: Job) -> dict:
        from xlsx_tool.forms.generate import generate

        job.step = "正在生成评分细则表"
        made = []

        def work():
            made.append(generate(self.plan, self.blank, workers=WORKERS, progress=job.tick))

        self._guard(job)(self.blank, work)
        if not made:
            return {"forms": 0, "zips": []}
        return {"forms": made[0].forms, "folder": str(self.blank), "zips": self.blank_zips()}

    def blank_zips(self) -> list[dict]:
        """Each summary unit's zip of blank forms that exists now, in the plan's order."""
        from xlsx_tool.plan import summary_folder

        out = []
        for s in self.plan.summary_units:
            path = self.blank / f"{summary_folder(self.plan, s.name)}.zip"
            if path.is_file():
                out.append({**self.link(path), "summary": s.name, "count": len(s.units)})
        return out


_SEPARATORS = re.compile(r"[\\/]")


def upload_name(name: str) -> str:
    """The name an upload is saved under: its last path part only, made valid on Windows (no "..",
    no CON/NUL, no reserved characters); never a path that leaves collected/."""
    base = _SEPARATORS.split(name or "")[-1]
    safe = safe_filename(base)
    if safe.strip(".") == "":
        safe = "_"
    return safe


def numbered(base: str):
    """"a.xlsx", "a (2).xlsx", "a (3).xlsx", …"""
    yield base
    stem, dot, ext = base.rpartition(".")
    if not stem:
        stem, dot, ext = base, "", ""
    for n in range(2, 10_000):
        yield f"{stem} ({n}){dot}{ext}"
