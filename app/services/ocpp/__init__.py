"""Use cases of the central system, one module each: what a charge point reports about itself
(`charge_points`), id-tag authorisation (`authorisation`), transactions, meter values, reservations, data
transfers, commands and their side effects, the registry (charge points, connectors, id tags as operators
manage them), and the read side (`reporting`)."""
