"""The shared plumbing every reader relies on: errors, bounded reads, path expansion, output."""

from __future__ import annotations

import io
import json
import os

import pytest

from macwasm.errors import IO, LIMIT, InputError, WasmFormatError
from macwasm.inputs import iter_inputs, open_readonly
from macwasm.report.emit import write_jsonl, write_table


def test_error_message_names_path_offset_and_reason():
    err = WasmFormatError("section size runs past the end of the file", path="a.wasm", offset=0x1A)
    assert str(err) == "a.wasm: at offset 0x1a: section size runs past the end of the file"
    assert err.category == "malformed"
    assert err.to_dict()["offset"] == 0x1A


def test_error_path_can_be_attached_later_once():
    err = WasmFormatError("bad", offset=3)
    err.with_path("x.wasm").with_path("other.wasm")
    assert err.message == "x.wasm: at offset 0x3: bad"


def test_open_readonly_refuses_files_over_the_limit_before_reading(tmp_path):
    big = tmp_path / "sparse.wasm"
    with open(big, "wb") as fh:
        fh.truncate(4 * 1024**3)  # 4 GB sparse: must fail on size, not by paging it in
    with pytest.raises(InputError) as info, open_readonly(big, max_size=1024**3):
        pass
    assert info.value.category == LIMIT
    assert info.value.offset == 1024**3


def test_open_readonly_maps_large_files_without_write_access(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(b"\0asm" + bytes(200_000))
    before = os.stat(path)
    with open_readonly(path, max_size=10**6) as data:
        assert data[:4] == b"\0asm"
        with pytest.raises(TypeError):
            data[0] = 1  # read-only mapping
    after = os.stat(path)
    assert (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(InputError) as info, open_readonly(tmp_path / "nope", max_size=10):
        pass
    assert info.value.category == IO


def test_iter_inputs_recurses_sorted_and_does_not_follow_symlinked_dirs(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.wasm").write_bytes(b"")
    (tmp_path / "a.wasm").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path)  # a loop back to the root
    items = list(iter_inputs([str(tmp_path), str(tmp_path / "missing")], suffixes=(".wasm",)))
    names = [os.path.relpath(i.path, tmp_path) for i in items]
    assert names == ["a.wasm", "b/z.wasm", "missing"]
    assert items[-1].error is not None and items[-1].error.category == IO


def test_emit_formats():
    records = [{"path": "b", "n": 2}, {"path": "a", "n": None}]
    out = io.StringIO()
    write_jsonl(records, out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records
    out = io.StringIO()
    write_table(records, out, [("PATH", lambda r: r["path"]), ("N", lambda r: r["n"])])
    assert out.getvalue().splitlines() == ["PATH  N", "----  -", "b     2", "a     -"]


def test_a_fifo_named_like_a_module_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.wasm"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as info, open_readonly(fifo, max_size=10):
        pass
    assert "not a regular file" in info.value.reason


def test_non_utf8_file_names_are_printed_as_escapes_not_crashes():
    name = os.fsdecode(b"bad-\xff.wasm")  # a lone surrogate, as Python sees such a name
    out = io.StringIO()
    write_jsonl([{"path": name}], out)
    text = out.getvalue()
    text.encode("utf-8")  # must not raise
    assert "bad-" in text and "\\udcff" in text
    out = io.StringIO()
    write_table([{"path": name}], out, [("PATH", lambda r: r["path"])])
    out.getvalue().encode("utf-8")


def _deep_tree(root, levels: int):
    """``levels`` nested one-letter folders with a module at the bottom (built without recursion)."""
    path = root
    for _ in range(levels):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "x.wasm").write_bytes(b"\0asm\1\0\0\0")
    return path


@pytest.mark.parametrize("command", ["inspect", "entitlements", "check"])
def test_a_folder_nested_deeper_than_the_walk_limit_is_reported_not_a_recursion_error(cli, data_dir, tmp_path,
                                                                                       command):
    """Found by hand: 1,100 nested folders ended every folder walk with Python's RecursionError."""
    from macwasm.limits import WALK_MAX_DEPTH

    tree = tmp_path / "tree"
    _deep_tree(tree, WALK_MAX_DEPTH + 50)
    (tree / "ok.wasm").write_bytes((data_dir / "modules" / "mvp.wasm").read_bytes())
    result = cli(command, "--format", "json", str(tree))
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stderr
    records = json.loads(result.stdout)
    errors = [r["error"] for r in records if r.get("error")]
    assert len(errors) == 1 and f"folder nested more than {WALK_MAX_DEPTH} levels" in errors[0]
    if command != "entitlements":  # entitlements does not look at modules; inspect and check do
        assert any(str(tree / "ok.wasm") in json.dumps(r) for r in records)


def test_a_folder_within_the_walk_limit_is_searched_to_the_bottom(tmp_path):
    from macwasm.inputs import iter_inputs
    from macwasm.limits import WALK_MAX_DEPTH

    bottom = _deep_tree(tmp_path / "tree", WALK_MAX_DEPTH - 1)
    items = list(iter_inputs([str(tmp_path / "tree")], suffixes=(".wasm",)))
    assert [(i.path, i.error) for i in items] == [(str(bottom / "x.wasm"), None)]


def test_a_sparse_module_claiming_a_900_mb_code_section_is_walked_by_size_not_paged_in(tmp_path):
    """Issue 6's 'huge section' case, under the 1 GiB file cap so that the walk itself is exercised."""
    import resource

    from macwasm.wasm import inspect_path

    size = 900 * 1024**2
    body = size - 8 - 1 - 5
    path = tmp_path / "huge-section.wasm"
    with open(path, "wb") as fh:
        # header, code section (id 10) with a 5-byte size, a body of count 0 and then zeros (sparse)
        fh.write(b"\0asm\1\0\0\0" + b"\x0a" + bytes([0x80 | body & 0x7F, 0x80 | body >> 7 & 0x7F,
                                                     0x80 | body >> 14 & 0x7F, 0x80 | body >> 21 & 0x7F,
                                                     body >> 28]) + b"\x00")
        fh.truncate(size)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = inspect_path(str(path))
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert info.well_formed, info.error
    assert [(s.name, s.size) for s in info.sections] == [("code", body)]
    assert rss_growth_kib < 64 * 1024  # the 900 MB body was skipped by its size, not read


def test_files_that_vanish_or_turn_into_folders_mid_batch_are_reported_and_the_batch_goes_on(
        tmp_path, monkeypatch, capsys, data_dir):
    import macwasm.cli.cmd_inspect as cmd_inspect
    from macwasm.cli.main import main

    module = (data_dir / "modules" / "mvp.wasm").read_bytes()
    for name in ("a.wasm", "b.wasm", "c.wasm", "d.wasm"):
        (tmp_path / name).write_bytes(module)
    real_iter = cmd_inspect.iter_inputs

    def listed_then_changed(*args, **kwargs):
        items = list(real_iter(*args, **kwargs))  # the batch has its list: now the tree changes under it
        (tmp_path / "b.wasm").unlink()
        (tmp_path / "c.wasm").unlink()
        (tmp_path / "c.wasm").mkdir()
        return iter(items)

    monkeypatch.setattr(cmd_inspect, "iter_inputs", listed_then_changed)
    code = main(["inspect", "--format", "json", str(tmp_path)])
    records = {os.path.basename(r["path"]): r for r in json.loads(capsys.readouterr().out)}
    assert sorted(records) == ["a.wasm", "b.wasm", "c.wasm", "d.wasm"]
    assert records["a.wasm"]["well_formed"] and records["d.wasm"]["well_formed"]
    assert "No such file" in records["b.wasm"]["error"]
    assert records["c.wasm"]["error"] and records["c.wasm"]["error_category"] == "io"
    assert code == 2  # an input that could not be read is an I/O error


def test_a_path_longer_than_the_system_allows_is_an_error_record_not_a_crash(cli, tmp_path):
    too_long = str(tmp_path / ("x" * 300 + ".wasm"))
    deep = str(tmp_path / "/".join(["d" * 200] * 30) / "m.wasm")  # > PATH_MAX (4096)
    result = cli("inspect", "--format", "json", too_long, deep)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    errors = [r["error"] for r in json.loads(result.stdout)]
    assert len(errors) == 2 and all("too long" in e.lower() or "no such file" in e.lower() for e in errors), errors
