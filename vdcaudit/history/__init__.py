"""Scan history: every scan recorded with `--history` (SQLite file or PostgreSQL URL), what changed
since the last scan of the same scope, trends, notifications and a static site.

The package owns its schema (migrations/); the rest of vdcaudit only sees the computed
"since the last scan" view that `record` puts into the report's sections.
"""
