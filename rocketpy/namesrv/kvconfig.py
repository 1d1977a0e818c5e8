"""The NameServer's namespaced key/value store, mirroring namesrv.kvconfig.KVConfigManager.

Persisted to `kvConfigPath` (default `~/namesrv/kvConfig.json`) in Java's format, KVConfigSerializeWrapper:
`{"configTable":{namespace:{key:value}}}`. Java writes it with MixAll.string2File (tmp file, copy of the old file
to `.bak`, delete, rename), which loses the file if the process dies between the delete and the rename. Here the
tmp file is fsynced and atomically renamed over the old one, so the main file is always a complete old or new
version; `.bak` still receives the previous content, as Java keeps it. A stale `.tmp` is never read. On load a
missing or unreadable main file falls back to `.bak`.

The table is in memory; `persist()` is blocking file I/O, to be run off the event loop by the caller.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rocketpy.common import fastjson
from rocketpy.common.files import sibling
from rocketpy.common.files import write_atomically as write_file_atomically
from rocketpy.protocol.bodies import KVTable
from rocketpy.protocol.bodies._fields import BodyError, as_str, get_map, parse_object, str_key

log = logging.getLogger("RocketmqNamesrv")

NAMESPACE_ORDER_TOPIC_CONFIG = "ORDER_TOPIC_CONFIG"  # NamesrvUtil


class KVConfigManager:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # A value may be None: Java stores the null of a PUT_KV_CONFIG without value, and fastjson leaves it out.
        self.config_table: dict[str, dict[str, str | None]] = {}

    # -- state ----------------------------------------------------------------------------------------------------

    def put(self, namespace: str, key: str, value: str | None) -> None:
        table = self.config_table.setdefault(namespace, {})
        previous = table.get(key)
        table[key] = value
        verb = "update" if previous is not None else "create new"
        log.info("putKVConfig %s config item, Namespace: %s Key: %s Value: %s", verb, namespace, key, value)

    def delete(self, namespace: str | None, key: str | None) -> None:
        table = self.config_table.get(namespace) if namespace is not None else None
        if table is not None and key is not None:
            value = table.pop(key, None)
            log.info("deleteKVConfig delete a config item, Namespace: %s Key: %s Value: %s", namespace, key, value)

    def get(self, namespace: str | None, key: str | None) -> str | None:
        if namespace is None or key is None:
            return None
        return self.config_table.get(namespace, {}).get(key)

    def get_kv_list_by_namespace(self, namespace: str | None) -> KVTable | None:
        """The namespace as a KVTable; None when the namespace was never created (an emptied one is {})."""
        table = self.config_table.get(namespace) if namespace is not None else None
        if table is None:
            return None
        return KVTable({k: v for k, v in table.items() if v is not None})

    # -- persistence ----------------------------------------------------------------------------------------------

    def to_json(self) -> bytes:
        """KVConfigSerializeWrapper.toJson: nested HashMaps, written in Java's HashMap order."""
        table = self.config_table
        ordered = {
            ns: {k: table[ns][k] for k in fastjson.java_hash_order(table[ns])} for ns in fastjson.java_hash_order(table)
        }
        return fastjson.dumps({"configTable": ordered})

    def load(self) -> None:
        """KVConfigManager.load; a corrupt main file falls back to `.bak` instead of refusing to start."""
        for candidate in (self.path, sibling(self.path, ".bak")):
            try:
                data = candidate.read_bytes()
            except FileNotFoundError:
                continue
            try:
                self.config_table = _parse_table(data)
            except BodyError as exc:
                log.warning("kv config %s unreadable (%s)", candidate, exc)
                continue
            log.info("load KV config table OK from %s", candidate)
            return

    def persist(self) -> None:
        """Write the table: tmp + fsync + rename over the old file, previous content kept as `.bak`."""
        write_file_atomically(self.path, self.to_json())


def _parse_table(data: bytes) -> dict[str, dict[str, str | None]]:
    root = parse_object(data, "kvConfig.json")
    table: dict[str, dict[str, str | None]] = {}
    for namespace, entries in get_map(root, "configTable").items():
        if not isinstance(entries, Mapping):
            raise BodyError("configTable: expected objects")
        table[str_key(namespace, "configTable")] = _string_map(entries)
    return table


def _string_map(entries: Mapping[Any, Any]) -> dict[str, str | None]:
    return {str_key(k, "configTable"): as_str(v, "configTable") for k, v in entries.items() if v is not None}
