"""Accounts: sign-up, login, email verification, password reset, sessions."""
