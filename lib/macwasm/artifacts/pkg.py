"""A flat ``.pkg`` as a file tree: the xar's members, with each ``Payload`` opened up as the folder it installs.

A component package (``pkgbuild``) holds ``PackageInfo``, ``Bom``, ``Payload`` and maybe
``Scripts`` at its top; a product archive (``productbuild``) holds a ``Distribution`` and one
folder per component (``X.pkg/PackageInfo``, ``X.pkg/Payload`` ...). Each Payload is a gzip or
pbzx (xz chunks) compressed cpio archive; it is streamed once, front to back, and its entries
become ``<component>/Payload/<path>`` in the tree with what :mod:`macwasm.artifacts.capture`
keeps of them. ``Scripts`` and ``Bom`` are never opened (scripts are never run or unpacked).

Nothing is written to disk; memory is bounded by the TOC cap, the kept-bytes budget and the
decompressors' piece size, whatever the payload's size.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass

from macwasm.artifacts import cpio
from macwasm.artifacts.capture import KeepBudget, keep
from macwasm.artifacts.model import ArtifactFacts, BundleRef, DistributionFacts, PackageFacts
from macwasm.artifacts.names import clean_name, printable_name
from macwasm.artifacts.streams import Budget, ByteStream, decoded, prepend
from macwasm.artifacts.tree import DIR, FILE, LINK, OTHER, BytesSource, Index, Node, PartialSource, Source, SparseView
from macwasm.artifacts.xar import XarArchive, XarFile, member_pieces, read_xar
from macwasm.artifacts.xmlsafe import Element, parse_xml
from macwasm.errors import LIMIT, ArtifactError, MacwasmError
from macwasm.limits import ARTIFACT_MAX_ENTRIES, ARTIFACT_MAX_NAME_LENGTH, ARTIFACT_MAX_PACKAGES, PLIST_MAX_SIZE

PAYLOAD, SCRIPTS, BOM, PACKAGE_INFO, DISTRIBUTION = "Payload", "Scripts", "Bom", "PackageInfo", "Distribution"
_NOT_READ = {SCRIPTS: "installer scripts are never opened", BOM: "the bill of materials is not read"}


@dataclass
class _State:
    shown: str
    fd: int
    index: Index
    budget: Budget
    kept: KeepBudget
    facts: ArtifactFacts
    entries: int = 0

    def note(self, text: str) -> None:
        self.facts.note(text)

    def add(self, path: str, node: Node) -> None:
        self.entries += 1
        if self.entries > ARTIFACT_MAX_ENTRIES:
            raise ArtifactError(f"more than {ARTIFACT_MAX_ENTRIES} entries; not read further", path=self.shown,
                                category=LIMIT)
        clash = self.index.add(path, node)
        if clash:
            self.note(clash)


def read_pkg(fd: int, size: int, shown: str, budget: Budget) -> tuple[Index, ArtifactFacts]:
    """The tree and the facts of a flat package (component or product archive)."""
    archive = read_xar(fd, size, shown)
    state = _State(shown, fd, Index(), budget, KeepBudget(), ArtifactFacts(shown, "pkg", signer=archive.signer))
    for note in archive.notes:
        state.note(note)
    components = _components(archive)
    if len(components) > ARTIFACT_MAX_PACKAGES:
        raise ArtifactError(f"more than {ARTIFACT_MAX_PACKAGES} component packages", path=shown, category=LIMIT)
    payloads = []
    for f in archive.files:
        top = f.path.rpartition("/")[0]
        name = f.path.rpartition("/")[2]
        if f.kind == "directory":
            state.add(f.path, Node(DIR, mode=f.mode))
        elif f.kind == "symlink":
            state.add(f.path, Node(LINK, target=f.link or ""))
        elif f.kind != "file" or f.data is None:
            state.add(f.path, Node(OTHER if f.kind != "file" else FILE, source=BytesSource(b"")))
        elif name == PAYLOAD and top in components:
            payloads.append(f)
        elif name in _NOT_READ and top in components:
            state.add(f.path, Node(FILE, f.data.size, f.mode, source=PartialSource(SparseView(f.data.size),
                                                                            _NOT_READ[name])))
        else:
            state.add(f.path, Node(FILE, f.data.size, f.mode, source=_xar_member(state, f)))
    for f in payloads:
        state.add(f.path, Node(DIR, mode=0o755 | stat.S_IFDIR))
        _payload(state, f)
    state.facts.packages = [_package_info(state, c) for c in components]
    if DISTRIBUTION in state.index.nodes:
        state.facts.distribution = _distribution(state)
    return state.index, state.facts


def _components(archive: XarArchive) -> list[str]:
    """Tree paths of the component packages: "" for a component pkg, "X.pkg" folders of a product archive."""
    tops = {f.path for f in archive.files if "/" not in f.path}
    if PACKAGE_INFO in tops or PAYLOAD in tops:
        return [""]
    return sorted(f.path for f in archive.files if "/" not in f.path and f.kind == "directory"
                  and f.path.lower().endswith(".pkg"))


def _xar_member(state: _State, f: XarFile) -> Source:
    """A small xar member (Distribution, PackageInfo, resources) read now: the file is not kept open."""
    assert f.data is not None
    reader = _StreamReader(ByteStream(member_pieces(state.fd, f.data, state.shown, f.path, state.budget),
                                      state.shown, f.path), f.data.size)
    return keep(f.path, reader, state.kept)


class _StreamReader:
    """A member of known size read forward from a stream (what :func:`capture.keep` reads through)."""

    def __init__(self, stream: ByteStream, size: int) -> None:
        self.stream, self.size, self.pos = stream, size, 0

    def read_at(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        if offset > self.pos:
            self.stream.skip(offset - self.pos, "a member")
        data = self.stream.read_exact(n, "a member")
        self.pos = offset + n
        return data


def _payload(state: _State, f: XarFile) -> None:
    """Stream one Payload's cpio entries into the tree under ``<component>/Payload``."""
    assert f.data is not None
    raw = member_pieces(state.fd, f.data, state.shown, f.path, state.budget)
    first = next(raw, b"")
    stream = ByteStream(decoded(prepend(first, raw), first[:8], state.shown, f.path, state.budget),
                        state.shown, f"{f.path} (cpio)")
    hardlinks = 0
    for entry, member in cpio.iter_entries(stream):
        name, problem = clean_name(entry.name)
        if problem is not None:
            state.note(f"{f.path}: {printable_name(entry.name)!r}: {problem}; not read")
            continue
        if not name:
            continue  # the payload's root "."
        path = f"{f.path}/{name}"
        kind = entry.kind
        if kind == "dir":
            state.add(path, Node(DIR, mode=entry.mode))
        elif kind == "link":
            if entry.size > ARTIFACT_MAX_NAME_LENGTH:
                state.note(f"{path}: symlink target of {entry.size} bytes; not read")
                continue
            target = member.read_at(0, entry.size).decode("utf-8", "surrogateescape")
            state.add(path, Node(LINK, entry.size, entry.mode, target=target))
        elif kind == "file":
            if entry.size == 0 and entry.nlink > 1:
                hardlinks += 1
            state.add(path, Node(FILE, entry.size, entry.mode, source=keep(path, member, state.kept)))
        else:
            state.add(path, Node(OTHER, entry.size, entry.mode))
    if hardlinks:
        state.note(f"{f.path}: {hardlinks} hard-linked entries carry no data of their own (newc); read as empty")


def _read_small(state: _State, path: str, what: str) -> bytes | None:
    node = state.index.nodes.get(path)
    if node is None or node.kind != FILE or node.source is None:
        return None
    try:
        with node.source.open_whole(PLIST_MAX_SIZE, f"{state.shown}{path}") as data:
            return bytes(data)
    except MacwasmError as err:
        state.note(f"{what}: {err.reason}")
        return None


def _xml(state: _State, path: str) -> Element | None:
    data = _read_small(state, path, path)
    if data is None:
        return None
    try:
        return parse_xml(data, path=f"{state.shown}{path}", what=path)
    except ArtifactError as err:
        state.note(f"{path}: {err.reason}")
        return None


def _package_info(state: _State, component: str) -> PackageFacts:
    prefix = f"{component}/" if component else ""
    payload = f"{prefix}{PAYLOAD}"
    has_payload = payload in state.index.nodes
    root = _xml(state, f"{prefix}{PACKAGE_INFO}")
    if root is None or root.tag != "pkg-info":
        if root is not None:
            state.note(f"{prefix}{PACKAGE_INFO}: root element is <{root.tag}>, not <pkg-info>")
        return PackageFacts(component, None, None, "/", payload if has_payload else None)
    attrs = root.attrs
    payload_el = root.find("payload")
    bundles = []
    for b in root.findall("bundle") + [x for v in root.findall("bundle-version") for x in v.findall("bundle")]:
        path, _ = clean_name(b.attrs.get("path", ""))
        if path is not None:
            bundles.append(BundleRef(path, b.attrs.get("id"), b.attrs.get("CFBundleShortVersionString")))
    scripts = root.find("scripts")
    names = tuple(s.tag for s in scripts.children) if scripts is not None else ()
    return PackageFacts(
        path=component, identifier=attrs.get("identifier"), version=attrs.get("version"),
        install_location=attrs.get("install-location") or "/", payload=payload if has_payload else None,
        payload_files=_int(payload_el.attrs.get("numberOfFiles")) if payload_el is not None else None,
        install_kbytes=_int(payload_el.attrs.get("installKBytes")) if payload_el is not None else None,
        bundles=tuple(dict.fromkeys(bundles)), scripts=names)


def _int(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def _distribution(state: _State) -> DistributionFacts | None:
    root = _xml(state, DISTRIBUTION)
    if root is None:
        return None
    product = root.find("product")
    options = root.find("options")
    archs = options.attrs.get("hostArchitectures", "") if options is not None else ""
    min_os = None
    check = root.find("volume-check") or root.find("allowed-os-versions")
    allowed = check.find("allowed-os-versions") if check is not None and check.tag == "volume-check" else check
    if allowed is not None:
        version = allowed.find("os-version")
        min_os = version.attrs.get("min") if version is not None else None
    refs = tuple(dict.fromkeys(r.attrs["id"] for r in root.findall("pkg-ref") if "id" in r.attrs))
    return DistributionFacts(
        title=root.findtext("title"), product_id=product.attrs.get("id") if product is not None else None,
        product_version=product.attrs.get("version") if product is not None else None,
        host_architectures=tuple(a.strip() for a in archs.split(",") if a.strip()), min_os=min_os, pkg_refs=refs)
