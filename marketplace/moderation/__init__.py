"""Trust and moderation: flags, the risk screen, the operator console, the audit log, metrics."""
