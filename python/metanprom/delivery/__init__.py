"""What the analysts and the manager receive: exports for Tableau, the workbook, the report, the summary."""
