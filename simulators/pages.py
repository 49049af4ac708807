"""What the simulators' own web pages share: one look and live updates, so a person driving a
simulated vendor by hand meets the same kind of page whichever vendor it plays, and sees a status
change without reloading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

SHARED = Path(__file__).parent / "templates"
# Sent by `live.html`'s refreshes, so a page may skip work that only its static parts need.
LIVE_UPDATE_HEADER = "X-Live-Update"


def templates(own: Path | None = None) -> Jinja2Templates:
    """A simulator's templates, able to extend the shared `vendor_base.html` and include
    `live.html`; a simulator's own template of the same name wins."""
    return Jinja2Templates(directory=[own, SHARED] if own else [SHARED])


@dataclass(frozen=True)
class Badge:
    text: str
    tone: str  # a vendor_base.html badge class: good, attention, waiting or "" (neutral)


def back_home(error: str | None = None) -> RedirectResponse:
    """A button's answer: back to the home page, which shows `error` when the move was refused.
    A redirect, so a reload never repeats the move."""
    return RedirectResponse("/" + (f"?{urlencode({'error': error})}" if error else ""), 303)
