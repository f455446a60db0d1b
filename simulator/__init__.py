"""Charge-point fleet simulator: OCPP 1.6J charge points with EVs drawn from ElaadNL session statistics."""
