"""Repository protocols, one module per context; `app.domain.persistence.UnitOfWork` gathers them."""
