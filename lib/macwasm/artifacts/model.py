"""Typed facts of an artifact as a whole: its format, its packages (a pkg) and the notes its reading left.

The bundles inside are read by the bundle reader like any folder; these are the facts only the
artifact knows: where a pkg installs each payload (``PackageInfo``'s ``install-location``), which
bundle ids it declares, what the ``Distribution`` asks of the machine, who signed the pkg (the
certificate is *not* verified), and members that were refused (names that leave the archive ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from macwasm.limits import ARTIFACT_MAX_NOTES

FORMATS = ("zip", "pkg")


@dataclass(frozen=True)
class BundleRef:
    """A ``<bundle>`` of a PackageInfo: a bundle the payload installs, as the package declares it."""

    path: str  # relative to the payload root, "./" dropped
    identifier: str | None
    version: str | None  # CFBundleShortVersionString

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "identifier": self.identifier, "version": self.version}


@dataclass(frozen=True)
class PackageFacts:
    """One component package: its PackageInfo and where its Payload sits in the artifact's tree."""

    path: str  # of the component in the artifact ("" for a component pkg, "X.pkg" in a product archive)
    identifier: str | None
    version: str | None
    install_location: str  # "/" when PackageInfo does not say
    payload: str | None  # tree path of the payload folder (None: the package has no payload)
    payload_files: int | None = None  # PackageInfo <payload numberOfFiles>
    install_kbytes: int | None = None
    bundles: tuple[BundleRef, ...] = ()
    scripts: tuple[str, ...] = ()  # preinstall / postinstall names PackageInfo declares (never read or run)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "identifier": self.identifier, "version": self.version,
                "install_location": self.install_location, "payload": self.payload,
                "payload_files": self.payload_files, "install_kbytes": self.install_kbytes,
                "bundles": [b.to_dict() for b in self.bundles], "scripts": list(self.scripts)}


@dataclass(frozen=True)
class DistributionFacts:
    """What a product archive's ``Distribution`` says (``productbuild``)."""

    title: str | None
    product_id: str | None
    product_version: str | None
    host_architectures: tuple[str, ...]
    min_os: str | None
    pkg_refs: tuple[str, ...]  # identifiers of the component packages it installs

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "product_id": self.product_id, "product_version": self.product_version,
                "host_architectures": list(self.host_architectures), "min_os": self.min_os,
                "pkg_refs": list(self.pkg_refs)}


@dataclass
class ArtifactFacts:
    path: str
    format: str  # one of FORMATS
    packages: list[PackageFacts] = field(default_factory=list)
    distribution: DistributionFacts | None = None
    signer: str | None = None  # a flat pkg's leaf certificate subject (not verified); None: unsigned or a zip
    notes: list[str] = field(default_factory=list)
    #: notes past ARTIFACT_MAX_NOTES, counted and not kept (a crafted archive may refuse a million names)
    notes_dropped: int = 0

    def note(self, text: str) -> None:
        """Keep a note, up to ``ARTIFACT_MAX_NOTES``; the rest are counted."""
        if len(self.notes) < ARTIFACT_MAX_NOTES:
            self.notes.append(text)
        else:
            self.notes_dropped += 1

    @property
    def all_notes(self) -> list[str]:
        """The notes kept, and how many were not, in one list."""
        more = [f"{self.notes_dropped} more notes not shown (limit {ARTIFACT_MAX_NOTES})"] if self.notes_dropped else []
        return [*self.notes, *more]

    def package_of(self, path: str) -> PackageFacts | None:
        """The package whose payload holds tree path ``path``."""
        for package in self.packages:
            if package.payload and (path == package.payload or path.startswith(package.payload + "/")):
                return package
        return None

    def notes_for(self, path: str) -> list[str]:
        """The notes an item at tree path ``path`` carries: where it installs, who signed the pkg, refusals."""
        out = []
        package = self.package_of(path)
        if package is not None and package.payload:
            rel = path[len(package.payload) + 1:]
            target = "/" + "/".join(p for p in (package.install_location.strip("/"), rel) if p)
            out.append(f"installed to {target} by package {package.identifier or '?'} {package.version or ''}"
                       .rstrip() + f" (install-location {package.install_location})")
        if self.format == "pkg":
            out.append(f"{self.path}: signed by {self.signer} (certificate not verified)" if self.signer
                       else f"{self.path}: the package is not signed (productsign)")
        out.extend(f"{self.path}: {n}" for n in self.all_notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "packages": [p.to_dict() for p in self.packages],
                "distribution": self.distribution.to_dict() if self.distribution else None,
                "signer": self.signer, "notes": self.all_notes}
