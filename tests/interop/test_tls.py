"""TLS as Java's TlsSystemConfig (issue 8): the server modes, client certificates, and both ports of the broker.

One boot per target and mode: a NameServer and a broker started with the same `-Dtls.*` settings (JVM options for
the Java 4.9.7 reference, command-line arguments for rocketpy). Each client configuration then runs in its own
driver JVM (TlsSystemConfig reads system properties once): admin API, mqadmin, a producer on the VIP channel and
a push consumer. A hand-made probe adds what no Java client shows: whether each port (NameServer, broker, broker
VIP) answers a plain frame and a TLS handshake. A refused step is compared as refused; its exception chain is kept
in the report (`details`), since where a closed connection surfaces (timeout or send failure) is timing.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.golden_frames import encode_request
from interop.harness import processes
from interop.harness.certs import CertFiles, make_certs
from interop.harness.driver import run_driver
from interop.harness.environment import TARGETS, InteropEnv
from interop.harness.normalise import diff_paths

pytestmark = pytest.mark.interop

GET_ROUTEINFO_BY_TOPIC = 105
GET_BROKER_RUNTIME_INFO = 28
REFUSALS = {
    "org.apache.rocketmq.remoting.exception.RemotingTimeoutException",
    "org.apache.rocketmq.remoting.exception.RemotingSendRequestException",
    "org.apache.rocketmq.remoting.exception.RemotingConnectException",
    "org.apache.rocketmq.client.exception.MQClientException",
}

_java_observed: dict[str, Any] = {}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("tls-certs"))


def _mutual_files(certs: CertFiles) -> tuple[Path, Path]:
    """tls.config.file for the servers (and the broker's own client side) and for a client with a certificate."""
    server = certs.ca.parent / "server-tls.properties"
    server.write_text(
        "tls.test.mode.enable=false\n"
        "tls.server.need.client.auth=require\n"
        f"tls.server.certPath={certs.server_cert}\n"
        f"tls.server.keyPath={certs.server_key}\n"
        "tls.server.authClient=true\n"
        f"tls.server.trustCertPath={certs.ca}\n"
        f"tls.client.certPath={certs.client_cert}\n"
        f"tls.client.keyPath={certs.client_key}\n"
        "tls.client.authServer=true\n"
        f"tls.client.trustCertPath={certs.ca}\n"
    )
    client = certs.ca.parent / "client-tls.properties"
    client.write_text(
        "tls.test.mode.enable=false\n"
        f"tls.client.certPath={certs.client_cert}\n"
        f"tls.client.keyPath={certs.client_key}\n"
        "tls.client.authServer=true\n"
        f"tls.client.trustCertPath={certs.ca}\n"
    )
    return server, client


def _modes(certs: CertFiles) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """mode -> (server properties, {client name: client JVM properties})."""
    server_file, client_file = _mutual_files(certs)
    return {
        "permissive": ([], {"plain": [], "tls": ["-Dtls.enable=true"]}),
        "enforcing": (["-Dtls.server.mode=enforcing"], {"tls": ["-Dtls.enable=true"], "plain": []}),
        "disabled": (["-Dtls.server.mode=disabled"], {"plain": [], "tls": ["-Dtls.enable=true"]}),
        "mutual": (
            ["-Dtls.server.mode=enforcing", f"-Dtls.config.file={server_file}"],
            {
                "certificate": ["-Dtls.enable=true", f"-Dtls.config.file={client_file}"],
                "no-certificate": ["-Dtls.enable=true"],
            },
        ),
    }


def _boot(build: Any, target: str, workdir: Path, props: list[str]) -> InteropEnv:
    if target == "java":
        namesrv = processes.start_java_namesrv(build, workdir / "namesrv", jvm_props=props)
    else:
        namesrv = processes.start_rocketpy_namesrv(workdir / "namesrv", args=props)
    env = InteropEnv(build=build, kind=target, workdir=workdir, namesrv=namesrv, servers=[namesrv])
    try:
        if target == "java":
            broker = processes.start_java_broker(build, workdir / "broker", namesrv.addr, jvm_props=props)
        else:
            broker = processes.start_rocketpy_broker(workdir / "broker", namesrv.addr, args=props)
    except BaseException:
        env.stop()
        raise
    env.brokers["broker"] = broker
    env.servers.append(broker)
    return env


def _probe(addr: str, code: int, tls: ssl.SSLContext | None) -> str:
    """ "answered" when a request frame gets any reply, "closed" when the connection ends without one."""
    host, port = addr.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            if tls is None:
                raw.sendall(encode_request(code, 1, {"topic": "TlsTopic"}))
                return "answered" if raw.recv(4) else "closed"
            with tls.wrap_socket(raw) as sock:
                sock.sendall(encode_request(code, 1, {"topic": "TlsTopic"}))
                return "answered" if sock.recv(4) else "closed"
    except (ssl.SSLError, ConnectionError) as exc:
        return f"closed ({type(exc).__name__})" if isinstance(exc, ssl.SSLError) else "closed"
    except TimeoutError:
        return "no answer"


def _probes(env: InteropEnv) -> dict[str, dict[str, str]]:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    assert env.broker is not None
    host, port = env.broker.addr.rsplit(":", 1)
    ports = {
        "namesrv": (env.namesrv.addr, GET_ROUTEINFO_BY_TOPIC),
        "broker": (env.broker.addr, GET_BROKER_RUNTIME_INFO),
        "broker-vip": (f"{host}:{int(port) - 2}", GET_BROKER_RUNTIME_INFO),
    }
    return {
        name: {"plain": _probe(addr, code, None), "tls": _probe(addr, code, tls)}
        for name, (addr, code) in ports.items()
    }


def _outcome(step: dict[str, Any], details: list[Any]) -> Any:
    """An ok step as observed; a refused one as {"refused": True} with its exception chain moved to `details`."""
    if "error" not in step:
        return step
    error = step["error"]
    details.append(error)
    chain, link = [], error
    while link is not None:
        chain.append(link["class"])
        link = link.get("cause")
    assert REFUSALS & set(chain), f"unexpected failure: {error}"
    return {"refused": True}


def _run_mode(build: Any, target: str, workdir: Path, mode: str, certs: CertFiles) -> tuple[Any, list[Any], float]:
    props, clients = _modes(certs)[mode]
    started = time.monotonic()
    env = _boot(build, target, workdir, props)
    try:
        normalise = env.normaliser()
        observed: dict[str, Any] = {"probes": _probes(env)}
        details: list[Any] = []
        for name, client_props in clients.items():
            run = run_driver(
                build,
                "tls-clients",
                {"namesrv": env.namesrv.addr, "topic": f"Tls_{mode}_{name}".replace("-", "_")},
                env.driver_home(name),
                jvm_props=client_props,
            )
            steps = normalise(run.observations)
            observed[name] = {k: v if k == "useTLS" else _outcome(v, details) for k, v in steps.items()}
        return observed, normalise(details), time.monotonic() - started
    finally:
        env.stop()


def _check(
    mode: str,
    target: str,
    build: Any,
    tmp_path_factory: pytest.TempPathFactory,
    certs: CertFiles,
    expect: Callable[[Any], None],
) -> None:
    observed, details, took = _run_mode(build, target, tmp_path_factory.mktemp(f"tls-{mode}-{target}"), mode, certs)
    print(f"\nTLS {mode} against {target}: {took:.1f} s; refusals: {details}")
    expect(observed)  # what the Java reference is known to do: validates the harness on the Java run
    if target == "java":
        _java_observed[mode] = observed
        return
    expected = _java_observed.get(mode)
    if expected is None:  # -k rocketpy: run the reference in the same mode now
        expected, _, _ = _run_mode(build, "java", tmp_path_factory.mktemp(f"tls-{mode}-java"), mode, certs)
    differences = diff_paths(expected, observed)
    assert not differences, f"rocketpy differs from the Java reference in TLS mode {mode!r}:\n" + "\n".join(differences)


def _works(client: dict[str, Any]) -> None:
    assert "ok" in client["admin"], client
    assert client["produce"] == {"ok": ["SEND_OK"] * 4}, client
    assert len(client["consume"]["ok"]) == 4, client


def _refused(client: dict[str, Any]) -> None:
    assert client["admin"] == {"refused": True}, client
    assert client["produce"] == {"refused": True}, client
    assert client["consume"] == {"skipped": True}, client


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_permissive_serves_tls_and_plain_clients_on_every_port(
    target: str, interop_build: Any, tmp_path_factory: pytest.TempPathFactory, certs: CertFiles
) -> None:
    def expect(observed: Any) -> None:
        _works(observed["plain"])
        _works(observed["tls"])
        assert observed["tls"]["useTLS"] is True and observed["plain"]["useTLS"] is False
        for port in observed["probes"].values():
            assert port == {"plain": "answered", "tls": "answered"}

    _check("permissive", target, interop_build, tmp_path_factory, certs, expect)


def test_enforcing_refuses_plain_clients(
    target: str, interop_build: Any, tmp_path_factory: pytest.TempPathFactory, certs: CertFiles
) -> None:
    def expect(observed: Any) -> None:
        _works(observed["tls"])  # the broker registered over TLS: useTLS defaults to true when enforcing
        _refused(observed["plain"])
        for port in observed["probes"].values():
            assert port == {"plain": "closed", "tls": "answered"}

    _check("enforcing", target, interop_build, tmp_path_factory, certs, expect)


def test_disabled_refuses_tls_clients(
    target: str, interop_build: Any, tmp_path_factory: pytest.TempPathFactory, certs: CertFiles
) -> None:
    def expect(observed: Any) -> None:
        _works(observed["plain"])
        _refused(observed["tls"])
        for port in observed["probes"].values():
            assert port["plain"] == "answered" and port["tls"].startswith("closed"), port

    _check("disabled", target, interop_build, tmp_path_factory, certs, expect)


def test_mutual_tls_requires_a_client_certificate(
    target: str, interop_build: Any, tmp_path_factory: pytest.TempPathFactory, certs: CertFiles
) -> None:
    def expect(observed: Any) -> None:
        _works(observed["certificate"])
        _refused(observed["no-certificate"])
        for port in observed["probes"].values():
            assert port["plain"] == "closed" and port["tls"].startswith("closed"), port

    _check("mutual", target, interop_build, tmp_path_factory, certs, expect)
