"""What the merge writes: the summary workbook, statistics, correction lists, report drafts."""
