"""Storage: schema, engines, migrations and one store module per area."""
