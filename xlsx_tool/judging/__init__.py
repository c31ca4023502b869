"""Judging returns: recompute every score, identify each file's unit, apply the plan's rules."""
