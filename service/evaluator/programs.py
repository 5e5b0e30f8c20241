"""Build a submitted program once and run it through a sandbox.

A build directory on the host holds the staged sources, and later the program: nothing the
compile step does can change it. The compiler runs in the sandbox on a copy of the sources in
the sandbox's own size-limited tmpfs ``/box`` (gone when the compile ends), with the sources
bound read-only at ``/src``; when it succeeds, the files matching the language's declared
artefact (``./main``, ``*.class``) are archived into the one host file bound writable at
``/out/build.tar`` (at most ``COMPILE_FILE_SIZE``), and the harness copies those files alone
out of it, as regular files, into the build directory. Every run sees that directory
read-only at ``/box``: the sources and the artefact, and nothing else the compile wrote.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import os
import re
import resource
import shutil
import signal
import stat
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from service.evaluator.languages import Language, compile_argv, run_argv, run_environment
from service.evaluator.sandbox.base import MIB, Bind, Limits, Outcome, RunResult, RunSpec, Sandbox
from service.evaluator.verdicts import Verdict

#: Largest total size of the source files of one submission.
MAX_SOURCE_BYTES = 1 * MIB
#: Most source files in one submission.
MAX_SOURCE_FILES = 64
#: Compiler messages kept (the rest is cut).
MAX_COMPILE_OUTPUT = 64 * 1024
#: Largest file a compile may write (RLIMIT_FSIZE), so also the archive of its artefacts.
COMPILE_FILE_SIZE = 256 * MIB
#: Size of each tmpfs a compile writes to (/box, /tmp, /dev/shm); charged to its memory.
COMPILE_BOX_SIZE = 512 * MIB
#: Processes (and threads) of one compile, and its open files.
COMPILE_PROCESSES = 128
COMPILE_OPEN_FILES = 256
#: The wall clock stops a run at ``WALL_FACTOR`` x the time limit + ``WALL_MARGIN`` seconds
#: (a TLE): close enough that a program sleeping or blocked on input is stopped near the limit
#: (DOMjudge stops it at its hard limit, a little above), far enough that a program within
#: its CPU limit is not cut off because a busy machine gave it only part of a core.
WALL_FACTOR = 1.5
WALL_MARGIN = 1.0
#: Most files a build may hand to the runs (Java writes a class file per class).
MAX_ARTEFACT_FILES = 4096
#: Where a compile finds the sources (read-only) and writes the archive of its artefacts.
BUILD_SOURCES = "/src"
BUILD_ARCHIVE = "/out/build.tar"
#: Every compile runs through this fixed script; sources, archive, artefact pattern and the
#: compiler's argv come as arguments (never as shell text).
BUILD_SHELL = "/bin/sh"
BUILD_SCRIPT = (
    'set -e; sources=$1 archive=$2 artefact=$3; shift 3; cp -R -- "$sources/." .; "$@"; '
    'if [ -n "$artefact" ]; then find . -path "$artefact" -type f -print0 '
    '| tar --null --files-from=- --create --file="$archive"; fi'
)
_COPY_CHUNK = 1 * MIB

#: RLIMIT_STACK of compiles and runs: none. The main thread may still recurse as deep as the
#: memory limit allows, and threads get the C library's default stacks (2 MiB for glibc):
#: a stack limit as large as the memory limit made every thread ask for that much address
#: space, which RLIMIT_AS (= the memory limit) refuses, so ``pthread_create`` failed.
STACK_LIMIT = resource.RLIM_INFINITY

_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,99}")
_JAVA_MAIN = re.compile(r"\bstatic\b[^;{}()=]*\bvoid\s+main\s*\(")
_JAVA_CLASS = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_SCALA_OBJECT = re.compile(r"\bobject\s+([A-Za-z_$][\w$]*)")
_SCALA_MAIN = re.compile(r"\bdef\s+main\s*\(|\bextends\s+App\b")
_SCALA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;?\s*$", re.MULTILINE)
_FORTRAN_MODULE = re.compile(r"^\s*module\s+(?!procedure\b)\w+\s*$", re.MULTILINE | re.IGNORECASE)
#: A Pascal unit (not a program) and an Ada package body (not a main procedure).
_PASCAL_UNIT = re.compile(r"^\s*unit\s+[\w.]+\s*;", re.MULTILINE | re.IGNORECASE)
_ADA_PACKAGE = re.compile(
    r"^\s*(?:separate\s*\([^)]*\)\s*)?package\b", re.MULTILINE | re.IGNORECASE
)


class SubmissionError(ValueError):
    """The submitted files cannot be built as given; the message says what to change."""


class BuildOutputError(Exception):
    """A compile step left no usable artefact; the message says what was wrong."""


@dataclass(frozen=True)
class Program:
    """A program ready to run: its language, build directory and entry point."""

    language: Language
    directory: Path  # on the host: the sources and the artefact; bound read-only at /box
    main: str  # main source file name inside the build directory
    main_class: str = ""  # Java only


@dataclass(frozen=True)
class BuildResult:
    """The outcome of building a program: the program, or the CE/JE verdict and why."""

    program: Program | None
    verdict: Verdict | None  # None when built; CE or JE otherwise
    output: str  # compiler messages (or the reason of the failure)
    cpu_ms: int = 0
    wall_ms: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the program was built."""
        return self.program is not None


def compile_limits(seconds: float, memory_mb: int, language: Language) -> Limits:
    """Return generous limits for a compiler run."""
    return Limits(
        cpu_time=seconds,
        wall_time=seconds * 2 + 5,
        memory=memory_mb * MIB,
        output=MAX_COMPILE_OUTPUT,
        stderr=MAX_COMPILE_OUTPUT,
        file_size=COMPILE_FILE_SIZE,
        box_size=COMPILE_BOX_SIZE,
        processes=COMPILE_PROCESSES,
        open_files=COMPILE_OPEN_FILES,
        stack=STACK_LIMIT,
        address_space=language.compile_address_space,
    )


def run_limits(
    time_limit: float, memory_mb: int, output_mb: int, language: Language | None = None
) -> Limits:
    """Return the limits of one test run: CPU time, a wall clock backstop, memory and output."""
    return Limits(
        cpu_time=time_limit,
        wall_time=time_limit * WALL_FACTOR + WALL_MARGIN,
        memory=memory_mb * MIB,
        output=output_mb * MIB,
        stack=STACK_LIMIT,
        address_space=True if language is None else language.address_space,
        open_files=64 if language is None else language.open_files,
    )


def stage_sources(language: Language, files: Sequence[Path], directory: Path) -> list[str]:
    """Copy the files of ``language`` (and its headers) into ``directory``; return source names.

    Raise SubmissionError for unsafe or duplicate names, no source, or too much source.
    """
    wanted = [f for f in files if language.matches(f.name) or _is_header(language, f.name)]
    if not any(language.matches(f.name) for f in wanted):
        raise SubmissionError(
            f"no {language.name} source among the files; expected "
            + " or ".join(language.extensions)
        )
    if len(wanted) > MAX_SOURCE_FILES:
        raise SubmissionError(f"too many files ({len(wanted)}); at most {MAX_SOURCE_FILES}")
    seen: set[str] = set()
    total = 0
    sources: list[str] = []
    for path in wanted:
        name = path.name
        if not _SAFE_NAME.fullmatch(name):
            raise SubmissionError(
                f"file name {name!r} is not allowed: use letters, digits, '_', '.', '-', '+'"
                " and do not start with '-' or '.'"
            )
        if name in seen:
            raise SubmissionError(f"two files are named {name!r}")
        seen.add(name)
        if path.is_symlink() or not path.is_file():
            raise SubmissionError(f"{name!r} is not a regular file")
        total += path.stat().st_size
        if total > MAX_SOURCE_BYTES:
            raise SubmissionError(f"the sources exceed {MAX_SOURCE_BYTES // 1024} KiB")
        target = directory / name
        shutil.copyfile(path, target)
        target.chmod(0o644)
        if language.matches(name):
            sources.append(name)
    return sorted(sources)


def _is_header(language: Language, name: str) -> bool:
    return Path(name).suffix.lower() in language.header_extensions


def choose_main(
    language: Language, directory: Path, sources: Sequence[str], *, problem_slug: str = ""
) -> tuple[str, str]:
    """Return the main source file and, for Java, the class holding ``main``.

    A single source is the main one; among several, the one named like the problem or
    ``main`` (any case); Java takes the class with ``static void main``.
    """
    if language.main_finder == "scala":
        return _scala_main(directory, sources, problem_slug)
    if language.finds_main_class:
        return _java_main(directory, sources, problem_slug)
    if len(sources) == 1:
        return sources[0], ""
    if language.main_finder in ("pascal", "ada"):
        # Units (Pascal) and package bodies (Ada) cannot be the main file, whatever their name.
        unit = _PASCAL_UNIT if language.main_finder == "pascal" else _ADA_PACKAGE
        programs = [name for name in sources if not _declares(directory / name, unit)]
        if len(programs) == 1:
            return programs[0], ""
        sources = programs or sources
    if language.all_sources and not any("{main" in part for part in language.run):
        return sources[0], ""  # every file is compiled into one program that knows its entry
    preferred = [name for name in sources if _named_like(name, problem_slug)]
    if len(preferred) > 1:  # both main.py and <problem>.py: the problem's name wins
        preferred = [name for name in preferred if Path(name).stem.lower() != "main"]
    if len(preferred) == 1:
        return preferred[0], ""
    wanted = f"main{language.extensions[0]}"
    if problem_slug:
        wanted += f" or {problem_slug}{language.extensions[0]}"
    raise SubmissionError(
        f"several {language.name} files ({', '.join(sources)}): name the main one {wanted}"
    )


def _declares(path: Path, pattern: re.Pattern[str]) -> bool:
    """Return whether the source at ``path`` matches ``pattern`` outside its comments."""
    text = path.read_text("utf-8", errors="replace")
    text = re.sub(r"\(\*.*?\*\)|\{[^}]*\}|//[^\n]*|--[^\n]*", " ", text, flags=re.DOTALL)
    return pattern.search(text) is not None


def _scala_main(directory: Path, sources: Sequence[str], problem_slug: str) -> tuple[str, str]:
    """Return the Scala file and the object holding ``main`` (or extending App)."""
    found: list[tuple[str, str]] = []
    for name in sources:
        text = (directory / name).read_text("utf-8", errors="replace")
        objects = list(_SCALA_OBJECT.finditer(text))
        package = _SCALA_PACKAGE.search(text)
        for index, match in enumerate(objects):
            end = objects[index + 1].start() if index + 1 < len(objects) else len(text)
            if _SCALA_MAIN.search(text, match.end(), end):
                object_name = match.group(1)
                found.append(
                    (name, f"{package.group(1)}.{object_name}" if package else object_name)
                )
    if len(found) > 1:
        found = [item for item in found if _named_like(item[0], problem_slug)] or found
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionError("no object has a `def main(args: Array[String])` method")
    raise SubmissionError(
        "several objects have a main method ("
        + ", ".join(f"{object_name} in {name}" for name, object_name in found)
        + "): keep one, or name its file Main.scala"
    )


def _named_like(name: str, problem_slug: str) -> bool:
    stem = Path(name).stem.lower()
    return stem == "main" or (bool(problem_slug) and stem == problem_slug.lower())


def _java_main(directory: Path, sources: Sequence[str], problem_slug: str) -> tuple[str, str]:
    found: list[tuple[str, str]] = []
    for name in sources:
        text = (directory / name).read_text("utf-8", errors="replace")
        match = _JAVA_MAIN.search(text)
        if match is None:
            continue
        classes = list(_JAVA_CLASS.finditer(text, 0, match.start()))
        class_name = classes[-1].group(1) if classes else Path(name).stem
        package = _JAVA_PACKAGE.search(text)
        found.append((name, f"{package.group(1)}.{class_name}" if package else class_name))
    if len(found) > 1:
        found = [item for item in found if _named_like(item[0], problem_slug)] or found
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionError("no class has a `public static void main(String[] args)` method")
    raise SubmissionError(
        "several classes have a main method ("
        + ", ".join(name for name, _ in found)
        + "): keep one, or name its file Main.java"
    )


async def run_with_retry(sandbox: Sandbox, spec: RunSpec) -> RunResult:
    """Run ``spec``; when the sandbox itself fails, try once more before reporting it."""
    result = await sandbox.run(spec)
    if result.outcome is Outcome.SANDBOX_ERROR:
        result = await sandbox.run(spec)
    return result


async def build_program(
    sandbox: Sandbox,
    language: Language,
    files: Sequence[Path],
    directory: Path,
    *,
    problem_slug: str = "",
    compile_seconds: float = 60,
    compile_memory_mb: int = 2048,
) -> BuildResult:
    """Copy the sources into ``directory`` (empty, created by the caller) and compile them.

    The compile sees the sources read-only and writes only to its own tmpfs; its declared
    artefact alone is copied into ``directory`` (see the module docstring).
    """
    try:
        sources, main, main_class = await asyncio.to_thread(
            _stage, language, files, directory, problem_slug
        )
    except SubmissionError as error:
        return BuildResult(None, Verdict.CE, str(error))
    except OSError as error:
        return BuildResult(None, Verdict.JE, f"cannot stage the sources: {error}")
    program = Program(language, directory, main, main_class)
    argv = compile_argv(
        language, main=main, sources=sources, main_class=main_class, memory_mb=compile_memory_mb
    )
    if argv is None:
        return BuildResult(program, None, "")
    try:
        holder = await asyncio.to_thread(_make_archive_holder, directory.parent)
    except OSError as error:
        return BuildResult(None, Verdict.JE, f"cannot prepare the build: {error}")
    try:
        return await _compile(
            sandbox, program, argv, holder / "build.tar", compile_seconds, compile_memory_mb
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, holder, ignore_errors=True)


async def _compile(
    sandbox: Sandbox,
    program: Program,
    argv: Sequence[str],
    archive: Path,
    compile_seconds: float,
    compile_memory_mb: int,
) -> BuildResult:
    language = program.language
    spec = RunSpec(
        argv=[
            BUILD_SHELL,
            "-c",
            BUILD_SCRIPT,
            "verdict-build",
            BUILD_SOURCES,
            BUILD_ARCHIVE,
            language.artefact or "",
            *argv,
        ],
        limits=compile_limits(compile_seconds, compile_memory_mb, language),
        binds=[
            Bind(program.directory, BUILD_SOURCES),
            Bind(archive, BUILD_ARCHIVE, writable=True),
        ],
        env=dict(language.compile_env),
    )
    try:
        result = await run_with_retry(sandbox, spec)
    except OSError as error:
        return BuildResult(None, Verdict.JE, f"sandbox failed: {error}")
    output = _compiler_output(result)
    timing = {"cpu_ms": result.cpu_ms, "wall_ms": result.wall_ms}
    if result.outcome is Outcome.SANDBOX_ERROR:
        return BuildResult(None, Verdict.JE, f"sandbox failed: {result.message}", **timing)
    reason = _compile_failure(result, compile_seconds, compile_memory_mb)
    if reason is None and language.artefact is not None:
        try:
            await asyncio.to_thread(
                collect_artefacts, archive, program.directory, language.artefact
            )
        except BuildOutputError as error:
            reason = str(error)
        except OSError as error:
            return BuildResult(None, Verdict.JE, f"cannot copy the build: {error}", **timing)
    if reason is None:
        return BuildResult(program, None, output, **timing)
    text = "\n".join(part for part in (reason, output) if part)
    return BuildResult(None, Verdict.CE, text, **timing)


def _compile_failure(result: RunResult, compile_seconds: float, memory_mb: int) -> str | None:
    """Return why a compile failed in words for the user ("" for: its messages say it all).

    None means it succeeded.
    """
    if result.ok:
        return None
    reason = {
        Outcome.TIME_LIMIT: f"compilation took longer than {compile_seconds:g} s",
        Outcome.WALL_TIME_LIMIT: f"compilation took longer than {compile_seconds:g} s",
        Outcome.MEMORY_LIMIT: f"the compiler used more than {memory_mb} MiB",
        Outcome.OUTPUT_LIMIT: "the compiler printed too much",
    }.get(result.outcome)
    if reason is None and result.signal == signal.SIGXFSZ:
        reason = f"the compiler wrote a file larger than {COMPILE_FILE_SIZE // MIB} MiB"
    if reason is None and not _compiler_output(result).strip():
        reason = f"the compiler failed ({result.message or result.outcome.value})"
    return reason or ""


def _make_archive_holder(parent: Path) -> Path:
    """Create a private directory holding an empty archive file the sandbox uid may write."""
    holder = Path(tempfile.mkdtemp(prefix=".build-", dir=parent))  # 0700: only the harness
    fd = os.open(holder / "build.tar", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC)
    try:
        os.fchmod(fd, 0o666)  # the slot uid writes it through its bind, nothing else
    finally:
        os.close(fd)
    return holder


def collect_artefacts(archive: Path, directory: Path, pattern: str) -> list[str]:
    """Copy the regular files of the tar ``archive`` matching ``pattern`` into ``directory``.

    The archive comes from the sandbox, so it is not trusted: members that are not regular
    files or do not match the declared pattern are skipped, paths with ``..`` or an absolute
    root are refused, files are created new (never over an existing path, never through a
    link), at most ``MAX_ARTEFACT_FILES`` of at most ``COMPILE_FILE_SIZE`` bytes in all.
    Return the relative paths copied; raise BuildOutputError when none matched or the
    archive is unusable.
    """
    wanted = pattern.removeprefix("./")
    fd = os.open(archive, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with open(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            raise BuildOutputError(f"the compiler reported success but produced no {wanted}")
        if info.st_size > COMPILE_FILE_SIZE:
            raise BuildOutputError(f"the build is larger than {COMPILE_FILE_SIZE // MIB} MiB")
        try:
            with tarfile.open(fileobj=stream, mode="r:") as tar:
                copied = _copy_members(tar, directory, pattern)
        except (tarfile.TarError, EOFError) as error:
            raise BuildOutputError(f"the build's archive is unreadable: {error}") from None
    if not copied:
        raise BuildOutputError(f"the compiler reported success but produced no {wanted}")
    return copied


def _copy_members(tar: tarfile.TarFile, directory: Path, pattern: str) -> list[str]:
    copied: list[str] = []
    total = 0
    for member in tar:
        if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
            continue
        path = PurePosixPath(member.name)
        if path.is_absolute() or not path.parts or ".." in path.parts:
            raise BuildOutputError(f"the build wrote a file outside its directory: {member.name!r}")
        relative = path.as_posix()
        if not fnmatch.fnmatchcase(f"./{relative}", pattern):
            continue
        if len(copied) == MAX_ARTEFACT_FILES:
            raise BuildOutputError(f"the build wrote more than {MAX_ARTEFACT_FILES} files")
        total += member.size
        if total > COMPILE_FILE_SIZE:
            raise BuildOutputError(f"the build is larger than {COMPILE_FILE_SIZE // MIB} MiB")
        source = tar.extractfile(member)
        assert source is not None  # a regular member
        _write_new(directory, path.parts, source, 0o755 if member.mode & 0o100 else 0o644)
        copied.append(relative)
    return copied


def _write_new(directory: Path, parts: Sequence[str], source: IO[bytes], mode: int) -> None:
    """Create ``directory/parts`` (and its parent directories) as a new file from ``source``."""
    parent = directory
    for name in parts[:-1]:
        parent = parent / name
        try:
            os.mkdir(parent, 0o755)
            os.chmod(parent, 0o755)  # noqa: S103  # the sandbox uid reads the build
        except FileExistsError:
            if parent.is_symlink() or not parent.is_dir():
                raise BuildOutputError(f"the build wrote {name!r} twice") from None
    target = parent / parts[-1]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise BuildOutputError(f"the build wrote {'/'.join(parts)!r} twice") from None
    with open(fd, "wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            out.write(chunk)
        os.fchmod(out.fileno(), mode)


def _stage(
    language: Language, files: Sequence[Path], directory: Path, problem_slug: str
) -> tuple[list[str], str, str]:
    sources = stage_sources(language, files, directory)
    main, main_class = choose_main(language, directory, sources, problem_slug=problem_slug)
    if language.modules_first:
        # gfortran reads a module's .mod before compiling the files that use it.
        sources.sort(key=lambda name: not _declares(directory / name, _FORTRAN_MODULE))
    return sources, main, main_class


def _compiler_output(result: RunResult) -> str:
    data = (result.stdout + result.stderr)[:MAX_COMPILE_OUTPUT]
    return data.decode("utf-8", errors="replace")


async def run_program(
    sandbox: Sandbox,
    program: Program,
    *,
    limits: Limits,
    stdin: Path | None = None,
    args: Sequence[str] = (),
    binds: Sequence[Bind] = (),
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run the built program once (retrying once if the sandbox fails) and report the run."""
    spec = program_spec(program, limits=limits, stdin=stdin, args=args, binds=binds, env=env)
    return await run_with_retry(sandbox, spec)


def program_spec(
    program: Program,
    *,
    limits: Limits,
    stdin: Path | None = None,
    args: Sequence[str] = (),
    binds: Sequence[Bind] = (),
    env: Mapping[str, str] | None = None,
    stdin_fd: int | None = None,
    stdout_fd: int | None = None,
) -> RunSpec:
    """Return the spec that runs the built program (pipe ends for interactive problems)."""
    language = program.language
    memory_mb = max(limits.memory // MIB, 16)
    argv = run_argv(language, main=program.main, main_class=program.main_class, memory_mb=memory_mb)
    if not language.address_space and limits.address_space:
        limits = dataclasses.replace(limits, address_space=False)  # it would not even start
    return RunSpec(
        argv=[*argv, *args],
        limits=limits,
        workdir=program.directory,
        binds=binds,
        stdin=stdin,
        env={**run_environment(language, memory_mb=memory_mb), **(env or {})},
        stdin_fd=stdin_fd,
        stdout_fd=stdout_fd,
    )


def make_readable_dir(parent: Path, name: str) -> Path:
    """Create ``parent/name`` as a fresh directory the sandbox uid may read."""
    path = parent / name
    path.mkdir()
    os.chmod(path, 0o755)  # noqa: S103  # the sandbox uid reads the build from here
    return path


def make_scratch_dir(parent: Path | None, prefix: str) -> Path:
    """Create a fresh work directory (under ``parent`` or the temp dir) nobody else can list."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o711)  # noqa: S103  # the sandbox uid may pass through, not list
    return path
