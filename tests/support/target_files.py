"""Files on a target, several in one command.

Each command is a round trip: ~0.2 s through `docker exec` on a container
target, ~1 s over SSH and sudo into an emulated VM. A test that looks at a
dozen files asks for them all at once.
"""

from __future__ import annotations

import base64

# For each path given ("$@"): whether it exists, and its content when it is a
# file, on one line (path, tab, mark, base64 of the bytes).
_READ_EACH = r"""
for path; do
  if [ -f "$path" ]; then printf '%s\tfile\t%s\n' "$path" "$(base64 -w0 < "$path")"
  elif [ -e "$path" ]; then printf '%s\tother\t\n' "$path"
  else printf '%s\tmissing\t\n' "$path"
  fi
done
"""


def _each(host, paths: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    if not paths:
        return {}
    output = host.check_output("sh -c %s sh" + " %s" * len(paths), _READ_EACH, *paths)
    found = {}
    for line in output.splitlines():
        path, mark, encoded = line.split("\t")
        found[path] = (mark, encoded)
    # The paths only: what a file holds (a secret, maybe) stays out of the message.
    assert sorted(found) == sorted(set(paths)), (sorted(found), sorted(set(paths)))
    return found


def missing_paths(host, *paths: str) -> list[str]:
    """The paths, of those given, that do not exist on the target."""
    return [path for path, (mark, _) in _each(host, paths).items() if mark == "missing"]


def read_files(host, *paths: str) -> dict[str, str]:
    """The text of each file, by path; fails if one is not a regular file."""
    found = _each(host, paths)
    not_files = {path: mark for path, (mark, _) in found.items() if mark != "file"}
    assert not not_files, f"not regular files: {not_files}"
    return {path: base64.b64decode(encoded).decode() for path, (_, encoded) in found.items()}
