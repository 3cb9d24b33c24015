"""Mail: every message goes through the outbox table, then to SMTP when configured."""
