"""The form's worksheet class: XlsxWriter's, minus a formula rewrite that is a no-op for the form.

Before writing a formula of a validation or a conditional format, XlsxWriter tries about 130
regular-expression substitutions on it, to prefix Excel 2010+ functions with "_xlfn.".  The form's
formulas use none of those functions, yet the substitutions took two thirds of `build_form`'s time
(measured: 17 ms of CPU a form with them, 5.8 ms without; 137 forms 2.3 s against 0.8 s).  So a
formula calling only functions of OWN_FUNCTIONS skips them; any other goes through XlsxWriter's
own code.  `tests/test_form_paper.py` checks that both give the same text for every formula of a form.
"""

from __future__ import annotations

import re

from xlsxwriter.worksheet import Worksheet

OWN_FUNCTIONS = frozenset({"AND", "OR", "NOT", "IF", "ISNUMBER", "ROUND", "INT", "LEN", "TRIM", "DATE",
                           "MAX", "MIN", "SUM", "COUNTIF"})
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


class FormWorksheet(Worksheet):
    def _prepare_formula(self, formula, expand_future_functions=False):  # XlsxWriter's hook, see above
        if not formula.startswith("{") and not formula.endswith("}") and "_xlfn." not in formula \
                and OWN_FUNCTIONS.issuperset(_CALL.findall(formula)):
            return formula[1:] if formula.startswith("=") else formula
        return super()._prepare_formula(formula, expand_future_functions)
