"""Request signatures: AclClientRPCHook (client) and PlainAccessValidator.parse (broker) compute the same bytes.

The content is every extField value, keys sorted in Java String order (UTF-16 code units), leaving out `Signature`
(and, on the broker, `_UNIQUE_KEY_QUERY`), concatenated and UTF-8 encoded, followed by the raw body. The signature is
Base64(HmacSHA1(secretKey as UTF-8, content)) (AclSigner). It lives in protocol because both sides compute it:
the broker's verifier (rocketpy.broker.acl) and the admin client's signer (rocketpy.client.acl).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

ACCESS_KEY = "AccessKey"
SECRET_KEY = "SecretKey"
SIGNATURE = "Signature"
SECURITY_TOKEN = "SecurityToken"
UNIQUE_MSG_QUERY_FLAG = "_UNIQUE_KEY_QUERY"  # MixAll.UNIQUE_MSG_QUERY_FLAG


def java_string_key(s: str) -> bytes:
    """A sort key ordering str as Java's String.compareTo does (by UTF-16 code unit)."""
    return s.encode("utf-16-be", "surrogatepass")


def request_content(
    ext_fields: Mapping[str, str],
    body: bytes | bytearray | memoryview | None,
    *,
    broker_side: bool = True,
    null_keys: Iterable[str] = (),
) -> bytes:
    """AclUtils.combineRequestContent over the sorted fields (the broker also drops _UNIQUE_KEY_QUERY). `null_keys`
    arrived with a null value (an empty string in a ROCKETMQ header): Java's StringBuilder appends "null" for them,
    so a client that signed an empty value fails the check on the Java broker, and here alike."""
    skip = {SIGNATURE, UNIQUE_MSG_QUERY_FLAG} if broker_side else {SIGNATURE}
    values: dict[str, str] = {k: "null" for k in null_keys}
    values.update(ext_fields)
    keys = sorted((k for k in values if k not in skip), key=java_string_key)
    text = "".join(values[k] for k in keys)
    return text.encode("utf-8") + (bytes(body) if body else b"")


def calc_signature(data: bytes, secret_key: str) -> str:
    """AclUtils.calSignature: Base64(HmacSHA1(key, data))."""
    digest = hmac.new(secret_key.encode("utf-8"), data, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_request(
    ext_fields: dict[str, str], body: bytes | None, access_key: str, secret_key: str, token: str | None = None
) -> None:
    """AclClientRPCHook.doBeforeRequest on already flattened extFields: adds AccessKey (and SecurityToken) and the
    Signature. For rocketpy.client and tests; the broker only verifies."""
    ext_fields[ACCESS_KEY] = access_key
    if token is not None:
        ext_fields[SECURITY_TOKEN] = token
    ext_fields[SIGNATURE] = calc_signature(request_content(ext_fields, body, broker_side=False), secret_key)
