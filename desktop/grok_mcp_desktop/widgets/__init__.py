"""Widgets every dashboard page shares: the page frame, charts, tables, the theme and how numbers are written."""
