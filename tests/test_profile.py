"""Provisioning profiles: the plist inside CMS SignedData (DER and BER), never a claim of verification."""

from __future__ import annotations

import datetime as dt
import plistlib
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from repo_scripts import load_script

from macwasm.errors import LIMIT, ProfileFormatError
from macwasm.signing.profile import (
    SIGNATURE_NOT_VERIFIED_NOTE,
    read_profile,
    read_profile_details,
    read_profile_file,
)

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "tests" / "fixtures" / "profiles"
DEVID = PROFILES / "devid-network-sysext.provisionprofile"
DEVID_BER = PROFILES / "devid-network-sysext-ber.provisionprofile"
EXPIRED = PROFILES / "devid-endpoint-security-expired.provisionprofile"
DEVELOPMENT = PROFILES / "development-ios.mobileprovision"


def _builder():
    return load_script("build_profile_fixtures")


BUILD = _builder()
KEY = BUILD.deterministic_key()
CERT = BUILD.signer_certificate(KEY)


def signed(body: object, *options: pkcs7.PKCS7Options) -> bytes:
    data = body if isinstance(body, bytes) else plistlib.dumps(body)
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(CERT, KEY, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, *options]))


def fail(data: bytes) -> ProfileFormatError:
    with pytest.raises(ProfileFormatError) as info:
        read_profile(data, path="p.provisionprofile")
    assert info.value.path == "p.provisionprofile"
    return info.value


# ------------------------------------------------------------------------------------- facts


def test_developer_id_profile_with_network_system_extension_entitlements():
    reading = read_profile_file(DEVID)
    facts = reading.facts
    assert facts.name == "Example Filter Developer ID"
    assert facts.team_ids == ("ABCDE12345",)
    assert facts.platforms == ("OSX",)
    assert facts.provisions_all_devices is True
    assert facts.device_count == 0
    assert facts.uuid == "6F1C2A4E-1B7D-4C2B-9A51-3E0F8D5C7A10"
    assert facts.entitlements["com.apple.developer.system-extension.install"] is True
    assert "content-filter-provider-systemextension" in \
        facts.entitlements["com.apple.developer.networking.networkextension"]
    assert facts.expiration == dt.datetime(2043, 1, 6, 12, 0, tzinfo=dt.UTC)
    assert reading.plist_format == "xml-plist"
    assert DEVID.read_bytes()[reading.plist_offset:].startswith(b"<?xml")


def test_signature_is_never_claimed_verified():
    reading = read_profile_file(DEVID)
    assert reading.facts.signature_verified is False
    assert reading.facts.to_dict()["signature_verified"] is False
    assert SIGNATURE_NOT_VERIFIED_NOTE in reading.notes
    assert "NOT verified" in SIGNATURE_NOT_VERIFIED_NOTE
    # a profile whose plist was changed after signing reads just the same: nothing is verified
    data = DEVID.read_bytes().replace(b"Example Filter Developer ID", b"Evil!!! Filter Developer ID")
    assert read_profile(data).name == "Evil!!! Filter Developer ID"


def test_signer_subject_is_reported():
    assert "macwasm test profile signer (NOT Apple)" in read_profile_file(DEVID).signer


def test_expired_profile_is_detectable_by_date():
    now = dt.datetime.now(dt.UTC)
    expired = read_profile_file(EXPIRED).facts
    assert expired.expiration < now < read_profile_file(DEVID).facts.expiration
    assert expired.entitlements["com.apple.developer.endpoint-security.client"] is True


def test_development_profile_counts_its_devices():
    facts = read_profile_file(DEVELOPMENT).facts
    assert facts.device_count == 3
    assert facts.provisions_all_devices is False
    assert facts.platforms[0] == "iOS"
    assert facts.entitlements["get-task-allow"] is True
    assert facts.to_dict()["expiration"] == "2027-01-05T12:00:00+00:00"


def test_ber_with_indefinite_lengths_and_chunked_plist_reads_like_der():
    ber = DEVID_BER.read_bytes()
    assert ber.startswith(b"\x30\x80")
    assert b"\x24\x80\x04\x82\x02\x00" in ber  # constructed OCTET STRING of 512-byte pieces
    assert read_profile(ber) == read_profile(DEVID.read_bytes())
    assert read_profile_details(ber).signer == read_profile_details(DEVID.read_bytes()).signer is not None


def test_plist_errors_in_a_chunked_ber_profile_get_exact_file_offsets():
    ber = DEVID_BER.read_bytes()
    at = ber.index(b"<key>TeamIdentifier")
    assert at > 54 + 4 + 512  # not in the first chunk
    err = fail(ber[:at] + b"<kex>" + ber[at + 5:])
    assert "embedded plist" in err.reason
    assert err.offset == at


def test_fixtures_are_reproduced_by_their_script(tmp_path):
    BUILD.main(["build", str(tmp_path)])
    for path in sorted(PROFILES.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


# ------------------------------------------------------------------------------------ faults


def test_garbage_is_refused_at_offset_zero():
    for data in (b"hello", b"\x00" * 64, b"<?xml version='1.0'?><plist/>", b"bplist00"):
        err = fail(data)
        assert err.offset == 0
    assert fail(b"").offset == 0


@pytest.mark.parametrize("path", [DEVID, DEVID_BER, DEVELOPMENT])
def test_truncated_at_every_offset_is_our_error(path):
    data = path.read_bytes()
    for cut in range(len(data)):
        with pytest.raises(ProfileFormatError) as info:
            read_profile(data[:cut])
        assert info.value.offset is None or 0 <= info.value.offset <= cut


def test_length_beyond_the_file():
    data = DEVID.read_bytes()
    assert data[1] == 0x82  # two length bytes; spell a 2 GiB length in four instead
    bad = b"\x30\x84\x7f\xff\xff\xff" + data[4:]
    err = fail(bad)
    assert "runs past" in err.reason
    assert err.offset == 1


def test_absurd_length_field():
    err = fail(b"\x30\x89" + b"\xff" * 9)
    assert err.offset == 1


def test_deep_indefinite_nesting_is_a_limit_error():
    depth = 10_000
    data = b"\x30\x80" * depth + b"\x00\x00" * depth
    err = fail(data)
    assert err.category == LIMIT


def test_missing_end_of_contents():
    ber = DEVID_BER.read_bytes()
    err = fail(ber[:-2])
    assert "end-of-contents" in err.reason


def test_trailing_data_is_refused_but_zero_padding_is_not():
    data = DEVID.read_bytes()
    assert read_profile(data + b"\x00" * 16).name == "Example Filter Developer ID"
    assert fail(data + b"junk").offset == len(data)


def test_detached_signature_has_no_plist():
    err = fail(signed({"Name": "x"}, pkcs7.PKCS7Options.DetachedSignature))
    assert "no embedded plist" in err.reason


def test_not_signed_data():
    data = bytearray(DEVID.read_bytes())
    oid_at = data.index(bytes.fromhex("06092a864886f70d010702"))
    data[oid_at + 10] = 0x03  # 1.2.840.113549.1.7.3: enveloped data
    err = fail(bytes(data))
    assert "not signed data" in err.reason
    assert err.offset == oid_at


@pytest.mark.parametrize(("body", "words"), [
    (["not", "a", "dict"], "not a dictionary"),
    ({"Entitlements": ["com.apple.security.cs.allow-jit"]}, "Entitlements is a list"),
    ({"TeamIdentifier": "ABCDE12345"}, "TeamIdentifier is a str"),
    ({"TeamIdentifier": [1]}, "other than strings"),
    ({"ExpirationDate": "tomorrow"}, "ExpirationDate is a str"),
    ({"ProvisionedDevices": 3}, "ProvisionedDevices is a int"),
])
def test_embedded_plist_with_wrong_types(body, words):
    data = signed(body)
    err = fail(data)
    assert words in err.reason
    assert data[err.offset:].startswith(b"<?xml")


def test_embedded_plist_with_an_entity_declaration():
    plist = (b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "b">]><plist><dict><key>Name</key>'
             b"<string>&a;</string></dict></plist>")
    data = signed(plist)
    err = fail(data)
    assert err.offset == data.index(b"<!ENTITY")


def test_random_corruption_gives_facts_or_our_error():
    rng = random.Random(1234)
    pool = [p.read_bytes() for p in (DEVID, DEVID_BER, EXPIRED, DEVELOPMENT)]
    for _ in range(400):
        buf = bytearray(rng.choice(pool))
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(buf))
            if rng.random() < 0.5:
                buf[i] = rng.randrange(256)
            else:
                buf[i:i] = rng.choice([b"\x80", b"\x84\xff\xff\xff\xff", b"\x00\x00", b"\x30\x80"])
        try:
            facts = read_profile(bytes(buf))
        except ProfileFormatError as err:
            assert err.offset is None or 0 <= err.offset <= len(buf)
            continue
        assert facts.signature_verified is False
