"""Contracts: the terms between one business and one specialist on one task, and the payables under them."""
