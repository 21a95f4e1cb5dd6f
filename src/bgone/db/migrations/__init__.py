"""Alembic environment and revisions; run through `bgone.db.migrate`, no alembic.ini needed."""
