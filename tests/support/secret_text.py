"""Secrets kept out of what a failed test leaves behind.

A failed browser wait keeps the page's HTML, its console and a screenshot in
artifacts/, which CI keeps. A form can hold a secret there: a password typed
into the wrong field is echoed back by WordPress in the login field's value.
It may hold only part of one (the keystrokes after the focus moved), so every
run of at least FRAGMENT_MIN characters of a secret is hidden, not only the
whole secret.
"""

from __future__ import annotations

from collections.abc import Iterable

# Shorter runs of a generated password turn up in ordinary text by chance.
FRAGMENT_MIN = 8
HIDDEN = "[secret]"


class SecretText:
    """Hides every secret, and every run of FRAGMENT_MIN or more of a
    secret's characters, in a text. A secret shorter than that is hidden
    whole."""

    def __init__(self, secrets: Iterable[str]) -> None:
        secrets = {secret for secret in secrets if secret}
        self._short = sorted((s for s in secrets if len(s) < FRAGMENT_MIN), key=len, reverse=True)
        self._long = [secret for secret in secrets if len(secret) >= FRAGMENT_MIN]
        # Every run of FRAGMENT_MIN characters a secret holds: where a hidden
        # run can begin. A set, so that a page of 500 KB is read in one pass.
        self._openings = {
            secret[start : start + FRAGMENT_MIN]
            for secret in self._long
            for start in range(len(secret) - FRAGMENT_MIN + 1)
        }

    def _run_end(self, text: str, start: int) -> int:
        """The end of the longest run of a secret's characters at start
        (start itself when there is none)."""
        if text[start : start + FRAGMENT_MIN] not in self._openings:
            return start
        end = start + FRAGMENT_MIN
        while end < len(text) and any(text[start : end + 1] in secret for secret in self._long):
            end += 1
        return end

    def hide(self, text: str) -> str:
        for secret in self._short:
            text = text.replace(secret, HIDDEN)
        pieces, kept, position = [], 0, 0
        while position <= len(text) - FRAGMENT_MIN:
            end = self._run_end(text, position)
            if end == position:
                position += 1
                continue
            pieces += [text[kept:position], HIDDEN]
            kept = position = end
        pieces.append(text[kept:])
        return "".join(pieces)
