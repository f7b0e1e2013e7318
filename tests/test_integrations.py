"""The CI integrations, run here as a user's CI would run them.

- ``.pre-commit-hooks.yaml``: ``pre-commit try-repo`` on a sample git repository in a temp folder
  (pre-commit builds the hook's env with pip, from this checkout and PyPI);
- ``action.yml``: its ``run`` steps executed as a script with the inputs set, as GitHub's runner
  would (bash -eo pipefail, ``GITHUB_OUTPUT``, ``RUNNER_TEMP``); the ``uses:`` steps are not run,
  their inputs are asserted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from github_sarif import upload_problems

REPO = Path(__file__).resolve().parents[1]
FORUM = REPO / "data" / "samples" / "entitlements" / "forum-thread.entitlements"
FIXED = REPO / "data" / "samples" / "entitlements" / "forum-thread-fixed.entitlements"
INFO = REPO / "data" / "bundles" / "ForumCase.app" / "Contents" / "Info.plist"


def _hook() -> dict:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    return hook


@pytest.mark.parametrize("name, taken", [
    ("App.entitlements", True), ("sub/dir/Helper.xcent", True), ("App.entitlements.plist", True),
    ("Entitlements.plist", True), ("ext/NetworkExtension-Entitlements.plist", True),
    ("Info.plist", False), ("MyApp.app/Contents/Info.plist", False), ("info.plist", False),
    ("Settings.plist", False), ("notes.txt", False), ("App.entitlements.bak", False),
])
def test_the_hook_takes_entitlements_files_and_never_info_plist(name: str, taken: bool) -> None:
    hook = _hook()
    matched = re.search(hook["files"], name) is not None and re.search(hook["exclude"], name) is None
    assert matched is taken


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


@pytest.mark.network
@pytest.mark.slow
def test_pre_commit_try_repo_fails_on_the_forum_entitlements_only(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    (sample / "App" / "Contents").mkdir(parents=True)
    shutil.copy(FORUM, sample / "App" / "Filter.entitlements")
    shutil.copy(FIXED, sample / "Fixed.entitlements")
    shutil.copy(INFO, sample / "App" / "Contents" / "Info.plist")  # must not be checked as entitlements
    _git(sample, "init", "-q")
    _git(sample, "add", ".")
    _git(sample, "commit", "-qm", "sample")
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "macwasm-check", "--verbose"]
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}

    bad = subprocess.run([*pre_commit, "--files", "App/Filter.entitlements", "App/Contents/Info.plist"],
                         cwd=sample, capture_output=True, text=True, env=env, timeout=900)
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out[-3000:]
    assert "MW101" in out and "App/Filter.entitlements" in out
    assert "Info.plist" not in out.split("macwasm check (entitlements)", 1)[-1]

    good = subprocess.run([*pre_commit, "--files", "Fixed.entitlements"], cwd=sample, capture_output=True,
                          text=True, env=env, timeout=900)
    assert good.returncode == 0, (good.stdout + good.stderr)[-3000:]
    assert "Passed" in good.stdout


# ---------------------------------------------------------------------------------- action.yml

def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def _expand(text: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
    """``${{ inputs.x }}``, ``${{ github.action_path }}`` and ``${{ steps.id.outputs.x }}``, as the runner does."""
    def value(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(REPO)
        if expr.startswith("steps."):
            step, _, name = expr.removeprefix("steps.").partition(".outputs.")
            return steps.get(step, {}).get(name, "")
        raise AssertionError(f"an expression this test does not know: {expr}")
    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def _condition(expr: str | None, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> bool:
    """The few ``if:`` forms action.yml uses: always(), ==, !=, joined by &&."""
    if expr is None:
        return True
    body = expr.strip().removeprefix("${{").removesuffix("}}")
    ok = True
    for part in (p.strip() for p in body.split("&&")):
        if part == "always()":
            continue
        left, op, right = re.match(r"(\S+)\s*(==|!=)\s*'([^']*)'", part).groups()
        actual = _expand("${{ " + left + " }}", inputs, steps)
        ok = ok and ((actual == right) if op == "==" else (actual != right))
    return ok


def _run_action(inputs: dict[str, str], workspace: Path, tmp_path: Path) -> tuple[list[dict], dict]:
    action = _action()
    given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    given.update(inputs)
    missing = [n for n, spec in action["inputs"].items() if spec.get("required") and not given.get(n)]
    assert not missing, missing
    steps: dict[str, dict[str, str]] = {}
    used: list[dict] = []
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    for step in action["runs"]["steps"]:
        if not _condition(step.get("if"), given, steps):
            continue
        if "uses" in step:
            used.append({"uses": step["uses"], "with": {k: _expand(str(v), given, steps)
                                                         for k, v in step.get("with", {}).items()}})
            continue
        assert step["shell"] == "bash"
        output = tmp_path / f"output-{len(steps)}"
        output.write_text("")
        env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(output),
               "GITHUB_WORKSPACE": str(workspace),
               **{k: _expand(str(v), given, steps) for k, v in step.get("env", {}).items()}}
        env.pop("VIRTUAL_ENV", None)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=workspace, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            return used, {"failed": step["name"], "returncode": proc.returncode, "stdout": proc.stdout,
                          "stderr": proc.stderr, **steps}
        if "id" in step:
            steps[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
    return used, steps


@pytest.mark.network
@pytest.mark.slow
def test_the_action_installs_checks_and_hands_sarif_to_upload(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "Filter").mkdir(parents=True)
    shutil.copy(FORUM, workspace / "Filter" / "Filter.entitlements")
    used, steps = _run_action({"paths": "Filter/Filter.entitlements", "args": "--runtime wasmtime"},
                              workspace, tmp_path)
    assert [u["uses"].split("@")[0] for u in used] == ["actions/setup-python", "github/codeql-action/upload-sarif"]
    upload = used[1]["with"]
    assert upload == {"sarif_file": "macwasm.sarif", "category": "macwasm"}
    # the error findings fail the job, after the upload
    assert steps["failed"] == "Fail on error findings", steps.get("stderr")
    assert steps["check"]["exit-code"] == "1"
    log = json.loads((workspace / "macwasm.sarif").read_text())
    assert upload_problems(log) == []
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {"Filter/Filter.entitlements"}  # relative to the workspace: matches the repository

    used, steps = _run_action({"paths": "Filter", "fail-on-findings": "false", "upload": "false"},
                              workspace, tmp_path)
    assert "failed" not in steps, steps.get("stderr")
    assert [u["uses"].split("@")[0] for u in used] == ["actions/setup-python"]
