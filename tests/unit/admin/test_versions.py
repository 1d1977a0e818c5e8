"""MQVersion.Version names by ordinal (what mqadmin prints as a client's version)."""

from rocketpy.protocol.codes import Version
from rocketpy.protocol.versions import version_desc, version_names


def test_every_known_ordinal_has_its_java_name() -> None:
    names = version_names()
    assert len(names) == 613 and names[-1] == "HIGHER_VERSION"
    for version in Version:
        assert names[version.value] == version.name
    assert names[:3] == ("V3_0_0_SNAPSHOT", "V3_0_0_ALPHA1", "V3_0_0_BETA1")
    assert names[15:18] == ("V3_0_0_FINAL", "V3_0_1_SNAPSHOT", "V3_0_1")


def test_out_of_range_is_higher_version() -> None:
    assert version_desc(409) == "V4_9_8"
    assert version_desc(5000) == version_desc(-1) == "HIGHER_VERSION"
