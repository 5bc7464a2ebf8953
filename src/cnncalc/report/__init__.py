"""Turning the engine's records into rows, JSON, CSV, Markdown and tables (report/table.py)."""
