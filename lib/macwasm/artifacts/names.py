"""Member names of an archive made safe to use as tree paths, or refused with the reason.

An archive's names are text a stranger wrote: ``../../etc/x``, ``/Applications/X.app``, a NUL, a
name 100,000 levels deep. A refused name is reported (the caller notes it) and its member is not
part of the tree, so nothing downstream ever sees a path that leaves the artifact. ``./`` prefixes
(every cpio payload has them) and repeated or trailing slashes are normal and dropped.
"""

from __future__ import annotations

from macwasm.limits import ARTIFACT_MAX_DEPTH, ARTIFACT_MAX_NAME_LENGTH

#: resource forks and extended attributes ditto stores beside the files (``--sequesterRsrc``, or ``._`` files)
APPLEDOUBLE_FOLDER = "__MACOSX"
APPLEDOUBLE_PREFIX = "._"


def clean_name(raw: str) -> tuple[str | None, str | None]:
    """``(path, None)`` for a usable name ("" is the archive's root), ``(None, reason)`` for a refused one."""
    if len(raw.encode("utf-8", "surrogateescape")) > ARTIFACT_MAX_NAME_LENGTH:
        return None, f"a name of {len(raw)} characters is longer than {ARTIFACT_MAX_NAME_LENGTH}"
    if "\0" in raw:
        return None, "the name holds a NUL byte"
    if raw.startswith("/"):
        return None, "an absolute name (it would be written outside the folder it is extracted to)"
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "the name climbs out with '..' (path traversal)"
    if len(parts) > ARTIFACT_MAX_DEPTH:
        return None, f"the name is {len(parts)} levels deep, more than {ARTIFACT_MAX_DEPTH}"
    return "/".join(parts), None


def is_appledouble(path: str) -> bool:
    """``__MACOSX/...`` or a ``._name`` file: metadata of another member, not a file of the app."""
    first, _, _ = path.partition("/")
    return first == APPLEDOUBLE_FOLDER or path.rpartition("/")[2].startswith(APPLEDOUBLE_PREFIX)


def printable_name(raw: str) -> str:
    """A refused name as it can be shown (control characters escaped, cut to 200 characters)."""
    text = raw.encode("unicode_escape", "backslashreplace").decode("ascii", "replace")
    return text if len(text) <= 200 else text[:200] + "..."
