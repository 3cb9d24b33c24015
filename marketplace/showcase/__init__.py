"""What pages show about people to help others choose: track records, client facts, profile completeness."""
