"""Storage: SQLModel tables, the database engine, Alembic migrations. Imports no GraphQL."""
