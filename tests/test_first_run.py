"""The README's quick start, typed as a new user would: its first command, in a fresh copy of the project.

A fresh Debian 12 / Ubuntu 24.04 refuses `pip install` into the system Python (PEP 668), so the quick
start makes a virtual environment.  The test runs the README's own line with bash in a copy of the
project (without this checkout's .venv), so the README cannot drift from what works.  pip installs from
its cache and the package index, as on a user's machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
# what a checkout holds besides the project: environments, caches, outputs of earlier runs
LEFT_OUT = {".venv", ".git", "demo", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis",
            "blank_forms", "collected", "output"}


def quick_start() -> tuple[list[str], str]:
    """The commands of the README's 快速开始 bash block, and the section's text."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## 快速开始"):readme.index("\n## ", readme.index("## 快速开始") + 1)]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return commands, section


def test_quick_start_is_two_commands_for_linux_and_says_what_windows_types():
    commands, section = quick_start()
    assert len(commands) == 2 and commands[1] == "bash .ci/run"
    assert "pip install" not in commands[0].split("&&")[0] and "python3 -m pip" not in commands[0]
    assert "python3-venv" in section
    for windows in ["py -m venv .venv", r".venv\Scripts\pip install .", r".venv\Scripts\xlsx-tool demo"]:
        assert windows in section


def test_quick_start_installs_and_runs_the_demo_in_a_fresh_copy(tmp_path):
    copy = tmp_path / "xlsx-tool"
    shutil.copytree(ROOT, copy, ignore=lambda d, names: {n for n in names if n in LEFT_OUT or n.endswith(".egg-info")})
    command = quick_start()[0][0]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    # the system's python3, as the README says, not the interpreter running the tests
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(sys.prefix) not in Path(p).parents and p != str(Path(sys.executable).parent))
    env["PYTHONIOENCODING"] = "gbk:strict"  # and its output as a Chinese Windows would take it
    res = subprocess.run(["bash", "-c", command], cwd=copy, env=env, capture_output=True)
    out = res.stdout.decode("gbk", "replace") + res.stderr.decode("utf-8", "replace")
    assert res.returncode == 0, out
    assert (copy / ".venv").is_dir()
    demo = copy / "demo"
    assert f"演示完成（{demo}{os.sep}）" in res.stdout.decode("gbk")
    wb = openpyxl.load_workbook(demo / "output" / "评分汇总表.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["回收情况", "问题清单", "全部单位排名"]
    wb.close()
    assert len(list((demo / "blank_forms").rglob("*.xlsx"))) == 137
    assert len(list((demo / "output").glob("简要核查报告-*.docx"))) == 23
