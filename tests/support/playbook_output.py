"""Reading ansible-playbook's own output (the project's ansible.cfg: the default
callback with YAML results) for what a test must say when a run failed."""

from __future__ import annotations

import re

# A failed task's first line; its result follows on the next lines (YAML).
_FAILURE = re.compile(r"^(fatal|failed): \[[^\]]+\]")
_TASK = re.compile(r"^TASK \[(?P<name>.*)\]")
# A result's keys that say nothing of why it failed (the task's name says which
# command it ran).
_NOISE = {
    "changed",
    "cmd",
    "delta",
    "start",
    "end",
    "stderr_lines",
    "stdout_lines",
    "invocation",
    "ansible_facts",
    "ansible_loop_var",
    "failed",
    "rc",
}
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_]+):(?P<value>.*)$")
# What ends a failed task's result: the next task, play, recap or timing line.
_RESULT_END = re.compile(
    r"^(TASK |PLAY |RUNNING HANDLER |NO MORE HOSTS|\.\.\.ignoring|\w+ \d+ \w+ \d{4} )|^\s*$"
)


def first_failure(output: str, limit: int = 240) -> str | None:
    """The task that stopped a playbook, from its output, as one line: the
    task's name and its result squeezed (msg, stderr), cut to `limit`
    characters. A failure the play ignored (`...ignoring`) is passed over.
    None when no task failed."""
    lines = output.splitlines()
    task = "?"
    for number, line in enumerate(lines):
        named = _TASK.match(line)
        if named:
            task = named["name"]
            continue
        if not _FAILURE.match(line):
            continue
        result = [line.partition("=>")[2].strip()]
        ignored = False
        key_indent, noise = None, False
        for following in lines[number + 1 :]:
            if _RESULT_END.match(following):
                ignored = following.startswith("...ignoring")
                break
            keyed = _KEY.match(following)
            if keyed and (key_indent is None or len(keyed["indent"]) <= key_indent):
                key_indent = len(keyed["indent"])
                noise = keyed["key"] in _NOISE or keyed["value"].strip() in ("''", "[]", "{}")
            if not noise:
                result.append(following.strip())
        if ignored:
            continue
        summary = f"task [{task}] " + " ".join(part for part in result if part)
        return summary if len(summary) <= limit else summary[: limit - 1] + "…"
    return None
