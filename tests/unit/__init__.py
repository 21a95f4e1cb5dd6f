"""Fast tests: no subprocess, no model."""
