"""Artifacts that go to notarization (.zip, flat .pkg; .dmg refused): read in place, facts as on disk, hostile input."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import plistlib
import stat
import struct
import zipfile
from pathlib import Path

import macho_builders as mb
import pytest
from artifact_builders import (
    B,
    XarMember,
    big_macho,
    component_members,
    cpio,
    distribution,
    ditto_zip,
    entries_of,
    gzip_payload,
    newc_header,
    odc_header,
    pbzx,
    write_tree,
    xar,
)

from macwasm.artifacts import access
from macwasm.artifacts.dmg import DMG_REFUSAL
from macwasm.errors import LIMIT, UNSUPPORTED, ArtifactError, MacwasmError
from macwasm.signing.bundle import read_bundle
from macwasm.signing.reader import iter_signing_items, read_signing_facts

APP_ID = "com.example.filter.app"


@pytest.fixture(autouse=True)
def _fresh_cache():
    access.forget()
    yield
    access.forget()


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bundles")
    B.build(root)
    return root


def comparable(facts) -> dict:
    """A bundle's facts without the parts that name where it was read from."""
    d = facts.to_dict()
    d.pop("path")
    d["notes"] = [n for n in d["notes"] if "!/" not in n and ".zip:" not in n and ".pkg:" not in n
                  and not n.startswith("installed to ")]
    return d


def members_of(path: Path, **kw) -> list[str]:
    return [i.path for i in iter_signing_items([str(path)], **kw)]


# ------------------------------------------------------------------------------------------ zip


def test_ditto_zip_gives_the_facts_of_the_bundle_on_disk(samples: Path, tmp_path: Path) -> None:
    for app in sorted(samples.glob("*.app")):
        archive = ditto_zip(app, tmp_path / f"{app.stem}.zip")
        [item] = members_of(archive)
        assert item == f"{archive}!/{app.name}"
        facts = read_signing_facts(item)
        assert facts.path == item and facts.source == "bundle"
        assert comparable(facts) == comparable(read_bundle(app)), app.name
        assert any("AppleDouble" in n for n in facts.notes)  # __MACOSX entries are metadata, left out


def test_zip_named_alone_reads_its_one_bundle(samples: Path, tmp_path: Path) -> None:
    archive = ditto_zip(samples / "ContainerFilter.app", tmp_path / "Filter.zip")
    facts = read_signing_facts(archive)
    assert facts.path == f"{archive}!/ContainerFilter.app" and facts.bundle_id == APP_ID
    assert [n.role for n in facts.nested] == ["network-extension"]


def test_zip_keeps_symlinks_and_framework_versions(tmp_path: Path) -> None:
    app = tmp_path / "Host.app"
    write_tree(tmp_path, B.app("Host.app", "Host", "com.example.host", {}))
    fw = app / "Contents" / "Frameworks" / "Engine.framework"
    write_tree(fw, {"Versions/A/Engine": B.macho(identifier="com.example.engine", team=B.TEAM, filetype=B.MH_DYLIB),
                    "Versions/A/Resources/Info.plist": B.info_plist("Engine", "com.example.engine", "FMWK")})
    os.symlink("A", fw / "Versions" / "Current")
    os.symlink("Versions/Current/Engine", fw / "Engine")
    os.symlink("Versions/Current/Resources", fw / "Resources")
    os.symlink("/etc/passwd", app / "Contents" / "Resources-link")
    archive = ditto_zip(app, tmp_path / "Host.zip")
    with zipfile.ZipFile(archive) as zf:  # ditto's layout: the link is an S_IFLNK entry whose data is the target
        info = zf.getinfo("Host.app/Contents/Frameworks/Engine.framework/Engine")
        assert stat.S_ISLNK(info.external_attr >> 16) and zf.read(info) == b"Versions/Current/Engine"
    facts = read_signing_facts(f"{archive}!/Host.app")
    [engine] = facts.nested
    assert (engine.role, engine.bundle_id, engine.error) == ("framework", "com.example.engine", None)
    assert "Contents/Resources-link: symlink points outside the bundle (-> /etc/passwd); not followed" in facts.notes
    assert comparable(facts) == comparable(read_bundle(app))


def test_zip_loose_items_and_wasm_are_expanded(tmp_path: Path) -> None:
    folder = tmp_path / "dist"
    write_tree(folder, {"tool": B.macho(identifier="com.example.tool", team=B.TEAM),
                        "app.entitlements": b"<?xml version='1.0'?><plist><dict/></plist>",
                        "mods/m.wasm": (B.MODULES / "mvp.wasm").read_bytes(), "README.txt": b"hi"})
    archive = ditto_zip(folder, tmp_path / "dist.zip")
    assert members_of(archive) == [f"{archive}!/dist/app.entitlements", f"{archive}!/dist/tool"]
    assert members_of(archive, include_wasm=True)[1] == f"{archive}!/dist/mods/m.wasm"
    tool = read_signing_facts(f"{archive}!/dist/tool")
    assert tool.source == "mach-o" and tool.signature.identifier == "com.example.tool" and tool.role is None


def test_zip_large_deflated_macho_keeps_only_headers_and_signature(tmp_path: Path) -> None:
    small = B.macho(identifier="com.example.big", team=B.TEAM, entitlements={"com.apple.security.cs.allow-jit": True})
    big = big_macho(small, 3 * 1024 * 1024, os.urandom(4096))
    universal = B.fat(big_macho(B.macho("x86_64", identifier="com.example.big", team=B.TEAM), 2 * 1024 * 1024), big)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "big").write_bytes(big)
    (tmp_path / "d" / "universal").write_bytes(universal)
    archive = ditto_zip(tmp_path / "d", tmp_path / "d.zip")
    for name in ("big", "universal"):
        inside = read_signing_facts(f"{archive}!/d/{name}")
        on_disk = read_signing_facts(tmp_path / "d" / name)
        assert [s.to_dict() for s in inside.slices] == [s.to_dict() for s in on_disk.slices]
    tree = access.open_artifact(str(archive)).tree
    with tree.open_macho("d/big", 1 << 32) as view:
        assert view.kept < 64 * 1024 and len(view) == len(big)
        with pytest.raises(ArtifactError) as info:
            view[2 * 1024 * 1024:2 * 1024 * 1024 + 16]  # code bytes were never kept
        assert info.value.category == LIMIT and "not kept" in info.value.reason


def _large_engine_dylib() -> bytes:
    """A 3 MB wasmtime dylib whose engine shows only in its export trie and symbols, far past its load commands."""
    return mb.image(filetype=mb.MH_DYLIB, sections=[("__TEXT", "__text", b"\xcc" * (3 * 1024 * 1024))],
                    exports=["_wasmtime_engine_new", "_wasmtime_module_new"],
                    symbols=[("_wasmtime_engine_new", "extdef", 0)])


@pytest.mark.parametrize("suffix", [".zip", ".whl"])
def test_a_large_member_s_engines_are_found_as_on_disk(tmp_path: Path, suffix: str) -> None:
    """A wheel or zip is read by content (a .whl is a zip); a large Mach-O member keeps what engine detection
    reads, so its engines are those of the file unpacked, with no 'load commands only' note."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "libengine.dylib").write_bytes(_large_engine_dylib())
    archive = ditto_zip(tmp_path / "d", tmp_path / f"pkg-1.0-py3-none-macosx_11_0_arm64{suffix}")
    inside = read_signing_facts(f"{archive}!/d/libengine.dylib")
    on_disk = read_signing_facts(tmp_path / "d" / "libengine.dylib")
    engines = [e.engine for s in inside.slices for e in s.engines]
    assert engines == ["wasmtime"] and engines == [e.engine for s in on_disk.slices for e in s.engines]
    assert not any("load commands only" in n for n in inside.notes)
    with access.open_artifact(str(archive)).tree.open_macho("d/libengine.dylib", 1 << 32) as view:
        assert view.kept < 256 * 1024  # the 3 MB of code were not kept


def test_a_pkg_payload_s_large_member_keeps_its_engine_evidence(tmp_path: Path) -> None:
    big = _large_engine_dylib()
    payload = gzip_payload(cpio([(".", stat.S_IFDIR | 0o755, b""), ("./lib", stat.S_IFDIR | 0o755, b""),
                                 ("./lib/libengine.dylib", stat.S_IFREG | 0o755, big)]))
    pkg = tmp_path / "engine.pkg"
    pkg.write_bytes(xar(component_members(payload, "com.example.engine", "/")))
    inside = read_signing_facts(f"{pkg}!/Payload/lib/libengine.dylib")
    assert [e.engine for s in inside.slices for e in s.engines] == ["wasmtime"]
    assert not any("load commands only" in n for n in inside.notes)


@pytest.mark.parametrize(("name", "why"), [("../evil.app/Contents/Info.plist", "'..'"),
                                           ("/Applications/evil", "absolute"),
                                           ("a/" * 200 + "deep", "levels deep")])
def test_zip_names_that_leave_the_archive_are_refused_and_noted(tmp_path: Path, name: str, why: str) -> None:
    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tool", B.macho(identifier="com.example.tool", team=B.TEAM))
        zf.writestr(name, b"x")
    art = access.open_artifact(str(archive))
    assert set(art.tree.index.nodes) == {"", "tool"}
    assert any(why in n and "not read" in n for n in art.facts.notes)
    assert any(why in n for n in read_signing_facts(f"{archive}!/tool").notes)


def test_an_archive_refusing_many_names_keeps_artifact_max_notes_and_counts_the_rest(tmp_path: Path) -> None:
    from macwasm.limits import ARTIFACT_MAX_NOTES

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tool", B.macho(identifier="com.example.tool", team=B.TEAM))
        for i in range(ARTIFACT_MAX_NOTES + 50):
            zf.writestr(f"../evil{i}", b"x")
    facts = access.open_artifact(str(archive)).facts
    assert len(facts.notes) == ARTIFACT_MAX_NOTES and facts.notes_dropped == 50
    assert facts.to_dict()["notes"][-1] == f"50 more notes not shown (limit {ARTIFACT_MAX_NOTES})"
    notes = read_signing_facts(f"{archive}!/tool").notes
    assert notes[-1].endswith(f"50 more notes not shown (limit {ARTIFACT_MAX_NOTES})")


def test_zip_duplicate_entries_are_noted(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.entitlements", b"<plist><dict/></plist>")
        zf.writestr("a.entitlements", b"<plist><dict><key>k</key><true/></dict></plist>")
    facts = read_signing_facts(f"{archive}!/a.entitlements")
    assert facts.entitlements == {"k": True}  # the later entry wins, as unzip would leave it
    assert any("appears more than once" in n for n in facts.notes)


def test_zip_decompression_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Bomb.plist", bytes(40 * 1024 * 1024))
    with pytest.raises(ArtifactError) as info:
        read_signing_facts(f"{archive}!/Bomb.plist")
    assert info.value.category == LIMIT and "decompression bomb" in info.value.reason


def test_zip_central_directory_claims_are_capped(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a", b"a")
    data = bytearray(archive.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 0xFFFE, 0xFFFE)
    struct.pack_into("<I", data, eocd + 12, 0xFFFFFFF0)
    archive.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(archive))
    assert info.value.category == LIMIT and "central directory" in info.value.reason


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + bytes(100)])
def test_not_a_zip_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(content)
    [item] = iter_signing_items([str(archive)])
    assert isinstance(item.error, ArtifactError) and item.error.path == str(archive)
    assert "zip" in item.error.reason


# ------------------------------------------------------------------------------------------ pkg


def _component_pkg(samples: Path, tmp_path: Path, *, compress=gzip_payload, fmt: str = "odc",
                   name: str = "c.pkg", **kw) -> Path:
    app = samples / "ContainerFilter.app"
    payload = compress(cpio(entries_of(app, "./ContainerFilter.app"), fmt=fmt))
    members = component_members(payload, "com.example.filter.pkg", "/Applications",
                                 bundles=[("./ContainerFilter.app", APP_ID)])
    path = tmp_path / name
    path.write_bytes(xar(members, **kw))
    return path


def _product_pkg(samples: Path, tmp_path: Path) -> Path:
    members = [XarMember("Distribution", distribution("Filter and driver", ["com.example.a", "com.example.b"]))]
    for prefix, app, ident in (("a.pkg", "ContainerFilter.app", "com.example.a"),
                               ("b.pkg", "DriverHost.app", "com.example.b")):
        payload = pbzx(cpio(entries_of(samples / app, f"./{app}"), fmt="newc"), chunk=4096)
        members += component_members(payload, ident, "/Applications", prefix=prefix)
    path = tmp_path / "product.pkg"
    path.write_bytes(xar(members))
    return path


@pytest.mark.parametrize(("compress", "fmt"), [(gzip_payload, "odc"), (pbzx, "newc"), (gzip_payload, "newc"),
                                               (lambda d: pbzx(d, chunk=1000), "odc")])
def test_component_pkg_gives_the_facts_of_the_bundle_on_disk(samples, tmp_path, compress, fmt) -> None:
    pkg = _component_pkg(samples, tmp_path, compress=compress, fmt=fmt)
    [item] = members_of(pkg)
    assert item == f"{pkg}!/Payload/ContainerFilter.app"
    facts = read_signing_facts(item)
    assert comparable(facts) == comparable(read_bundle(samples / "ContainerFilter.app"))
    assert "installed to /Applications/ContainerFilter.app by package com.example.filter.pkg 1.0 " \
           "(install-location /Applications)" in facts.notes
    assert f"{pkg}: the package is not signed (productsign)" in facts.notes


def test_pkg_package_info_and_distribution(samples, tmp_path) -> None:
    pkg = _product_pkg(samples, tmp_path)
    assert members_of(pkg) == [f"{pkg}!/a.pkg/Payload/ContainerFilter.app", f"{pkg}!/b.pkg/Payload/DriverHost.app"]
    facts = access.artifact_facts(str(pkg))
    assert [(p.path, p.identifier, p.install_location, p.payload, p.scripts) for p in facts.packages] == [
        ("a.pkg", "com.example.a", "/Applications", "a.pkg/Payload", ("postinstall",)),
        ("b.pkg", "com.example.b", "/Applications", "b.pkg/Payload", ("postinstall",))]
    d = facts.distribution
    assert (d.title, d.product_id, d.host_architectures, d.min_os, d.pkg_refs) == (
        "Filter and driver", "com.example.product", ("arm64", "x86_64"), "11.0", ("com.example.a", "com.example.b"))
    driver = read_signing_facts(f"{pkg}!/b.pkg/Payload/DriverHost.app")
    assert [n.role for n in driver.nested] == ["driverkit-driver"]
    assert json.dumps(facts.to_dict())  # JSON-ready


def test_pkg_signer_is_reported_not_verified(samples, tmp_path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Developer ID Installer: Example (ABCDE12345)")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pkg = _component_pkg(samples, tmp_path, sign_with=cert.public_bytes(serialization.Encoding.DER))
    facts = read_signing_facts(f"{pkg}!/Payload/ContainerFilter.app")
    assert f"{pkg}: signed by Developer ID Installer: Example (ABCDE12345) (certificate not verified)" in facts.notes


def test_pkg_payload_large_macho_is_streamed_not_kept(samples, tmp_path) -> None:
    small = B.macho(identifier="com.example.big", team=B.TEAM, entitlements={"com.apple.security.cs.allow-jit": True})
    big = big_macho(small, 8 * 1024 * 1024, os.urandom(1 << 16))
    payload = gzip_payload(cpio([(".", stat.S_IFDIR | 0o755, b""), ("./usr", stat.S_IFDIR | 0o755, b""),
                                 ("./usr/big", stat.S_IFREG | 0o755, big)]))
    pkg = tmp_path / "big.pkg"
    pkg.write_bytes(xar(component_members(payload, "com.example.big", "/")))
    (tmp_path / "big").write_bytes(big)
    inside = read_signing_facts(f"{pkg}!/Payload/usr/big")
    assert [s.to_dict() for s in inside.slices] == [s.to_dict() for s in read_signing_facts(tmp_path / "big").slices]
    assert "installed to /usr/big by package com.example.big 1.0 (install-location /)" in inside.notes
    node = access.open_artifact(str(pkg)).tree.index.nodes["Payload/usr/big"]
    assert node.source.view.kept < 64 * 1024


def test_pkg_scripts_are_never_opened(samples, tmp_path) -> None:
    pkg = _component_pkg(samples, tmp_path)
    tree = access.open_artifact(str(pkg)).tree
    with pytest.raises(ArtifactError) as info, tree.open_whole("Scripts", 1 << 20):
        pass
    assert "never opened" in info.value.reason


def test_pkg_names_that_leave_the_payload_are_refused(samples, tmp_path) -> None:
    evil = [(".", stat.S_IFDIR | 0o755, b""), ("./../../etc/cron.d/x", stat.S_IFREG | 0o644, b"x"),
            ("/etc/passwd", stat.S_IFREG | 0o644, b"x"), ("./ok.entitlements", stat.S_IFREG | 0o644,
                                                          b"<plist><dict/></plist>")]
    pkg = tmp_path / "evil.pkg"
    pkg.write_bytes(xar(component_members(gzip_payload(cpio(evil)), "com.example.evil", "/")))
    art = access.open_artifact(str(pkg))
    assert sorted(p for p in art.tree.index.nodes if p.startswith("Payload/")) == ["Payload/ok.entitlements"]
    notes = "\n".join(art.facts.notes)
    assert "path traversal" in notes and "absolute name" in notes


def test_pkg_symlink_loops_and_escapes_inside_payload(samples, tmp_path) -> None:
    app = tmp_path / "Host.app"
    write_tree(tmp_path, B.app("Host.app", "Host", "com.example.host", {}))
    res = app / "Contents" / "Resources"
    res.mkdir()
    os.symlink("b", res / "a")
    os.symlink("a", res / "b")
    os.symlink("../../../..", res / "up")
    os.symlink("/", res / "root")
    pkg = tmp_path / "links.pkg"
    pkg.write_bytes(xar(component_members(gzip_payload(cpio(entries_of(app, "./Host.app"))), "com.example.h", "/")))
    facts = read_signing_facts(f"{pkg}!/Payload/Host.app")
    notes = "\n".join(facts.notes)
    assert "Contents/Resources/a: symlink loop" in notes and "Contents/Resources/b: symlink loop" in notes
    assert "Contents/Resources/up: symlink points outside the bundle" in notes
    assert "Contents/Resources/root: symlink points outside the bundle (-> /)" in notes
    assert comparable(facts) == comparable(read_bundle(app))


def test_pkg_duplicate_and_conflicting_entries(tmp_path) -> None:
    entries = [(".", stat.S_IFDIR | 0o755, b""), ("./a.entitlements", stat.S_IFREG | 0o644, b"<plist><dict/></plist>"),
               ("./a.entitlements", stat.S_IFREG | 0o644, b"<plist><dict><key>k</key><true/></dict></plist>"),
               ("./f", stat.S_IFREG | 0o644, b"file"), ("./f/inside", stat.S_IFREG | 0o644, b"x")]
    pkg = tmp_path / "dup.pkg"
    pkg.write_bytes(xar(component_members(gzip_payload(cpio(entries)), "com.example.d", "/")))
    facts = read_signing_facts(f"{pkg}!/Payload/a.entitlements")
    assert facts.entitlements == {"k": True}
    notes = "\n".join(facts.notes)
    assert "appears more than once" in notes and "Payload/f is not a folder" in notes


@pytest.mark.parametrize(("change", "expect"), [
    (lambda b: b[:20], "no xar header"),
    (lambda b: b"xar?" + b[4:], "no xar header"),
    (lambda b: b[:4] + struct.pack(">H", 8) + b[6:], "header size"),
    (lambda b: b[:8] + struct.pack(">Q", 1 << 40) + b[16:], "more than the limit"),
    (lambda b: b[:16] + struct.pack(">Q", 12) + b[24:], "the header says 12"),
    (lambda b: b[:28] + b"\xff" * 8 + b[36:], "not zlib"),
])
def test_pkg_header_and_toc_faults(samples, tmp_path, change, expect) -> None:
    good = _component_pkg(samples, tmp_path).read_bytes()
    bad = tmp_path / "bad.pkg"
    bad.write_bytes(change(good))
    [item] = iter_signing_items([str(bad)])
    assert isinstance(item.error, ArtifactError) and expect in item.error.reason, item.error
    assert item.error.offset is not None


def test_pkg_toc_with_doctype_or_entities_is_refused(tmp_path) -> None:
    pkg = tmp_path / "lol.pkg"
    members = component_members(gzip_payload(cpio([(".", stat.S_IFDIR | 0o755, b"")])), "com.example.x", "/")
    raw = xar(members)
    import zlib

    toc = zlib.decompress(raw[28:28 + struct.unpack(">Q", raw[8:16])[0]])
    toc = toc.replace(b"<xar>", b'<!DOCTYPE xar [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xar>', 1)
    packed = zlib.compress(toc)
    pkg.write_bytes(raw[:8] + struct.pack(">QQ", len(packed), len(toc)) + raw[24:28] + packed
                    + raw[28 + struct.unpack(">Q", raw[8:16])[0]:])
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(pkg))
    assert "DOCTYPE is not allowed" in info.value.reason


def test_pkg_truncated_heap_names_the_member_and_offset(samples, tmp_path) -> None:
    pkg = _component_pkg(samples, tmp_path, truncate_heap=50)
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(pkg))
    assert "heap is truncated" in info.value.reason and info.value.offset == pkg.stat().st_size


def test_pkg_toc_checksum_mismatch_is_noted(samples, tmp_path) -> None:
    data = bytearray(_component_pkg(samples, tmp_path).read_bytes())
    heap = 28 + struct.unpack(">Q", bytes(data[8:16]))[0]
    data[heap] ^= 0xFF
    pkg = tmp_path / "tampered.pkg"
    pkg.write_bytes(bytes(data))
    assert any("does not match its checksum" in n for n in access.artifact_facts(str(pkg)).notes)


@pytest.mark.parametrize("payload", [
    cpio([(".", stat.S_IFDIR | 0o755, b"")], trailer=False),  # no trailer
    odc_header("./x", stat.S_IFREG | 0o644, 1000) + b"short",  # member runs past the end
    b"070707" + b"zz" * 35,  # non-octal field
    b"0707xx" + bytes(70),  # bad magic
    newc_header("./x", stat.S_IFREG, 0)[:50],  # truncated header
    odc_header("./" + "n" * 5000, stat.S_IFREG, 0),  # name too long
])
def test_pkg_malformed_cpio_payloads(tmp_path, payload) -> None:
    pkg = tmp_path / "cpio.pkg"
    pkg.write_bytes(xar(component_members(gzip_payload(payload), "com.example.x", "/")))
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(pkg))
    assert info.value.path == str(pkg) and info.value.offset is not None and "cpio" in info.value.message


@pytest.mark.parametrize("pack", [gzip_payload, pbzx])
def test_pkg_payload_decompression_bomb_ends_with_a_limit(tmp_path, pack) -> None:
    zeros = cpio([(".", stat.S_IFDIR | 0o755, b""), ("./zeros", stat.S_IFREG | 0o644, bytes(48 * 1024 * 1024))])
    pkg = tmp_path / "bomb.pkg"
    pkg.write_bytes(xar(component_members(pack(zeros), "com.example.bomb", "/")))
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(pkg))
    assert info.value.category == LIMIT and "decompression bomb" in info.value.reason


def test_pkg_huge_toc_counts_are_capped(tmp_path, monkeypatch) -> None:
    from macwasm.artifacts import xar as xar_mod

    monkeypatch.setattr(xar_mod, "ARTIFACT_MAX_ENTRIES", 10)
    pkg = tmp_path / "many.pkg"
    pkg.write_bytes(xar([XarMember(f"r/{i}", b"x") for i in range(20)]))
    with pytest.raises(ArtifactError) as info:
        access.open_artifact(str(pkg))
    assert info.value.category == LIMIT and "more than 10 files" in info.value.reason


def test_pkg_xar_names_and_nested_depth(tmp_path) -> None:
    pkg = tmp_path / "names.pkg"
    pkg.write_bytes(xar([XarMember("ok.entitlements", b"<plist><dict/></plist>"),
                         XarMember("x", b"", raw_name="../escape"), XarMember("y", b"", raw_name="a/b")]))
    art = access.open_artifact(str(pkg))
    assert set(art.tree.index.nodes) == {"", "ok.entitlements"}
    assert sum("not read" in n for n in art.facts.notes) == 2


def test_pkg_without_anything_to_read_is_one_error(tmp_path) -> None:
    pkg = tmp_path / "empty.pkg"
    pkg.write_bytes(xar(component_members(gzip_payload(cpio([(".", stat.S_IFDIR | 0o755, b"")])), "com.x", "/")))
    [item] = iter_signing_items([str(pkg)])
    assert item.error.category == UNSUPPORTED and "holds no bundle" in item.error.reason


# ----------------------------------------------------------------------------------------- dmg


def test_dmg_is_refused_with_the_reason(tmp_path) -> None:
    dmg = tmp_path / "App.dmg"
    dmg.write_bytes(bytes(512))
    with pytest.raises(ArtifactError) as info:
        read_signing_facts(dmg)
    assert info.value.message == f"{dmg}: {DMG_REFUSAL}" and info.value.category == UNSUPPORTED
    [item] = iter_signing_items([str(dmg)])
    assert item.error.reason == DMG_REFUSAL


# ------------------------------------------------------------------------------------- the CLI


def test_cli_entitlements_check_inspect_on_artifacts(samples, tmp_path, cli) -> None:
    pkg = _product_pkg(samples, tmp_path)
    archive = ditto_zip(samples / "MisplacedModule.app", tmp_path / "Misplaced.zip")
    dmg = tmp_path / "x.dmg"
    dmg.write_bytes(b"")
    ents = cli("entitlements", "--format", "json", str(pkg), str(archive), str(dmg))
    records = json.loads(ents.stdout)
    assert [r["path"] for r in records] == [f"{pkg}!/a.pkg/Payload/ContainerFilter.app",
                                           f"{pkg}!/b.pkg/Payload/DriverHost.app",
                                           f"{archive}!/MisplacedModule.app", str(dmg)]
    assert records[3]["error"] == DMG_REFUSAL and ents.returncode == 1
    check = cli("check", "--format", "json", "--runtime", "wasmtime", str(pkg))
    targets = [r["target"] for r in json.loads(check.stdout)]
    assert any(t.endswith("a.pkg/Payload/ContainerFilter.app") for t in targets)
    assert any(t.endswith("ContainerFilter.app/Contents/Library/SystemExtensions/com.example.filter.systemextension")
               for t in targets)
    inspect = cli("inspect", "--format", "json", str(pkg), str(archive))
    assert inspect.returncode == 0, inspect.stderr
    assert [(r["path"], r["kind"]) for r in json.loads(inspect.stdout)] == [
        (f"{pkg}!/a.pkg/Payload/ContainerFilter.app/Contents/Resources/filter-rules.wasm", "core-module"),
        (f"{archive}!/MisplacedModule.app/Contents/MacOS/plugin.wasm", "component"),
        (f"{archive}!/MisplacedModule.app/Contents/Resources/ok.wasm", "core-module")]


def test_reading_artifacts_never_writes_or_runs(samples, tmp_path, monkeypatch) -> None:
    """Nothing is unpacked to disk: no file is opened for writing while artifacts are read."""
    import subprocess

    pkg = _product_pkg(samples, tmp_path)
    archive = ditto_zip(samples / "ContainerFilter.app", tmp_path / "z.zip")
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, mode="r", *args, **kwargs):
        assert not any(c in mode for c in "wax+"), f"opened {file} for writing"
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        assert not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT), f"os.open({path}) for writing"
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a process"))
    from macwasm.wasm import inspect_path

    for item in iter_signing_items([str(pkg), str(archive)], include_wasm=True):
        read_signing_facts(item.path)
    inspect_path(f"{archive}!/ContainerFilter.app/Contents/Resources/filter-rules.wasm")
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_a_real_folder_named_with_a_bang_is_not_an_archive(tmp_path) -> None:
    odd = tmp_path / "odd.zip!" / "X.app"
    write_tree(odd.parent, B.app("X.app", "X", "com.example.x", {}))
    facts = read_signing_facts(odd)
    assert facts.bundle_id == "com.example.x" and facts.path == str(odd)


# ------------------------------------------------------------------------------------ mutations


def test_mutated_artifacts_raise_only_macwasm_errors(samples, tmp_path) -> None:
    """Random damage to a zip and a pkg: every read ends with a result or a MacwasmError, nothing else."""
    import random

    from fuzz.mutations import mutate

    seeds = {"zip": ditto_zip(samples / "ContainerFilter.app", tmp_path / "s.zip").read_bytes(),
             "pkg": _component_pkg(samples, tmp_path, compress=lambda d: pbzx(d, chunk=2048)).read_bytes()}
    rng = random.Random(1234)
    for i in range(150):
        kind = ("zip", "pkg")[i % 2]
        path = tmp_path / f"m{i}.{kind}"
        path.write_bytes(mutate(seeds[kind], rng))
        access.forget()
        for item in iter_signing_items([str(path)], include_wasm=True):
            if item.error is not None:
                assert isinstance(item.error, MacwasmError)
                continue
            with contextlib.suppress(MacwasmError):
                read_signing_facts(item.path)


def test_debug_symbol_bundles_are_not_searched_as_code(tmp_path: Path) -> None:
    """A .dSYM holds DWARF for debuggers (MH_DSYM, never loaded, no CFBundleExecutable): neither a folder
    search, nor a zip, nor a bundle's nested code reports it (pyobjc-core's wheel ships 144)."""
    dwarf = B.macho(identifier="com.example.host")
    dsym = {"Host.app.dSYM/Contents/Info.plist": plistlib.dumps({"CFBundlePackageType": "dSYM",
                                                                  "CFBundleIdentifier": "com.apple.xcode.dsym.x"}),
            "Host.app.dSYM/Contents/Resources/DWARF/Host": dwarf}
    write_tree(tmp_path / "dist", {**B.app("Host.app", "Host", "com.example.host", {}), **dsym,
                                   "Host.app/Contents/Frameworks/Lib.framework.dSYM/Contents/Info.plist":
                                   dsym["Host.app.dSYM/Contents/Info.plist"]})
    found = [i.path for i in iter_signing_items([str(tmp_path / "dist")])]
    assert found == [str(tmp_path / "dist" / "Host.app")]
    archive = ditto_zip(tmp_path / "dist", tmp_path / "dist.zip")
    assert members_of(archive) == [f"{archive}!/dist/Host.app"]
    host = read_signing_facts(tmp_path / "dist" / "Host.app")
    assert host.error is None and not any("dSYM" in n.path for n in host.nested)
