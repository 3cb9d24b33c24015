"""Tasks: what a business needs done, its lifecycle and discovery."""
