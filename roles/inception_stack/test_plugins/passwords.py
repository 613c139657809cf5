"""The one rule every password of the stack follows, for pre-flight and for
the role alike: `value is inception_strong_password`.

At least 12 characters and no white space: long enough for a password nobody
types, and safe in every file it reaches (SQL, PHP, an ACL line, Docker
secrets), where white space would be trimmed or split.
"""

from __future__ import annotations

import re

STRONG = re.compile(r"\S{12,}")


def inception_strong_password(value: object) -> bool:
    return isinstance(value, str) and STRONG.fullmatch(value) is not None


class TestModule:
    def tests(self):
        return {"inception_strong_password": inception_strong_password}
