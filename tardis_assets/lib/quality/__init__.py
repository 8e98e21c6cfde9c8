"""Data-quality gates as data: rules (limits and severities) in a table, judged per instrument."""
