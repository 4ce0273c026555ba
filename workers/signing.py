"""The evidence signing key: ed25519, one PEM file, made on first use.

A manifest is signed as the exact bytes of `manifest.json`; the 64-byte signature sits beside it in
`manifest.json.sig`, so anyone with the public key can check it with standard tools (OpenSSL 3:
`openssl pkeyutl -verify -pubin -inkey KEY.pub.pem -rawin -in manifest.json -sigfile manifest.json.sig`).
The private key never leaves its file (mode 0600); the public key is written beside it as
`<key>.pub.pem` and logged when the key is made, so it can be handed to auditors.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)

ALGORITHM = "Ed25519"


class SigningKeyError(Exception):
    """A key file that cannot be used: unreadable, not PEM, or not an ed25519 key."""


def public_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name.removesuffix(".pem") + ".pub.pem")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """`SHA256:<base64>` of the raw public key, the form OpenSSH shows, to compare keys by eye."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw_public(key)).digest()).decode().rstrip("=")


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (the `.pub.pem` auditors are given, or the private key itself)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the key file {path}: {exc.strerror}") from None
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SigningKeyError(f"{path} is not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an ed25519 key")
    return key


def verify(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """Signs manifests with the key at `path`."""

    path: Path
    private: Ed25519PrivateKey

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """Load the key, or make it (exclusively, so two workers starting together agree on one key)."""
        if not path.exists():
            _create(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"cannot load the evidence signing key {path}: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"the evidence signing key {path} is not an ed25519 key")
        return cls(path, key)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def describe(self) -> dict[str, str]:
        """What a manifest records about the key that signs it."""
        return {"algorithm": ALGORITHM, "public_key": base64.b64encode(raw_public(self.public)).decode(),
                "fingerprint": fingerprint(self.public)}


def _create(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_key_path(path).write_text(public_pem(key.public_key()), encoding="ascii")
    logger.warning("made a new evidence signing key %s (%s); give auditors its public key %s:\n%s", path,
                   fingerprint(key.public_key()), public_key_path(path), public_pem(key.public_key()))
