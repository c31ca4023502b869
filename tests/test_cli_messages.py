"""What a user sees from `xlsx-tool`, run as a program: every word Chinese, every line encodable in GBK.

Each command runs in a subprocess of the installed `xlsx-tool` with PYTHONIOENCODING=gbk:strict, as
on a Chinese Windows whose output is redirected to a file: a character outside GBK ends the run with
UnicodeEncodeError.  Mistakes (a misspelt option or command, a bad value, a file given for a folder,
an empty folder) must answer in Chinese with a hint.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import openpyxl
import pytest

from xlsx_tool.interfaces import click_zh
from xlsx_tool.interfaces.cli import cli
from xlsx_tool.interfaces.click_zh import cells

EXE = Path(sys.executable).with_name("xlsx-tool.exe" if os.name == "nt" else "xlsx-tool")

# ASCII words a Chinese message may contain: the program's and its commands' names, formats and programs
ALLOWED = {
    "xlsx", "tool", "xls", "xlsm", "ods", "zip", "docx", "yaml", "YAML", "JSON", "Tab", "Excel", "WPS", "Windows",
    "blank_forms", "collected", "output", "demo", "jq", "Ctrl",
}
# click's line joining: "发给各核查组。 一次运行" (the two spaces before click's "[默认：…]" are its layout)
CJK_PUNCT_SPACE = re.compile(r"[，。、；：？！）”] +[^\s\[]")


def run(*args, cwd: Path, check_code: int | None = 0) -> subprocess.CompletedProcess:
    assert EXE.exists(), f"xlsx-tool is not installed next to {sys.executable}: pip install -e ."
    env = {**os.environ, "PYTHONIOENCODING": "gbk:strict", "COLUMNS": "80"}
    env.pop("XLSX_TOOL_DEBUG", None)
    res = subprocess.run([str(EXE), *map(str, args)], cwd=cwd, env=env, capture_output=True)
    out = res.stdout.decode("gbk") + res.stderr.decode("gbk")  # strict: a wrong byte fails the test
    assert "Traceback" not in out and "UnicodeEncodeError" not in out, out
    if check_code is not None:
        assert res.returncode == check_code, out
    res.out = out
    return res


def english_words(text: str, *paths: Path, typed=()) -> set[str]:
    """ASCII words of three letters or more, other than paths, option names, the allowed words and
    what the user typed (quoted back: "没有 mege 这个命令")."""
    for p in sorted(paths, key=lambda p: -len(str(p))):
        text = text.replace(str(p), "")
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", "", text)  # option names: --out, -h
    text = re.sub(r"\S+\.(?:xlsx|yaml|txt|docx|zip)\b", "", text)  # file names
    commands = {name for path in all_commands() for name in path}
    return {w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in ALLOWED | commands | set(typed)}


def all_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    """Every command's path, the group's own included (a command added later is tested too)."""
    yield path
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*path, name))
        else:
            yield (*path, name)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """`xlsx-tool demo` in a fresh folder: blank forms, returns with mistakes and the outputs."""
    where = tmp_path_factory.mktemp("demo")
    res = run("demo", "演示", cwd=where)
    assert f"演示完成（{where / '演示'}{os.sep}）" in res.out  # absolute path
    return where / "演示"


# ---- click's own words -----------------------------------------------------------------------------

def test_catalogue_has_every_string_click_marks():
    """Every `_("…")` and `ngettext("…", "…")` in the installed click has a Chinese entry."""
    missing = []
    for name in click_zh.MODULES:
        path = Path(click.__file__).with_name(f"{name}.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "_" and texts and texts[0] not in click_zh.CATALOGUE:
                missing.append(texts[0])
            if node.func.id == "ngettext" and len(texts) == 2 and tuple(texts) not in click_zh.PLURALS:
                missing.append(texts)
    assert not missing
    translations = [*click_zh.CATALOGUE.values(), *(z for pair in click_zh.PLURALS.values() for z in pair)]
    words = {w for zh in translations for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{\w*(?:!r)?\}|%\(\w+\)s", "", zh))}
    assert words <= {"Bash", "Windows", "UUID"}


@pytest.mark.parametrize("command", list(all_commands()), ids=lambda c: " ".join(c) or "xlsx-tool")
def test_help_is_chinese_and_wrapped(command, tmp_path):
    res = run(*command, "--help", cwd=tmp_path)
    assert res.out.startswith(f"用法：xlsx-tool {' '.join(command)}".replace("  ", " "))
    assert "选项：" in res.out and "Options" not in res.out and "Usage" not in res.out
    assert not english_words(res.out), res.out
    assert not CJK_PUNCT_SPACE.search(res.out), res.out
    assert max(cells(line) for line in res.out.splitlines()) <= 80, res.out
    if "[默认" in res.out:
        assert re.search(r"\[默认：\w+\]", res.out)


def test_help_metavars_and_defaults(tmp_path):
    out = run("merge", "--help", cwd=tmp_path).out
    assert "用法：xlsx-tool merge [选项] [收表文件夹]" in out
    for line in ["--plan 方案文件", "--date 日期", "--max-file-mb 整数", "--out 文件夹"]:
        assert line in out
    assert "[默认：output]" in out and "[默认：20]" in out
    assert "用法：xlsx-tool [选项] 命令 [参数]..." in run("--help", cwd=tmp_path).out


# ---- mistakes get a Chinese answer with a hint -------------------------------------------------------

MISTAKES = {
    # args, exit code, what the answer must say
    "misspelt option": (["merge", "--ouput", "x"], 2, "没有 --ouput 这个选项。您是不是要写 '--out'？"),
    "misspelt command": (["mege"], 2, "没有 mege 这个命令。您是不是要写 'merge'？"),
    "misspelt subcommand": (["plan", "chek"], 2, "没有 chek 这个命令。您是不是要写 'check'？"),
    "slashed date": (["merge", "--date", "2017/11/03"], 2, "“2017/11/03”不是有效的日期，请写成 2017-11-06 这样的格式。"),
    "limit too small": (["merge", "--max-cells", "5"], 2, "5 太小，最小为 1000。"),
    "limit not a number": (["merge", "--max-file-mb", "abc"], 2, "“abc”不是整数。"),
    "seed not a number": (["demo", "--seed", "x"], 2, "“x”不是有效的数字。"),
    "option without value": (["merge", "--out"], 2, "选项 --out 后面要写一个值。"),
    "flag with value": (["generate", "--no-zip=1"], 2, "选项 --no-zip 后面不能带值。"),
    "extra argument": (["merge", "a", "b"], 2, "多出了参数：b。"),
    "plan is a folder": (["plan", "check", "--plan", "空文件夹"], 2, "是一个文件夹，这里应当写文件。"),
    "plan missing": (["plan", "show", "--plan", "nope.yaml"], 2, "nope.yaml 有误：文件不存在"),
    "previous missing": (["generate", "--previous", "nope.xlsx"], 2, "无法读取上季度汇总表"),
    "out is a file": (["generate", "--out", "notes.txt"], 2, "是一个文件，不是文件夹。请用 --out 指定一个文件夹。"),
    "group without command": (["plan"], 2, "用法：xlsx-tool plan [选项] 命令 [参数]..."),
    "program without command": ([], 2, "命令："),
}


@pytest.fixture()
def desk(tmp_path) -> Path:
    """A folder as a clerk has it: a text file, a workbook and an empty folder."""
    (tmp_path / "notes.txt").write_text("会议记录", encoding="utf-8")
    (tmp_path / "某单位评分表.xlsx").write_bytes(b"PK")
    (tmp_path / "空文件夹").mkdir()
    return tmp_path


@pytest.mark.parametrize("name", MISTAKES)
def test_mistakes_answered_in_chinese(name, desk):
    args, code, says = MISTAKES[name]
    res = run(*args, cwd=desk, check_code=code)
    assert says in res.out, res.out
    assert not english_words(res.out, desk, typed=args), res.out
    assert not CJK_PUNCT_SPACE.search(res.out.replace("错误：", "")), res.out
    if "错误：" in res.out and args and args != ["plan"]:
        assert res.out.rstrip().splitlines()[-1].startswith("错误："), res.out


def test_file_given_for_folder(desk):
    for name in ["notes.txt", "某单位评分表.xlsx"]:
        for command in ["merge", "status", "report"]:
            res = run(command, name, "--out" if command != "status" else "--all", *(["out"] if command != "status" else []),
                      cwd=desk, check_code=2)
            assert f"{desk / name} 是一个文件，不是文件夹。" in res.out, res.out
            assert "找不到" not in res.out
    res = run("merge", "某单位评分表.xlsx", cwd=desk, check_code=2)
    assert "请把这个文件放进一个文件夹" in res.out
    assert not (desk / "output").exists()


def test_missing_folder_is_named_absolutely(desk):
    res = run("merge", "收表", cwd=desk, check_code=2)
    assert f"找不到文件夹 {desk / '收表'}。" in res.out


def test_empty_or_wrong_folder_is_a_warning_with_its_absolute_path(desk):
    (desk / "别的文件").mkdir()
    (desk / "别的文件" / "会议记录.txt").write_text("会议记录", encoding="utf-8")
    (desk / "别的文件" / "照片.jpg").write_bytes(b"\xff\xd8\xff")
    for folder in ["空文件夹", "别的文件"]:  # empty; holding no form
        res = run("merge", folder, "--out", "汇总", cwd=desk, check_code=None)
        where = (desk / folder).absolute()
        assert res.stderr.decode("gbk").startswith(f"警告：文件夹 {where} "), res.out
        assert "这个文件夹应当存放各核查组交回的评分细则表" in res.out
        assert "收到评分表 0/137 份" in res.out
    assert "是空的" in run("merge", "空文件夹", "--out", "汇总", cwd=desk).out
    assert "中有 2 个文件，但没有一份可用的评分表" in run("merge", "别的文件", "--out", "汇总2", cwd=desk, check_code=None).out


def test_report_drafts_nothing_from_nothing(desk):
    res = run("report", "空文件夹", "--out", "报告", cwd=desk, check_code=2)
    assert "错误：没有起草报告：文件夹" in res.out and str(desk / "空文件夹") in res.out
    assert not (desk / "报告").exists() or not any((desk / "报告").iterdir())


def test_demo_given_a_file_does_not_suggest_out(desk):
    res = run("demo", "notes.txt", cwd=desk, check_code=2)
    assert "--out" not in res.out
    assert f"{desk / 'notes.txt'} 是一个文件，不是文件夹。请在命令后写一个文件夹" in res.out


def test_yaml_mistakes_in_chinese_with_line_and_column(tmp_path):
    cases = {
        "id: [unclosed\n": ("第2行第1列", "方括号 [ ] 没有配对"),
        "id: a: b\n": ("第1行第6列", "这里不能再有冒号"),
        "id: x\n\tname: y\n": ("第2行第1列", "不能用 Tab 键缩进"),
        "a:\n  b: 1\n c: 2\n": ("第3行第2列", "缩进没有对齐"),
        'id: "x\n': ("第2行第1列", "引号没有配对"),
        "id: @x\n": ("第1行第5列", "“@”不能放在值的开头"),
        "a:\n- b\n-c: [\n": ("第4行第1列", "这里缺少内容"),
        'path: "C:\\new\\q"\n': ("第1行第", "双引号里的反斜杠"),
    }
    for i, (text, (where, what)) in enumerate(cases.items()):
        path = tmp_path / f"方案{i}.yaml"
        path.write_text(text, encoding="utf-8")
        res = run("plan", "check", "--plan", path.name, cwd=tmp_path, check_code=2)
        assert f"错误：方案文件 {path} 有误：{where}" in res.out, res.out
        assert what in res.out, res.out
        assert not english_words(res.out, tmp_path), res.out


# ---- every command's ordinary output encodes in GBK --------------------------------------------------

def test_every_command_prints_in_gbk(demo, tmp_path):
    collected = demo / "collected"
    assert run("plan", "check", cwd=tmp_path).out.startswith("方案：")
    assert "汇总单位（22 个" in run("plan", "show", cwd=tmp_path).out
    gen = run("generate", "--out", "空白表", cwd=tmp_path).out
    assert f"已生成 137 份评分细则表，22 个文件夹、22 个压缩包，位于 {tmp_path / '空白表'}{os.sep}" in gen
    status = run("status", collected, "--date", "2017-11-06", "--all", cwd=tmp_path).out
    assert "√  1. 第一核查组  10/10" in status and "✓" not in status
    assert "距上报截止（11月07日）还有 1 天" in status
    merged = run("merge", collected, "--out", "汇总", "--date", "2017-11-06", cwd=tmp_path, check_code=1).out
    assert f"汇总表：{tmp_path / '汇总' / '评分汇总表.xlsx'}" in merged
    as_json = run("merge", collected, "--out", "汇总2", "--json", "--date", "2017-11-06", cwd=tmp_path, check_code=1)
    assert as_json.stdout.decode("gbk").startswith("{")
    report = run("report", collected, "--out", "报告", "--date", "2017-11-06", cwd=tmp_path, check_code=1).out
    assert f"已起草 23 份简要核查报告（收到评分表 133/137 份），位于 {tmp_path / '报告'}{os.sep}" in report
    wb = openpyxl.load_workbook(tmp_path / "汇总" / "评分汇总表.xlsx", read_only=True)
    assert wb.sheetnames[0] == "回收情况"
    wb.close()


def test_status_dates_carry_the_year_when_not_this_year(demo, tmp_path):
    """Run today (years after 2017), the deadline is 2017年11月07日, not 11月07日."""
    out = run("status", demo / "collected", cwd=tmp_path).out
    assert "已超过上报截止日期（2017年11月07日）" in out
    assert f"收表文件夹：{demo / 'collected'}" in out


def test_missing_contacts_are_not_bracketed_twice(plan):
    no_contacts = [s for s in plan.summary_units if not s.leader and not s.liaison]
    assert no_contacts and no_contacts[0].contacts == "方案未列联系人"
    from xlsx_tool.findings import make

    shown = make("unit-missing", unit="州档案局", summary=no_contacts[0].name, contacts=no_contacts[0].contacts).message
    assert shown == f"州档案局 未交评分表（{no_contacts[0].name}：方案未列联系人）"
