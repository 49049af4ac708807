"""docs/settings.md, rendered from the settings' own descriptions in settings.py, so the document
cannot drift from the code: `python -m cli.settings_doc > docs/settings.md` writes it, and
tests/test_readme.py checks it is up to date."""

from __future__ import annotations

import json

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from settings import SHOWN_DEFAULT, Settings

ENV_PREFIX = "ASSESSMENTS_"
REGENERATE = ".venv/bin/python -m cli.settings_doc > docs/settings.md"

HEADER = f"""\
# Settings

<!-- Generated from the descriptions in settings.py; edit those, then run: {REGENERATE} -->

All settings come from the environment (prefix `{ENV_PREFIX}`); the defaults are the embedded mode.

| variable | default | meaning |
|---|---|---|
"""


def variable(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def shown_default(field: FieldInfo) -> str:
    """The default as the document shows it: a field's own `shown_default` if it has one, else its
    value in the form the environment takes (JSON for lists, `true` for booleans)."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(shown := extra.get(SHOWN_DEFAULT), str):
        return shown
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "*(unset)*"
    # Embedded values of secrets stay out of the document unless a field shows one on purpose.
    if isinstance(value, SecretStr):
        return "*(dev value)*"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (bool, list, dict, int, float)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def cell(text: str, where: str) -> str:
    # A table row is one line, and a bare `|` would end its cell.
    if "\n" in text or "|" in text:
        raise ValueError(f"{where} holds a line break or `|`, which a table cell cannot")
    return text


def render() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"setting {name} has no description (Field(description=...))")
        rows.append(
            f"| `{variable(name)}` | {cell(shown_default(field), f'{name} default')} "
            f"| {cell(field.description, f'{name} description')} |\n"
        )
    return HEADER + "".join(rows)


if __name__ == "__main__":
    print(render(), end="")
