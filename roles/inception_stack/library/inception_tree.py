#!/usr/bin/python
"""Write a tree of rendered files in one round trip, touching only what differs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: inception_tree
short_description: Write a folder tree in one round trip, only the files that differ
description:
  - Makes each folder and writes each file under O(root), with the owner, group
    and mode asked for, and leaves alone every folder and file that already
    matches (content, mode, owner, group).
  - One module call for the whole tree, instead of one per file, matters where
    each call is slow (a VM under software emulation: seconds per call).
  - Each file is written to a temporary file beside it and renamed over it, so
    a reader never sees half a file.
options:
  root:
    description: The tree's top folder (made if missing).
    type: path
    required: true
  folders:
    description: Folders below O(root), relative paths, made with O(folder_mode).
    type: list
    elements: str
    default: []
  folder_mode:
    description: Mode of O(root) and of every folder (octal string).
    type: str
    default: "0755"
  files:
    description:
      - The files below O(root), each a relative path, or a dict with C(path)
        and optionally C(mode) (octal string, default O(file_mode)).
      - A dict's other keys are the caller's own labels and are ignored.
    type: list
    elements: raw
    required: true
  file_mode:
    description: Mode of the files that do not set their own (octal string).
    type: str
    default: "0644"
  contents:
    description: Each file's content, in the order of O(files).
    type: list
    elements: str
    required: true
  owner:
    description: Owner of every folder and file (default, the account the module runs as).
    type: str
  group:
    description: Group of every folder and file (default, the group the module runs as).
    type: str
  keep_existing:
    description:
      - Leave the content of a file that exists as it is; only its mode and owner are set.
      - For what must never be replaced once made (secrets a database was initialised with).
    type: bool
    default: false
  record:
    description:
      - With O(keep_existing), a file below O(root) where the module keeps the sha256 of each
        file as it last wrote (or found) it. A file that still holds what the module wrote
        is the module's own, so a new content given for it is written (and reported in
        RV(rotated)); a file changed by someone else since (or never written by the module,
        such as one the tree's make created) is kept.
    type: str
  digest_key:
    description:
      - A file below O(root) holding a random key, made once (mode 0600) when missing. With it,
        the module returns RV(digests).
      - A keyed digest (HMAC-SHA256) can be shown, in a container's label for example, without
        helping anyone guess a password: a plain sha256 of a short password can be searched.
    type: str
"""

RETURN = r"""
written:
  description: The files written (paths relative to root), in the order given.
  type: list
  elements: str
  returned: always
folders_made:
  description: The folders made or whose mode or owner was set.
  type: list
  elements: str
  returned: always
kept:
  description: With O(keep_existing), the files that exist with another content than the one given (kept).
  type: list
  elements: str
  returned: always
modes_set:
  description: With O(keep_existing), the files kept whose mode or owner was set.
  type: list
  elements: str
  returned: always
rotated:
  description: With O(record), the files the module had written before and wrote again with the new content.
  type: list
  elements: str
  returned: always
digests:
  description:
    - With O(digest_key), each file's HMAC-SHA256 under that key, of its content as it is after
      the run (written or kept), by path relative to root. Empty in check mode while the key is missing.
  type: dict
  returned: always
"""

import grp
import hashlib
import hmac
import json
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule


def _relative(module: AnsibleModule, path: object, what: str) -> str:
    """A normalised relative path that stays inside root, or a clear failure."""
    if not isinstance(path, str) or not path:
        module.fail_json(msg=f"{what}: every entry needs a non-empty path")
    normalised = os.path.normpath(path)
    if os.path.isabs(normalised) or normalised == ".." or normalised.startswith("../"):
        module.fail_json(msg=f"{what}: '{path}' must be a relative path inside root")
    return normalised


def _mode(module: AnsibleModule, value: object, what: str) -> int:
    try:
        mode = int(str(value), 8)
    except ValueError:
        module.fail_json(msg=f"{what} has mode '{value}', not an octal number such as '0644'")
    if mode > 0o7777:
        module.fail_json(msg=f"{what} has mode '{value}', beyond 07777")
    return mode


def _matches(path: str, mode: int, uid: int, gid: int, kind) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    owned = (info.st_uid, info.st_gid) == (uid, gid)
    return kind(info.st_mode) and stat.S_IMODE(info.st_mode) == mode and owned


def _write(path: str, content: bytes, mode: int, uid: int, gid: int) -> None:
    folder, name = os.path.split(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as output:
            output.write(content)
            output.flush()
            os.fsync(output.fileno())
        os.chown(temporary, uid, gid)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _read_record(path: str | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as record:
            loaded = json.load(record)
    except (FileNotFoundError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _current(path: str) -> bytes | None:
    try:
        with open(path, "rb") as current:
            return current.read()
    except FileNotFoundError:
        return None


def _write_files(module: AnsibleModule, root: str, files: list, uid: int, gid: int) -> dict[str, list]:
    """Writes the files that differ. With keep_existing, an existing file's
    content stays, unless the record shows the module wrote it and it is
    unchanged since (then it is rotated). Returns the lists the module reports."""
    keep = module.params["keep_existing"]
    record_path = os.path.join(root, module.params["record"]) if module.params["record"] else None
    record = _read_record(record_path)
    new_record = dict(record)
    done: dict[str, list] = {"written": [], "kept": [], "modes_set": [], "rotated": []}
    for path, content, mode in files:
        full = os.path.join(root, path)
        # Read once; a symbolic link counts as no file (it is replaced).
        existing = None if os.path.islink(full) else _current(full)
        differs = existing is not None and existing != content
        if keep and differs and record.get(path) != _sha256(existing):
            # Someone else's (the tree's make, a person): kept as it is.
            done["kept"].append(path)
            if not _matches(full, mode, uid, gid, stat.S_ISREG):
                done["modes_set"].append(path)
                if not module.check_mode:
                    os.chown(full, uid, gid)
                    os.chmod(full, mode)
            continue
        new_record[path] = _sha256(content)
        if existing == content and _matches(full, mode, uid, gid, stat.S_ISREG):
            continue
        done["rotated" if keep and differs else "written"].append(path)
        if not module.check_mode:
            _write(full, content, mode, uid, gid)
    if record_path is not None and new_record != record:
        done["written"].append(module.params["record"])
        if not module.check_mode:
            _write(
                record_path,
                (json.dumps(new_record, indent=1, sort_keys=True) + "\n").encode(),
                0o600,
                uid,
                gid,
            )
    return done


def _digests(
    module: AnsibleModule, root: str, files: list, kept: list, ids: tuple[int, int]
) -> dict[str, str]:
    """Each file's HMAC under the key file (made once when missing), of its
    content after the run: the given one, or the one on disk where it was kept."""
    key_path = os.path.join(root, _relative(module, module.params["digest_key"], "digest_key"))
    key = _current(key_path)
    if key is None:
        if module.check_mode:
            return {}
        key = os.urandom(32)
        _write(key_path, key, 0o600, *ids)
    digests = {}
    for path, content, _mode in files:
        after = _current(os.path.join(root, path)) if path in kept else content
        digests[path] = hmac.new(key, after, hashlib.sha256).hexdigest()
    return digests


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "folders": {"type": "list", "elements": "str", "default": []},
            "folder_mode": {"type": "str", "default": "0755"},
            "files": {"type": "list", "elements": "raw", "required": True},
            "file_mode": {"type": "str", "default": "0644"},
            "contents": {"type": "list", "elements": "str", "required": True},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "keep_existing": {"type": "bool", "default": False},
            "record": {"type": "str"},
            "digest_key": {"type": "str"},
        },
        supports_check_mode=True,
    )
    root = module.params["root"]
    owner, group = module.params["owner"], module.params["group"]
    try:
        uid = pwd.getpwnam(owner).pw_uid if owner else os.geteuid()
        gid = grp.getgrnam(group).gr_gid if group else os.getegid()
    except KeyError as missing:
        module.fail_json(msg=f"no such account or group on the target: {missing}")

    folders = [_relative(module, folder, "folders") for folder in module.params["folders"]]
    if len(module.params["contents"]) != len(module.params["files"]):
        module.fail_json(
            msg=f"{len(module.params['files'])} files but {len(module.params['contents'])} contents: "
            "give one content per file, in the same order"
        )
    folder_mode = _mode(module, module.params["folder_mode"], "folder_mode")
    files = []
    for given, content in zip(module.params["files"], module.params["contents"], strict=True):
        entry = {"path": given} if isinstance(given, str) else given
        if not isinstance(entry, dict):
            module.fail_json(msg=f"files: {given!r} is neither a path nor a dict with a path")
        path = _relative(module, entry.get("path"), "files")
        mode = _mode(module, entry.get("mode", module.params["file_mode"]), f"files: '{path}'")
        files.append((path, content.encode(), mode))

    folders_made = []
    for folder in [".", *folders]:
        full = os.path.join(root, folder)
        if _matches(full, folder_mode, uid, gid, stat.S_ISDIR):
            continue
        folders_made.append(folder)
        if not module.check_mode:
            os.makedirs(full, mode=folder_mode, exist_ok=True)
            os.chown(full, uid, gid)
            os.chmod(full, folder_mode)

    if module.params["record"] is not None:
        _relative(module, module.params["record"], "record")
    done = _write_files(module, root, files, uid, gid)
    key_made = module.params["digest_key"] is not None and not os.path.exists(
        os.path.join(root, module.params["digest_key"])
    )
    digests = {}
    if module.params["digest_key"] is not None:
        digests = _digests(module, root, files, done["kept"], (uid, gid))

    module.exit_json(
        changed=bool(done["written"] or done["rotated"] or folders_made or done["modes_set"] or key_made),
        folders_made=folders_made,
        digests=digests,
        **done,
    )


if __name__ == "__main__":
    main()
