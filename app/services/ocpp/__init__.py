"""Use cases of the central system: charge points, id tags, transactions, meter values, commands."""
