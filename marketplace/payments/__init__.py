"""Payments: gateways (sandbox and Stripe Connect), the double-entry ledger, webhooks and money views."""
