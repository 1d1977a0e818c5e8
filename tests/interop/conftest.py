"""Fixtures of the differential interop suite: every scenario runs against the official Java reference and against
rocketpy, and the rocketpy run's observations must equal the Java run's.

These tests never skip. A missing `java` or `mvn`, or a Maven failure, is a test failure with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness import build as interop_build_mod
from interop.harness.environment import TARGETS, InteropEnv, Server, environment, start_namesrv
from interop.harness.normalise import diff_paths

Scenario = Callable[[InteropEnv], Any]

_ENVS: dict[str, InteropEnv] = {}


@pytest.fixture(scope="session")
def interop_build() -> interop_build_mod.JavaBuild:
    """Reference classpath + driver, built once per session (and cached on disk under interop/.work/)."""
    try:
        return interop_build_mod.prepare()
    except interop_build_mod.InteropSetupError as exc:
        pytest.fail(f"interop setup failed: {exc}", pytrace=False)


@pytest.fixture(params=TARGETS)
def namesrv_target(request: pytest.FixtureRequest, tmp_path: Path, interop_build: Any) -> Iterator[str]:
    """A fresh NameServer, the Java reference or rocketpy; yields its address. Killed at teardown."""
    env = start_namesrv(interop_build, request.param, tmp_path / request.param)
    _ENVS[env.namesrv.addr] = env
    try:
        yield env.namesrv.addr
    finally:
        _ENVS.pop(env.namesrv.addr, None)
        env.stop()


@pytest.fixture
def interop_env(namesrv_target: str) -> InteropEnv:
    """The environment behind `namesrv_target` (its kind, work dir, servers, normaliser)."""
    return _ENVS[namesrv_target]


@pytest.fixture(params=["JSON", "ROCKETMQ"])
def client_serialization(request: pytest.FixtureRequest) -> str:
    """Header serialisation of the Java clients (-Drocketmq.serialize.type); a server must answer in kind."""
    value: str = request.param
    return value


@pytest.fixture(params=TARGETS)
def broker_target(request: pytest.FixtureRequest) -> str:
    """Which implementation serves as NameServer *and* broker: "java" (4.9.7 reference) or "rocketpy"."""
    value: str = request.param
    return value


@pytest.fixture
def broker_env(broker_target: str, tmp_path: Path, interop_build: Any) -> Iterator[InteropEnv]:
    """A NameServer and a broker of `broker_target`, the broker started from the same broker.conf either way."""
    with environment(interop_build, broker_target, tmp_path / broker_target, broker_kind=broker_target) as env:
        yield env


@pytest.fixture
def java_broker(interop_env: InteropEnv) -> Server:
    """An official Java 4.9.7 broker registered with the NameServer under test (stopped before it)."""
    return interop_env.start_broker()


class JavaBaseline:
    """Java reference observations per scenario, for the cross-target comparison.

    The Java-parametrised test records its observations; the rocketpy test compares against them, running the
    scenario against a fresh Java environment itself when the Java test did not run in this session (-k rocketpy).
    """

    def __init__(self, build: Any, tmp_factory: pytest.TempPathFactory) -> None:
        self._build = build
        self._tmp = tmp_factory
        self._cache: dict[str, Any] = {}

    def check(
        self,
        name: str,
        env: InteropEnv,
        observed: Any,
        scenario: Scenario,
        as_pinned: Callable[[Any], Any] | None = None,
        with_broker: bool = True,
        kind: str | None = None,
    ) -> None:
        """Record (Java) or compare (rocketpy) `observed`.

        `as_pinned` maps the 4.9.7 reference observations to what the pinned 4.9.8 behaviour is; it must only encode
        differences documented in the 4.9.8 source (see scenarios.admin_as_4_9_8). `with_broker`: whether the
        on-demand Java environment gets a default broker before `scenario` runs (as the test's fixtures did).
        `kind` overrides `env.kind` as the implementation under test (when a run mixes implementations).
        """
        kind = kind or env.kind
        dump = os.environ.get("ROCKETPY_INTEROP_DUMP")
        if dump:  # optional: keep every run's observations for a side-by-side look
            Path(dump).mkdir(parents=True, exist_ok=True)
            (Path(dump) / f"{name}-{kind}.json").write_text(json.dumps(observed, indent=1, sort_keys=True))
        if kind == "java":
            self._cache[name] = observed
            return
        expected = self._cache.get(name)
        if expected is None:
            workdir = self._tmp.mktemp(f"baseline-{name}")
            with environment(self._build, "java", workdir, with_broker=with_broker) as java_env:
                expected = self._cache[name] = scenario(java_env)
        if as_pinned is not None:
            expected = as_pinned(expected)
        differences = diff_paths(expected, observed)
        assert not differences, (
            f"{kind} differs from the Java reference in scenario {name!r} "
            f"(left = Java reference, right = {kind}):\n" + "\n".join(differences)
        )


@pytest.fixture(scope="session")
def baseline(interop_build: Any, tmp_path_factory: pytest.TempPathFactory) -> JavaBaseline:
    return JavaBaseline(interop_build, tmp_path_factory)
