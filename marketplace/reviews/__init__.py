"""Double-blind reviews after an engagement ends, with the empathy dimensions."""
