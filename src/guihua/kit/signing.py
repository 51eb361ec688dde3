"""The centre's Ed25519 signing key: created on first use, kept private, named by its key id.

The key directory holds ``signing.key`` (PKCS#8 PEM, mode 0600, in a folder of mode 0700) and
``signing.pub`` (the public key to publish: verifiers trust *that* file, never a key that a
certificate brings along, or anyone could sign a certificate with a key of their own).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guihua.core.errors import CannotWrite, SigningKeyProblem

PRIVATE_FILE = "signing.key"
PUBLIC_FILE = "signing.pub"


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of sha256 of the raw public key: short enough to print, long enough to tell."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def verifies(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_or_create(key_dir: Path) -> SigningKey:
    """The key pair in ``key_dir``, made on first use (two processes racing get the same key)."""
    private_path = key_dir / PRIVATE_FILE
    if not private_path.exists():
        _create(key_dir)
    key = _load_private(private_path)
    public_path = key_dir / PUBLIC_FILE
    if not public_path.exists():  # lost or never written: it follows from the private key
        _write_new(public_path, public_pem(key.public), 0o644)
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A trusted public key from a PEM file (``signing.pub``), or an error naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyProblem(
            f"cannot read the trusted public key {path}: {exc.strerror or exc}; "
            "pass --public-key FILE (the centre's published signing.pub) or --key-dir"
        ) from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SigningKeyProblem(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyProblem(f"{path} is not an Ed25519 public key")
    return key


def _create(key_dir: Path) -> None:
    try:
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise CannotWrite(f"cannot create key folder {key_dir}: {exc.strerror or exc}") from None
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_new(key_dir / PRIVATE_FILE, pem, 0o600)
    _write_new(key_dir / PUBLIC_FILE, public_pem(private.public_key()), 0o644)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a whole file under its final name at once, never over an existing one.

    The file is written aside and hard-linked into place: a reader never sees half a key,
    and of two processes creating the key at once the second keeps the first one's.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    except OSError as exc:
        raise CannotWrite(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _load_private(path: Path) -> SigningKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyProblem(f"cannot read the signing key {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyProblem(f"signing key {path} is open to other users: run chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyProblem(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyProblem(f"{path} is not an Ed25519 private key")
    return SigningKey(key)


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write (or replace) a whole file at once, readable by its owner only (written aside, renamed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
