"""A value as Docker Compose v2 reads it back from a .env file.

Compose reads a double-quoted value with two rules of its own: a backslash
escapes the next character (\\" is a quote, \\\\ a backslash) and $ starts
an interpolation ($$ is a dollar). A value made only of characters neither
rule touches is written bare, so the file stays easy to read."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Characters Compose takes as they are in an unquoted value (no space: an
# unquoted value is trimmed, and " #" starts a comment).
_BARE = re.compile(r"[A-Za-z0-9_.,:/@+=-]+")


def inception_dotenv_value(value: object) -> str:
    text = str(value)
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in text):
        # A line break would end the line; pre-flight refuses these first.
        raise AnsibleFilterError(f"a .env value cannot hold a control character: {text!r}")
    if _BARE.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'


class FilterModule:
    def filters(self):
        return {"inception_dotenv_value": inception_dotenv_value}
