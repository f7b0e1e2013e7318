"""The knowledge base keeps one shape, so a reader always knows where to look and nbval stays honest.

Every notebook in ``notebooks/`` must be numbered (``NN_slug.ipynb``), open with a ``#`` title and a
"What you will learn" list, end with "What's next" (links to the notebooks to read next) and its
sources, carry stored outputs for every code cell (nbval compares nothing for a cell that has none),
keep machine-specific paths and memory addresses out of those outputs, share no code cell with
another notebook (shared code lives in ``lib/``), read no table of ``data/`` with pandas directly
(``macwasm.policy.frames`` reads them the way the engine does) and be listed in the README. These
checks read the ``.ipynb`` JSON only; running the notebooks is nbval's job (``make test-nb``).
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
LINK = re.compile(r"https?://\S+")
#: a Markdown link to a notebook of this folder: [title](NN_slug.ipynb)
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[a-z0-9_]+\.ipynb)(?:#[^)]*)?\)")
#: an object repr with its memory address, e.g. ``<Foo object at 0x7f3a2c1d9e50>``
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}\b")
#: calls that return None, so a cell ending in one displays nothing
NONE_CALLS = frozenset({"setup"})
#: lines that any notebook may share: imports and the one-call setup
SHAREABLE_LINE = re.compile(r"^(?:import \S|from \S+ import |setup\(\)$|\)$)")


def _machine_paths() -> list[str]:
    """Absolute paths that only exist on this machine: they must never end up in stored outputs."""
    candidates = {str(REPO), str(REPO.parent), tempfile.gettempdir(), str(Path.home()), "site-packages"}
    return sorted(p for p in candidates if p not in ("", "/"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _output_texts(cell: dict[str, Any]) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            texts.append(_text({"source": out["text"]}))
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime.endswith("json"):
                texts.append(value if isinstance(value, str) else json.dumps(value) if not isinstance(value, list)
                             else "".join(value))
        if out.get("output_type") == "error":
            texts.append("\n".join(out.get("traceback", [])))
    return texts


def _substantive_code(cell: dict[str, Any]) -> str:
    """A code cell without comments, blank lines, imports and the setup call: what must be unique."""
    lines = []
    for raw in _text(cell).splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.strip() and not SHAREABLE_LINE.match(line.strip()):
            lines.append(line)
    return "\n".join(lines)


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb file"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_name_is_numbered_slug(path: Path):
    assert NAME.match(path.name), f"{path.name}: expected NN_slug.ipynb (two digits, lower-case words joined by _)"


def test_numbers_are_unique():
    numbers = [NAME.match(p.name).group(1) for p in NOTEBOOKS if NAME.match(p.name)]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not duplicates, f"notebook numbers used twice: {duplicates}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_title_and_what_you_will_learn(path: Path):
    cells = _load(path)["cells"]
    assert cells and cells[0]["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown"
    first = _text(cells[0]).lstrip()
    assert re.match(r"# \S", first), f"{path.name}: the first cell must start with a '# Title' line"
    intro = "\n".join(_text(c) for c in cells[:3] if c["cell_type"] == "markdown")
    assert re.search(r"what you will learn", intro, re.IGNORECASE), \
        f"{path.name}: no 'What you will learn' section near the top"
    learn = re.split(r"what you will learn", intro, maxsplit=1, flags=re.IGNORECASE)[1]
    assert re.search(r"^\s*(?:\d+\.|[-*]) \S", learn, re.MULTILINE), \
        f"{path.name}: 'What you will learn' is not followed by a list"


def _tail_markdown(path: Path, cells: int = 3) -> str:
    return "\n".join(_text(c) for c in _load(path)["cells"][-cells:] if c["cell_type"] == "markdown")


def _section(text: str, heading: str) -> str | None:
    """The body of the ``#``-heading whose title matches ``heading``, up to the next heading of any level."""
    m = re.search(rf"^#+ +{heading}\s*$(.*?)(?=^#+ |\Z)", text, re.IGNORECASE | re.MULTILINE | re.DOTALL)
    return m.group(1) if m else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_whats_next_linking_other_notebooks(path: Path):
    body = _section(_tail_markdown(path), r"What['’]s next")
    assert body is not None, f"{path.name}: no \"## What's next\" heading in the last cells"
    linked = set(NOTEBOOK_LINK.findall(body))
    assert linked, f"{path.name}: \"What's next\" links no notebook (a [title](NN_slug.ipynb) link)"
    existing = {p.name for p in NOTEBOOKS}
    assert linked <= existing, \
        f"{path.name}: \"What's next\" links notebooks that do not exist: {sorted(linked - existing)}"
    assert path.name not in linked, f"{path.name}: \"What's next\" links the notebook itself"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_linked_sources(path: Path):
    text = _tail_markdown(path)
    body = _section(text, "Sources")
    assert body is not None, f"{path.name}: no '## Sources' heading in the last cells"
    assert LINK.search(body), f"{path.name}: the sources at the end link nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_reads_a_data_table_with_pandas(path: Path):
    """data/*.csv is read through macwasm.policy.frames (the engine's own lookup: MACWASM_DATA, the package)."""
    offenders = []
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_text(cell))
        except SyntaxError:
            tree = None
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)] if tree else []
        for call in calls:
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if name == "read_csv":
                offenders.append(f"cell {index}: {ast.unparse(call)[:80]}")
        if tree is None and "read_csv(" in _text(cell):
            offenders.append(f"cell {index}: read_csv(...)")
    assert not offenders, (f"{path.name}: read data tables with macwasm.policy.frames (frame(name), runtime_matrix(), "
                           f"...), not pandas: " + "; ".join(offenders))


def _ends_in_expression(source: str) -> bool:
    """True when the cell's last statement is an expression, whose value the notebook displays."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics: assume they show something
        return True
    if not body or not isinstance(body[-1], ast.Expr):
        return False
    last = body[-1].value
    returns_none = isinstance(last, ast.Call) and isinstance(last.func, ast.Name) and last.func.id in NONE_CALLS
    return not returns_none


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_with_outputs(path: Path):
    not_run, no_output = [], []
    for index, cell in enumerate(_load(path)["cells"]):
        source = _text(cell)
        if cell["cell_type"] != "code" or not source.strip():
            continue
        if cell.get("execution_count") is None:
            not_run.append(index)
        elif _ends_in_expression(source) and not cell.get("outputs"):
            no_output.append(index)
    assert not not_run, f"{path.name}: code cells never executed (run the notebook): {not_run}"
    assert not no_output, f"{path.name}: code cells that display a value but store no output: {no_output}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_have_no_errors_paths_or_addresses(path: Path):
    problems = []
    machine_paths = _machine_paths()
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            problems.append(f"cell {index}: stored error output")
        for text in _output_texts(cell):
            for machine_path in machine_paths:
                # a whole path, from its start: "/work" must not match "/workflows" in a URL, nor the
                # home "/root" the "/var/root" that a root process's storage is explained with
                if re.search(r"(?<![\w.-])" + re.escape(machine_path) + r"(?![\w.-])", text):
                    problems.append(f"cell {index}: machine path {machine_path!r} in output")
            if MEMORY_ADDRESS.search(text):
                problems.append(f"cell {index}: memory address {MEMORY_ADDRESS.search(text).group(0)!r} in output")
    assert not problems, f"{path.name}: " + "; ".join(sorted(set(problems)))


def test_no_code_cell_is_copied_between_notebooks():
    seen: dict[str, str] = {}
    copies = []
    for path in NOTEBOOKS:
        for index, cell in enumerate(_load(path)["cells"]):
            if cell["cell_type"] != "code":
                continue
            body = _substantive_code(cell)
            if len(body.splitlines()) < 2 and len(body) < 60:
                continue  # one short expression (``frame``, ``chart()``) is not a copy
            where = f"{path.name} cell {index}"
            if body in seen and not seen[body].startswith(path.name):
                copies.append(f"{where} repeats {seen[body]}")
            seen.setdefault(body, where)
    assert not copies, "code copied between notebooks (move it to lib/macwasm): " + "; ".join(copies)


def test_readme_lists_every_notebook():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if p.name not in readme and p.stem not in readme]
    assert not missing, f"README.md does not list: {missing}"


def test_readme_links_only_existing_notebooks():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"notebooks/(\d\d_[a-z0-9_]+\.ipynb)", readme))
    existing = {p.name for p in NOTEBOOKS}
    assert not named - existing, f"README.md links notebooks that do not exist: {sorted(named - existing)}"
