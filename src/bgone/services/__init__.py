"""Use cases every front end calls (HTTP routes, the CLI, batch workers), each doing its side
effects once. Services import domain, infra, inference, db, security, errors and settings;
never the server, the front ends or the web framework."""
