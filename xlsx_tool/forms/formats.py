"""The cell formats of the form workbook, made once per workbook.

Input cells are pale yellow AND framed by a medium dashed border: the fill alone vanishes when the
form is printed in grey scale (LibreOffice's PDF in grey, office laser printers), the dashed frame
does not, and it is heavier than the thin grid so it wins the shared edges in Excel and LibreOffice.
"""

from __future__ import annotations

from xlsx_tool.forms.layout import FONT_PROPS

DATE_FORMAT = "yyyy\"年\"m\"月\"d\"日\""
INPUT_FILL = "#FFF9E5"
INPUT_BORDER = 8  # xlsxwriter's index for a medium dashed line
INPUT = {"locked": False, "bg_color": INPUT_FILL, "border": INPUT_BORDER}


class FormFormats:
    def __init__(self, wb):
        grid = {**FONT_PROPS, "border": 1, "valign": "vcenter", "text_wrap": True}
        inp = {**FONT_PROPS, **INPUT, "valign": "vcenter", "text_wrap": True}
        self.title = wb.add_format({**FONT_PROPS, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.label = wb.add_format({**FONT_PROPS, "align": "right", "valign": "vcenter"})
        self.value = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter"})
        self.value_fit = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter", "shrink": True})
        self.date = wb.add_format({**FONT_PROPS, **INPUT, "num_format": DATE_FORMAT, "align": "center",
                                   "valign": "vcenter"})
        self.header = wb.add_format({**grid, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
        self.category = wb.add_format({**grid, "bold": True, "align": "center"})
        self.text = wb.add_format(grid)
        self.number = wb.add_format({**grid, "align": "center", "num_format": "0.##"})
        self.input_text = wb.add_format(inp)
        self.input_number = wb.add_format({**inp, "align": "center", "num_format": "0.##"})
        self.input_center = wb.add_format({**inp, "align": "center"})
        self.total_label = wb.add_format({**grid, "bold": True, "align": "center"})
        self.total = wb.add_format({**grid, "bold": True, "align": "center", "num_format": "0.##"})
        self.blank = wb.add_format(grid)
        self.center = wb.add_format({**grid, "align": "center"})
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.warn = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.block_title = wb.add_format({**FONT_PROPS, "bold": True, "valign": "vcenter", "text_wrap": True})
        self.guide = wb.add_format({**FONT_PROPS, "text_wrap": True, "valign": "top", "font_size": 11})
        self.guide_head = wb.add_format({**FONT_PROPS, "bold": True, "font_size": 14, "text_wrap": True,
                                         "valign": "vcenter"})
        self.guide_section = wb.add_format({**FONT_PROPS, "bold": True, "text_wrap": True, "valign": "top",
                                            "font_size": 11})
