"""Reading what comes back: walk collected/, open each workbook, find the form's cells."""
