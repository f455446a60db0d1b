"""Repositories over an `AsyncSession`, one module per context; `app.db.store.SqlUnitOfWork` builds them."""
