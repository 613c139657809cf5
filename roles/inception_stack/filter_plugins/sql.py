"""A value as a MariaDB string literal, for SQL the role sends on standard
input (a password being rotated): quotes and backslashes escaped, so any
character pre-flight accepts reaches the server as it is."""

from __future__ import annotations


def inception_sql_string(value: object) -> str:
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class FilterModule:
    def filters(self):
        return {"inception_sql_string": inception_sql_string}
