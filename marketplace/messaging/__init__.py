"""Message threads between a business and a specialist."""
