"""The send hot path's shortcuts decide exactly as the general code they stand in for (issue 12)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.broker.processors.send_support import parse_properties
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeader, SendMessageRequestHeaderV2, send_header_v2
from tests.unit.broker.data.conftest import send_v2_ext

NUMBERS = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from(["", "-", "+1", " 1", "1 ", "0x1", "1_0", "\u0661", "00012", "-0", "9" * 19, "-2147483649"]),
    st.text(alphabet="0123456789-+ \u0661a", max_size=21),
)


def general(ext: dict[str, str]) -> SendMessageRequestHeader | tuple[int, str]:
    """What SendMessageProcessor.parse_header did before the fast path."""
    try:
        header = SendMessageRequestHeaderV2.from_ext(ext).to_v1()
        header.check_ranges()
        return header
    except RocketMQError as exc:
        return exc.code, exc.remark


def fast(ext: dict[str, str]) -> SendMessageRequestHeader | tuple[int, str]:
    try:
        return send_header_v2(ext)
    except RocketMQError as exc:
        return exc.code, exc.remark


@settings(max_examples=400)
@given(
    st.dictionaries(st.sampled_from(list("defghjl")), NUMBERS),
    st.sets(st.sampled_from(list("abcdefghijklmn"))),
    st.sampled_from(["true", "TRUE", "false", "yes", ""]),
)
def test_v2_header_fast_path_matches_the_general_decoder(numbers: dict[str, str], drop: set[str], flag: str) -> None:
    ext = send_v2_ext("TopicTest", max_reconsume_times=16)
    ext.update(numbers)
    ext["k"] = ext["m"] = flag
    for key in drop:
        ext.pop(key, None)
    assert fast(ext) == general(ext)


def old_parse_properties(text: str | None) -> dict[str, str]:
    """MessageDecoder.string2messageProperties as send_support wrote it before (the reference)."""
    props: dict[str, str] = {}
    if not text:
        return props
    for item in text.split("\x02"):
        if len(item) < 3:
            continue
        sep = item.find("\x01")
        if 0 < sep < len(item) - 1:
            props[item[:sep]] = item[sep + 1 :]
    return props


@settings(max_examples=400)
@given(st.one_of(st.none(), st.text(alphabet="ab\x01\x02\u00e9", max_size=40)))
def test_properties_parse_matches_the_reference(text: str | None) -> None:
    got = parse_properties(text)
    want = old_parse_properties(text)
    assert got == want and list(got) == list(want)
