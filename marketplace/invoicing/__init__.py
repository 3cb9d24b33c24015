"""Weekly invoices of hourly contracts, bonuses, pausing and ending hourly contracts."""
