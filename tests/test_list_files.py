"""collect.list_files: every file under the collected folder, in the order sorted(rglob) gives."""

from __future__ import annotations

import os
from pathlib import Path

from xlsx_tool.reading.collect import list_files


def _rglob(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def test_same_files_and_order_as_rglob(tmp_path):
    root = tmp_path / "collected"
    # names that sort differently as strings and part by part ("a b", "a-1", "a.zip" sort before "a/…")
    for rel in ["a/x.xlsx", "a b/z.xlsx", "a-1.xlsx", "a.zip", "a.zip.d/q.xlsx", "第一核查组/单位.xlsx",
                "deep/er/still/f.xlsx", "~$锁文件.xlsx", ".hidden.xlsx"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "empty folder").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "y.xlsx").write_bytes(b"y")
    os.symlink(outside, root / "link to folder")  # listed as itself, not followed
    os.symlink(root / "a" / "x.xlsx", root / "link to file")
    os.symlink(tmp_path / "nowhere", root / "broken link")
    found = list_files(root)
    assert found == _rglob(root)
    rel = [p.relative_to(root).as_posix() for p in found]
    assert "link to folder" in rel and "broken link" in rel and "link to folder/y.xlsx" not in rel
    assert rel.index("a/x.xlsx") < rel.index("a b/z.xlsx") < rel.index("a-1.xlsx") < rel.index("a.zip")


def test_empty_and_missing_folder(tmp_path):
    assert list_files(tmp_path) == []
    assert list_files(tmp_path / "missing") == _rglob(tmp_path / "missing") == []
