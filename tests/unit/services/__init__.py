"""The use cases of bgone.services, on a real SQLite file database."""
