from typing import Any

def send_batch(
    data: bytes,
    pos: int,
    max_frame: int,
    learned: dict[str, bytes],
    table: dict[str, Any],
    multi_tag: object,
    languages: frozenset[bytes],
    cluster_segment: bytes,
    max_body: int,
    props_max: int,
    max_total: int,
    file_size: int,
    born_ip: bytes,
    born_port: int,
    store_ip: bytes,
    store_port: int,
    template: tuple[bytes, bytes, bytes, bytes, bytes],
    msg_id_prefix: bytes,
    log_view: memoryview,
    log_from: int,
    log_wrote: int,
    log_limit: int,
    queue_offsets: dict[tuple[str, int], int],
    index: list[Any] | None,
    now_ms: int,
) -> tuple[
    int,
    int,
    bytes,
    int,
    int,
    list[tuple[str, int, int, int, bytes, int]],
    list[tuple[str, int, int]],
    list[tuple[str, int, int]],
]: ...
def java_string_hash_utf8(data: bytes, /) -> int: ...
def last_stop_line() -> int: ...
def crc32(data: bytes | bytearray | memoryview, /) -> int: ...
def pull_frame(
    data: bytes, pos: int, max_frame: int, languages: frozenset[bytes], /
) -> tuple[int, int, str, str, int, int, int, int, int, int, int] | None: ...
