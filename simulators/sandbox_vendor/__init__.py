"""The sandbox vendor: our own reference assessment vendor, served as a FastAPI app.

Build it with ``app.create_app(config.SandboxVendorConfig(...))``; partners verify its webhooks
with ``webhooks.sign``.
"""
