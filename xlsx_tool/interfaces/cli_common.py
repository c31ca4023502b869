"""What the commands share: their options, their errors (Chinese message, exit code), reading the
collected folder with a progress bar, and guarding every write.  Used by `cli` and `serve_cmd`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlsx_tool.interfaces.click_zh import AtLeast, Day

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
HELP = click.help_option("-h", "--help", help="显示本帮助并退出。")
PLAN_HELP = "方案文件（YAML）；不写则使用内置的 2017 年第三季度方案。"
PLAN = click.option("--plan", "plan_file", type=click.Path(dir_okay=False), metavar="方案文件", help=PLAN_HELP)
FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".zip", ".et")


DATE = Day()


class UserError(click.ClickException):
    """A mistake in what the user asked for: a Chinese message (printed as 错误：…), exit code 2."""

    exit_code = 2


class WriteError(UserError):
    exit_code = 3


def plan_or_stop(path):
    from xlsx_tool.plan import PlanError, load_plan

    try:
        return load_plan(Path(path).absolute() if path else None)
    except PlanError as e:
        raise UserError(str(e)) from None


def progress_bar(total: int, label: str):
    """A progress bar on stderr for long work; silent when stderr is not a terminal."""
    if not sys.stderr.isatty() or total < 20:
        return None, None
    bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
    bar.__enter__()
    return bar, bar.update


def read_collected(plan, collected_dir, merged_on, max_file_mb, max_unzipped_mb, max_cells, out: Path | None = None,
                    summary_unit: str | None = None):
    """Read and judge every returned file, with a progress bar: what merge and report share.  The
    output folder, when it lies inside the collected folder, is not read back as returns."""
    from xlsx_tool.reading.limits import MB, Limits
    from xlsx_tool.judging.merge import merge

    src = collected_folder(collected_dir)
    own = summary_unit_named(plan, summary_unit) if summary_unit else None
    limits = Limits(max_file_mb * MB, max_unzipped_mb * MB, max_cells)
    # counted only for a bar that someone sees: a second walk of 10,000 files is not free
    total = sum(1 for x in src.rglob("*") if x.is_file()) if sys.stderr.isatty() else 0
    bar, tick = progress_bar(total, "正在读取")
    try:
        result = merge(plan, src, limits, progress=tick, today=merged_on, skip=(out,) if out else ())
        return result.only(own.name) if own else result
    finally:
        if bar:
            bar.__exit__(None, None, None)


def summary_unit_named(plan, text: str):
    """The summary unit `--summary-unit` names, or a usage error listing the names."""
    from xlsx_tool.reading.annex3 import match_summary

    found = match_summary(text, plan)
    if found is None:
        raise UserError(f"方案中没有汇总单位“{text}”。请写方案中的名称，例如：{'、'.join(s.name for s in plan.summary_units[:4])}……"
                        "（xlsx-tool plan show 可列出全部）")
    return found


def collected_folder(path) -> Path:
    """The folder of returned forms, absolute; a file or a missing folder is a usage error that says what to do."""
    src = Path(path).absolute()
    if src.is_dir():
        return src
    if src.suffix.lower() in FORM_SUFFIXES and src.exists():
        raise UserError(f"{src} 是一个文件，不是文件夹。这里要写存放交回评分表的文件夹："
                        f"请把这个文件放进一个文件夹（例如 {src.parent / 'collected'}），再写那个文件夹。")
    if src.exists():
        raise UserError(f"{src} 是一个文件，不是文件夹。这里要写存放交回评分表的文件夹。")
    raise UserError(f"找不到文件夹 {src}。请把交回的评分表放进该文件夹，或在命令后写明文件夹路径。")


def nothing_received(src: Path, files: int) -> str:
    """Why a folder gave no returned form, and what it should hold."""
    seen = "是空的" if not files else f"中有 {files} 个文件，但没有一份可用的评分表"
    return (f"文件夹 {src} {seen}。这个文件夹应当存放各核查组交回的评分细则表"
            f"（.xlsx、.xls、.ods 或 .zip，可以放在子文件夹中，文件名无所谓）；"
            f"如果写错了文件夹，请在命令后写明正确的文件夹。")


def day(d, today=None) -> str:
    """A date for a message: without the year only when it is this year's."""
    import datetime as dt

    from xlsx_tool.outputs.progress import day_text

    return day_text(d, today or dt.date.today())


def read_options(f):
    """The options merge and report share (same inputs, same limits)."""
    for opt in reversed([
        click.argument("collected_dir", type=click.Path(), default="collected", metavar="[收表文件夹]"),
        PLAN,
        click.option("--date", "merged_on", type=DATE, help="汇总时间，默认今天（如 2017-11-06）。"),
        click.option("--max-file-mb", type=AtLeast(1), default=20, show_default=True, help="单个文件大小上限（MB）。"),
        click.option("--max-unzipped-mb", type=AtLeast(1), default=50, show_default=True,
                     help="单个文件解压后大小上限（MB）。"),
        click.option("--max-cells", type=AtLeast(1000), default=200_000, show_default=True,
                     help="单个文件读取的单元格上限。"),
        click.option("--summary-unit", "summary_unit", metavar="汇总单位",
                     help="只汇总这一个汇总单位（如“州委办直属机关党委”“第一核查组”）：汇总表以它的附件3开头，"
                          "正是它要上报州直工委的那份。"),
    ]):
        f = opt(f)
    return f


def out_folder(path, how="请用 --out 指定一个文件夹") -> Path:
    """An output folder, absolute: it may not exist yet, but it must not be a file."""
    out = Path(path).absolute()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} 是一个文件，不是文件夹。{how}。")
    return out


def write_guard(path: Path, write):
    try:
        write()
    except PermissionError:
        raise WriteError(f"无法写入 {path}：文件可能正被 Excel/WPS 打开，请关闭该文件后重试。") from None
    except OSError as e:
        from xlsx_tool.errors_zh import describe

        raise WriteError(f"无法写入 {path}：{describe(e)}。") from None
