"""Site-wide pages: landing, dashboard, health check."""
