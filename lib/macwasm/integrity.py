"""Is this downloaded module the one our publisher signed? Checked before the runtime ever sees it.

A module fetched at run time cannot live in the app's sealed ``Contents/Resources``, so the bundle's
code signature says nothing about it, and notarization never saw it. The app has to establish
integrity (the bytes were not changed) and origin (they come from the holder of our private key)
itself. The scheme modelled here is the simplest one that gives both: an Ed25519 signature over the
exact module bytes, checked with a public key that ships *inside* the signed bundle (so the key is
covered by the bundle's seal and an attacker who can write to the download cache cannot swap it).

A wrong signature is an answer, not an error: :func:`verify_module` returns an
:class:`IntegrityResult` with ``verified=False``. :class:`IntegrityError` is raised only when an input
cannot be used at all (a key that is not an Ed25519 public key, a signature of the wrong size, a file
that cannot be read or is too large).

``cryptography`` does the verification; nothing here implements cryptography itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from macwasm.errors import LIMIT, IntegrityError, MacwasmError
from macwasm.inputs import open_readonly
from macwasm.limits import INTEGRITY_MAX_KEY_SIZE, INTEGRITY_MAX_SIGNATURE_SIZE, WASM_MAX_FILE_SIZE

#: sizes fixed by RFC 8032
ED25519_PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64

#: result statuses
VERIFIED = "verified"
BAD_SIGNATURE = "bad-signature"


@dataclass(frozen=True)
class IntegrityResult:
    """The outcome of checking one module against one signature and one trusted key."""

    verified: bool
    status: str  # VERIFIED | BAD_SIGNATURE
    module_sha256: str  # hex digest of the module bytes: the content address for a cache
    module_size: int
    key_id: str  # first 16 hex digits of SHA-256 over the raw 32-byte public key
    module_path: str | None = None

    @property
    def cache_name(self) -> str:
        """File name under which a verified module can be cached: its content hash, never its URL."""
        return f"{self.module_sha256}.wasm"

    def to_dict(self) -> dict[str, object]:
        return {
            "module_path": self.module_path,
            "verified": self.verified,
            "status": self.status,
            "module_sha256": self.module_sha256,
            "module_size": self.module_size,
            "key_id": self.key_id,
        }


def load_public_key(data: bytes, *, path: str | None = None) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (``-----BEGIN PUBLIC KEY-----``) or its raw 32 bytes."""
    data = bytes(data)
    if len(data) > INTEGRITY_MAX_KEY_SIZE:
        raise IntegrityError(f"public key is {len(data)} bytes, larger than the limit of {INTEGRITY_MAX_KEY_SIZE}",
                             path=path, offset=INTEGRITY_MAX_KEY_SIZE, category=LIMIT)
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise IntegrityError(f"not a readable PEM public key ({exc.__class__.__name__})", path=path) from None
        if not isinstance(key, Ed25519PublicKey):
            raise IntegrityError(f"expected an Ed25519 public key, got {type(key).__name__}", path=path)
        return key
    if len(data) != ED25519_PUBLIC_KEY_SIZE:
        raise IntegrityError(
            f"expected a PEM public key or {ED25519_PUBLIC_KEY_SIZE} raw key bytes, got {len(data)} bytes", path=path)
    return Ed25519PublicKey.from_public_bytes(data)


def load_signature(data: bytes, *, path: str | None = None) -> bytes:
    """The 64 signature bytes, from a raw ``.sig`` file or its base64 text (surrounding whitespace ignored)."""
    data = bytes(data)
    if len(data) > INTEGRITY_MAX_SIGNATURE_SIZE:
        raise IntegrityError(f"signature is {len(data)} bytes, larger than the limit of {INTEGRITY_MAX_SIGNATURE_SIZE}",
                             path=path, offset=INTEGRITY_MAX_SIGNATURE_SIZE, category=LIMIT)
    if len(data) == ED25519_SIGNATURE_SIZE:
        return data
    text = data.strip()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == ED25519_SIGNATURE_SIZE:
        return decoded
    raise IntegrityError(
        f"expected a {ED25519_SIGNATURE_SIZE}-byte Ed25519 signature (raw or base64), got {len(data)} bytes",
        path=path)


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a key, to log which publisher key vouched for a module."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify_module(module: bytes, signature: bytes, public_key: Ed25519PublicKey | bytes, *,
                  module_path: str | None = None) -> IntegrityResult:
    """Check ``signature`` over the exact bytes of ``module`` with the trusted ``public_key``.

    Returns a result in every case where the inputs are usable; a mismatch (changed module, other
    publisher's key, signature for another module) is ``verified=False``, never an exception.
    """
    key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(public_key)
    sig = load_signature(signature)
    module = bytes(module)
    try:
        key.verify(sig, module)
        status = VERIFIED
    except InvalidSignature:
        status = BAD_SIGNATURE
    return IntegrityResult(
        verified=status == VERIFIED,
        status=status,
        module_sha256=hashlib.sha256(module).hexdigest(),
        module_size=len(module),
        key_id=key_id(key),
        module_path=module_path,
    )


def verify_module_file(module_path: str | os.PathLike[str], signature_path: str | os.PathLike[str],
                       public_key_path: str | os.PathLike[str]) -> IntegrityResult:
    """:func:`verify_module` on files; every read is bounded and read-only, every failure an IntegrityError."""
    key = load_public_key(_read(public_key_path, INTEGRITY_MAX_KEY_SIZE), path=os.fspath(public_key_path))
    sig = load_signature(_read(signature_path, INTEGRITY_MAX_SIGNATURE_SIZE), path=os.fspath(signature_path))
    module = _read(module_path, WASM_MAX_FILE_SIZE)
    return verify_module(module, sig, key, module_path=os.fspath(module_path))


def _read(path: str | os.PathLike[str], max_size: int) -> bytes:
    try:
        with open_readonly(path, max_size=max_size) as data:
            return bytes(data)
    except MacwasmError as exc:  # InputError from open_readonly: keep one error type for callers
        raise IntegrityError(exc.reason, path=exc.path, offset=exc.offset, category=exc.category) from None
