"""A HackerRank for Work (v3) simulator, faithful to the published Swagger where it speaks.

Build it with ``app.create_app(config.HackerRankSimConfig(api_key=...))``; app.py lists the
surfaces and the assumptions made where HackerRank publishes nothing.
"""

from .app import create_app
from .config import HackerRankSimConfig

__all__ = ["HackerRankSimConfig", "create_app"]
