"""Reading and writing ACL files as AclUtils does (snakeyaml `loadAs` / `dumpAsMap`).

Both sides use YAML 1.1 resolvers, so an unquoted 12345678 is a number and `true` a boolean in either; the dump is
block style with the keys in insertion order, like snakeyaml's dumpAsMap of a LinkedHashMap. A file that does not
exist reads as None; one that does not parse is an AclError (Java: AclException with snakeyaml's message).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from rocketpy.broker.acl.errors import AclError
from rocketpy.common.files import fsync_dir


def read_yaml(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AclError(str(exc)) from exc


def dump_yaml(data: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(data, default_flow_style=False, sort_keys=False, allow_unicode=True)
    return text


def write_yaml(path: str, data: dict[str, Any]) -> bool:
    """AclUtils.writeDataObject. rocketpy writes a temp file and renames it, so that neither a reader nor a crash
    sees half a file; the new file keeps the old one's permission bits, so secrets never become more readable."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o600
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.fchmod(fd, mode)
            view = memoryview(dump_yaml(data).encode("utf-8"))
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except OSError as exc:
        raise AclError(str(exc)) from exc
    return True
