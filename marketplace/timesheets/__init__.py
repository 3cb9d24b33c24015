"""Hourly timesheets: time entries on hourly contracts and the week arithmetic of weekly billing."""
