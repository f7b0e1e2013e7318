"""The artifacts that go to notarization (``.zip``, flat ``.pkg``), read in place as file trees.

Light on purpose: the bundle walker imports :mod:`macwasm.artifacts.tree` for every input, so the
format readers (``zip``, ``xar``, ``cpio``, ...) are imported only when an artifact is opened
(:mod:`macwasm.artifacts.open`).
"""
