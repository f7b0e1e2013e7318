"""The one entry point of the signing readers: a path (or bytes plus a hint) in, :class:`SigningFacts` out.

A release engineer holds entitlements as an ``.entitlements``/``.xcent`` plist, pasted
``codesign -d --entitlements`` output, a provisioning profile, a signed Mach-O or a whole bundle.
The caller should not have to know which: we sniff the content (file names lie; a pasted
transcript is often saved as ``.plist``), and a folder is walked as a bundle. Each form is read by
its own module; this one only dispatches and shapes the result.

What goes to notarization is read too: a ``.zip`` or flat ``.pkg`` is expanded by
:func:`iter_signing_items` into what it holds (each bundle, loose Mach-O and signing file, named
``app.pkg!/Payload/Applications/X.app``), and :func:`read_signing_facts` reads such a member as if it
were on disk, with the artifact's own notes (where a pkg installs it, who signed the pkg, members
refused) appended to its notes. A ``.dmg`` is refused with the reason.

Raises only :class:`~macwasm.errors.MacwasmError` subclasses; never prints.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from typing import Any

from macwasm.errors import LIMIT, UNSUPPORTED, ArtifactError, InputError, MacwasmError, PlistFormatError
from macwasm.inputs import STDIN, InputItem, iter_artifact, open_readonly, walk_folder
from macwasm.limits import BUNDLE_MAX_EXECUTABLE_SIZE, INPUT_SNIFF_WINDOW, PLIST_MAX_SIZE
from macwasm.signing.bundle import (
    looks_like_bundle,
    looks_like_bundle_in,
    read_bundle,
    read_bundle_tree,
    starts_like_macho,
)
from macwasm.signing.codesign_text import detect_source, parse_codesign_output
from macwasm.signing.der import decode_der_entitlements
from macwasm.signing.macho import is_macho, read_macho, slice_disagreements
from macwasm.signing.model import SOURCES, SigningFacts
from macwasm.signing.plist import load_entitlements

#: the largest single file we accept before knowing what it is (a universal Mach-O is the biggest form)
MAX_INPUT_SIZE = BUNDLE_MAX_EXECUTABLE_SIZE
#: suffixes taken when a plain folder (not a bundle) is searched; Mach-O files are taken by content
SIGNING_SUFFIXES = (".entitlements", ".xcent", ".plist", ".provisionprofile", ".mobileprovision", ".der")


def read_signing_facts(path: str | os.PathLike[str], *, data: bytes | None = None,
                       hint: str | None = None) -> SigningFacts:
    """Read one input. ``data`` skips the file system (``path`` then only names the input in errors).

    ``hint`` (one of :data:`~macwasm.signing.model.SOURCES`) overrides sniffing, for bytes whose
    form the caller knows, e.g. a transcript that starts with a plist.
    """
    name = os.fspath(path)
    if hint is not None and hint not in SOURCES:
        raise InputError(f"unknown hint {hint!r}; expected one of {', '.join(SOURCES)}", path=name,
                         category=UNSUPPORTED)
    if data is None and name != STDIN:
        from macwasm.artifacts.access import artifact_kind, split_member

        member = split_member(name)
        if member is not None:
            return _read_member(*member, hint)
        if artifact_kind(name):
            return _read_artifact(name, hint)
    if data is None:
        if name != STDIN and os.path.isdir(name):
            if hint not in (None, "bundle"):
                raise InputError(f"a folder cannot be read as {hint}", path=name, category=UNSUPPORTED)
            return read_bundle(name)
        if hint == "bundle":
            raise InputError("a bundle is a folder; this is not one", path=name, category=UNSUPPORTED)
        with open_readonly(name, max_size=MAX_INPUT_SIZE) as buf:
            return _from_bytes(buf, name, hint)
    if hint == "bundle":
        raise InputError("a bundle is a folder and cannot be given as bytes", path=name, category=UNSUPPORTED)
    return _from_bytes(data, name, hint)


def sniff(head: bytes) -> str | None:
    """The source a file's first bytes say it is (None: none we read)."""
    if is_macho(head[:8]):
        return "mach-o"
    found = detect_source(head)
    return found if found in SOURCES else None


#: the 8-byte blob header of DER entitlements (CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, length), as extracted from a
#: signature; files without it must be named ``*.der`` (their first byte, 0x70 or 0x31, is also ASCII)
DER_BLOB_MAGIC = b"\xfa\xde\x71\x72"


def _der_source(head: bytes, name: str) -> str | None:
    if head[:4] == DER_BLOB_MAGIC or (name.lower().endswith(".der") and head[:1] in (b"\x70", b"\x31")):
        return "der-entitlements"
    return None


def _macho_facts(buf: Any, name: str) -> SigningFacts:
    slices = read_macho(buf, path=name)
    first = slices[0] if slices else None
    return SigningFacts(path=name, source="mach-o", entitlements=first.entitlements if first else None,
                        signature=first.signature if first else None, slices=slices,
                        role=library_role(buf), notes=list(slice_disagreements(slices)))


def _from_bytes(buf: Any, name: str, hint: str | None) -> SigningFacts:
    head = bytes(buf[:INPUT_SNIFF_WINDOW])
    source = hint or sniff(head) or _der_source(head, name)
    if source is None:
        raise InputError("not a property list, codesign output, DER entitlements, provisioning profile or "
                         "Mach-O file",
                         path=name, offset=0, category=UNSUPPORTED)
    if source == "mach-o":
        return _macho_facts(buf, name)
    # every other form is small: refuse a huge one before copying it out of the mapping
    if len(buf) > PLIST_MAX_SIZE:
        raise PlistFormatError(f"{len(buf)} bytes is larger than the limit of {PLIST_MAX_SIZE} bytes for {source}",
                               path=name, offset=PLIST_MAX_SIZE, category=LIMIT)
    data = bytes(buf)
    if source == "provisioning-profile":
        from macwasm.signing.profile import SIGNATURE_NOT_VERIFIED_NOTE, read_profile  # asn1crypto: ~40 ms

        profile = read_profile(data, path=name)
        return SigningFacts(path=name, source=source, entitlements=dict(profile.entitlements), profile=profile,
                            notes=[SIGNATURE_NOT_VERIFIED_NOTE])
    if source == "codesign-output":
        return SigningFacts(path=name, source=source, entitlements=parse_codesign_output(data, path=name))
    if source == "der-entitlements":
        header = 8 if data[:4] == DER_BLOB_MAGIC else 0
        return SigningFacts(path=name, source=source,
                            entitlements=decode_der_entitlements(data[header:], path=name, base=header))
    entitlements, fmt = load_entitlements(data, path=name)
    return SigningFacts(path=name, source=fmt, entitlements=entitlements)


#: Mach-O file types that are library code (mach-o/loader.h: MH_DYLIB "dynamically bound shared library",
#: MH_BUNDLE "dynamically bound bundle file" (a .bundle/.so/.node plug-in), MH_DYLIB_STUB "shared library stub")
LIBRARY_FILETYPES = {6: "MH_DYLIB", 8: "MH_BUNDLE", 9: "MH_DYLIB_STUB"}
#: the role (a product type of data/product_types.csv) library code gets: "Library code has no entitlements of its
#: own ... It runs with its host's entitlements" (the table's framework row, category library)
LIBRARY_ROLE = "framework"
_THIN_ORDER = {b"\xce\xfa\xed\xfe": "<", b"\xcf\xfa\xed\xfe": "<", b"\xfe\xed\xfa\xce": ">",
               b"\xfe\xed\xfa\xcf": ">"}
_FAT_MAGICS = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")


def macho_filetype(buf: Any) -> int | None:
    """``filetype`` of a Mach-O's header (the first slice's for a universal file); None if it cannot be told."""
    start = 0
    magic = bytes(buf[:4])
    if magic in _FAT_MAGICS:
        is64 = magic == b"\xca\xfe\xba\xbf"
        entry = bytes(buf[8:8 + (32 if is64 else 20)])
        if len(entry) < (16 if is64 else 12):
            return None
        (start,) = struct.unpack_from(">Q" if is64 else ">I", entry, 8)
    head = bytes(buf[start:start + 16])
    order = _THIN_ORDER.get(head[:4])
    if order is None or len(head) < 16:
        return None
    filetype: int = struct.unpack_from(order + "I", head, 12)[0]
    return filetype


def library_role(buf: Any) -> str | None:
    """:data:`LIBRARY_ROLE` for a dylib or a loadable bundle (``.dylib``, ``.so``, ``.node``, ``.bundle`` plug-in).

    Told by the Mach-O file type, not the name: a Node addon is ``MH_BUNDLE`` whatever it is called.
    Executables (``MH_EXECUTE``) get None: their product type is not in the file.
    """
    try:
        return LIBRARY_ROLE if macho_filetype(buf) in LIBRARY_FILETYPES else None
    except (struct.error, MacwasmError):
        return None


# ----------------------------------------------------------------------------------- artifacts


def _read_member(artifact_path: str, inner: str, hint: str | None) -> SigningFacts:
    """A bundle, Mach-O or signing file inside a .zip or .pkg, read as if it were on disk."""
    from macwasm.artifacts.access import open_artifact, resolve_member
    from macwasm.artifacts.tree import DIR, basename

    artifact = open_artifact(artifact_path)
    tree = artifact.tree
    shown = tree.shown(inner)
    real, entry = resolve_member(artifact, inner)
    if entry.kind == DIR:
        if hint not in (None, "bundle"):
            raise InputError(f"a folder cannot be read as {hint}", path=shown, category=UNSUPPORTED)
        sub = tree.subtree(real)
        sub.display = shown
        facts = read_bundle_tree(sub, name=basename(real) or basename(inner))
    else:
        if hint == "bundle":
            raise InputError("a bundle is a folder; this is not one", path=shown, category=UNSUPPORTED)
        if is_macho(tree.head(real, 8)) and hint in (None, "mach-o"):
            with tree.open_macho(real, MAX_INPUT_SIZE) as buf:
                facts = _macho_facts(buf, shown)
        else:
            with tree.open_whole(real, MAX_INPUT_SIZE) as buf:
                facts = _from_bytes(buf, shown, hint)
    facts.notes.extend(artifact.facts.notes_for(real))
    return facts


def _read_artifact(path: str, hint: str | None) -> SigningFacts:
    """An artifact named alone: the facts of the one item it holds (several: say how to read them)."""
    items = list(iter_signing_items([path]))
    if len(items) == 1:
        if items[0].error is not None:
            raise items[0].error
        return read_signing_facts(items[0].path, hint=hint)
    shown = ", ".join(i.path for i in items[:5]) + (", ..." if len(items) > 5 else "")
    raise ArtifactError(f"holds {len(items)} items ({shown}); read them with iter_signing_facts, or name one as "
                        f"{path}!/<path inside>", path=path, category=UNSUPPORTED)


def _artifact_items(path: str, include_wasm: bool) -> Iterator[InputItem]:
    """What a .zip/.pkg holds, as the items a folder search would give (bundles whole, links not followed)."""
    from macwasm.artifacts.access import artifact_kind, open_artifact
    from macwasm.artifacts.dmg import refuse_dmg

    if artifact_kind(path) == "dmg":
        yield InputItem(path, refuse_dmg(path))
        return
    try:
        tree = open_artifact(path).tree
    except MacwasmError as err:
        yield InputItem(path, err)
        return

    def take(member: str) -> bool:
        lower = member.lower()
        if lower.endswith(SIGNING_SUFFIXES) or (include_wasm and lower.endswith(".wasm")):
            return True
        try:
            return is_macho(tree.head(member, 8))
        except (OSError, MacwasmError):
            return False

    found = False
    for item in iter_artifact(path, take, lambda member: looks_like_bundle_in(tree, member)):
        found = True
        yield item
    if not found:
        yield InputItem(path, ArtifactError("holds no bundle, Mach-O file or signing file", path=path,
                                            category=UNSUPPORTED))


# ------------------------------------------------------------------------------------- batches


def iter_signing_items(paths: Iterable[str], *, include_wasm: bool = False,
                       include_xcode: bool = False) -> Iterator[InputItem]:
    """Expand PATH arguments: a bundle is one input; a plain folder is searched (sorted, links not followed).

    Inside a plain folder we take bundles, files with a signing suffix and Mach-O files (by their
    first bytes), and with ``include_wasm`` also ``.wasm`` files (``check`` judges modules too); a
    file named explicitly is always taken. A ``.zip`` or ``.pkg`` is searched the same way (its items
    are named ``app.zip!/X.app``); a ``.dmg`` comes as an item with the reason it cannot be read.
    Missing paths are passed on, so that the reader reports them; a folder that cannot be listed or
    is nested too deep comes as an item with its error. With ``include_xcode`` an ``.xcodeproj`` or
    ``.xcworkspace`` folder is one input, like a bundle.
    """
    from macwasm.xcode import is_xcode_input

    def whole(path: str) -> bool:
        return looks_like_bundle(path) or (include_xcode and is_xcode_input(path))

    def take(entry: os.DirEntry[str]) -> bool:
        name = entry.name.lower()
        return name.endswith(SIGNING_SUFFIXES) or (include_wasm and name.endswith(".wasm")) \
            or starts_like_macho(entry.path)

    from macwasm.artifacts.access import artifact_kind

    for arg in paths:
        if arg != STDIN and os.path.isdir(arg) and not whole(arg):
            yield from walk_folder(arg, take, whole)
        elif arg != STDIN and artifact_kind(arg):
            yield from _artifact_items(arg, include_wasm)
        else:
            yield InputItem(arg)


def iter_signing_paths(paths: Iterable[str]) -> Iterator[str]:
    """The paths of :func:`iter_signing_items` (a folder that could not be searched is passed on as a path)."""
    for item in iter_signing_items(paths):
        yield item.path


def iter_signing_facts(paths: Iterable[str]) -> Iterator[tuple[str, SigningFacts | MacwasmError]]:
    """``(path, facts or the error met)`` for every input; a bad input does not stop the batch."""
    for item in iter_signing_items(paths):
        path = item.path
        if item.error is not None:
            yield path, item.error
            continue
        try:
            yield path, read_signing_facts(path)
        except MacwasmError as err:
            yield path, err.with_path(path)
