"""TLS settings as Java's TlsSystemConfig reads them: JVM system properties, then the tls.config.file.

Mirrors remoting.netty.TlsSystemConfig and TlsHelper.extractTlsConfigFromFile. The Java servers take these only as
`-Dkey=value` system properties (never from broker.conf or the environment); rocketpy's command line takes the
same `-Dkey=value` arguments, and `--tls.key=value` as a synonym. The properties file (default
/etc/rocketmq/tls.properties, skipped when absent) may set every key but `tls.server.mode`, `tls.enable` and
`tls.config.file` itself, and wins over the system properties, as in TlsHelper.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from rocketpy.common import properties

TLS_SERVER_MODE = "tls.server.mode"
TLS_ENABLE = "tls.enable"
TLS_CONFIG_FILE = "tls.config.file"
TLS_TEST_MODE_ENABLE = "tls.test.mode.enable"
TLS_SERVER_NEED_CLIENT_AUTH = "tls.server.need.client.auth"
TLS_SERVER_KEYPATH = "tls.server.keyPath"
TLS_SERVER_KEYPASSWORD = "tls.server.keyPassword"
TLS_SERVER_CERTPATH = "tls.server.certPath"
TLS_SERVER_AUTHCLIENT = "tls.server.authClient"
TLS_SERVER_TRUSTCERTPATH = "tls.server.trustCertPath"
TLS_CLIENT_KEYPATH = "tls.client.keyPath"
TLS_CLIENT_KEYPASSWORD = "tls.client.keyPassword"
TLS_CLIENT_CERTPATH = "tls.client.certPath"
TLS_CLIENT_AUTHSERVER = "tls.client.authServer"
TLS_CLIENT_TRUSTCERTPATH = "tls.client.trustCertPath"

DEFAULT_CONFIG_FILE = "/etc/rocketmq/tls.properties"


class TlsMode(Enum):
    """remoting.common.TlsMode; an unknown name parses as PERMISSIVE, as TlsMode.parse does."""

    DISABLED = "disabled"
    PERMISSIVE = "permissive"
    ENFORCING = "enforcing"

    @classmethod
    def parse(cls, text: str | None) -> TlsMode:
        for mode in cls:
            if mode.value == text:
                return mode
        return cls.PERMISSIVE


class ClientAuth(Enum):
    """Netty's ClientAuth as TlsHelper.parseClientAuthMode reads it: case-insensitive, anything else is NONE."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRE = "require"

    @classmethod
    def parse(cls, text: str | None) -> ClientAuth:
        wanted = (text or "").strip().lower()
        for auth in cls:
            if auth.value == wanted:
                return auth
        return cls.NONE


def _bool(text: str | None, default: bool) -> bool:
    # Boolean.parseBoolean: only "true" (any case) is true.
    return default if text is None else text.strip().lower() == "true"


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """The TlsSystemConfig statics, with their Java defaults."""

    mode: TlsMode = TlsMode.PERMISSIVE
    enable: bool | None = None  # tls.enable; None when not given (its default then depends on the reader)
    config_file: str = DEFAULT_CONFIG_FILE
    test_mode_enable: bool = True
    server_need_client_auth: str = "none"
    server_key_path: str | None = None
    server_key_password: str | None = None
    server_cert_path: str | None = None
    server_auth_client: bool = False
    server_trust_cert_path: str | None = None
    client_key_path: str | None = None
    client_key_password: str | None = None
    client_cert_path: str | None = None
    client_auth_server: bool = False
    client_trust_cert_path: str | None = None

    @classmethod
    def from_system_properties(cls, props: Mapping[str, str]) -> TlsConfig:
        """The static initialisers of TlsSystemConfig over `props` (the -D arguments)."""
        base = cls(
            mode=TlsMode.parse(props.get(TLS_SERVER_MODE, "permissive")),
            enable=None if TLS_ENABLE not in props else _bool(props[TLS_ENABLE], False),
            config_file=props.get(TLS_CONFIG_FILE, DEFAULT_CONFIG_FILE),
        )
        return base._overlay(props)

    def _overlay(self, props: Mapping[str, str]) -> TlsConfig:
        return replace(
            self,
            test_mode_enable=_bool(props.get(TLS_TEST_MODE_ENABLE), self.test_mode_enable),
            server_need_client_auth=props.get(TLS_SERVER_NEED_CLIENT_AUTH, self.server_need_client_auth),
            server_key_path=props.get(TLS_SERVER_KEYPATH, self.server_key_path),
            server_key_password=props.get(TLS_SERVER_KEYPASSWORD, self.server_key_password),
            server_cert_path=props.get(TLS_SERVER_CERTPATH, self.server_cert_path),
            server_auth_client=_bool(props.get(TLS_SERVER_AUTHCLIENT), self.server_auth_client),
            server_trust_cert_path=props.get(TLS_SERVER_TRUSTCERTPATH, self.server_trust_cert_path),
            client_key_path=props.get(TLS_CLIENT_KEYPATH, self.client_key_path),
            client_key_password=props.get(TLS_CLIENT_KEYPASSWORD, self.client_key_password),
            client_cert_path=props.get(TLS_CLIENT_CERTPATH, self.client_cert_path),
            client_auth_server=_bool(props.get(TLS_CLIENT_AUTHSERVER), self.client_auth_server),
            client_trust_cert_path=props.get(TLS_CLIENT_TRUSTCERTPATH, self.client_trust_cert_path),
        )

    def with_config_file(self) -> TlsConfig:
        """TlsHelper.extractTlsConfigFromFile: a readable file overrides; a missing or unreadable one is skipped.

        Blocking file I/O: call it before the event loop starts (or in a thread).
        """
        path = self.config_file
        if not (os.path.isfile(path) and os.access(path, os.R_OK)):
            return self
        try:
            props = properties.load_file(path)
        except (OSError, ValueError):
            return self  # Java ignores an IOException while loading and keeps what it had
        return self._overlay(props)

    @property
    def client_auth(self) -> ClientAuth:
        return ClientAuth.parse(self.server_need_client_auth)

    def check_server(self) -> None:
        """Refuse settings no server starts with: outside test mode Java's SslContextBuilder.forServer needs a
        certificate and a key, and its IllegalArgumentException fails the server's start."""
        incomplete = not self.server_cert_path or not self.server_key_path
        if self.mode is not TlsMode.DISABLED and not self.test_mode_enable and incomplete:
            raise ValueError("tls.server.certPath and tls.server.keyPath are required when tls.test.mode.enable=false")

    def broker_client_use_tls(self) -> bool:
        """BrokerStartup: the NameServer connections use TLS when tls.enable says so, by default when enforcing."""
        return self.mode is TlsMode.ENFORCING if self.enable is None else self.enable


def split_system_properties(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """Take `-Dkey=value` arguments and `--tls.*=value` options out of `args`; return them and the rest."""
    props: dict[str, str] = {}
    rest: list[str] = []
    for arg in args:
        if (arg.startswith("-D") and len(arg) > 2) or (arg.startswith("--tls.") and "=" in arg):
            key, _, value = arg[2:].partition("=")
            props[key] = value
        else:
            rest.append(arg)
    return props, rest
