#!/usr/bin/env python3
"""Build the provisioning-profile fixtures in ``tests/fixtures/profiles/`` (the origin of those files).

Real profiles are CMS SignedData (signed by Apple) wrapping an XML plist. We cannot ship Apple's, so
this script makes look-alikes with the same layout and keys: a self-signed test certificate
("NOT Apple") signs each plist as an attached CMS SignedData (``cryptography``'s PKCS7 builder).

Deterministic: the RSA key is derived from a fixed seed (primes found by a seeded search), the
certificate has fixed serial and dates, RSA PKCS#1 v1.5 signatures are deterministic, and the CMS
carries no signed attributes (no signing time). Running the script again rewrites identical bytes.

``*-ber.provisionprofile`` re-encodes the outer CMS layers with indefinite lengths and splits the
embedded plist into a constructed OCTET STRING of 512-byte chunks, as BER allows and as Apple's
CMS blobs do, to prove the reader is lenient where it must be.

Usage: ``.venv/bin/python scripts/build_profile_fixtures.py [OUTDIR]``
"""

from __future__ import annotations

import datetime as dt
import plistlib
import random
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "profiles"
SEED = "macwasm test profile signer: NOT an Apple key"
TEAM = "ABCDE12345"
UTC = dt.UTC


# ------------------------------------------------------------------------------------ key and cert


def _is_probable_prime(n: int, rng: random.Random) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(40):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int, e: int) -> int:
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if (n - 1) % e and _is_probable_prime(n, rng):
            return n


def deterministic_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key that is the same on every run (test fixtures only, never a real identity)."""
    rng = random.Random(SEED)
    e = 65537
    p = _prime(rng, 1024, e)
    q = _prime(rng, 1024, e)
    while q == p:
        q = _prime(rng, 1024, e)
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                    rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


def signer_certificate(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "macwasm test profile signer (NOT Apple)"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "macwasm fixtures"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(0x6D6163776173)
            .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=UTC))
            .not_valid_after(dt.datetime(2045, 1, 1, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


# ------------------------------------------------------------------------------------ the profiles


def _date(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 12, 0, 0)  # plistlib writes naive datetimes as UTC


def profiles(cert_der: bytes) -> dict[str, dict]:
    common = {
        "AppIDName": "Example Filter",
        "ApplicationIdentifierPrefix": [TEAM],
        "DeveloperCertificates": [cert_der],
        "IsXcodeManaged": False,
        "TeamIdentifier": [TEAM],
        "TeamName": "Example Corp",
        "Version": 1,
    }
    devid_ents = {
        "com.apple.application-identifier": f"{TEAM}.com.example.filter",
        "com.apple.developer.team-identifier": TEAM,
        "com.apple.developer.networking.networkextension": [
            "packet-tunnel-provider-systemextension",
            "app-proxy-provider-systemextension",
            "content-filter-provider-systemextension",
            "dns-proxy-systemextension",
        ],
        "com.apple.developer.system-extension.install": True,
        "keychain-access-groups": [f"{TEAM}.*"],
    }
    devid = {
        **common,
        "Name": "Example Filter Developer ID",
        "Platform": ["OSX"],
        "ProvisionsAllDevices": True,
        "CreationDate": _date(2025, 1, 10),
        "ExpirationDate": _date(2043, 1, 6),
        "TimeToLive": 6570,
        "UUID": "6F1C2A4E-1B7D-4C2B-9A51-3E0F8D5C7A10",
        "Entitlements": devid_ents,
    }
    expired = {
        **common,
        "Name": "Example Endpoint Security (expired)",
        "Platform": ["OSX"],
        "ProvisionsAllDevices": True,
        "CreationDate": _date(2020, 6, 1),
        "ExpirationDate": _date(2021, 6, 1),
        "TimeToLive": 365,
        "UUID": "0B9E6C1D-2F3A-4E5B-8C7D-6A5B4C3D2E1F",
        "Entitlements": {
            "com.apple.application-identifier": f"{TEAM}.com.example.es",
            "com.apple.developer.team-identifier": TEAM,
            "com.apple.developer.endpoint-security.client": True,
            "com.apple.developer.system-extension.install": True,
        },
    }
    development = {
        **common,
        "AppIDName": "Example Wasm Player",
        "Name": "iOS Team Provisioning Profile: com.example.wasmplayer",
        "Platform": ["iOS", "xrOS", "visionOS"],
        "CreationDate": _date(2026, 1, 5),
        "ExpirationDate": _date(2027, 1, 5),
        "TimeToLive": 365,
        "UUID": "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF",
        "ProvisionedDevices": [
            "00008030-001A2B3C4D5E6F70",
            "00008101-000A1B2C3D4E5F60",
            "8d2c4a6b0e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c",
        ],
        "Entitlements": {
            "application-identifier": f"{TEAM}.com.example.wasmplayer",
            "com.apple.developer.team-identifier": TEAM,
            "get-task-allow": True,
            "aps-environment": "development",
            "keychain-access-groups": [f"{TEAM}.*", "com.apple.token"],
        },
    }
    return {
        "devid-network-sysext.provisionprofile": devid,
        "devid-endpoint-security-expired.provisionprofile": expired,
        "development-ios.mobileprovision": development,
    }


def sign(plist: bytes, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    return (pkcs7.PKCS7SignatureBuilder()
            .set_data(plist)
            .add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoAttributes]))


# ------------------------------------------------------------------------------------ DER -> BER


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(header length, content length, end) of the definite-length DER value at ``pos``."""
    n = buf[pos + 1]
    if n < 0x80:
        return 2, n, pos + 2 + n
    k = n & 0x7F
    length = int.from_bytes(buf[pos + 2:pos + 2 + k], "big")
    return 2 + k, length, pos + 2 + k + length


def _children(buf: bytes, pos: int) -> list[tuple[int, int]]:
    head, _length, end = _tlv(buf, pos)
    out, at = [], pos + head
    while at < end:
        e = _tlv(buf, at)[2]
        out.append((at, e))
        at = e
    return out


def _indefinite(tag: int, parts: list[bytes]) -> bytes:
    return bytes([tag]) + b"\x80" + b"".join(parts) + b"\x00\x00"


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def to_ber(der: bytes, chunk: int = 512) -> bytes:
    """ContentInfo, its [0], SignedData, encapContentInfo and its [0] with indefinite lengths;
    the eContent OCTET STRING split into a constructed string of ``chunk``-byte pieces."""
    oid, explicit = _children(der, 0)
    (sd,) = _children(der, explicit[0])
    sd_parts = _children(der, sd[0])
    eci = sd_parts[2]
    e_oid, e_explicit = _children(der, eci[0])
    (octets,) = _children(der, e_explicit[0])
    head, length, _end = _tlv(der, octets[0])
    content = der[octets[0] + head:octets[0] + head + length]
    pieces = [b"\x04" + _der_len(len(content[i:i + chunk])) + content[i:i + chunk]
              for i in range(0, len(content), chunk)]
    new_octets = _indefinite(0x24, pieces)
    new_eci = _indefinite(0x30, [der[e_oid[0]:e_oid[1]], _indefinite(0xA0, [new_octets])])
    parts = [der[a:b] for a, b in sd_parts]
    parts[2] = new_eci
    new_sd = _indefinite(0x30, parts)
    return _indefinite(0x30, [der[oid[0]:oid[1]], _indefinite(0xA0, [new_sd])])


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    key = deterministic_key()
    cert = signer_certificate(key)
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    for name, body in profiles(cert_der).items():
        der = sign(plistlib.dumps(body, sort_keys=True), cert, key)
        (out / name).write_bytes(der)
        print(f"{out / name}: {len(der)} bytes")
        if name == "devid-network-sysext.provisionprofile":
            ber_name = name.replace(".provisionprofile", "-ber.provisionprofile")
            (out / ber_name).write_bytes(to_ber(der))
            print(f"{out / ber_name}: {len(to_ber(der))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
