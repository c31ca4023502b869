"""Command line: thin commands over the library; domain errors become a Chinese message and an exit code.

Exit codes: 0 done, no errors; 1 done, errors found in the inputs (outputs still
written); 2 usage or plan error, nothing written; 3 an output could not be written.
Heavy libraries are imported inside the commands, so `--help` starts fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from xlsx_tool import __version__
from xlsx_tool.interfaces.click_zh import Group
from xlsx_tool.interfaces.cli_common import (
    CONTEXT, DATE, HELP, PLAN, UserError, collected_folder, day, nothing_received, out_folder, plan_or_stop,
    progress_bar, read_collected, read_options, write_guard,
)


@click.group(cls=Group, context_settings=CONTEXT)
@HELP
@click.version_option(__version__, "-V", "--version", message="xlsx-tool %(version)s", help="显示版本号并退出。")
def cli():
    """州直单位党组织书记履行党建工作责任实地核查：生成评分细则表，汇总交回的评分表。

    \b
    常用步骤：
      xlsx-tool plan check  检查核查方案
      xlsx-tool generate    为每个被核查单位生成评分细则表（blank_forms/）
      xlsx-tool status      收表进度：谁已交、谁未交
      xlsx-tool merge       汇总交回的评分表（collected/ → output/）
      xlsx-tool report      起草简要核查报告（output/简要核查报告-*.docx）
      xlsx-tool demo        用模拟数据演示全过程
    """


@cli.group(context_settings=CONTEXT)
@HELP
def plan():
    """查看和检查核查方案。"""


@plan.command("check", context_settings=CONTEXT)
@HELP
@PLAN
def plan_check(plan_file):
    """检查方案中的问题：单位重复、数量不符、小计与各项之和不符等。

    有“错误”时退出码为 1。
    """
    from xlsx_tool.findings import ERROR, count
    from xlsx_tool.plan.check import check_plan

    p = plan_or_stop(plan_file)
    found = check_plan(p)
    source = p.source.replace("（内置）", "内置方案 ")  # the embedded plan's label is itself bracketed
    click.echo(f"方案：{p.title}（{source}）")
    click.echo(f"汇总单位 {len(p.summary_units)} 个，被核查单位 {len(p.units)} 个，评分项 {len(p.rubric.items)} 项。")
    for f in found:
        click.echo(f"  [{f.severity}] {f.message}")
    if not found:
        click.echo("未发现问题。")
    sys.exit(1 if count(found, ERROR) else 0)


@plan.command("show", context_settings=CONTEXT)
@HELP
@PLAN
def plan_show(plan_file):
    """显示方案概要：汇总单位、单位数、核查时间、评分细则。"""
    p = plan_or_stop(plan_file)
    click.echo(p.title)
    click.echo(f"方案编号 {p.id}；{p.issuer} {p.issued:%Y年%m月%d日}印发；{p.deadline:%Y年%m月%d日}前上报"
               + (f"（{p.report_to}）" if p.report_to else ""))
    r = p.rules
    click.echo(f"规则：最高 {r.max_score} 分；{r.high_score} 分及以上单位不超过所核查单位的 "
               f"{r.high_share.numerator}/{r.high_share.denominator}。")
    click.echo(f"\n汇总单位（{len(p.summary_units)} 个，共 {len(p.units)} 个被核查单位）：")
    for i, s in enumerate(p.summary_units, 1):
        start, end = s.window
        click.echo(f"{i:>3}. {s.name}  {len(s.units)} 个  {day(start)}～{day(end, start)}  {s.contacts}")
        click.echo("       " + "、".join(u.name for u in s.units))
    click.echo(f"\n评分细则（{len(p.rubric.items)} 项，各项合计 {p.rubric.total} 分"
               + (f"，印刷小计 {p.rubric.printed_total} 分" if p.rubric.printed_total is not None else "") + "）：")
    for cat, items in p.rubric.categories:
        click.echo(f"  {cat}")
        for it in items:
            click.echo(f"    {it.seq:>2}. 分值 {it.max}，每档扣 {it.step}，最多扣 {it.limit}  {it.basis}")


@cli.command(context_settings=CONTEXT)
@HELP
@PLAN
@click.option("--out", "out_dir", type=click.Path(), default="blank_forms", show_default=True, metavar="文件夹",
              help="输出文件夹。")
@click.option("--no-zip", is_flag=True, help="不生成每个汇总单位的 .zip 压缩包。")
@click.option("--previous", "previous_file", type=click.Path(dir_okay=False), metavar="上季度汇总表",
              help="上季度的 评分汇总表.xlsx（merge 生成的）：把各单位上季度的扣分列为整改核查清单。")
def generate(plan_file, out_dir, no_zip, previous_file):
    """为每个被核查单位生成评分细则表（.xlsx），每个汇总单位一个文件夹和一个 .zip。

    生成的表格带公式、下拉校验和填表说明，可直接用邮件发给各核查组。
    一次运行要么生成全部文件，要么（出错时）什么也不留下。

    用 --previous 给出上季度的评分汇总表时，每个单位表中会列出上季度被扣分的问题，
    由核查人员逐条选择“已整改/未整改”，整改项的扣分按未整改的条数自动计算。
    """
    from xlsx_tool.forms.generate import generate as run

    p = plan_or_stop(plan_file)
    problems = None
    if previous_file:
        from xlsx_tool.forms.previous import PreviousError, read_previous

        prev_path = Path(previous_file).absolute()
        try:  # opened here first: previous.py reports an OSError in English (its strerror)
            prev_path.open("rb").close()
        except OSError as e:
            from xlsx_tool.errors_zh import describe

            raise UserError(f"无法读取上季度汇总表 {prev_path}：{describe(e)}。"
                            "请写 merge 生成的 评分汇总表.xlsx 的位置。") from None
        try:
            prev = read_previous(prev_path, p)
        except PreviousError as e:
            raise UserError(str(e)) from None
        problems = prev.problems
        click.echo(f"上季度汇总表：{prev_path}，{len(problems)} 个单位有上季度问题，"
                   f"共 {sum(len(v) for v in problems.values())} 条。")
        if prev.unknown:
            click.echo(f"  以下单位不在本期方案中，其上季度问题未列入：{'、'.join(prev.unknown)}")
    out = out_folder(out_dir)
    bar, tick = progress_bar(len(p.units), "正在生成")
    result = None

    def work():
        nonlocal result
        result = run(p, out, progress=tick, make_zips=not no_zip, problems=problems)

    try:
        write_guard(out, work)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    click.echo(f"已生成 {result.forms} 份评分细则表，{len(result.folders)} 个文件夹"
               + (f"、{len(result.zips)} 个压缩包" if result.zips else "") + f"，位于 {out}{os.sep}")


@cli.command(context_settings=CONTEXT)
@HELP
@read_options
@click.option("--out", "out_dir", type=click.Path(), default="output", show_default=True, metavar="文件夹",
              help="输出文件夹；汇总表写为其中的 评分汇总表.xlsx。")
@click.option("--json", "as_json", is_flag=True, help="把结果以 JSON 输出到标准输出（同时仍写汇总表）。")
def merge(collected_dir, plan_file, out_dir, as_json, merged_on, max_file_mb, max_unzipped_mb, max_cells, summary_unit):
    """汇总收表文件夹（默认 collected/）中交回的评分表，生成 评分汇总表.xlsx。

    读取文件夹及子文件夹中的 .xlsx、.xlsm、.xls、.ods 和 .zip；按表内记录的单位识别，
    与文件名无关。每个得分都按扣分重新计算，并检查评分规则。结果写入输出文件夹（--out，默认 output/）
    中的 评分汇总表.xlsx，每个文件是否采用、为何拒收都列在“文件清单”中。

    有错误的汇总单位各得到一份退回修改清单（输出文件夹中的 退回修改清单/），写明单位、单元格、问题和应当如何填写。

    退出码：0 无错误；1 发现错误（汇总表照常生成）；2 用法或方案错误；3 无法写入输出。
    """
    from xlsx_tool.findings import ERROR, INFO, WARNING
    from xlsx_tool.outputs.summary import SUMMARY_FILE, to_json

    from contextlib import nullcontext, redirect_stdout

    from xlsx_tool.interfaces.jobs import write_merge
    from xlsx_tool.outputs.corrections import FOLDER

    p = plan_or_stop(plan_file)
    out = out_folder(out_dir)
    # with --json, standard output holds the JSON alone: whatever a library prints goes to stderr
    with redirect_stdout(sys.stderr) if as_json else nullcontext():
        result = read_collected(p, collected_dir, merged_on, max_file_mb, max_unzipped_mb, max_cells, out, summary_unit)
        _, lists = write_merge(result, out, guard=write_guard)
    target = out / SUMMARY_FILE
    errors = result.count(ERROR)
    if as_json:
        # one line: json.dumps without indent is the C encoder, four times faster than json.dump
        # (10,000 units: 0.5 s instead of 2 s); read it with a program (jq, Python), not by eye
        import json

        click.echo(json.dumps(to_json(result), ensure_ascii=False))
    say = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    if not result.received:
        click.echo(f"警告：{nothing_received(Path(result.collected), len(result.files))}", err=True)
    say(f"收到评分表 {result.received}/{result.expected} 份（共读取 {len(result.files)} 个文件）；"
        f"错误 {errors} 条，警告 {result.count(WARNING)} 条，提示 {result.count(INFO)} 条。")
    breaches = result.quota_breaches
    if breaches:
        r = p.rules
        say(f"{r.high_score}分及以上超过{r.share_text}：{'、'.join(s.summary.name for s in breaches)}。")
    for f in [f for f in result.findings if f.severity == ERROR][:10]:
        say(f"  {f}")
    if errors > 10:
        say(f"  ……其余 {errors - 10} 条见汇总表的“问题清单”。")
    with_rows = [s.summary.name for s in result.summaries if s.rows]
    if not summary_unit and len(with_rows) == 1 and len(result.summaries) > 1:
        say(f"提示：只收到 {with_rows[0]} 的评分表。如果这是本单位自己的汇总，请加 --summary-unit {with_rows[0]}："
            "汇总表将只含本单位，并以要上报的附件3开头。")
    say(f"汇总表：{target}")
    if lists:
        say(f"退回修改清单 {len(lists)} 份：{out / FOLDER}")
    sys.exit(1 if errors else 0)


@cli.command(context_settings=CONTEXT)
@HELP
@read_options
@click.option("--out", "out_dir", type=click.Path(), default="output", show_default=True, metavar="文件夹",
              help="输出文件夹；报告写为其中的 简要核查报告-<汇总单位>.docx 和 简要核查报告-汇总.docx。")
def report(collected_dir, plan_file, merged_on, max_file_mb, max_unzipped_mb, max_cells, summary_unit, out_dir):
    """根据交回的评分表起草简要核查报告（.docx）：每个汇总单位一份，另有一份汇总。

    报告是初稿：核查对象、时间、得分、特色亮点、主要扣分、三分之一规则、排名和未交单位
    都取自评分表和方案；数据中没有的内容写作“（待补充）”，须人工补充后定稿。

    退出码：0 无错误；1 评分表中有错误（报告照常生成）；2 用法或方案错误；3 无法写入输出。
    """
    from xlsx_tool.findings import ERROR
    from xlsx_tool.interfaces.jobs import write_report

    p = plan_or_stop(plan_file)
    out = out_folder(out_dir)
    result = read_collected(p, collected_dir, merged_on, max_file_mb, max_unzipped_mb, max_cells, out, summary_unit)
    if not result.received:  # a draft from nothing would be 23 pages of （待补充）
        raise UserError(f"没有起草报告：{nothing_received(Path(result.collected), len(result.files))}"
                        "报告根据交回的评分表起草，请先收表。")
    paths = write_report(result, out, guard=write_guard)
    click.echo(f"已起草 {len(paths)} 份简要核查报告（收到评分表 {result.received}/{result.expected} 份），位于 {out}{os.sep}")
    click.echo("这些是初稿：“（待补充）”处须人工补充，数字以评分汇总表为准。")
    sys.exit(1 if result.count(ERROR) else 0)


@cli.command(context_settings=CONTEXT)
@HELP
@click.argument("collected_dir", type=click.Path(), default="collected", metavar="[收表文件夹]")
@PLAN
@click.option("--date", "today", type=DATE, help="按这一天计算剩余天数，默认今天。")
@click.option("--all", "show_all", is_flag=True, help="也列出已交齐的汇总单位的单位名单。")
def status(collected_dir, plan_file, today, show_all):
    """收表进度：每个汇总单位已交几份、谁还没交（附组长、联络员电话）、离截止还有几天。

    只读取、不生成任何文件，可以每收到一封邮件就运行一次。无法识别的文件也会列出。
    """
    import datetime as dt

    from xlsx_tool.judging.merge import REFUSED
    from xlsx_tool.judging.merge import merge as run
    from xlsx_tool.outputs.progress import deadline_text, report_state, still_owed, summary_state

    p = plan_or_stop(plan_file)
    src = collected_folder(collected_dir)
    day = today or dt.date.today()
    result = run(p, src, today=day)
    _, when = deadline_text(p.deadline, day)
    click.echo(f"{p.period}：已收 {result.received}/{result.expected} 份，{when}。")
    click.echo(f"收表文件夹：{src}")
    if not result.received:
        click.echo(f"提示：{nothing_received(src, len(result.files))}")
    for i, s in enumerate(result.summaries, 1):
        su = s.summary
        mark = "√" if not s.missing else " "  # every form in; √ is in GBK (a Chinese Windows console), ✓ is not
        click.echo(f"{mark}{i:>3}. {su.name}  {len(s.rows)}/{len(su.units)}"
                   f"  汇总表 {summary_state(s)}  简要核查报告 {report_state(s)}"
                   + (f"  拒收 {s.refused}" if s.refused else ""))
        owes = still_owed(s)
        if s.missing:
            click.echo(f"       未交：{'、'.join(u.name for u in s.missing)}")
        if owes:
            click.echo(f"       还应上报：{'、'.join(owes)}")
        if s.missing or owes:
            click.echo(f"       联系：{su.contacts}")
        elif show_all:
            click.echo(f"       {'、'.join(r.unit.name for r in s.rows)}")
    refused = [f for f in result.files if f.status == REFUSED]
    if refused:
        click.echo(f"\n无法采用的文件（{len(refused)} 个）：")
        for f in refused:
            click.echo(f"  {f.name}：{f.reason}")


@cli.command(context_settings=CONTEXT)
@HELP
@click.argument("directory", type=click.Path(), default="demo", metavar="[文件夹]")
@click.option("--seed", type=int, default=2017, show_default=True, metavar="整数", help="随机种子（相同种子得到相同的模拟数据）。")
def demo(directory, seed):
    """用内置方案和模拟的交回表格演示全过程（生成 → 填写 → 汇总）。

    在给出的文件夹（默认 demo/）下生成 blank_forms/、collected/（模拟交回，含常见错误和缺交）
    和 output/（评分汇总表.xlsx、退回修改清单、简要核查报告初稿）。
    """
    from xlsx_tool.interfaces.demo import run_demo
    from xlsx_tool.findings import ERROR, WARNING

    p = plan_or_stop(None)
    d = out_folder(directory, "请在命令后写一个文件夹（例如 xlsx-tool demo 演示）")
    result = None

    def work():
        nonlocal result
        result = run_demo(p, d, seed)

    write_guard(d, work)
    click.echo(f"演示完成（{d}{os.sep}）：")
    click.echo(f"  空白评分表：{d / 'blank_forms'}")
    click.echo(f"  模拟交回：  {d / 'collected'}（{len(result.files)} 个文件）")
    click.echo(f"  汇总表：    {d / 'output' / '评分汇总表.xlsx'}")
    click.echo(f"  退回修改清单、简要核查报告（初稿）：{d / 'output'}")
    click.echo(f"  收到 {result.received}/{result.expected} 份；错误 {result.count(ERROR)} 条，警告 {result.count(WARNING)} 条。")


from xlsx_tool.interfaces.serve_cmd import serve  # noqa: E402  (the page in the browser: its own module)

cli.add_command(serve)


def main():
    try:
        cli(standalone_mode=True)  # usage errors and Ctrl+C are printed by click_zh.Group.main
    except Exception as e:  # noqa: BLE001 — users get a message, not a traceback
        if os.environ.get("XLSX_TOOL_DEBUG"):
            raise
        click.echo(f"程序内部错误（{type(e).__name__}: {e}）。请把这条信息和所用文件发给技术人员；"
                   "设置环境变量 XLSX_TOOL_DEBUG=1 可看到详细信息。", err=True)
        sys.exit(4)
