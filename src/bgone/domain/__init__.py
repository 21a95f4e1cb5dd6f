"""Business rules: accounts, plans, API keys, credits, usage and the audit trail.

Every function takes its Session (or session factory) explicitly and returns frozen
dataclasses, never ORM rows, so callers cannot change the database by accident.
"""
