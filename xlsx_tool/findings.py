"""Findings are data: every rule has a code, a severity and a Chinese message template.

Readers, checks and the merge append `Finding`s to a list; nothing about a bad
file is raised as an exception past the function that reads it.
"""

from __future__ import annotations

from typing import NamedTuple

ERROR, WARNING, INFO = "错误", "警告", "提示"


# NamedTuples, not frozen dataclasses: defined at every start, 0.07 ms each instead of 0.9 ms.
class Rule(NamedTuple):
    severity: str
    template: str
    expect: str = ""  # what the file should have instead: the correction list's "应当" column


# code -> rule.  Templates use str.format fields supplied by the caller.
RULES: dict[str, Rule] = {
    # ---- plan check
    "plan-total-mismatch": Rule(WARNING, "评分细则小计印为 {printed} 分，但各项分值之和为 {total} 分；表格按各项之和计算"),
    "plan-count-mismatch": Rule(WARNING, "{summary} 写明核查 {declared} 个单位，实际列出 {actual} 个"),
    "plan-duplicate-unit": Rule(ERROR, "单位名称“{name}”出现 {count} 次：{where}"),
    "plan-max-score": Rule(INFO, "各项分值之和 {total} 分高于最高分 {max_score} 分，总分将封顶为 {max_score} 分"),
    "plan-limit-step": Rule(WARNING, "第{seq}项最多扣 {limit} 分，不是每档 {step} 分的整数倍，也不等于分值 {max}"),
    "plan-window-late": Rule(WARNING, "{summary} 的核查时间 {end} 晚于上报截止日期 {deadline}"),
    "plan-no-contacts": Rule(INFO, "{count} 个汇总单位未列组长和联络员（{names}），催交时需另行联系"),
    "plan-tight-quota": Rule(INFO, "{summary} 只核查 {count} 个单位，按“不超过{share}”规则，{high} 分及以上单位最多 {quota} 个"),
    # ---- files
    "file-ignored": Rule(INFO, "不是评分表，已忽略（{why}）"),
    "file-empty": Rule(ERROR, "文件是空的（0 字节），可能是保存或发送时出错", "请对方重新发送"),
    "file-unsupported": Rule(ERROR, "无法识别的文件类型（{why}）。{todo}", "{todo}"),
    "file-unreadable": Rule(ERROR, "文件无法读取（{why}）。{todo}", "{todo}"),
    "file-encrypted": Rule(ERROR, "{why}设置了密码，无法读取。{todo}", "{todo}"),
    "file-too-large": Rule(ERROR, "文件超出限制（{why}），为安全起见未读取。如确为评分表，请用 {option} 调高限制", "发送下发的评分表原件（.xlsx）"),
    "file-outside": Rule(ERROR, "这是指向文件夹外部的链接（{target}），为安全起见未读取",
                         "把文件本身（而不是链接或快捷方式）复制到收表文件夹"),
    "file-not-form": Rule(ERROR, "找不到评分细则表（{why}）。请确认发来的是本工具生成的评分表", "使用下发的评分表填写后重新发送"),
    "file-formulas-unknown": Rule(INFO, "{kind} 格式的文件不保存公式信息，无法检查得分公式是否被改动；得分已按扣分重新计算",
                                  "今后请保存为 .xlsx"),
    "file-macro": Rule(INFO, "文件含有宏（.xlsm），宏不会被执行，只读取单元格内容"),
    "file-duplicate-copy": Rule(INFO, "与 {other} 内容完全相同（重复发送），只计一次"),
    # ---- identity
    "identity-missing": Rule(WARNING, "文件中没有表单信息（可能是重新录入或复制到新工作簿），已按被核查单位“{text}”匹配到 {unit}"),
    "identity-other-plan": Rule(ERROR, "这是另一期核查的表（{found}），不是本期（{expected}），未采用", "使用本期下发的评分表重新填写"),
    "identity-unknown-unit": Rule(ERROR, "被核查单位“{text}”不在本期方案中，未采用", "核对被核查单位名称，使用下发的评分表"),
    "identity-text-mismatch": Rule(WARNING, "表单信息为 {unit}，但表头被核查单位写作“{text}”；按表单信息计入 {unit}", "核对被核查单位名称"),
    "identity-summary-mismatch": Rule(WARNING, "表单信息中的核查组为“{found}”，方案中 {unit} 由 {expected} 核查；按方案计入"),
    "identity-rubric-changed": Rule(WARNING, "评分细则版本（{found}）与本期方案（{expected}）不同；已按本期方案逐项核对"),
    "form-sheet-copies": Rule(WARNING, "文件中有 {count} 个评分细则表（{names}），采用填写了内容的“{chosen}”",
                              "删除多余的工作表，只保留填写好的一张"),
    # ---- form content
    "rubric-max-changed": Rule(WARNING, "第{seq}项分值被改为 {found}（方案为 {expected}）；按方案分值计分", "使用下发的原表，不要改动分值"),
    "rubric-text-changed": Rule(WARNING, "第{seq}项评分标准文字与方案不一致；按方案计分", "使用下发的原表，不要改动评分标准"),
    "formula-overwritten": Rule(WARNING, "{what}的公式被改成了固定数值 {found}；已按扣分重新计算为 {expected}", "不要手工填写得分，得分由公式自动计算"),
    "cached-mismatch": Rule(INFO, "{what}表中显示为 {found}，按扣分重新计算为 {expected}（以重新计算为准）"),
    "deduction-text-number": Rule(INFO, "第{seq}项扣分填的是文字“{raw}”，已按数字 {value} 读取"),
    "deduction-not-number": Rule(ERROR, "第{seq}项扣分“{raw}”不是数字；本项暂按不扣分计算，请核实后改正", "只填数字：0～{limit} 分，每档 {step} 分（不扣分留空）"),
    "deduction-formula": Rule(INFO, "第{seq}项扣分填的是公式“={formula}”，按其结果 {value} 计算", "直接填写扣分数字"),
    "deduction-formula-empty": Rule(ERROR, "第{seq}项扣分填的是公式“={formula}”，文件中没有它的计算结果；本项暂按不扣分计算",
                                    "直接填写扣分数字"),
    "deduction-negative": Rule(ERROR, "第{seq}项扣分为负数 {value}；本项暂按不扣分计算", "填 0～{limit} 之间的数字"),
    "deduction-over-limit": Rule(ERROR, "第{seq}项扣分 {value} 超过本项最多可扣的 {limit} 分；暂按 {limit} 分计算", "本项最多扣 {limit} 分"),
    "deduction-step": Rule(ERROR, "第{seq}项扣分 {value} 不符合扣分标准（每档 {step} 分，最多 {limit} 分）", "按每档 {step} 分扣分，最多 {limit} 分"),
    "deduction-no-reason": Rule(WARNING, "第{seq}项扣了 {value} 分，但扣分情况未写原因", "在“扣分情况”中写明扣分原因"),
    "test-score-invalid": Rule(ERROR, "党的基本知识测试第{n}人的成绩“{raw}”不是 0～100 的数字，未计入", "填 0～100 的分数"),
    "test-score-text": Rule(INFO, "党的基本知识测试第{n}人的成绩填的是文字“{raw}”，已按 {value} 读取"),
    "test-row-incomplete": Rule(WARNING, "党的基本知识测试第{n}人只填了{has}，未填{missing}", "姓名和成绩都要填写"),
    "test-incomplete": Rule(WARNING, "党的基本知识测试填了 {count} 人的成绩，应随机抽测 {people} 人", "填写随机抽测的 {people} 名党员的姓名和成绩"),
    "rectify-unmarked": Rule(WARNING, "上季度问题第{n}条“{text}”未选择整改情况，按未整改计", "选择“已整改”或“未整改”"),
    "rectify-invalid": Rule(WARNING, "上季度问题第{n}条的整改情况填的是“{raw}”，应为“已整改”或“未整改”；按未整改计", "选择“已整改”或“未整改”"),
    "date-missing": Rule(WARNING, "未填写核查时间", "填写核查日期（{start} 至 {end}）"),
    "date-invalid": Rule(ERROR, "核查时间“{raw}”不是日期", "填写核查日期，如 {start}"),
    "date-text": Rule(INFO, "核查时间填的是文字“{raw}”，已按 {value} 读取"),
    "date-outside-window": Rule(WARNING, "核查时间 {value} 不在 {summary} 的核查时间 {start} 至 {end} 之内", "核查日期应在 {start} 至 {end} 之间"),
    "score-capped": Rule(INFO, "各项得分之和 {raw} 分，超过最高分 {max_score} 分，按 {max_score} 分计"),
    # ---- summaries sent up the chain (a summary unit's own 评分汇总表)
    "tool-summary-recomputed": Rule(WARNING, "汇总表中 {unit} 的得分为 {shown}，按其扣分明细重新计算为 {expected}；以重新计算为准",
                                     "核对该单位的扣分和得分"),
    "hand-summary-unnamed": Rule(WARNING, "手工汇总表没有写明方案中的汇总单位（写的是“{text}”）；按所列单位归入 {found}",
                                 "写明汇总单位，如“州委办直属机关党委”或“第一核查组”"),
    "hand-unit-unknown": Rule(ERROR, "汇总表中的单位“{text}”不在本期方案中，未采用", "按方案中的名称填写被核查单位"),
    "hand-unit-elsewhere": Rule(WARNING, "{unit} 列在 {listed} 的汇总表中，但方案中由 {expected} 核查；按方案计入 {expected}",
                                "只汇总本汇总单位核查的单位"),
    "hand-score-not-number": Rule(ERROR, "{unit} 的得分“{raw}”不是数字，该单位的得分未采用", "得分只填数字，如 93.5"),
    "hand-score-out-of-range": Rule(ERROR, "{unit} 的得分 {score} 不在 0～{cap} 分之间，该单位的得分未采用", "核对得分（最高 {cap} 分）"),
    "hand-deductions-sum": Rule(WARNING, "{unit} 的扣分情况写明共扣 {stated} 分，但 {cap} − 得分 {score} = {lost} 分",
                                "核对扣分情况与得分"),
    "hand-rank-wrong": Rule(WARNING, "{unit} 的排名填的是 {found}，按得分应为第 {expected} 名（同分同名次）",
                            "按得分从高到低排名，同分同名次"),
    "hand-scores-taken": Rule(INFO, "{summary} 的 {count} 个单位的得分取自手工汇总表，照录未核（手工汇总表没有逐项扣分）"),
    "source-score-mismatch": Rule(WARNING, "{unit} 在 {here} 中得分 {score}，在 {other} 中为 {other_score}；采用{chosen}",
                                  "核对两处的得分"),
    # ---- merge
    "unit-duplicate": Rule(WARNING, "{unit} 有 {count} 份不同的评分表：{files}。按规则采用 {chosen}（{why}）"),
    "unit-missing": Rule(WARNING, "{unit} 未交评分表（{summary}：{contacts}）", "尽快交回评分表"),
    "summary-no-returns": Rule(INFO, "{summary} 的 {count} 个单位均未收到评分表（本次未汇总该单位）"),
    "quota-exceeded": Rule(ERROR, "{summary} 核查 {inspected} 个单位，{high} 分及以上的有 {count} 个（{units}），超过{share}（最多 {quota} 个）", "复核评分：95分及以上的单位不超过 {quota} 个"),
}


class Finding(NamedTuple):
    code: str
    severity: str
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    unit: str = ""
    summary: str = ""
    expected: str = ""

    def where(self) -> str:
        parts = [self.file, f"工作表“{self.sheet}”" if self.sheet else "", f"单元格 {self.cell}" if self.cell else ""]
        return " ".join(p for p in parts if p)

    def __str__(self) -> str:
        w = self.where()
        return f"[{self.severity}] {w + '：' if w else ''}{self.message}"

    def to_dict(self) -> dict:
        return self._asdict()


def make(code: str, *, file="", sheet="", cell="", unit="", summary="", **params) -> Finding:
    rule = RULES[code]
    fmt = dict(unit=unit, summary=summary, **params)
    return Finding(code, rule.severity, rule.template.format(**fmt), str(file), sheet, cell, unit, summary,
                   rule.expect.format(**fmt))


def count(findings, severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)


# code prefix -> the Chinese word a clerk sees in the 类别 column (the code itself stays in --json)
CATEGORIES = {"plan": "方案", "file": "文件", "identity": "表单识别", "rubric": "评分细则", "formula": "得分公式",
              "cached": "得分公式", "deduction": "扣分", "test": "知识测试", "rectify": "整改", "date": "核查时间",
              "score": "得分", "unit": "收表", "summary": "汇总", "quota": "三分之一", "form": "表单识别",
              "tool": "上报的汇总表", "hand": "上报的汇总表", "source": "上报的汇总表"}


def category(code: str) -> str:
    """"deduction-step" -> "扣分": the kind of problem, in Chinese ("其他" for an unknown prefix)."""
    return CATEGORIES.get(code.split("-", 1)[0], "其他")
