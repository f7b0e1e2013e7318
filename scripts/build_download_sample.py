"""Build the "downloaded module" sample: a small wasm module, its Ed25519 signature and public keys.

The files in ``data/samples/downloaded/`` stand for what an app fetches at run time (module +
signature) and what it ships inside its signed bundle (the publisher's public key). They are made
here, not downloaded, and the private keys come from FIXED seeds, so running this again gives the
same bytes (Ed25519 signatures are deterministic, RFC 8032). The seeds are public on purpose:
this is teaching material, never a key to trust.

Usage: .venv/bin/python scripts/build_download_sample.py [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from macwasm.wasm.encode import name, section, uleb

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "samples" / "downloaded"

MODULE_NAME = "filter-rules.wasm"
SIGNATURE_NAME = MODULE_NAME + ".sig"
PUBLISHER_KEY_NAME = "publisher-ed25519.pub.pem"
OTHER_KEY_NAME = "other-publisher-ed25519.pub.pem"

#: labels hashed into the 32-byte private key seeds (public on purpose: sample keys only)
PUBLISHER_SEED_LABEL = b"macwasm sample publisher key v1"
OTHER_SEED_LABEL = b"macwasm sample other publisher key v1"


def build_module() -> bytes:
    """A core module (version 1) exporting ``score(i32, i32) -> i32`` = a + b; no imports, no memory.

    Written byte by byte so the sample needs no toolchain. Section ids and encodings follow
    https://webassembly.github.io/spec/core/binary/modules.html
    """
    i32 = 0x7F
    type_sec = section(1, uleb(1) + bytes([0x60, 2, i32, i32, 1, i32]))  # one type: (i32 i32) -> i32
    func_sec = section(3, uleb(1) + uleb(0))  # one function of type 0
    export_sec = section(7, uleb(1) + name("score") + bytes([0x00]) + uleb(0))  # func export 0
    body = bytes([0x00, 0x20, 0x00, 0x20, 0x01, 0x6A, 0x0B])  # no locals; local.get 0; local.get 1; i32.add; end
    code_sec = section(10, uleb(1) + uleb(len(body)) + body)
    custom = section(0, name("macwasm-sample") + b"downloaded-module sample; see data/samples/downloaded/README.md")
    return b"\x00asm" + (1).to_bytes(4, "little") + type_sec + func_sec + export_sec + code_sec + custom


def private_key(label: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label).digest())


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def build_files() -> dict[str, bytes]:
    """File name -> bytes of every sample file."""
    module = build_module()
    publisher = private_key(PUBLISHER_SEED_LABEL)
    return {
        MODULE_NAME: module,
        SIGNATURE_NAME: publisher.sign(module),
        PUBLISHER_KEY_NAME: public_pem(publisher),
        OTHER_KEY_NAME: public_pem(private_key(OTHER_SEED_LABEL)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for file_name, data in sorted(build_files().items()):
        (args.out / file_name).write_bytes(data)
        print(f"{file_name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
