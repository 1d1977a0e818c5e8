from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketpy.common import properties


def test_java_properties_forms() -> None:
    text = (
        "# comment\n! bang comment\n\n"
        "brokerClusterName = DefaultCluster\n"
        "brokerName:broker-a\n"
        "brokerId 0\n"
        "   deleteWhen=04\n"
        "storePathRootDir=/tmp/a\\\n    /b\n"
        "unicode=\\u0041\\tB\n"
        "empty=\n"
        "brokerId=1\n"
    )
    assert properties.loads(text) == {
        "brokerClusterName": "DefaultCluster",
        "brokerName": "broker-a",
        "brokerId": "1",
        "deleteWhen": "04",
        "storePathRootDir": "/tmp/a/b",
        "unicode": "A\tB",
        "empty": "",
    }


def test_bad_unicode_escape_is_an_error() -> None:
    with pytest.raises(properties.PropertiesError):
        properties.loads("a=\\u12\n")


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,20}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9_./;,-]{0,30}", fullmatch=True),
    )
)
def test_dumps_loads_round_trip(props: dict[str, str]) -> None:
    assert properties.loads(properties.dumps(props)) == props
