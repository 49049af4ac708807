"""What the simulators' own web pages share: one look and live updates, so a person driving a
simulated vendor by hand meets the same kind of page whichever vendor it plays, and sees a status
change without reloading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
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


def back_home(error: str | None = None, notice: str | None = None) -> RedirectResponse:
    """A button's answer: back to the home page, which shows `error` when the move was refused
    (or a `notice` of what it did). A redirect, so a reload never repeats the move. Both travel
    in the URL: never candidate data in them."""
    shown = {name: text for name, text in (("error", error), ("notice", notice)) if text}
    return RedirectResponse("/" + (f"?{urlencode(shown)}" if shown else ""), 303)


def message_page(
    templates: Jinja2Templates,
    request: Request,
    heading_id: str,
    heading: str,
    text: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """A page of one heading and a line (`message.html`): thank-you, not found, closed."""
    context = {"heading_id": heading_id, "heading": heading, "text": text}
    return templates.TemplateResponse(request, "message.html", context, status_code=status_code)
