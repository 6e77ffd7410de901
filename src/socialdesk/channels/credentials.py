"""Channel credentials, encrypted at rest with a key derived from settings.secret_key."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from socialdesk.core.errors import InvalidInput

# A fixed, product-specific salt: the secret key is the secret, the salt separates uses.
_SALT = b"socialdesk/channel-credentials"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=b"v1").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_credentials(credentials: dict[str, Any], secret_key: str) -> str:
    return _fernet(secret_key).encrypt(json.dumps(credentials).encode()).decode()


def decrypt_credentials(token: str | None, secret_key: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data = json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken as exc:
        # The message names no value: the token and key must never reach a log.
        raise InvalidInput(
            "channel credentials cannot be decrypted: secret_key changed since they were stored"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput("channel credentials are not a mapping")
    return data


class Credentials:
    """Decrypted credentials that refuse to show themselves in reprs, logs or tracebacks."""

    __slots__ = ("_values", "rotated")

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = dict(values)
        # Set when a connector replaced a token (an OAuth refresh): the owner stores them.
        self.rotated = False

    def rotate(self, **values: str) -> None:
        self._values.update(values)
        self.rotated = True

    def to_store(self) -> dict[str, Any]:
        """The values to encrypt again after a rotation; never for display."""
        return dict(self._values)

    def get(self, name: str, default: str = "") -> str:
        value = self._values.get(name, default)
        return str(value) if value is not None else default

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise InvalidInput(f"channel account has no credential {name!r}")
        return value

    def names(self) -> list[str]:
        return sorted(self._values)

    def __repr__(self) -> str:
        return f"Credentials(names={self.names()!r})"

    __str__ = __repr__
