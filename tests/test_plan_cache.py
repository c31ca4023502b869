"""The plan parse cache (xlsx_tool/plan.py): a run whose plan text is unchanged reuses the parsed YAML
and never imports yaml; any other text, a damaged entry or an unusable cache folder is a miss that
gives exactly the plan an uncached load gives.  Real files throughout; nothing is mocked.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlsx_tool.plan import PlanError, load_plan

EMBEDDED = Path(__file__).resolve().parents[1] / "xlsx_tool" / "plans" / "2017q3.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XLSX_TOOL_CACHE", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def only_entry(folder: Path) -> Path:
    found = entries(folder)
    assert len(found) == 1, found
    return found[0]


def stamp(path: Path) -> tuple[int, int, bytes]:
    """Identity of an entry: a miss rewrites it through a new file (os.replace), a hit leaves it alone."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def uncached(path=None):
    """The plan as loaded with the cache disabled."""
    old = os.environ.get("XLSX_TOOL_CACHE")
    os.environ["XLSX_TOOL_CACHE"] = ""
    try:
        return load_plan(path)
    finally:
        if old is None:
            del os.environ["XLSX_TOOL_CACHE"]
        else:
            os.environ["XLSX_TOOL_CACHE"] = old


def plan_file(tmp_path: Path, old: str = "", new: str = "", name: str = "plan.yaml") -> Path:
    text = EMBEDDED.read_text(encoding="utf-8")
    if old:
        assert old in text, f"test setup: {old!r} not in the embedded plan"
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def same(a, b) -> None:
    """Equal plans, including what `==` leaves out: the name indexes."""
    assert a == b
    assert a.source == b.source
    assert a._exact == b._exact and a._norm == b._norm


def test_second_load_is_a_hit_and_equal(tmp_path, cache):
    path = plan_file(tmp_path)
    first = load_plan(path)
    entry = only_entry(cache)
    before = stamp(entry)
    second = load_plan(path)
    assert stamp(entry) == before  # read, not rewritten
    same(second, first)
    same(second, uncached(path))
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_hit_in_a_fresh_process_never_imports_yaml(tmp_path, cache):
    path = plan_file(tmp_path)
    load_plan(path)
    load_plan()
    assert len(entries(cache)) == 1  # the same text as the embedded plan: one entry serves both
    code = (
        "import sys\n"
        "from xlsx_tool.plan import load_plan\n"
        f"p = load_plan({str(path)!r}); d = load_plan()\n"
        "assert p.id == d.id == 'xiangxi-zhizhi-2017q3', p.id\n"
        "print('yaml' in sys.modules, len(p.units))\n"
    )
    env = {**os.environ, "XLSX_TOOL_CACHE": str(cache)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", str(len(load_plan(path).units))]


def test_a_changed_character_is_a_miss(tmp_path, cache):
    path = plan_file(tmp_path)
    assert load_plan(path).id == "xiangxi-zhizhi-2017q3"
    first_entry = only_entry(cache)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("xiangxi-zhizhi-2017q3", "xiangxi-zhizhi-2017q4", 1), encoding="utf-8")
    edited = load_plan(path)
    assert edited.id == "xiangxi-zhizhi-2017q4"
    same(edited, uncached(path))
    assert first_entry in entries(cache) and len(entries(cache)) == 2
    path.write_text(text, encoding="utf-8")  # and back: the first entry is still good
    assert load_plan(path).id == "xiangxi-zhizhi-2017q3"


def test_two_texts_under_one_entry_name_never_mix(tmp_path, cache):
    """A crc32 collision, forced: the entry made for one text is put under the name of the other's."""
    a = plan_file(tmp_path, "id: xiangxi-zhizhi-2017q3", "id: plan-a", name="a.yaml")
    b = plan_file(tmp_path, "id: xiangxi-zhizhi-2017q3", "id: plan-b", name="b.yaml")
    assert load_plan(a).id == "plan-a"
    entry_a = only_entry(cache)
    assert load_plan(b).id == "plan-b"
    (entry_b,) = set(entries(cache)) - {entry_a}
    bytes_a, bytes_b = entry_a.read_bytes(), entry_b.read_bytes()

    shutil.copyfile(entry_a, entry_b)  # B's name now holds A's text and data
    plan_b = load_plan(b)
    assert plan_b.id == "plan-b"
    same(plan_b, uncached(b))
    assert entry_b.read_bytes() == bytes_b  # rewritten for B

    shutil.copyfile(entry_b, entry_a)  # and the other way round
    plan_a = load_plan(a)
    assert plan_a.id == "plan-a"
    same(plan_a, uncached(a))
    assert entry_a.read_bytes() == bytes_a


@pytest.mark.parametrize("damage", [
    "truncated", "empty", "garbage", "not-a-tuple", "old-format", "same-text-other-format",
], ids=str)
def test_a_damaged_or_foreign_entry_is_ignored_and_replaced(tmp_path, cache, damage):
    path = plan_file(tmp_path)
    good_plan = load_plan(path)
    entry = only_entry(cache)
    good = entry.read_bytes()
    text = path.read_text(encoding="utf-8")
    bad = {
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "garbage": b"\x00\xffnot marshal at all" * 50,
        "not-a-tuple": marshal.dumps({"id": "xiangxi-zhizhi-2017q3"}),
        "old-format": marshal.dumps(("xlsx-tool plan cache 0", text, {"id": "wrong"})),
        "same-text-other-format": marshal.dumps(("something else", text, {"id": "wrong"}, 1)),
    }[damage]
    entry.write_bytes(bad)
    again = load_plan(path)
    same(again, good_plan)
    assert entry.read_bytes() == good  # rewritten
    assert only_entry(cache) == entry


def test_an_unwritable_cache_folder_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XLSX_TOOL_CACHE", str(blocker / "cache"))
    path = plan_file(tmp_path)
    same(load_plan(path), uncached(path))
    same(load_plan(path), uncached(path))
    same(load_plan(), uncached())
    assert blocker.read_text() == "not a folder"


def test_a_cache_entry_name_taken_by_a_folder_still_loads(tmp_path, cache):
    path = plan_file(tmp_path)
    load_plan(path)
    entry = only_entry(cache)
    entry.unlink()
    entry.mkdir()  # unreadable as a file, and os.replace onto it fails
    same(load_plan(path), uncached(path))
    assert entry.is_dir() and not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_empty_variable_disables_the_cache(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("XLSX_TOOL_CACHE", "")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(home / "local"))
    path = plan_file(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    load_plan(path)
    load_plan()
    assert sorted(tmp_path.rglob("*")) == before
    assert not home.exists()


def test_default_locations(tmp_path, monkeypatch):
    """The per-user cache folder of the platform the suite runs on (no skip: each platform checks its own)."""
    monkeypatch.delenv("XLSX_TOOL_CACHE", raising=False)
    if os.name == "nt":
        monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
        load_plan()
        assert len(entries(tmp_path / "local" / "xlsx-tool" / "cache")) == 1
        return
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_plan()
    assert len(entries(tmp_path / "xdg" / "xlsx-tool")) == 1
    monkeypatch.delenv("XDG_CACHE_HOME")
    load_plan()
    assert len(entries(tmp_path / "home" / ".cache" / "xlsx-tool")) == 1
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative paths are ignored
    monkeypatch.chdir(tmp_path)
    load_plan()
    assert not (tmp_path / "relative").exists()


def test_yaml_syntax_error_is_never_cached(tmp_path, cache):
    path = plan_file(tmp_path, "id: xiangxi-zhizhi-2017q3", "id: [xiangxi-zhizhi-2017q3", name="syntax.yaml")
    errors = []
    for _ in range(2):
        with pytest.raises(PlanError) as ei:
            load_plan(path)
        errors.append(ei.value)
        assert entries(cache) == []
    assert "YAML" in errors[0].problem
    first, second = ((e.file, e.field, e.problem, str(e)) for e in errors)
    assert first == second


def test_validation_runs_on_cached_data(tmp_path, cache):
    """A plan that parses but is invalid: the second load is a hit and raises the identical PlanError."""
    path = plan_file(tmp_path, "deadline: 2017-11-07", "deadline: 2017-11-31", name="date.yaml")
    with pytest.raises(PlanError) as first:
        load_plan(path)
    entry = only_entry(cache)
    before = stamp(entry)
    with pytest.raises(PlanError) as second:
        load_plan(path)
    assert stamp(entry) == before
    assert (second.value.file, second.value.field, second.value.problem) == (
        first.value.file, first.value.field, first.value.problem)
    assert second.value.field == "deadline"


def test_an_explicit_timestamp_is_not_cached_but_loads(tmp_path, cache):
    """`!!timestamp` gives a date, which marshal cannot store: such a plan is simply not cached."""
    path = plan_file(tmp_path, "issued: 2017-10-20", "issued: !!timestamp 2017-10-20")
    same(load_plan(path), uncached(path))
    same(load_plan(path), uncached(path))
    assert entries(cache) == []


def test_embedded_plan_through_the_cache(cache):
    first = load_plan()
    entry = only_entry(cache)
    before = stamp(entry)
    second = load_plan()
    assert stamp(entry) == before
    same(second, first)
    same(second, uncached())
    assert second.source == first.source == "（内置）2017q3.yaml"
