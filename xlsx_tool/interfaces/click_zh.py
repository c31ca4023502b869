"""click in Chinese: its own messages, its help layout and its error output.

Users are office clerks who read no English, and click writes some of what they see itself: usage
errors ("No such option", "Did you mean", "Invalid value for"), help headings, "[default: …]".
Three pieces, each the smallest hook click offers:

- `install()`: click marks every such string with gettext (`_()`, `ngettext()` imported into each of
  its modules), but reads the process-wide "messages" domain, which needs compiled .mo files on disk
  and a Chinese LANG/LANGUAGE in the user's environment (a Chinese Windows sets neither).  So the
  catalogue is a dict here, and `install()` binds each click module's `_`/`ngettext` to a lookup in it.
  tests/test_cli_messages.py checks that every string click marks has an entry, so a new click
  version that adds one fails the suite instead of leaking English.
- `HelpFormatter`: headings with a full-width colon, the usage prefix, and wrapping by display width.
  click's wrapper (textwrap) counts characters and breaks only at spaces; a CJK character takes two
  columns, and click joins a paragraph's lines with a space ("发给各核查组。 一次运行").
- `Group.main`: prints usage errors the Chinese way (one line of usage, how to get help, the error).

Commands built with `Group`/`Command` get all three; metavars are given per option by the CLI.
"""

from __future__ import annotations

import re
import sys
import unicodedata

import click

CATALOGUE = {
    # core
    "Aborted!": "已中断。",
    "deprecated": "已停用",
    "Missing command.": "缺少命令。",
    "Options": "选项",
    "Positional arguments": "参数",
    "Commands": "命令",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "提示：命令 {name} 已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": "提示：{name} 已停用。{extra_message}",
    "Value must be an iterable.": "这里应当写一组值。",
    "Could not determine name for option with declarations {decls!r}": "无法确定选项 {decls} 的名称",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?": "没有定义选项却给出了名称（{name}）。",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "参数只能有一个名称，实际有 {length} 个：{decls}。",
    "(dynamic)": "（运行时确定）",
    "Name '{name}' defined twice": "名称 {name} 定义了两次",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "开关选项 {decl} 的“是”和“否”不能用同一个写法。",
    "required": "必填",
    # decorators
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不询问，直接确认。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Show the version and exit.": "显示版本号并退出。",
    "Show this message and exit.": "显示本帮助并退出。",
    # exceptions
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "unknown error": "未知错误",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename}：{message}",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "输入 {command} {option} 查看帮助。",
    "No such option {name!r}.": "没有 {name} 这个选项。",
    "No such command {name!r}.": "没有 {name} 这个命令。",
    # formatting
    "Usage:": "用法：",
    # parser
    "Invalid start character for option ({option})": "选项的开头字符不对（{option}）",
    "Option {name!r} does not take a value.": "选项 {name} 后面不能带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    # termui and the rest
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入的不一致。",
    "Unknown color {colour!r}": "未知的颜色 {colour}",
    "Error: invalid input": "错误：输入无效",
    "d": "天",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "Couldn't detect Bash version, shell completion is not supported.": "无法确定 Bash 的版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支持命令补全。",
    "Unknown standard stream '{name}'": "未知的标准流 {name}",
    "Windows error: {error}": "Windows 错误：{error}",
    # types
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "可选值（{choices}）",
    "{value} is not in the range {range}.": "{value} 超出允许的范围（{range}）。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是/否值，可写：{states}",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字。",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "{name} {filename!r} is a file.": "{filename} 是一个文件，这里应当写{name}。",
    "{name} {filename!r} is a directory.": "{filename} 是一个文件夹，这里应当写{name}。",
    "{name} {filename!r} is not readable.": "没有权限读取{name} {filename}。",
    "{name} {filename!r} is not writable.": "没有权限写入{name} {filename}。",
    "{name} {filename!r} is not executable.": "{name} {filename} 不能运行。",
    "{name} {filename!r} does not exist.": "{name} {filename} 不存在。",
}

# ngettext: (singular, plural) -> (Chinese for one, Chinese for several)
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多出了参数：{args}。", "多出了参数：{args}。"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个值，只给了 1 个。", "需要 {nargs} 个值，给了 {len} 个。"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("您是不是要写 {possibility}？", "您是不是要写其中之一：{possibilities}？"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name} 后面要写一个值。", "选项 {name} 后面要写 {nargs} 个值。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("“{value}”不是 {choice}。", "“{value}”不在可选的值中：{choices}。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("“{value}”不符合格式 {format}。", "“{value}”不符合以下任一格式：{formats}。"),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("需要 {len_type} 个值，给了 {len_value} 个。", "需要 {len_type} 个值，给了 {len_value} 个。"),
}

# the click modules that import gettext's `_`/`ngettext` (click 8.1 to 8.5)
MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "_termui_impl",
           "shell_completion", "utils")


def gettext(message: str) -> str:
    return CATALOGUE.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    one, many = PLURALS.get((singular, plural), (singular, plural))
    return one if n == 1 else many


def install() -> None:
    """Bind click's message lookups to the catalogue (once, before any command is defined)."""
    import importlib

    for name in MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # _termui_impl, shell_completion: present in every click this project allows
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext


# ---- display width and wrapping ------------------------------------------------------------------

_OPEN = set("（“‘《「『【")
_CLOSE = set("，。、；：？！）”’》」』】…")


def cells(text: str) -> int:
    """Columns a terminal gives the text: two for a wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in "WF"


def join_lines(lines: list[str]) -> str:
    """A paragraph's source lines as one line: no space where a CJK character meets a line break,
    one space where two ASCII words or an ASCII word and a CJK character meet (the project's style)."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if out and not (out[-1] in _CLOSE or line[0] in _CLOSE or out[-1] in _OPEN
                        or (_wide(out[-1]) and _wide(line[0]))):
            out += " "
        out += line
    return out


def _may_break(a: str, b: str) -> bool:
    """May a line end between characters a and b?  At spaces; between two CJK characters unless
    punctuation would start or end a line wrongly; where CJK meets an ASCII letter or digit
    ("第3项", "output 与"), never inside an ASCII word (".xlsx", "--out", "<汇总单位>.docx")."""
    if a == " " or b == " ":
        return True
    if b in _CLOSE or a in _OPEN:
        return False
    if _wide(a) and _wide(b):
        return True
    if _wide(a) != _wide(b):
        return (b if _wide(a) else a).isalnum()
    return False


def _atoms(text: str) -> list[str]:
    """The text cut at every place a line may end; a [bracketed] note (click's "[默认：…]") stays whole."""
    atoms: list[str] = []
    depth = 0
    for c in text:
        same_kind = atoms and (c == " ") == (atoms[-1][-1] == " ")  # spaces are atoms of their own
        if same_kind and (depth or not _may_break(atoms[-1][-1], c)):
            atoms[-1] += c
        else:
            atoms.append(c)
        depth += (c == "[") - (c == "]" and depth > 0)
    return atoms


def wrap(text: str, width: int) -> list[str]:
    """One paragraph wrapped to `width` columns (see `_may_break`)."""
    lines: list[str] = []
    line, used = "", 0
    for atom in _atoms(text):
        w = cells(atom)
        if line.strip() and used + w > width and not atom.isspace():
            lines.append(line.rstrip())
            line, used = "", 0
        if not line and atom.isspace():
            continue
        line += atom
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _paragraphs(text: str):
    """(indent, raw, lines) for each paragraph; a paragraph starting with a \\b line is kept as written."""
    para: list[str] = []
    for line in text.splitlines() + [""]:
        if line.strip():
            para.append(line)
            continue
        if para:
            indent = len(para[0]) - len(para[0].lstrip())
            if para[0].strip() == "\b":
                yield indent, True, para[1:]
            else:
                yield indent, False, para
        para = []


class HelpFormatter(click.HelpFormatter):
    """Help in Chinese: full-width colons, Chinese usage words, wrapping by display width."""

    def write_usage(self, prog, args="", prefix=None):
        # (Command and Group set these metavars; the replacements cover a plain click command added later)
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]...")
        self.write(f"{' ' * self.current_indent}用法：{prog} {args}".rstrip() + "\n")

    def write_heading(self, heading):
        self.write(f"{' ' * self.current_indent}{gettext(heading)}：\n")

    def _wrapped(self, text: str, width: int) -> list[str]:
        out: list[str] = []
        for indent, raw, para in _paragraphs(text):
            if out:
                out.append("")
            if raw:
                out.extend(para)
            else:
                out.extend(" " * indent + ln for ln in wrap(join_lines(para), max(width - indent, 20)))
        return out

    def write_text(self, text):
        pad = " " * self.current_indent
        for line in self._wrapped(text, self.width - self.current_indent):
            self.write(f"{pad}{line}".rstrip() + "\n")

    def write_dl(self, rows, col_max=30, col_spacing=2):
        rows = list(rows)
        first_col = min(max((cells(a) for a, _ in rows), default=0), col_max) + col_spacing
        pad = " " * self.current_indent
        for first, second in rows:
            self.write(f"{pad}{first}")
            if not second:
                self.write("\n")
                continue
            if cells(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cells(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = self._wrapped(second, max(self.width - first_col - self.current_indent, 20)) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{pad}{' ' * first_col}{line}".rstrip() + "\n")


class Context(click.Context):
    formatter_class = HelpFormatter


def _short_help(cmd: click.Command) -> str:
    """The command list's one line: the help's first sentence.  (click cuts at an ASCII '.' and
    appends '...', which a Chinese sentence never has.)"""
    if cmd.short_help:
        return cmd.short_help
    first = next((p for _i, raw, p in _paragraphs(cmd.help or "") if not raw), [])
    text = join_lines(first)
    return text.split("。")[0] + "。" if "。" in text else text


class Command(click.Command):
    context_class = Context

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)

    def get_short_help_str(self, limit=45):
        return _short_help(self)


_HELP_AS_ERROR = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.2 and later
_AFTER_PUNCT = re.compile(r"(?<=[，。、；：？！）”]) +")


def show_error(e: click.ClickException) -> None:
    """What click's `show()` prints, in Chinese and without the space click puts between sentences."""
    if isinstance(e, _HELP_AS_ERROR):  # a group run without a command: its help is the message
        click.echo(e.format_message(), err=True)
        return
    message = _AFTER_PUNCT.sub("", e.format_message())
    if isinstance(e, click.UsageError) and e.ctx is not None:
        click.echo(e.ctx.get_usage(), err=True)
        help_name = max(e.ctx.command.get_help_option_names(e.ctx) or ["--help"], key=len)
        hint = gettext("Try '{command} {option}' for help.").format(command=e.ctx.command_path, option=help_name)
        click.echo(f"{hint}\n", err=True)
    click.echo(f"错误：{message}", err=True)


class Group(click.Group, Command):
    """The command group: its subcommands and subgroups are `Command`s and `Group`s, its errors Chinese."""

    context_class = Context
    command_class = Command
    group_class = type  # subgroups are of this same class

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        # click's standalone mode prints errors with its own `show()`; the documented way to print
        # them otherwise is to run without it and handle the exceptions here
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as e:
            show_error(e)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("已中断。", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


class AtLeast(click.ParamType):
    """A whole number not below `minimum`, with a Chinese name and message (click's IntRange says
    "INTEGER RANGE" and "x>=1")."""

    name = "整数"

    def __init__(self, minimum: int):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"“{value}”不是整数。", param, ctx)
        if number < self.minimum:
            self.fail(f"{number} 太小，最小为 {self.minimum}。", param, ctx)
        return number


class Day(click.ParamType):
    """A day written 2017-11-06.  (click.DateTime parses with strptime, whose import alone costs 2 ms at every start.)"""

    name = "日期"

    def convert(self, value, param, ctx):
        import datetime as dt

        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10 and text[4] == text[7] == "-":
                return dt.date.fromisoformat(text)
        except ValueError:
            pass
        self.fail(f"“{value}”不是有效的日期，请写成 2017-11-06 这样的格式。", param, ctx)


install()
