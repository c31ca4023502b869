"""`xlsx-tool serve`: the page in the browser, for the office (收表进度, 上传, 汇总, 排名, 生成评分表).

Only click is imported here: Flask and waitress load when the command runs, so `--help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlsx_tool.interfaces.click_zh import Command, Day

HELP = click.help_option("-h", "--help", help="显示本帮助并退出。")
PLAN_HELP = "方案文件（YAML）；不写则使用内置的 2017 年第三季度方案。"


@click.command("serve", cls=Command, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@HELP
@click.argument("folder", type=click.Path(file_okay=False), default=".", metavar="[文件夹]")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), metavar="方案文件", help=PLAN_HELP)
@click.option("--port", type=int, default=None, metavar="端口",
              help="端口，默认 8017（被占用时自动换一个空闲端口）；0 表示任选空闲端口。")
@click.option("--host", default="127.0.0.1", metavar="地址",
              help="监听的地址，默认 127.0.0.1（只有本机能打开）；改为其他地址会让局域网中的电脑也能访问（不建议）。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器。")
@click.option("--date", "today", type=Day(), metavar="日期", help="按这一天计算剩余天数和汇总时间，默认今天（如 2017-11-06）。")
def serve(folder, plan_file, port, host, no_browser, today):
    """在浏览器中使用：查看收表进度、上传交回的评分表、汇总、查看排名、生成评分表。

    给出的文件夹（默认当前文件夹）中应有 blank_forms/、collected/ 和 output/ 三个文件夹（没有的会自动建立）。
    启动后显示本页的地址（含访问密钥），并自动用默认浏览器打开；只有本机能访问。
    按 Ctrl+C 停止。
    """
    import signal

    from xlsx_tool.interfaces.cli_common import UserError, plan_or_stop
    from xlsx_tool.interfaces.web.server import DEFAULT_PORT, make_server

    if port is not None and not 0 <= port <= 65535:
        raise UserError(f"端口 {port} 无效：请写 0～65535 之间的数（0 表示任选空闲端口）。")
    day = today
    p = plan_or_stop(plan_file)
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} 是一个文件，不是文件夹。")
    for sub in ("collected", "output", "blank_forms"):
        try:
            (root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            from xlsx_tool.errors_zh import describe

            raise UserError(f"无法建立文件夹 {root / sub}：{describe(e)}。") from None
    try:
        served = make_server(root, p, host=host, port=DEFAULT_PORT if port is None else port, today=day)
    except OSError as e:
        from xlsx_tool.errors_zh import describe

        raise UserError(f"无法在 {host} 上启动网页服务：{describe(e)}。请换一个端口（--port）再试。") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"警告：正在监听 {host}，局域网中的其他电脑也能打开本页（仍需访问密钥）。"
                   "只在确有需要时这样做，用完请按 Ctrl+C 停止。", err=True)
    wanted = DEFAULT_PORT if port is None else port
    if wanted and served.port != wanted:
        click.echo(f"端口 {wanted} 已被占用，改用 {served.port}。")
    click.echo(f"方案：{p.title}")
    click.echo(f"文件夹：{root.resolve()}")
    click.echo("请用浏览器打开下面的地址（已自动打开的可忽略）；按 Ctrl+C 停止：")
    click.echo(served.url)
    sys.stdout.flush()
    if not no_browser:
        import threading
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(served.url,), daemon=True).start()

    def stop(*_):
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)
    try:
        served.server.run()
    except KeyboardInterrupt:
        pass
    finally:
        served.server.close()
    click.echo("已停止。")
