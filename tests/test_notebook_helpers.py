"""The helpers notebooks share (``macwasm.notebook``): paths shown without machine details."""

from __future__ import annotations

from macwasm.notebook import REPO_ROOT, rel, repo_path


def test_rel_shows_repository_paths_relative_to_the_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert rel(repo_path("data", "modules", "mvp.wasm")) == "data/modules/mvp.wasm"
    assert rel("../data/bundles/ForumCase.app") == "data/bundles/ForumCase.app"


def test_rel_keeps_other_relative_paths_as_given(monkeypatch):
    """A path inside a bundle is relative to the bundle, not to the notebook's folder."""
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert rel("Contents/MacOS/plugin.wasm") == "Contents/MacOS/plugin.wasm"


def test_rel_leaves_paths_outside_the_repository_alone(tmp_path):
    assert rel(tmp_path / "x.wasm") == (tmp_path / "x.wasm").as_posix()
