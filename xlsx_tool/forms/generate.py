"""Generate the blank forms: one workbook per unit, one folder and one zip per summary unit."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlsx_tool.files import safe_filename, staged_dir, write_zip
from xlsx_tool.forms.writer import FormEntries, build_form
from xlsx_tool.plan import Plan, SummaryUnit, Unit, summary_folder  # noqa: F401  (re-exported)

# Below this many forms a process pool costs more than it saves (fork, one template per process).
PARALLEL_FROM = 400


@dataclass
class GenerateResult:
    out_dir: Path
    forms: int
    folders: list[str]
    zips: list[str]


def form_filename(unit: Unit) -> str:
    return f"{safe_filename(unit.name)}-评分细则.xlsx"


def _read_back(folder: Path, names: list[str]):
    """A summary unit's forms, read back one at a time for its zip."""
    for name in names:
        yield name, (folder / name).read_bytes()


def _write_summary_unit(plan: Plan, summary: SummaryUnit, stage: Path, folder: str, entries: dict, problems: dict,
                        make_zip: bool, progress: Callable[[int], None] | None = None) -> list[str]:
    """One summary unit's forms and zip, written into the staging folder; returns the file names.

    A summary unit is the unit of work; no form's bytes outlive their file, so memory stays flat
    however many units there are.
    """
    (stage / folder).mkdir()
    names: list[str] = []
    taken: set[str] = set()
    for unit in summary.units:
        name = form_filename(unit)
        if name.lower() in taken:  # two names that differ only in characters Windows forbids
            name = name.replace("-评分细则.xlsx", f"-{unit.code}-评分细则.xlsx")
        taken.add(name.lower())
        data = build_form(plan, unit, entries.get(unit.name), problems.get(unit.name))
        (stage / folder / name).write_bytes(data)
        names.append(name)
        if progress:
            progress(1)
    if make_zip:
        stamp = (plan.issued.year, plan.issued.month, plan.issued.day, 0, 0, 0)
        write_zip(stage / f"{folder}.zip", _read_back(stage / folder, names), stamp)
    return names


_JOB: tuple | None = None


def _init_job(*args):
    global _JOB
    _JOB = args


def _run_job(index: int) -> list[str]:
    plan, stage, entries, problems, make_zip = _JOB
    summary = plan.summary_units[index]
    return _write_summary_unit(plan, summary, stage, summary_folder(plan, summary.name), entries, problems, make_zip)


def generate(plan: Plan, out_dir: Path, entries: dict[str, FormEntries] | None = None,
             workers: int | None = None, progress: Callable[[int], None] | None = None,
             make_zips: bool = True, problems: dict[str, list[str]] | None = None) -> GenerateResult:
    """Write every form; the complete set appears in out_dir, or nothing new does.

    `problems`: last quarter's problems by unit name, listed under the rectification item.
    Large plans are written on all cores, one summary unit per job.
    """
    out_dir = Path(out_dir)
    entries, problems = entries or {}, problems or {}
    workers = workers if workers is not None else (os.cpu_count() or 1)
    sus = plan.summary_units
    folders = [summary_folder(plan, s.name) for s in sus]
    with staged_dir(out_dir) as stage:
        if workers > 1 and len(plan.units) >= PARALLEL_FROM and len(sus) > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_job,
                                     initargs=(plan, stage, entries, problems, make_zips)) as pool:
                names = []
                for done in pool.map(_run_job, range(len(sus))):
                    names.append(done)
                    for _ in done if progress else ():
                        progress(1)
        else:
            names = []
            for s, folder in zip(sus, folders):
                names.append(_write_summary_unit(plan, s, stage, folder, entries, problems, make_zips, progress))
    return GenerateResult(out_dir, sum(map(len, names)), folders, [f"{f}.zip" for f in folders] if make_zips else [])
