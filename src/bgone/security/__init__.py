"""Secrets handling: API key format, key hashing under a server secret, password hashing."""
