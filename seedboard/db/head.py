"""The schema's newest Alembic revision, importable without SQLAlchemy.

The reporter compares a database's ``alembic_version`` with it before writing
with the standard library alone; a test checks it against Alembic's own head.
"""

HEAD = "0006"
