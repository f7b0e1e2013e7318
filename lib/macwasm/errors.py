"""One error root for the whole package, one subclass per reader, and the one way an error is written.

Every error names the input (``path``), the absolute byte ``offset`` it applies to (``None`` when
no offset makes sense, e.g. a missing file), for text formats the 1-based ``line``, and a
``reason``. ``category`` (one of :data:`~macwasm.vocabulary.ERROR_CATEGORIES`) tells the things a
user must be able to tell apart: the input is broken (``malformed``), it is fine but bigger than we
are willing to read (``limit``), we could not read it at all (``io``), it is of a form we do not read
(``unsupported``), the command line is wrong (``usage``), or macwasm failed (``internal``).

Each reader raises only its own class; where it calls another reader (a Mach-O signature holds DER
entitlements and an XML plist) it wraps that reader's error in its own (:meth:`MacwasmError.wrap`),
keeping the offset and the category. :func:`format_error` is the one formatter: every message, in
every report, is written by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from macwasm.vocabulary import INSTALLATION, INTERNAL, IO, LIMIT, MALFORMED, UNSUPPORTED, USAGE

if TYPE_CHECKING:
    from macwasm.wasm.model import WasmInfo

__all__ = [
    "INSTALLATION", "INTERNAL", "IO", "LIMIT", "MALFORMED", "UNSUPPORTED", "USAGE", "ArtifactError", "BundleError",
    "DerFormatError", "InputError", "InstallationError", "IntegrityError", "LogFormatError", "MachOFormatError",
    "MacwasmError", "PlistFormatError", "ProfileFormatError", "TableFormatError", "UsageError", "WasmFormatError",
    "XcodeProjectError", "format_error",
]


def format_error(reason: str, *, path: str | None = None, offset: int | None = None, line: int | None = None) -> str:
    """``path: at offset 0x1a: reason``, or ``path: line 3 (offset 0x1a): reason`` for text formats.

    The parts that are unknown are left out, so the same function writes an error with and without
    its path (a table row already names the file).
    """
    parts = [str(path)] if path is not None else []
    if line is not None:
        parts.append(f"line {line}" + (f" (offset 0x{offset:x})" if offset is not None else ""))
    elif offset is not None:
        parts.append(f"at offset 0x{offset:x}")
    parts.append(reason)
    return ": ".join(parts)


class MacwasmError(Exception):
    """Root of every error the readers raise on bad input."""

    #: default category for this reader's errors
    default_category = MALFORMED

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        category: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.offset = offset
        self.line = line
        self.category = category or self.default_category
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The whole message, path first (:func:`format_error`)."""
        return format_error(self.reason, path=self.path, offset=self.offset, line=self.line)

    @property
    def message_without_path(self) -> str:
        """The message for a place that already names the input (a record whose ``path`` is the input)."""
        return format_error(self.reason, offset=self.offset, line=self.line)

    def with_path(self, path: str) -> MacwasmError:
        """Attach the input's name once it is known (readers of bytes do not know it)."""
        if self.path is None:
            self.path = path
            self.args = (self.message,)
        return self

    @classmethod
    def wrap(cls, err: MacwasmError, *, reason: str | None = None) -> MacwasmError:
        """``err`` (another reader's) as this reader's error: same path, offset, line and category.

        An error already of this class is returned as it is. ``reason`` may say where the inner
        reader was reading (``"DER entitlements: ..."``).
        """
        if isinstance(err, cls):
            return err
        return cls(reason or err.reason, path=err.path, offset=err.offset, category=err.category, line=err.line)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "offset": self.offset,
            "reason": self.reason,
            "category": self.category,
            "message": self.message,
        }


class InputError(MacwasmError):
    """The input could not be opened or read (missing, unreadable, vanished mid-batch)."""

    default_category = IO


class WasmFormatError(MacwasmError):
    """A WebAssembly binary (core module or component) is malformed or exceeds a limit."""

    #: the partial result (header, sections read before the fault), set by the inspector for a batch to show
    info: WasmInfo | None = None


class PlistFormatError(MacwasmError):
    """A property list (XML or binary) or ``codesign`` output is malformed or hostile."""


class ProfileFormatError(MacwasmError):
    """A provisioning profile's CMS wrapper or embedded plist is malformed."""


class DerFormatError(MacwasmError):
    """A DER/BER structure (entitlements blob, CMS) is malformed or nests too deep."""


class MachOFormatError(MacwasmError):
    """A Mach-O file, a fat header or a code-signature blob is malformed."""


class BundleError(MacwasmError):
    """An ``.app``-style bundle cannot be walked (missing Info.plist, symlink loop, too large)."""


class ArtifactError(MacwasmError):
    """An artifact that goes to notarization (``.zip``, flat ``.pkg``) is malformed, hostile or not readable here."""


class LogFormatError(MacwasmError):
    """A log or notarization report handed to ``explain`` cannot be read."""


class TableFormatError(MacwasmError):
    """A target table handed to ``audit`` is malformed."""


class XcodeProjectError(MacwasmError):
    """An Xcode project, workspace or ``.xcconfig`` is malformed, too large, or includes itself.

    Text formats have lines: ``line`` (1-based) is given next to the byte ``offset`` so that an
    editor can jump to the place.
    """

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "line": self.line}


class IntegrityError(MacwasmError):
    """A key, signature or module handed to the integrity check cannot be used (not: does not verify)."""


class UsageError(MacwasmError):
    """An option or argument value macwasm does not know (an unknown runtime, a malformed ``--entitlement``).

    Nothing is wrong with any input: the CLI says so on stderr and exits 2.
    """

    default_category = USAGE


class InstallationError(Exception):
    """macwasm itself is incomplete: a fact table missing from the package, an extra not installed.

    Not a :class:`MacwasmError` on purpose: it says nothing about any input, so no reader's
    ``except MacwasmError`` may turn it into a "malformed" record, and a batch must not repeat it
    for every file. The CLI reports it once and exits 2.
    """

    category = INSTALLATION

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return format_error(self.reason, path=self.path)
