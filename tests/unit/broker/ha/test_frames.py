"""The HA wire format (HAConnection / HAClient framing), sans-IO."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketpy.broker.ha.frames import (
    HEADER_SIZE,
    OffsetReader,
    Transfer,
    TransferDecoder,
    encode_header,
    encode_offset,
    first_transfer_offset,
)


def test_layouts_are_java_byte_buffers() -> None:
    assert encode_offset(0x0102030405060708) == bytes(range(1, 9))
    assert encode_header(16 * 1024 * 1024, 0) == struct.pack(">qi", 16 * 1024 * 1024, 0)
    assert len(encode_header(1, 2)) == HEADER_SIZE == 12


def test_offset_reader_keeps_the_last_complete_long() -> None:
    r = OffsetReader()
    assert r.feed(encode_offset(5)[:3]) is None
    assert r.feed(encode_offset(5)[3:] + encode_offset(9) + encode_offset(12)[:4]) == 9
    assert r.feed(encode_offset(12)[4:]) == 12


@given(
    st.lists(st.tuples(st.integers(0, 2**40), st.binary(max_size=300)), max_size=12),
    st.lists(st.integers(1, 97), min_size=1, max_size=30),
)
def test_decoder_reassembles_frames_split_anywhere(frames: list[tuple[int, bytes]], cuts: list[int]) -> None:
    wire = b"".join(encode_header(off, len(data)) + data for off, data in frames)
    decoder = TransferDecoder()
    got: list[Transfer] = []
    pos, i = 0, 0
    while pos < len(wire):
        step = cuts[i % len(cuts)]
        got += decoder.feed(wire[pos : pos + step])
        pos, i = pos + step, i + 1
    assert [(t.offset, t.data) for t in got] == frames
    assert decoder.buffered() == 0


def test_decoder_refuses_a_negative_or_huge_size() -> None:
    with pytest.raises(ValueError):
        TransferDecoder().feed(struct.pack(">qi", 0, -1))
    with pytest.raises(ValueError):
        TransferDecoder(max_size=10).feed(struct.pack(">qi", 0, 11))


def test_an_empty_slave_starts_at_the_masters_last_file() -> None:
    size = 1024
    assert first_transfer_offset(0, 0, size) == 0
    assert first_transfer_offset(0, 2500, size) == 2048
    assert first_transfer_offset(700, 2500, size) == 700
