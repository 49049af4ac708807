"""A TestGorilla simulator: polling only, login tokens with idle expiry, per-endpoint rate limits.

Build it with ``app.create_app(config.TestGorillaSimConfig(...))``. ``testgorilla-api.yaml`` is
our reading of docs.testgorilla.com (there is no published machine-readable specification).
"""
