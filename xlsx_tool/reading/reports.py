"""Which summary unit a 简要核查报告 belongs to, told from its file name or its first lines.

Each summary unit e-mails a short report beside its 附件3.  The merge only needs to know that it
came: a file whose name (or, for a .docx, whose first paragraphs) names a summary unit and says
"核查报告" counts as that unit's report.  .doc, .pdf and .wps are judged by name alone (not read).
"""

from __future__ import annotations

import io

from xlsx_tool.reading.annex3 import match_summary
from xlsx_tool.textnorm import norm_text, safe_text

REPORT_WORDS = ("简要核查报告", "核查报告", "核查情况的报告", "核查情况报告", "核查工作报告")
REPORT_SUFFIXES = {".docx", ".doc", ".pdf", ".wps"}
FIRST_LINES = 10  # non-empty paragraphs of a .docx looked at: the title and the addressee come first


def _stem_and_suffix(name: str) -> tuple[str, str]:
    base = name.replace("\\", "/").rpartition("/")[2]
    stem, dot, suffix = base.rpartition(".")
    return (stem, "." + suffix.lower()) if dot and stem else (base, "")


def _first_lines(data: bytes) -> list[str]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = []
        for p in document.paragraphs:
            if p.text.strip():
                lines.append(safe_text(p.text))
                if len(lines) >= FIRST_LINES:
                    break
        return lines
    except Exception:  # noqa: BLE001 — not a readable .docx: judged by its name only
        return []


def _is_report(text: str) -> bool:
    n = norm_text(text)
    return any(w in n for w in REPORT_WORDS)


def report_of(name: str, data: bytes, plan):
    """The SummaryUnit whose 简要核查报告 this file is, or None."""
    stem, suffix = _stem_and_suffix(name)
    if suffix not in REPORT_SUFFIXES:
        return None
    texts = [stem]
    if suffix == ".docx" and data:
        texts += _first_lines(data)
    if not any(_is_report(t) for t in texts):
        return None
    for t in texts:
        unit = match_summary(t, plan)
        if unit is not None:
            return unit
    return None
