"""The JSON API front end: routes, request parsing, the OpenAPI document (api.openapi)."""
