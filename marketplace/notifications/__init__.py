"""In-app notifications and their emails."""
