"""Engagements (contracts) between a business and a specialist, and hiring."""
