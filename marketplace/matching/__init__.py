"""Matching: one ranking of specialists for a task (and of tasks for a specialist)."""
