"""Cross-cutting pieces every feature uses: errors, money, time, database helpers."""
