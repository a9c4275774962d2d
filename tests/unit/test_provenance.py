"""A result's reproduce recipe installs what made it: the source revision, never a package no index serves."""

from __future__ import annotations

from pathlib import Path

from pytest_mlperf_nv.provenance import reproduce_lines, source_of

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _git(answers: dict[str, str | None]):
    def git(directory: Path, *args: str) -> str | None:
        return answers.get(args[0])

    return git


def test_a_vcs_install_names_its_url_and_commit(tmp_path: Path) -> None:
    record = {"url": "https://github.com/acme/pytest-mlperf-nv",
              "vcs_info": {"vcs": "git", "commit_id": COMMIT}}
    source = source_of(record, tmp_path / "pkg")
    assert source.requirement == f"git+https://github.com/acme/pytest-mlperf-nv@{COMMIT}"
    assert source.install_line("mlcommons-loadgen==6.0.17") == (
        f'pip install "git+https://github.com/acme/pytest-mlperf-nv@{COMMIT}" mlcommons-loadgen==6.0.17')


def test_a_clean_checkout_with_a_remote_installs_from_the_remote_at_the_commit(tmp_path: Path) -> None:
    record = {"url": tmp_path.as_uri(), "dir_info": {"editable": True}}
    git = _git({"rev-parse": COMMIT, "status": "", "remote": "git@github.com:acme/pytest-mlperf-nv.git"})
    source = source_of(record, tmp_path / "pytest_mlperf_nv", git=git)
    assert source.requirement == f"git+ssh://git@github.com/acme/pytest-mlperf-nv.git@{COMMIT}"
    assert source.note == ""


def test_a_clean_checkout_without_a_remote_says_so(tmp_path: Path) -> None:
    record = {"url": tmp_path.as_uri(), "dir_info": {}}
    source = source_of(record, tmp_path / "pytest_mlperf_nv", git=_git({"rev-parse": COMMIT, "status": ""}))
    assert source.requirement == f"git+{tmp_path.as_uri()}@{COMMIT}"
    assert "no remote" in source.note


def test_a_checkout_with_local_changes_installs_the_directory_and_says_the_commit_is_not_enough(
        tmp_path: Path) -> None:
    record = {"url": tmp_path.as_uri(), "dir_info": {"editable": True}}
    git = _git({"rev-parse": COMMIT, "status": " M pytest_mlperf_nv/cli.py", "remote": None})
    source = source_of(record, tmp_path / "pytest_mlperf_nv", git=git)
    assert source.requirement == str(tmp_path) and source.commit == COMMIT
    assert "uncommitted changes" in source.note


def test_no_record_falls_back_to_the_source_tree_or_says_it_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    source = source_of(None, tmp_path / "pytest_mlperf_nv", git=_git({}))
    assert source.requirement == str(tmp_path) and "not under git" in source.note
    unknown = source_of(None, tmp_path / "site-packages" / "pytest_mlperf_nv", git=_git({}))
    assert unknown.requirement is None and "unknown source" in unknown.note
    archive = source_of({"url": "https://example.com/p.whl", "archive_info": {}}, tmp_path)
    assert archive.requirement == "https://example.com/p.whl"


def test_this_installation_never_gets_an_index_recipe() -> None:
    lines = reproduce_lines("6.0.17")
    assert lines[0].startswith("# pytest-mlperf-nv ")
    assert lines[1].startswith("pip install ") and lines[1].endswith(" mlcommons-loadgen==6.0.17")
    assert "pytest-mlperf-nv==" not in "\n".join(lines)
