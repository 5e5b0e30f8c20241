"""The zip extractor alone: it raises its own ArchiveError, which the loader translates."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from service.evaluator import PackageError, extract_zip
from service.evaluator.archive import ArchiveError, extract_archive


def evil_zip(path: Path) -> Path:
    """Write a zip whose second member climbs out of the extraction directory."""
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("ok.txt", "fine")
        bundle.writestr(zipfile.ZipInfo("../escape.txt"), "owned")
    return path


def test_an_unsafe_member_is_an_archive_error_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="climbs out") as caught:
        extract_archive(evil_zip(tmp_path / "evil.zip"), tmp_path / "out")
    assert not isinstance(caught.value, PackageError)
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_an_unreadable_zip_is_an_archive_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveError, match=r"broken\.zip: not a readable zip archive"):
        extract_archive(archive, tmp_path / "out")


def test_the_package_loader_reports_the_same_message_as_a_package_error(tmp_path: Path) -> None:
    archive = evil_zip(tmp_path / "evil.zip")
    with pytest.raises(ArchiveError) as direct:
        extract_archive(archive, tmp_path / "a")
    with pytest.raises(PackageError) as translated:
        extract_zip(archive, tmp_path / "b")
    assert str(translated.value) == str(direct.value)
