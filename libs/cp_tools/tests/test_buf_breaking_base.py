"""Which commit `buf breaking` compares proto/ with, on a branch, on main and in a shallow clone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cp_tools.buf import breaking_base


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit(repo: Path, path: str, text: str) -> str:
    file = repo / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"change {path}")
    return git(repo, "rev-parse", "HEAD")


def new_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "dev")
    return repo


def test_a_branch_is_compared_with_its_merge_base_with_main(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, "proto/a.proto", "v1")
    fork = commit(repo, "README.md", "x")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "proto/a.proto", "v2")
    git(repo, "checkout", "-q", "main")
    commit(repo, "proto/b.proto", "later on main")
    git(repo, "checkout", "-q", "feature")
    base = breaking_base(repo)
    assert base.commit == fork
    assert "merge base with main" in base.why


def test_main_is_compared_with_the_commit_before_the_last_proto_change(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, "proto/a.proto", "v1")
    before = commit(repo, "README.md", "x")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "proto/a.proto", "v2")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "feature", "-m", "merge feature")
    commit(repo, "README.md", "after the merge")
    base = breaking_base(repo)
    assert base.commit == before
    assert "before the last change to proto/" in base.why


def test_a_shallow_clone_has_no_base(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, "proto/a.proto", "v1")
    commit(repo, "proto/a.proto", "v2")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    base = breaking_base(shallow)
    assert base.commit is None
    assert "shallow" in base.why


def test_proto_created_by_the_first_commit_has_no_base(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, "proto/a.proto", "v1")
    commit(repo, "README.md", "x")
    base = breaking_base(repo)
    assert base.commit is None
    assert "first commit" in base.why


def test_outside_git_there_is_no_base(tmp_path: Path) -> None:
    assert breaking_base(tmp_path).commit is None
