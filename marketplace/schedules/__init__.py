"""Coverage schedules: weekly and one-off blocks on hourly tasks, the shifts they produce,
seats that hired specialists claim, drop and swap, and the kept-shift record that feeds
reputation and matching."""
