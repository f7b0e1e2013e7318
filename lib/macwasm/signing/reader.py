"""The one entry point of the signing readers: a path (or bytes plus a hint) in, :class:`SigningFacts` out.

A release engineer holds entitlements as an ``.entitlements``/``.xcent`` plist, pasted
``codesign -d --entitlements`` output, a provisioning profile, a signed Mach-O or a whole bundle.
The caller should not have to know which: we sniff the content (file names lie; a pasted
transcript is often saved as ``.plist``), and a folder is walked as a bundle. Each form is read by
its own module; this one only dispatches and shapes the result.

Raises only :class:`~macwasm.errors.MacwasmError` subclasses; never prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from macwasm.errors import LIMIT, UNSUPPORTED, InputError, MacwasmError, PlistFormatError
from macwasm.inputs import STDIN, InputItem, open_readonly, walk_folder
from macwasm.limits import BUNDLE_MAX_EXECUTABLE_SIZE, PLIST_MAX_SIZE
from macwasm.signing.bundle import looks_like_bundle, read_bundle, starts_like_macho
from macwasm.signing.codesign_text import detect_source, parse_codesign_output
from macwasm.signing.der import decode_der_entitlements
from macwasm.signing.macho import is_macho, read_macho, slice_disagreements
from macwasm.signing.model import SOURCES, SigningFacts
from macwasm.signing.plist import load_entitlements
from macwasm.signing.profile import SIGNATURE_NOT_VERIFIED_NOTE, read_profile

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


def _from_bytes(buf: Any, name: str, hint: str | None) -> SigningFacts:
    head = bytes(buf[:8192])
    source = hint or sniff(head) or _der_source(head, name)
    if source is None:
        raise InputError("not a property list, codesign output, DER entitlements, provisioning profile or "
                         "Mach-O file",
                         path=name, offset=0, category=UNSUPPORTED)
    if source == "mach-o":
        slices = read_macho(buf, path=name)
        first = slices[0] if slices else None
        return SigningFacts(path=name, source=source, entitlements=first.entitlements if first else None,
                            signature=first.signature if first else None, slices=slices,
                            notes=list(slice_disagreements(slices)))
    # every other form is small: refuse a huge one before copying it out of the mapping
    if len(buf) > PLIST_MAX_SIZE:
        raise PlistFormatError(f"{len(buf)} bytes is larger than the limit of {PLIST_MAX_SIZE} bytes for {source}",
                               path=name, offset=PLIST_MAX_SIZE, category=LIMIT)
    data = bytes(buf)
    if source == "provisioning-profile":
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


# ------------------------------------------------------------------------------------- batches


def iter_signing_items(paths: Iterable[str], *, include_wasm: bool = False,
                       include_xcode: bool = False) -> Iterator[InputItem]:
    """Expand PATH arguments: a bundle is one input; a plain folder is searched (sorted, links not followed).

    Inside a plain folder we take bundles, files with a signing suffix and Mach-O files (by their
    first bytes), and with ``include_wasm`` also ``.wasm`` files (``check`` judges modules too); a
    file named explicitly is always taken. Missing paths are passed on, so that the reader reports
    them; a folder that cannot be listed or is nested too deep comes as an item with its error.
    With ``include_xcode`` an ``.xcodeproj`` or ``.xcworkspace`` folder is one input, like a bundle.
    """
    from macwasm.xcode import is_xcode_input

    def whole(path: str) -> bool:
        return looks_like_bundle(path) or (include_xcode and is_xcode_input(path))

    def take(entry: os.DirEntry[str]) -> bool:
        name = entry.name.lower()
        return name.endswith(SIGNING_SUFFIXES) or (include_wasm and name.endswith(".wasm")) \
            or starts_like_macho(entry.path)

    for arg in paths:
        if arg != STDIN and os.path.isdir(arg) and not whole(arg):
            yield from walk_folder(arg, take, whole)
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
