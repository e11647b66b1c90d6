"""Readers and writers with budgets: JSON and YAML input with positions, streamed JSON output,
atomic file sets, bounded HTTP bodies."""
