"""`python -m cli …`, as the embedded stack starts each part."""

from cli import app

app()
