"""TLS: TlsSystemConfig parsing, the contexts TlsHelper builds, and the server modes over loopback sockets."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
import trio
from cryptography import x509

from interop.harness.certs import CertFiles, make_certs
from rocketpy.protocol.codes import ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext, inline
from rocketpy.remoting.server import RemotingServer
from rocketpy.remoting.tls import ServerTls, TlsSetupError, client_context, self_signed_pem, server_context
from rocketpy.remoting.tls_config import ClientAuth, TlsConfig, TlsMode, split_system_properties

ECHO = 9001


@inline
async def echo(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, cmd.remark)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("certs"))


# --- configuration -------------------------------------------------------------------------------------------


def test_defaults_are_java_defaults() -> None:
    config = TlsConfig.from_system_properties({})
    assert config.mode is TlsMode.PERMISSIVE
    assert config.test_mode_enable is True
    assert config.client_auth is ClientAuth.NONE
    assert config.config_file == "/etc/rocketmq/tls.properties"
    assert config.broker_client_use_tls() is False


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("disabled", TlsMode.DISABLED),
        ("enforcing", TlsMode.ENFORCING),
        ("ENFORCING", TlsMode.PERMISSIVE),
        ("", TlsMode.PERMISSIVE),
    ],
)
def test_mode_parses_like_tls_mode_parse(text: str, mode: TlsMode) -> None:
    assert TlsConfig.from_system_properties({"tls.server.mode": text}).mode is mode


@pytest.mark.parametrize(
    ("text", "auth"), [("REQUIRE", ClientAuth.REQUIRE), ("optional", ClientAuth.OPTIONAL), ("maybe", ClientAuth.NONE)]
)
def test_client_auth_parses_case_insensitively(text: str, auth: ClientAuth) -> None:
    assert TlsConfig.from_system_properties({"tls.server.need.client.auth": text}).client_auth is auth


def test_broker_client_uses_tls_when_enforcing_unless_tls_enable_says_otherwise() -> None:
    enforcing = {"tls.server.mode": "enforcing"}
    assert TlsConfig.from_system_properties(enforcing).broker_client_use_tls() is True
    assert TlsConfig.from_system_properties({**enforcing, "tls.enable": "false"}).broker_client_use_tls() is False
    assert TlsConfig.from_system_properties({"tls.enable": "TRUE"}).broker_client_use_tls() is True


def test_config_file_overrides_all_but_mode_and_enable(tmp_path: Path) -> None:
    path = tmp_path / "tls.properties"
    path.write_text(
        "tls.server.mode=disabled\ntls.enable=true\ntls.test.mode.enable=false\n"
        "tls.server.need.client.auth=require\ntls.server.certPath=/c.pem\ntls.client.authServer=true\n"
    )
    props = {"tls.config.file": str(path), "tls.server.certPath": "/from-property.pem"}
    config = TlsConfig.from_system_properties(props).with_config_file()
    assert config.mode is TlsMode.PERMISSIVE and config.enable is None
    assert config.test_mode_enable is False
    assert config.client_auth is ClientAuth.REQUIRE
    assert config.server_cert_path == "/c.pem"
    assert config.client_auth_server is True


def test_missing_config_file_is_skipped(tmp_path: Path) -> None:
    config = TlsConfig.from_system_properties({"tls.config.file": str(tmp_path / "none")})
    assert config.with_config_file() == config


def test_system_properties_come_from_d_arguments_and_tls_options() -> None:
    props, rest = split_system_properties(
        ["namesrv", "-Dtls.server.mode=enforcing", "--listenPort=1", "--tls.enable=true", "-D", "-c", "f"]
    )
    assert props == {"tls.server.mode": "enforcing", "tls.enable": "true"}
    assert rest == ["namesrv", "--listenPort=1", "-D", "-c", "f"]


# --- contexts ------------------------------------------------------------------------------------------------


def test_self_signed_certificate_is_quick_and_like_nettys() -> None:
    started = time.perf_counter()
    cert_pem, key_pem = self_signed_pem()
    took = time.perf_counter() - started
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject.rfc4514_string() == "CN=localhost" == cert.issuer.rfc4514_string()
    assert cert.not_valid_after_utc.year == 9999
    assert b"PRIVATE KEY" in key_pem
    assert took < 0.5, f"self-signed certificate took {took:.3f} s"


def test_outside_test_mode_the_server_needs_key_material() -> None:
    with pytest.raises(TlsSetupError):
        server_context(TlsConfig(test_mode_enable=False))


def test_unreadable_key_material_leaves_no_context(tmp_path: Path) -> None:
    config = TlsConfig(
        test_mode_enable=False, server_cert_path=str(tmp_path / "no.pem"), server_key_path=str(tmp_path / "no.key")
    )
    assert ServerTls.build(config).context is None
    assert ServerTls.build(TlsConfig(mode=TlsMode.DISABLED)).context is None


def test_encrypted_server_key_with_key_password(tmp_path: Path, certs: CertFiles) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(certs.server_key.read_bytes(), None)
    encrypted = tmp_path / "server-encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    config = TlsConfig(test_mode_enable=False, server_cert_path=str(certs.server_cert), server_key_path=str(encrypted))
    with pytest.raises(ssl.SSLError):
        server_context(config)
    from dataclasses import replace

    assert server_context(replace(config, server_key_password="secret")).verify_mode == ssl.CERT_NONE


# --- the server modes over loopback --------------------------------------------------------------------------


async def _serve(nursery: trio.Nursery, config: TlsConfig) -> str:
    server = RemotingServer({ECHO: echo}, tls=ServerTls.build(config))
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    return f"127.0.0.1:{port}"


async def _call(addr: str, context: ssl.SSLContext | None) -> str:
    """ "ok" when the echo comes back, "refused" when the connection fails or closes first."""
    try:
        async with RemotingClient(ssl_context=context, connect_timeout=5) as client:
            reply = await client.invoke(addr, RemotingCommand.request(ECHO), timeout=5)
            return "ok" if reply.is_response else "not a reply"
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, Exception) as exc:
        return "refused" if "Timeout" not in type(exc).__name__ else "timeout"


def _tls_client() -> ssl.SSLContext:
    return client_context(TlsConfig())


@pytest.mark.parametrize(
    ("mode", "plain", "tls"),
    [("permissive", "ok", "ok"), ("enforcing", "refused", "ok"), ("disabled", "ok", "refused")],
)
async def test_server_modes(nursery: trio.Nursery, mode: str, plain: str, tls: str) -> None:
    addr = await _serve(nursery, TlsConfig.from_system_properties({"tls.server.mode": mode}))
    assert await _call(addr, None) == plain
    assert await _call(addr, _tls_client()) == tls


async def test_mutual_tls_requires_a_trusted_client_certificate(
    nursery: trio.Nursery, certs: CertFiles, tmp_path: Path
) -> None:
    server = TlsConfig(
        mode=TlsMode.ENFORCING,
        test_mode_enable=False,
        server_need_client_auth="require",
        server_cert_path=str(certs.server_cert),
        server_key_path=str(certs.server_key),
        server_auth_client=True,
        server_trust_cert_path=str(certs.ca),
    )
    addr = await _serve(nursery, server)
    with_cert = TlsConfig(
        test_mode_enable=False,
        client_cert_path=str(certs.client_cert),
        client_key_path=str(certs.client_key),
        client_auth_server=True,
        client_trust_cert_path=str(certs.ca),
    )
    assert await _call(addr, client_context(with_cert)) == "ok"
    assert await _call(addr, _tls_client()) == "refused"
    # A certificate from another CA is refused as well.
    other = make_certs(tmp_path / "other")
    stranger = TlsConfig(
        test_mode_enable=False, client_cert_path=str(other.client_cert), client_key_path=str(other.client_key)
    )
    assert await _call(addr, client_context(stranger)) == "refused"
    # A client that verifies the server refuses a server its CA did not sign.
    wary = TlsConfig(test_mode_enable=False, client_auth_server=True, client_trust_cert_path=str(other.ca))
    assert await _call(addr, client_context(wary)) == "refused"


async def test_a_silent_or_vanishing_peer_never_hurts_the_server(nursery: trio.Nursery) -> None:
    addr = await _serve(nursery, TlsConfig())
    host, port = addr.rsplit(":", 1)
    for payload in (b"", b"\x16", b"\x16\x03\x01\x00\x05hello"):
        stream = await trio.open_tcp_stream(host, int(port))
        if payload:
            await stream.send_all(payload)
        await stream.aclose()
    assert await _call(addr, _tls_client()) == "ok"
    assert await _call(addr, None) == "ok"


def test_cli_takes_tls_settings_as_system_property_arguments(tmp_path: Path) -> None:
    """`rocketpy namesrv -Dtls.server.mode=enforcing`: a TLS client is served, a plain one is closed."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [sys.executable, "-m", "rocketpy", "namesrv", f"--listenPort={port}", "-Dtls.server.mode=enforcing"]
    env = {**os.environ, "HOME": str(tmp_path)}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        assert proc.stdout is not None
        assert "boot success" in proc.stdout.readline()
        booted = time.perf_counter() - started
        addr = f"127.0.0.1:{port}"
        assert trio.run(_call, addr, _tls_client()) == "ok"
        assert trio.run(_call, addr, None) == "refused"
        assert booted < 5.0
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_outside_test_mode_a_server_without_key_material_does_not_start() -> None:
    with pytest.raises(ValueError, match="certPath"):
        TlsConfig(test_mode_enable=False).check_server()
    TlsConfig(mode=TlsMode.DISABLED, test_mode_enable=False).check_server()  # no TLS, nothing needed
    TlsConfig(test_mode_enable=False, server_cert_path="/c", server_key_path="/k").check_server()


def test_broker_use_tls_default_is_overridden_by_broker_conf(tmp_path: Path) -> None:
    """BrokerStartup: useTLS starts from tls.enable / enforcing, then broker.conf's useTLS wins."""
    from rocketpy.broker.config import load_settings

    conf = tmp_path / "broker.conf"
    conf.write_text(f"storePathRootDir={tmp_path}\n")
    assert load_settings(conf, client_use_tls=True).client.use_tls is True
    assert load_settings(conf).client.use_tls is False
    conf.write_text(f"storePathRootDir={tmp_path}\nuseTLS=false\n")
    assert load_settings(conf, client_use_tls=True).client.use_tls is False
