"""TLS for the remoting server and client: SSL contexts as TlsHelper builds them, and the first-byte detection of
NettyRemotingServer.HandshakeHandler.

Server modes (TlsSystemConfig.tlsMode): *disabled* closes a connection whose first byte is a TLS handshake record
(0x16); *permissive* (the Java default) serves TLS and plain connections on the same port; *enforcing* closes plain
ones. In test mode (`tls.test.mode.enable`, true by default) the server presents a self-signed certificate made on
its first TLS connection and the client trusts any server, as TlsHelper does.

Where Python's ssl module cannot do what Netty does, rocketpy is stricter, never laxer: a server that asks for
client certificates always verifies them (against tls.server.trustCertPath, else the system CAs), where Java with
tls.server.authClient=false accepts any certificate. Building the contexts reads files: call these functions before
the event loop starts.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import logging
import socket
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio

from rocketpy.remoting.tls_config import ClientAuth, TlsConfig, TlsMode

log = logging.getLogger("RocketmqRemoting")

HANDSHAKE_MAGIC_CODE = 0x16  # a TLS record of type handshake


class TlsSetupError(ValueError):
    """A TLS configuration that cannot start a server at all (Java fails its start-up too)."""


def self_signed_pem() -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, PEM, like Netty's SelfSignedCertificate: CN=localhost, valid from a
    year ago to 9999-12-31. ECDSA P-256 instead of RSA 2048: generating it takes well under a millisecond."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=365))
        .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _load_pem_pair(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    # ssl loads certificates from files only; the files live as long as this call.
    with tempfile.TemporaryDirectory(prefix="rocketpy-tls-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        ctx.load_cert_chain(cert_file, key_file)


def _password(password: str | None) -> Callable[[], str]:
    # Always a callable: without one OpenSSL would prompt for an encrypted key's pass phrase on the terminal.
    return lambda: password or ""


def server_context(config: TlsConfig) -> ssl.SSLContext:
    """TlsHelper.buildSslContext(forClient=false). Raises TlsSetupError when no key material is configured
    outside test mode, OSError / ssl.SSLError when the files cannot be read."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if config.test_mode_enable:
        cert_pem, key_pem = self_signed_pem()
        _load_pem_pair(ctx, cert_pem, key_pem)
        # Java asks for an optional client certificate and trusts any; not asking is what a client observes alike.
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if not config.server_cert_path or not config.server_key_path:
        raise TlsSetupError("tls.server.certPath and tls.server.keyPath are required when tls.test.mode.enable=false")
    ctx.load_cert_chain(config.server_cert_path, config.server_key_path, _password(config.server_key_password))
    auth = config.client_auth
    if auth is ClientAuth.NONE:
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if config.server_trust_cert_path:
        ctx.load_verify_locations(config.server_trust_cert_path)
    else:
        ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)
    if not config.server_auth_client:
        log.warning(
            "tls.server.authClient=false: Java would accept any client certificate; rocketpy verifies them against %s",
            config.server_trust_cert_path or "the system CAs",
        )
    ctx.verify_mode = ssl.CERT_REQUIRED if auth is ClientAuth.REQUIRE else ssl.CERT_OPTIONAL
    return ctx


def client_context(config: TlsConfig) -> ssl.SSLContext:
    """TlsHelper.buildSslContext(forClient=true): test mode trusts any server and presents no certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # Netty's client SslHandler does no host name verification
    if config.test_mode_enable or not config.client_auth_server:
        ctx.verify_mode = ssl.CERT_NONE
    elif config.client_trust_cert_path:
        ctx.load_verify_locations(config.client_trust_cert_path)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if not config.test_mode_enable and config.client_cert_path and config.client_key_path:
        ctx.load_cert_chain(config.client_cert_path, config.client_key_path, _password(config.client_key_password))
    return ctx


@dataclass(slots=True)
class ServerTls:
    """What a remoting server needs: the mode and the context (None when it could not be built: TLS connections
    are then closed, as NettyRemotingServer does with a null sslContext).

    In test mode the self-signed context is made on the first TLS connection (`deferred` holds its config until
    then): generating it needs `cryptography`, which a plain-only deployment would otherwise load at every start."""

    mode: TlsMode
    context: ssl.SSLContext | None
    deferred: TlsConfig | None = None
    _making: trio.Lock = field(default_factory=trio.Lock)

    @classmethod
    def build(cls, config: TlsConfig) -> ServerTls:
        """NettyRemotingServer.loadSslContext: a context unless disabled; unreadable key material is logged."""
        log.info("Server is running in TLS %s mode", config.mode.value)
        if config.mode is TlsMode.DISABLED:
            return cls(config.mode, None)
        if config.test_mode_enable:
            if importlib.util.find_spec("cryptography") is None:
                log.error("Failed to create SSLContext for server: No module named 'cryptography'")
                return cls(config.mode, None)
            return cls(config.mode, None, deferred=config)
        return cls(config.mode, _context_or_none(config))

    async def ready_context(self) -> ssl.SSLContext | None:
        """The context, made now (off the event loop, once) if it was deferred."""
        if self.deferred is not None:
            async with self._making:  # a connection arriving meanwhile waits for the same context
                if self.deferred is not None:
                    self.context = await trio.to_thread.run_sync(_context_or_none, self.deferred)
                    self.deferred = None
        return self.context

    async def secure(self, stream: trio.SocketStream, remote: str, idle: float) -> trio.abc.Stream | None:
        """HandshakeHandler: peek at the first byte and return the stream to read frames from, or None to close.

        `idle` bounds the wait for that byte like the connection's idle timeout.
        """
        first = b""
        with trio.move_on_after(idle):
            first = await stream.socket.recv(1, socket.MSG_PEEK)
        if not first:
            return None
        if first[0] == HANDSHAKE_MAGIC_CODE:
            if self.mode is TlsMode.DISABLED:
                log.warning(
                    "%s intends to establish an SSL connection while this server is running in SSL disabled mode",
                    remote,
                )
                await _refuse(stream)
                return None
            context = await self.ready_context()
            if context is None:
                log.error("%s tries to establish an SSL connection but sslContext is null", remote)
                await _refuse(stream)
                return None
            return await _handshake(stream, context, remote, idle)
        if self.mode is TlsMode.ENFORCING:
            log.warning(
                "%s intends to establish an insecure connection while this server is running in SSL enforcing mode",
                remote,
            )
            await _refuse(stream)
            return None
        return stream


def _context_or_none(config: TlsConfig) -> ssl.SSLContext | None:
    try:
        return server_context(config)
    except (OSError, ImportError) as exc:  # ssl.SSLError is an OSError; ImportError: no `cryptography`
        log.error("Failed to create SSLContext for server: %s", exc)
        return None


async def _refuse(stream: trio.SocketStream) -> None:
    """Netty closes the channel after it has read the first bytes: consume them, so that the peer sees an orderly
    close (FIN), not a reset for unread data."""
    with trio.move_on_after(1.0), contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        await stream.receive_some(65536)


async def _handshake(
    stream: trio.SocketStream, context: ssl.SSLContext, remote: str, idle: float
) -> trio.SSLStream[trio.SocketStream] | None:
    """The server side of the handshake; on failure the peer still gets OpenSSL's alert (e.g. certificate
    required), as a Netty server sends it, before the connection is closed."""
    tls = trio.SSLStream(stream, context, server_side=True, https_compatible=True)
    try:
        with trio.fail_after(idle):
            await tls.do_handshake()
    except trio.TooSlowError:
        log.info("TLS handshake with %s timed out", remote)
        return None
    except trio.BrokenResourceError as exc:
        log.info("TLS handshake with %s failed: %s", remote, exc.__cause__ or exc)
        # trio drops what OpenSSL queued when the handshake failed; that is the alert.
        pending = getattr(tls, "_outgoing", None)
        alert = pending.read() if isinstance(pending, ssl.MemoryBIO) else b""
        if alert:
            with (
                trio.move_on_after(1.0),
                contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError),
            ):
                await stream.send_all(alert)
        return None
    return tls
