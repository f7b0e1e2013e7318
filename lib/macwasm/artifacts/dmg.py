"""``.dmg`` disk images: refused, with the reason, because no maintained reader of them exists for Python.

A notarized ``.dmg`` is a UDIF image (a ``koly`` trailer, a plist of compressed block tables)
holding an HFS+ or APFS volume. Reading the ``.app`` inside needs three readers: UDIF, a partition
map, and the file system. As of 2026-12 none on PyPI is fit to depend on (README, "What it reads"):
``dmglib`` drives ``hdiutil`` (macOS only, and it runs a process); ``pydmg`` 0.1.x is alpha, months
old, and holds each partition (up to 512 MiB) and each file whole in memory; libyal's
``libmodi-python`` + ``libfshfs-python`` + ``libfsapfs-python`` are pre-alpha ("experimental") by
their own status; ``dissect.apfs`` reads APFS but nothing in the dissect family reads UDIF.
"""

from __future__ import annotations

from macwasm.errors import UNSUPPORTED, ArtifactError

DMG_SUFFIX = ".dmg"
DMG_REFUSAL = ("macwasm cannot read .dmg images: no maintained reader of UDIF/HFS+/APFS for Python; mount it on a "
               "Mac and check the .app")


def refuse_dmg(path: str) -> ArtifactError:
    return ArtifactError(DMG_REFUSAL, path=path, category=UNSUPPORTED)
