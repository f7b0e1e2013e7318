"""One error root for the whole package, one subclass per reader.

Every error names the input (``path``), the absolute byte ``offset`` it applies to (``None`` when
no offset makes sense, e.g. a missing file) and a ``reason``. ``category`` (one of
:data:`~macwasm.vocabulary.ERROR_CATEGORIES`) tells the things a user must be able to tell apart:
the input is broken (``malformed``), it is fine but bigger than we are willing to read (``limit``),
we could not read it at all (``io``), it is of a form we do not read (``unsupported``), the command
line is wrong (``usage``), or macwasm failed (``internal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from macwasm.vocabulary import INSTALLATION as INSTALLATION
from macwasm.vocabulary import INTERNAL as INTERNAL
from macwasm.vocabulary import IO as IO
from macwasm.vocabulary import LIMIT as LIMIT
from macwasm.vocabulary import MALFORMED as MALFORMED
from macwasm.vocabulary import UNSUPPORTED as UNSUPPORTED
from macwasm.vocabulary import USAGE as USAGE


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
    ) -> None:
        self.reason = reason
        self.path = path
        self.offset = offset
        self.category = category or self.default_category
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """``path: at offset 0x1a: reason``; the parts that are unknown are left out."""
        parts = []
        if self.path is not None:
            parts.append(str(self.path))
        if self.offset is not None:
            parts.append(f"at offset 0x{self.offset:x}")
        parts.append(self.reason)
        return ": ".join(parts)

    def with_path(self, path: str) -> MacwasmError:
        """Attach the input's name once it is known (readers of bytes do not know it)."""
        if self.path is None:
            self.path = path
            self.args = (self.message,)
        return self

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

    def __init__(self, reason: str, *, path: str | None = None, offset: int | None = None,
                 category: str | None = None, line: int | None = None) -> None:
        self.line = line
        super().__init__(reason, path=path, offset=offset, category=category)

    @property
    def message(self) -> str:
        if self.line is None:
            return super().message
        parts = [str(self.path)] if self.path is not None else []
        where = f"line {self.line}" + (f" (offset 0x{self.offset:x})" if self.offset is not None else "")
        return ": ".join([*parts, where, self.reason])

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "line": self.line}


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
        return f"{self.path}: {self.reason}" if self.path else self.reason


@dataclass(frozen=True)
class ErrorRecord:
    """An error as a plain value, for batch results that go on past a bad file."""

    path: str | None
    offset: int | None
    reason: str
    category: str

    @classmethod
    def from_error(cls, err: MacwasmError) -> ErrorRecord:
        return cls(err.path, err.offset, err.reason, err.category)

    @property
    def message(self) -> str:
        return MacwasmError(self.reason, path=self.path, offset=self.offset).message
