"""The plan: who inspects whom, when, and by which rubric (a YAML file; 2017q3.yaml is built in)."""

from xlsx_tool.plan.load import load_plan
from xlsx_tool.plan.model import (DEFAULT_PLAN, Item, Person, Plan, PlanError, Rubric, Rules, SummaryUnit, Unit,
                                  summary_folder)

__all__ = ["DEFAULT_PLAN", "Item", "Person", "Plan", "PlanError", "Rubric", "Rules", "SummaryUnit", "Unit",
           "load_plan", "summary_folder"]
