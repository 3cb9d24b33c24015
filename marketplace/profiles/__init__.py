"""Profiles: freelancer and business profiles, the skill taxonomy."""
