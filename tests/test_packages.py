"""The content-addressed package store and unpacking stored packages for judging."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from service import packages as packages_module
from service.config import Settings
from service.evaluator import PackageError
from service.packages import (
    BadPackageHash,
    MissingPackage,
    PackageStore,
    check_hash,
    forget_loaded,
    load_stored,
    unpacked_root,
)
from tests.factories import copy_example, example_path, zip_folder


def settings_in(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_a_zip_is_stored_under_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    archive = zip_folder(example_path("hello"), tmp_path / "hello.zip")
    store = PackageStore(tmp_path / "store")

    package_hash, size = store.put_file(archive)

    data = archive.read_bytes()
    assert package_hash == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    assert store.has(package_hash)
    assert store.path(package_hash) == tmp_path / "store" / f"{package_hash}.zip"
    assert store.path(package_hash).read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [f"{package_hash}.zip"]


def test_the_same_folder_zips_to_the_same_hash_wherever_it_lies(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "store")
    first = copy_example(tmp_path / "a")
    second = copy_example(tmp_path / "b")
    os.utime(second / "problem.yaml", (0, 0))  # other times: same zip

    one = store.put_file(first)
    two = store.put_file(second)
    again = store.put_file(first)

    assert one == two == again
    assert len(list((tmp_path / "store").iterdir())) == 1
    (second / "problem.yaml").write_text("name: Changed\n")
    assert store.put_file(second)[0] != one[0]


def test_a_folder_zip_keeps_dotfiles_and_the_executable_bit_and_skips_tool_folders(
    tmp_path: Path,
) -> None:
    package = copy_example(tmp_path / "limits", "limits")
    script = package / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (package / ".git").mkdir()
    (package / ".git" / "HEAD").write_text("ref\n")
    store = PackageStore(tmp_path / "store")

    package_hash, _ = store.put_file(package)

    with zipfile.ZipFile(store.path(package_hash)) as bundle:
        names = bundle.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
    assert ".timelimit" in names
    assert "problem.yaml" in names
    assert not any(name.startswith(".git/") for name in names)
    assert modes["run.sh"] & 0o111
    assert not modes["problem.yaml"] & 0o111


def test_a_failed_put_leaves_nothing_behind(tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello")
    os.mkfifo(package / "data" / "pipe")
    store = PackageStore(tmp_path / "store")

    with pytest.raises(PackageError, match="not a regular file"):
        store.put_file(package)

    assert list((tmp_path / "store").iterdir()) == []


@pytest.mark.parametrize(
    "text",
    ["", "../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "g" * 64, "0" * 63 + "\n", None],
)
def test_anything_but_a_lowercase_sha256_is_refused_as_a_hash(tmp_path: Path, text: str) -> None:
    store = PackageStore(tmp_path / "store")
    with pytest.raises(BadPackageHash):
        store.path(text)
    with pytest.raises(BadPackageHash):
        check_hash(text)


async def test_a_bad_hash_is_refused_before_any_path_is_built(tmp_path: Path) -> None:
    with pytest.raises(BadPackageHash):
        await load_stored(settings_in(tmp_path), "../" + "0" * 61)
    assert not (tmp_path / "data").exists()


async def test_load_stored_unpacks_once_and_caches_the_problem(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    package_hash, _ = PackageStore(settings.package_dir).put_file(example_path("hello"))

    loaded = await asyncio.gather(*(load_stored(settings, package_hash) for _ in range(5)))

    assert all(problem is loaded[0] for problem in loaded)
    problem = loaded[0]
    assert problem.name == "Hello World"
    assert problem.root == unpacked_root(settings) / package_hash
    assert [test.name for test in problem.tests] == ["sample/1", "secret/1"]
    assert [entry.name for entry in unpacked_root(settings).iterdir()] == [package_hash]
    assert await load_stored(settings, package_hash) is problem


async def test_a_package_unpacked_by_another_process_is_loaded_as_is(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    store = PackageStore(settings.package_dir)
    package_hash, _ = store.put_file(example_path("hello"))
    target = unpacked_root(settings) / package_hash
    with zipfile.ZipFile(store.path(package_hash)) as bundle:
        bundle.extractall(target / "hello")  # one top folder, as a hand-made zip has

    problem = await load_stored(settings, package_hash)

    assert problem.root == target / "hello"


async def test_a_stored_zip_under_a_single_top_folder_loads(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    archive = zip_folder(example_path("hello"), tmp_path / "hello.zip", top="hello")
    package_hash, _ = PackageStore(settings.package_dir).put_file(archive)

    problem = await load_stored(settings, package_hash)

    assert problem.name == "Hello World"
    assert problem.root.name == "hello"


async def test_a_stored_zip_without_problem_yaml_is_refused(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a/readme.txt", "hi")
        bundle.writestr("b/readme.txt", "hi")
    package_hash, _ = PackageStore(settings.package_dir).put_file(archive)

    with pytest.raises(PackageError, match=r"no problem\.yaml"):
        await load_stored(settings, package_hash)


async def test_a_missing_package_says_so(tmp_path: Path) -> None:
    with pytest.raises(MissingPackage):
        await load_stored(settings_in(tmp_path), "0" * 64)
    assert not (unpacked_root(settings_in(tmp_path)) / ("0" * 64)).exists()


def test_links_inside_a_folder_are_zipped_as_files_and_cycles_once(tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello")
    (package / "data" / "loop").symlink_to("..")
    (package / "statement.md").symlink_to("problem_statement/problem.en.md")
    store = PackageStore(tmp_path / "store")

    package_hash, _ = store.put_file(package)

    with zipfile.ZipFile(store.path(package_hash)) as bundle:
        names = bundle.namelist()
        statement = bundle.read("statement.md")
    assert statement == (package / "problem_statement" / "problem.en.md").read_bytes()
    assert not any(name.startswith("data/loop/") for name in names)
    assert len(names) == len(set(names))


async def test_a_deleted_unpacked_folder_is_rebuilt_after_forgetting_the_cache(
    tmp_path: Path,
) -> None:
    settings = settings_in(tmp_path)
    package_hash, _ = PackageStore(settings.package_dir).put_file(example_path("hello"))
    first = await load_stored(settings, package_hash)
    shutil.rmtree(unpacked_root(settings))

    forget_loaded()
    second = await load_stored(settings, package_hash)

    assert second is not first
    assert (second.root / "problem.yaml").is_file()


async def test_the_cache_of_loaded_packages_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packages_module, "MAX_LOADED_PACKAGES", 2)
    settings = settings_in(tmp_path)
    store = PackageStore(settings.package_dir)
    hashes = [store.put_file(example_path(name))[0] for name in ("hello", "bigio", "floatdiv")]
    first = await load_stored(settings, hashes[0])
    second = await load_stored(settings, hashes[1])
    assert await load_stored(settings, hashes[0]) is first  # used again: kept
    await load_stored(settings, hashes[2])  # the least recently used (bigio) leaves
    assert await load_stored(settings, hashes[0]) is first
    reloaded = await load_stored(settings, hashes[1])
    assert reloaded is not second  # loaded again from the unpacked folder
    assert reloaded.name == second.name
