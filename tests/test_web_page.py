"""The office's page in a real browser: upload returns, watch the counts, 汇总, download, rankings, blank forms.

Debian's Chromium driven by Playwright against the real `xlsx-tool serve` (a subprocess).  The
rankings in the downloaded 评分汇总表.xlsx are checked against scores recomputed here from the
deductions typed in the forms (read with openpyxl, not with the tool's reader).
"""

from __future__ import annotations

import base64
import io
import os
import random
import shutil
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import returns as R
from playwright.sync_api import expect, sync_playwright
from web_server import XLSX_TYPE, Server, launch, office_folder

from xlsx_tool.forms.generate import form_filename
from xlsx_tool.forms.layout import FORM_SHEET
from xlsx_tool.interfaces.demo import HIGHLIGHTS, REASONS, random_deduction

SHOTS = os.environ.get("XLSX_TOOL_SHOTS")  # a folder to keep the screenshots in (they go to tmp otherwise)
WAIT = 60_000  # ms: the longest any expectation waits (a loaded machine is slow, never wrong)


def _returns(plan, inbox: Path, held: set[str], full_marks_group: str) -> dict[str, Path]:
    """One return per unit not held back, with seeded deductions; one group gets full marks (breaks 三分之一)."""
    rng = random.Random(2017)
    made = {}
    for unit in plan.units:
        if unit.name in held:
            continue
        s = plan.summary(unit.summary)
        items = {}
        if unit.summary != full_marks_group:
            for item in rng.sample(plan.rubric.items, rng.randint(0, 4)):
                d = random_deduction(item, rng)
                items[f"i{item.seq}"] = (float(d), rng.choice(REASONS), rng.choice(HIGHLIGHTS) if rng.random() < .2 else "")
        path = inbox / form_filename(unit)
        path.write_bytes(R.build_form(plan, unit, R.entries(date=s.window[0], **items)))
        made[unit.name] = path
    return made


def _score(plan, path: Path) -> Decimal:
    """The score from the typed deductions (openpyxl reads the cells): sum of (分值 - 扣分), capped."""
    ws = openpyxl.load_workbook(path)[FORM_SHEET]
    total = Decimal(0)
    for item in plan.rubric.items:
        d = ws[R.cell(plan, item.seq, "deduction")].value
        total += item.max - Decimal(str(d or 0))
    return min(total, plan.rules.max_score)


def _ranks(scores: list[tuple[str, Decimal]]) -> dict[str, int]:
    return {u: 1 + sum(1 for _, t in scores if t > s) for u, s in scores}


def _annex3(wb, sheet: str) -> list[tuple[int, str, Decimal]]:
    ws = wb[sheet]
    rows, on = [], False
    for r in ws.iter_rows(values_only=True):
        if r[0] == "排名" and r[1] == "被核查单位":
            on = True
            continue
        if on:
            if not isinstance(r[0], int):
                break
            rows.append((r[0], r[1], Decimal(str(r[4]))))
    return rows


def _shot(page, shots: Path, name: str, section: str) -> None:
    """The viewport (1366×768) with the section at its top, below the fixed header."""
    page.evaluate("id => document.getElementById(id).scrollIntoView()", section)
    page.screenshot(path=str(shots / f"{name}.png"))


@pytest.fixture()
def shots(tmp_path) -> Path:
    d = Path(SHOTS) if SHOTS else tmp_path / "shots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_the_office_page(plan, tmp_path, shots):
    units = plan.units
    full_marks_group = plan.summary_units[2].name
    held = {units[10].name, units[40].name, units[77].name, units[90].name, units[100].name, units[120].name,
            units[-1].name}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    made = _returns(plan, inbox, held, full_marks_group)
    assert len(made) == 130
    late_unit = units[40]
    late = tmp_path / "late" / f"{late_unit.name}.xlsx"  # sent later, copied into collected/ by hand
    late.parent.mkdir()
    late.write_bytes(R.build_form(plan, late_unit, R.entries(date=plan.summary(late_unit.summary).window[0])))
    scores = {u: _score(plan, p) for u, p in made.items()} | {late_unit.name: _score(plan, late)}

    folder = office_folder(tmp_path / "office")
    server = Server(folder, "--date", "2017-11-01")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(server.url)
            assert "token" not in page.url  # the cookie holds it now
            expect(page.locator("#received")).to_have_text("0", timeout=WAIT)
            expect(page.locator("#expected")).to_have_text("137")
            expect(page.locator("#when")).to_contain_text("还有 6 天")

            # ---- upload 130 returns at once through the file input
            page.click("#tabs >> text=上传评分表")
            started = time.monotonic()
            page.set_input_files("#files", [str(made[u.name]) for u in units if u.name in made])
            rows = page.locator("#verdicts tbody tr")
            expect(rows).to_have_count(130, timeout=WAIT)
            expect(page.locator("#verdicts .wait")).to_have_count(0, timeout=WAIT)
            expect(page.locator("#received")).to_have_text("130", timeout=WAIT)
            elapsed = time.monotonic() - started
            expect(page.locator("#upload-progress")).to_contain_text("用时", timeout=WAIT)
            print(f"\n130 uploads: every verdict and the new count shown {elapsed:.2f} s after set_input_files; "
                  f"the page says: {page.locator('#upload-progress').inner_text()}")  # a figure, not a test
            table = page.eval_on_selector_all("#verdicts tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText))")
            expect(page.locator("#verdicts .verdict", has_text="收到：")).to_have_count(0, timeout=WAIT)  # merged: 采用
            table = page.eval_on_selector_all("#verdicts tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText))")
            by_file = {row[1]: row for row in table}
            for u, path in made.items():
                _, name, saved, verdict = by_file[path.name]
                assert saved == path.name
                assert verdict.startswith(f"采用：{u}（{plan.unit(u).summary}），得分 ")
                assert Decimal(verdict.rsplit("得分 ", 1)[1]) == scores[u]
            assert sorted(p.name for p in (folder / "collected").iterdir()) == sorted(p.name for p in made.values())
            _shot(page, shots, "2-upload", "upload")

            # ---- the same file again, a broken one, hostile names: never over a file, never outside collected/
            first = made[units[0].name]
            page.set_input_files("#files", [
                {"name": first.name, "mimeType": XLSX_TYPE, "buffer": first.read_bytes()},
                {"name": "损坏的表.xlsx", "mimeType": XLSX_TYPE, "buffer": b"PK\x03\x04 not a workbook"},
                {"name": "../../x.xlsx", "mimeType": XLSX_TYPE, "buffer": first.read_bytes()},
                {"name": "CON.xlsx", "mimeType": XLSX_TYPE, "buffer": first.read_bytes()},
                {"name": "~$州纪委监察局-评分细则.xlsx", "mimeType": XLSX_TYPE, "buffer": b"\x00" * 165},
            ])
            expect(rows).to_have_count(135, timeout=WAIT)
            expect(page.locator("#verdicts .wait")).to_have_count(0, timeout=WAIT)
            collected = sorted(p.name for p in (folder / "collected").iterdir())
            assert f"{first.stem} (2).xlsx" in collected and "_CON.xlsx" in collected and "x.xlsx" in collected
            assert sorted(p.name for p in folder.iterdir()) == ["blank_forms", "collected", "output"]
            assert not (tmp_path / "x.xlsx").exists()
            expect(page.locator("#verdicts tbody tr", has_text="损坏的表.xlsx")).to_contain_text("拒收：")
            expect(page.locator("#verdicts tbody tr", has_text="~$州纪委")).to_contain_text("忽略：")
            assert not any(n.startswith("~$") for n in collected)  # a lock file is not kept
            expect(page.locator("#verdicts tbody tr", has_text=f"{first.stem} (2).xlsx")).to_contain_text("未计入：")
            expect(page.locator("#received")).to_have_text("130")

            # ---- a file copied by hand into collected/ counts without a reload
            shutil.copyfile(late, folder / "collected" / late.name)
            expect(page.locator("#received")).to_have_text("131", timeout=WAIT)

            # ---- 收表进度: per summary unit, who is missing and whom to call, the refused file
            page.click("#tabs >> text=收表进度")
            for s in plan.summary_units:
                missing = [u.name for u in s.units if u.name in held and u.name != late_unit.name]
                row = page.locator("#summaries tbody tr", has=page.locator("td:nth-child(2)", has_text=s.name)).first
                expect(row.locator("td:nth-child(3)")).to_have_text(f"{len(s.units) - len(missing)}/{len(s.units)}")
                if missing:
                    expect(row.locator("td.missing")).to_have_text("、".join(missing))
                    if s.leader:
                        expect(row.locator("td:nth-child(7)")).to_contain_text(s.leader.phone)
                    if s.liaison:
                        expect(row.locator("td:nth-child(8)")).to_contain_text(s.liaison.phone)
            expect(page.locator("#refused tbody tr", has_text="损坏的表.xlsx")).to_have_count(1)
            _shot(page, shots, "1-progress", "progress")
            page.check("#only-missing")
            expect(page.locator("#summaries tbody tr")).to_have_count(
                len({plan.unit(u).summary for u in held if u != late_unit.name}))
            page.uncheck("#only-missing")

            # ---- 汇总: counts, the breach, the 问题清单 filtered, the files to download
            page.click("#tabs >> text=汇总")
            page.get_by_role("button", name="汇总").click()  # the one button whose text says 汇总
            expect(page.locator("#merge-result")).to_be_visible(timeout=WAIT)
            expect(page.locator("#merge-progress")).to_contain_text("已完成")
            expect(page.locator("#merge-cards")).to_contain_text("131/137")
            expect(page.locator("#breaches")).to_contain_text(full_marks_group)
            for s in plan.summary_units:
                high = sum(1 for u in s.units if u.name in scores and scores[u.name] >= plan.rules.high_score)
                shown = page.locator("#breaches li", has_text=f"{s.name}：").count()
                assert shown == (1 if high > plan.rules.quota(len(s.units)) else 0), s.name
            page.select_option("#filter-level", "错误")
            levels = page.eval_on_selector_all("#findings tbody td.sev", "cs => cs.map(c => c.innerText)")
            assert levels and set(levels) == {"错误"}
            page.select_option("#filter-summary", full_marks_group)
            groups = page.eval_on_selector_all("#findings tbody td:nth-child(3)", "cs => cs.map(c => c.innerText)")
            assert groups and set(groups) == {full_marks_group}
            expect(page.locator("#findings tbody")).to_contain_text("超过三分之一")
            page.select_option("#filter-level", "")
            page.select_option("#filter-summary", "")
            _shot(page, shots, "3-merge", "merge")

            with page.expect_download() as dl:
                page.click("#downloads a:text-is('评分汇总表.xlsx')")
            summary = tmp_path / "评分汇总表.xlsx"
            dl.value.save_as(summary)
            assert dl.value.suggested_filename == "评分汇总表.xlsx"
            assert summary.read_bytes() == (folder / "output" / "评分汇总表.xlsx").read_bytes()
            wb = openpyxl.load_workbook(summary)
            for s in plan.summary_units:
                got = [(u.name, scores[u.name]) for u in s.units if u.name in scores]
                if not got:  # no return at all: no 附件3 sheet
                    assert s.name not in wb.sheetnames
                    continue
                ranks = _ranks(got)
                want = sorted(((ranks[u], u, sc) for u, sc in got), key=lambda r: r[0])
                rows_ = _annex3(wb, s.name)
                assert sorted(rows_) == sorted(want), s.name
                assert [r[0] for r in rows_] == sorted(r[0] for r in rows_)
            lists = page.locator("#downloads a", has_text="退回修改清单")
            assert lists.count() == len(list((folder / "output" / "退回修改清单").iterdir())) >= 1
            reports = page.locator("#downloads a", has_text="简要核查报告")
            assert reports.count() == len(plan.summary_units) + 1
            with page.expect_download() as dl:
                reports.first.click()
            assert dl.value.suggested_filename.endswith(".docx")
            assert zipfile.is_zipfile(io.BytesIO(Path(dl.value.path()).read_bytes()))

            # ---- 排名（附件3）: each summary unit's table, from the same merge
            page.click("#tabs >> text=排名")
            page.select_option("#rank-summary", plan.summary_units[0].name)
            s0 = plan.summary_units[0]
            got = [(u.name, scores[u.name]) for u in s0.units if u.name in scores]
            ranks = _ranks(got)
            cells = page.eval_on_selector_all("#rank-tables tbody tr",
                                              "rs => rs.map(r => [...r.cells].map(c => c.innerText))")
            assert [(int(c[0]), c[1], Decimal(c[4])) for c in cells] == sorted(
                ((ranks[u], u, sc) for u, sc in got), key=lambda r: (r[0], [u.name for u in s0.units].index(r[1])))
            assert any("第" in c[3] and "扣" in c[3] for c in cells)  # 扣分情况
            _shot(page, shots, "4-rankings", "rankings")
            page.select_option("#rank-summary", "")
            expect(page.locator("#rank-tables table")).to_have_count(
                sum(1 for s in plan.summary_units if any(u.name in scores for u in s.units)))

            # ---- 生成评分表: the blank forms, each summary unit's zip to download
            page.click("#tabs >> text=生成评分表")
            page.click("#run-generate")
            expect(page.locator("#zips tbody tr")).to_have_count(len(plan.summary_units), timeout=WAIT)
            expect(page.locator("#forms-progress")).to_contain_text("已完成", timeout=WAIT)
            with page.expect_download() as dl:
                page.locator("#zips tbody tr").first.locator("a").click()
            with zipfile.ZipFile(dl.value.path()) as zf:
                assert len(zf.namelist()) == len(plan.summary_units[0].units)
            _shot(page, shots, "5-forms", "forms")

            # ---- drag and drop: a return dropped on the box is saved and counted like a chosen one
            dropped = units[90]
            data = R.build_form(plan, dropped, R.entries(date=plan.summary(dropped.summary).window[0]))
            transfer = page.evaluate_handle(
                """([name, b64]) => {
                    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                    const d = new DataTransfer();
                    d.items.add(new File([bytes], name));
                    return d;
                }""", [f"{dropped.name}（拖入）.xlsx", base64.b64encode(data).decode()])
            page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
            expect(page.locator("#verdicts tbody tr", has_text="（拖入）")).to_contain_text(f"采用：{dropped.name}", timeout=WAIT)
            expect(page.locator("#received")).to_have_text("132", timeout=WAIT)
            assert (folder / "collected" / f"{dropped.name}（拖入）.xlsx").read_bytes() == data
            assert errors == []  # no script error, no policy violation in the console
            browser.close()
    finally:
        code, out = server.stop()
    assert code == 0, out
