"""The content-addressed package store: every imported package as ``<sha256>.zip``.

Layout under ``settings.package_dir``::

    packages/<sha256 of the zip bytes>.zip      written once, never changed
    packages/.incoming-*                        a zip being written (renamed into place)

and, under ``settings.data_dir``, the packages unpacked for judging::

    unpacked/<sha256>/                          extracted once (temp dir renamed into place)

A worker on another machine needs only the hash: it fetches ``<hash>.zip`` (from a shared
directory or an object store) and calls :func:`load_stored`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import IO

from service.config import Settings
from service.evaluator import PackageError, ProblemPackage, extract_zip, load_package

PACKAGE_HASH = re.compile(r"[0-9a-f]{64}")
#: Every member of a zip the store builds gets this time stamp, so equal folders zip equally.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
#: Folders of tools, not of the package, left out when a folder is zipped.
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", "__pycache__", "__MACOSX"})
_CHUNK = 1 << 20

#: Loaded packages kept in memory, least recently used dropped first (they reload from disk).
MAX_LOADED_PACKAGES = 64
_loaded: OrderedDict[tuple[str, str], ProblemPackage] = OrderedDict()
_unpacking: dict[tuple[str, str], asyncio.Lock] = {}


class BadPackageHash(ValueError):
    """A string that is not a package hash (64 lowercase hexadecimal digits)."""


class MissingPackage(LookupError):
    """The store holds no zip with this hash."""


def check_hash(package_hash: str) -> str:
    """Return ``package_hash`` when it is 64 lowercase hex digits, else raise BadPackageHash."""
    if not isinstance(package_hash, str) or not PACKAGE_HASH.fullmatch(package_hash):
        raise BadPackageHash(f"{package_hash!r} is not a package hash (64 lowercase hex digits)")
    return package_hash


class PackageStore:
    """Zips stored by the SHA-256 of their bytes in one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, package_hash: str) -> Path:
        """Return where the zip with ``package_hash`` is (or would be) stored."""
        return self.root / f"{check_hash(package_hash)}.zip"

    def has(self, package_hash: str) -> bool:
        """Return whether the zip with ``package_hash`` is stored."""
        return self.path(package_hash).is_file()

    def put_file(self, source: Path) -> tuple[str, int]:
        """Store a zip, or a package folder zipped deterministically; return (hash, size)."""
        source = Path(source)
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=".incoming-", suffix=".zip", dir=self.root)
        incoming = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as sink:
                if source.is_dir():
                    write_folder_zip(source, sink)
                else:
                    with source.open("rb") as original:
                        shutil.copyfileobj(original, sink, _CHUNK)
                sink.flush()
                os.fsync(sink.fileno())
            package_hash, size = _digest(incoming)
            os.chmod(incoming, 0o644)
            os.replace(incoming, self.path(package_hash))
        except BaseException:
            incoming.unlink(missing_ok=True)
            raise
        return package_hash, size


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def write_folder_zip(folder: Path, sink: IO[bytes]) -> None:
    """Zip the files of ``folder`` (at the top of the zip) in sorted order with fixed times."""
    root = Path(folder).resolve()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for relative, path in _folder_files(root):
            info = zipfile.ZipInfo(relative, ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            with path.open("rb") as source, bundle.open(info, "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target, _CHUNK)


def _folder_files(root: Path) -> list[tuple[str, Path]]:
    """Return (posix path in the zip, file) for every regular file, links followed inside root."""
    found: list[tuple[str, Path]] = []
    for current, directories, files in os.walk(root, followlinks=True):
        if _links_to_ancestor(Path(current), root):  # a cycle: its files are zipped already
            directories[:] = []
            continue
        directories[:] = sorted(name for name in directories if name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            path = Path(current) / name
            if not path.is_file():
                raise PackageError(f"{path.relative_to(root).as_posix()}: not a regular file")
            found.append((path.relative_to(root).as_posix(), path))
    found.sort()
    return found


def _links_to_ancestor(directory: Path, root: Path) -> bool:
    real = os.path.realpath(directory)
    ancestor = directory.parent
    while ancestor != root.parent and ancestor != ancestor.parent:
        if os.path.realpath(ancestor) == real:
            return True
        if ancestor == root:
            break
        ancestor = ancestor.parent
    return False


def unpacked_root(settings: Settings) -> Path:
    """Return the directory holding unpacked packages."""
    return settings.data_dir / "unpacked"


async def load_stored(settings: Settings, package_hash: str) -> ProblemPackage:
    """Return the loaded ProblemPackage of a stored package, unpacking it once per hash."""
    check_hash(package_hash)
    root = unpacked_root(settings)
    key = (str(root), package_hash)
    cached = _loaded.get(key)
    if cached is not None:
        _loaded.move_to_end(key)
        return cached
    lock = _unpacking.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            cached = _loaded.get(key)
            if cached is None:
                store = PackageStore(settings.package_dir)
                cached = await asyncio.to_thread(_unpack_and_load, store, root, package_hash)
                _loaded[key] = cached
                while len(_loaded) > MAX_LOADED_PACKAGES:
                    _loaded.popitem(last=False)
    finally:
        _unpacking.pop(key, None)  # a lock binds to one event loop; later callers use the cache
    return cached


def _unpack_and_load(store: PackageStore, root: Path, package_hash: str) -> ProblemPackage:
    target = root / package_hash
    if not target.is_dir():
        archive = store.path(package_hash)
        if not archive.is_file():
            raise MissingPackage(f"no stored package {package_hash} in {store.root}")
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{package_hash[:12]}-", dir=root))
        try:
            extract_zip(archive, staging)
            try:
                os.rename(staging, target)
            except OSError:
                if not target.is_dir():  # not a lost race with another process
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return load_package(_package_root(target))


def _package_root(target: Path) -> Path:
    if (target / "problem.yaml").is_file():
        return target
    entries = [entry for entry in target.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and (entries[0] / "problem.yaml").is_file():
        return entries[0]
    raise PackageError(f"{target.name}: the stored package has no problem.yaml at its top")


def forget_loaded() -> None:
    """Drop the cache of loaded packages (tests; after deleting unpacked folders)."""
    _loaded.clear()
    _unpacking.clear()
