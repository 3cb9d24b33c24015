"""Bids (proposals) and invitations."""
