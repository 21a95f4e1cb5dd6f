"""Use cases every front end calls, each doing its side effects once."""
