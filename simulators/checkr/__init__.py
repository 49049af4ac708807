"""A Checkr simulator: the published v1 API for background checks via invitations.

`create_app(CheckrSimConfig(...))` gives the FastAPI app; see app.py for its surface.
"""

from .app import create_app
from .config import CheckrSimConfig

__all__ = ["CheckrSimConfig", "create_app"]
