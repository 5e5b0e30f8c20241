"""Programming languages a submission may be written in: one small entry per language.

Each entry says how to compile and run a program as argv templates. Templates are lists of
strings in which these placeholders are replaced (never through a shell):

- ``{main}``: the main source file name (``a.py``); ``{main_stem}``: it without its extension;
- ``{main_class}``: Java's fully qualified class holding ``main``;
- ``{sources}``: expands to one argument per source file of the language;
- ``{memory_mb}``: the memory limit of the run in MiB (for ``-Xmx`` and V8's heap size).

A compile runs in the sandbox on a copy of the sources in a size-limited tmpfs; what it leaves
for the runs is only its declared ``artefact`` (a ``find -path`` pattern such as ``./main`` or
``*.class``), copied next to the untouched sources (see ``programs.build_program``).

Programs run with ``/box`` (the build directory) as the working directory. Only toolchains
found under ``/usr`` are offered, so that the sandbox (which binds a read-only ``/usr``) sees
them too; home-directory toolchains (pyenv, rustup) are ignored on purpose. The files some
toolchains read under ``/etc`` (``/etc/java-*``, ``/etc/fpc*.cfg``, ...) are bound by the sandbox
itself (``service.evaluator.sandbox.bwrap.ETC_PATHS``).
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Where toolchains are looked up: only system paths the sandbox can see.
SYSTEM_PATH = "/usr/bin:/bin"

_VERSION_RE = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


class UnknownLanguageError(LookupError):
    """A language id, or a file extension, that no offered language matches."""


@dataclass(frozen=True)
class Language:
    """How to build and run programs written in one language."""

    id: str
    name: str
    extensions: tuple[str, ...]  # lower case, with the dot; the first is the canonical one
    run: tuple[str, ...]
    version: tuple[str, ...]  # argv printing the version (stdout or stderr)
    compile: tuple[str, ...] | None = None  # None: nothing to build
    # What the compile leaves for the runs, as a ``find -path`` pattern relative to /box
    # ("./main", "*.class"); None: the runs need only the sources (the compile only checks).
    artefact: str | None = None
    executables: tuple[str, ...] = ()  # programs that must exist for the language to be offered
    compile_env: tuple[tuple[str, str], ...] = ()
    run_env: tuple[tuple[str, str], ...] = ()
    address_space: bool = True  # whether RLIMIT_AS can cap its runs (False for JVM, V8, Go)
    compile_address_space: bool = True
    all_sources: bool = False  # True: the compiler takes every source file; else only the main
    finds_main_class: bool = False  # Java: the main file is the one with ``static void main``
    header_extensions: tuple[str, ...] = ()  # copied along but not compiled

    def matches(self, filename: str) -> bool:
        """Return whether ``filename`` has one of this language's extensions."""
        return Path(filename).suffix.lower() in self.extensions


def _expand(
    template: Sequence[str],
    *,
    main: str,
    sources: Sequence[str],
    main_class: str,
    memory_mb: int,
) -> list[str]:
    argv: list[str] = []
    for part in template:
        if part == "{sources}":
            argv.extend(sources)
            continue
        argv.append(
            part.replace("{main_stem}", Path(main).stem)
            .replace("{main_class}", main_class)
            .replace("{main}", main)
            .replace("{memory_mb}", str(memory_mb))
        )
    return argv


def compile_argv(
    language: Language, *, main: str, sources: Sequence[str], main_class: str = "", memory_mb: int
) -> list[str] | None:
    """Return the compile argv for these sources, or None when the language builds nothing."""
    if language.compile is None:
        return None
    return _expand(
        language.compile, main=main, sources=sources, main_class=main_class, memory_mb=memory_mb
    )


def run_argv(language: Language, *, main: str, main_class: str = "", memory_mb: int) -> list[str]:
    """Return the argv that runs the built program."""
    return _expand(
        language.run, main=main, sources=(main,), main_class=main_class, memory_mb=memory_mb
    )


# Paths inside the sandbox, where /tmp is a private tmpfs.
_GO_ENV = (
    ("GOCACHE", "/tmp/gocache"),  # noqa: S108
    ("GOPATH", "/tmp/gopath"),  # noqa: S108
    ("HOME", "/tmp"),  # noqa: S108
    ("GO111MODULE", "off"),
    ("GOFLAGS", "-buildvcs=false"),
    ("CGO_ENABLED", "0"),
    ("GOTOOLCHAIN", "local"),
    ("GOMAXPROCS", "2"),  # bounds the compiler's parallelism (and threads) on big hosts
)

# JVM flags shared by Java and Kotlin: heap from the memory limit, deep recursion, one GC thread.
_JVM_RUN = (
    "/usr/bin/java",
    "-Xmx{memory_mb}m",
    "-Xss64m",
    "-XX:+UseSerialGC",
    "-XX:ActiveProcessorCount=1",
    "-XX:-UsePerfData",
)

LANGUAGES: tuple[Language, ...] = (
    Language(
        id="python3",
        name="Python 3",
        extensions=(".py", ".py3"),
        # -I: the working directory is not on sys.path, so a submitted py_compile.py (or any
        # module the compiler imports) is never imported in place of the standard one.
        compile=("/usr/bin/python3", "-I", "-m", "py_compile", "{sources}"),
        run=("/usr/bin/python3", "{main}"),
        version=("/usr/bin/python3", "--version"),
        executables=("/usr/bin/python3",),
        all_sources=True,
    ),
    Language(
        id="c",
        name="C",
        extensions=(".c",),
        compile=("/usr/bin/gcc", "-std=gnu17", "-O2", "-pipe", "-o", "main", "{sources}", "-lm"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/gcc", "--version"),
        executables=("/usr/bin/gcc",),
        all_sources=True,
        header_extensions=(".h",),
    ),
    Language(
        id="cpp",
        name="C++",
        extensions=(".cpp", ".cc", ".cxx", ".c++", ".cp"),
        compile=("/usr/bin/g++", "-std=gnu++20", "-O2", "-pipe", "-o", "main", "{sources}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/g++", "--version"),
        executables=("/usr/bin/g++",),
        all_sources=True,
        header_extensions=(".h", ".hpp", ".hh", ".hxx"),
    ),
    Language(
        id="java",
        name="Java",
        extensions=(".java",),
        compile=(
            "/usr/bin/javac",
            "-J-Xmx1024m",
            "-J-XX:+UseSerialGC",
            "-J-XX:TieredStopAtLevel=1",
            "-proc:none",  # no annotation processor: nothing of the submission runs in javac
            "-encoding",
            "UTF-8",
            "-d",
            ".",
            "{sources}",
        ),
        artefact="*.class",
        run=(
            *_JVM_RUN,
            "-cp",
            ".",
            "{main_class}",
        ),
        version=("/usr/bin/java", "-version"),
        executables=("/usr/bin/java", "/usr/bin/javac"),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
        finds_main_class=True,
    ),
    Language(
        id="javascript",
        name="JavaScript (Node.js)",
        extensions=(".js", ".mjs", ".cjs"),
        compile=("/usr/bin/node", "--check", "{main}"),
        run=("/usr/bin/node", "--max-old-space-size={memory_mb}", "--stack-size=65500", "{main}"),
        version=("/usr/bin/node", "--version"),
        executables=("/usr/bin/node",),
        address_space=False,
        compile_address_space=False,
    ),
    Language(
        id="rust",
        name="Rust",
        extensions=(".rs",),
        compile=("/usr/bin/rustc", "--edition", "2021", "-O", "-o", "main", "{main}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/rustc", "--version"),
        executables=("/usr/bin/rustc",),
        compile_address_space=False,
    ),
    Language(
        id="go",
        name="Go",
        extensions=(".go",),
        compile=("/usr/bin/go", "build", "-o", "main", "{sources}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/go", "version"),
        executables=("/usr/bin/go",),
        compile_env=_GO_ENV,
        run_env=(("GOMAXPROCS", "1"),),  # one thread of Go code, whatever the host's CPUs
        address_space=False,
        compile_address_space=False,
        all_sources=True,
    ),
    Language(
        id="ruby",
        name="Ruby",
        extensions=(".rb",),
        compile=("/usr/bin/ruby", "-c", "{main}"),
        run=("/usr/bin/ruby", "{main}"),
        version=("/usr/bin/ruby", "--version"),
        executables=("/usr/bin/ruby",),
        # Ruby sizes its VM stack from RLIMIT_STACK and crashes under RLIMIT_AS: cgroup only.
        address_space=False,
        compile_address_space=False,
    ),
    Language(
        id="bash",
        name="Bash",
        extensions=(".sh", ".bash"),
        compile=("/usr/bin/bash", "-n", "{main}"),
        run=("/usr/bin/bash", "{main}"),
        version=("/usr/bin/bash", "--version"),
        executables=("/usr/bin/bash",),
    ),
    Language(
        id="perl",
        name="Perl",
        extensions=(".pl", ".pm"),
        run=("/usr/bin/perl", "{main}"),
        version=("/usr/bin/perl", "--version"),
        executables=("/usr/bin/perl",),
    ),
    Language(
        id="awk",
        name="Awk (GNU Awk)",
        extensions=(".awk",),
        run=("/usr/bin/gawk", "-f", "{main}"),
        version=("/usr/bin/gawk", "--version"),
        executables=("/usr/bin/gawk",),
    ),
    Language(
        id="lua",
        name="Lua 5.4",
        extensions=(".lua",),
        compile=("/usr/bin/luac5.4", "-p", "{main}"),
        run=("/usr/bin/lua5.4", "{main}"),
        version=("/usr/bin/lua5.4", "-v"),
        executables=("/usr/bin/lua5.4", "/usr/bin/luac5.4"),
    ),
    Language(
        id="pascal",
        name="Pascal (Free Pascal)",
        extensions=(".pas", ".pp", ".p"),
        compile=("/usr/bin/fpc", "-O2", "-XS", "-Sg", "-v0", "-omain", "{main}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/fpc", "-iV"),
        executables=("/usr/bin/fpc",),
        compile_address_space=False,
    ),
    Language(
        id="fortran",
        name="Fortran (GNU Fortran)",
        extensions=(".f95", ".f90", ".f03", ".f08", ".f"),
        compile=("/usr/bin/gfortran", "-O2", "-pipe", "-o", "main", "{sources}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/gfortran", "--version"),
        executables=("/usr/bin/gfortran",),
        all_sources=True,
    ),
    Language(
        id="kotlin",
        name="Kotlin",
        extensions=(".kt",),
        compile=(
            "/usr/bin/kotlinc",
            "-J-Xmx1024m",
            "-include-runtime",
            "-d",
            "main.jar",
            "{sources}",
        ),
        artefact="./main.jar",
        run=(
            *_JVM_RUN,
            "-jar",
            "main.jar",
        ),
        version=("/usr/bin/kotlinc", "-version"),
        executables=("/usr/bin/kotlinc", "/usr/bin/java"),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
    ),
    Language(
        id="haskell",
        name="Haskell (GHC)",
        extensions=(".hs",),
        compile=("/usr/bin/ghc", "-O2", "-outputdir", "/tmp/ghc", "-o", "main", "{main}"),  # noqa: S108
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/ghc", "--numeric-version"),
        executables=("/usr/bin/ghc",),
        address_space=False,
        compile_address_space=False,
    ),
    Language(
        id="csharp",
        name="C# (Mono)",
        extensions=(".cs",),
        compile=("/usr/bin/mcs", "-optimize+", "-out:main.exe", "{sources}"),
        artefact="./main.exe",
        run=("/usr/bin/mono", "main.exe"),
        version=("/usr/bin/mcs", "--version"),
        executables=("/usr/bin/mcs", "/usr/bin/mono"),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
    ),
)

_BY_ID = {language.id: language for language in LANGUAGES}


@dataclass(frozen=True)
class OfferedLanguage:
    """A language whose toolchain was found, with the version it reported."""

    language: Language
    version: str


def _probe(language: Language) -> OfferedLanguage | None:
    if not all(os.access(path, os.X_OK) for path in language.executables):
        return None
    try:
        probe = subprocess.run(
            language.version,
            capture_output=True,
            timeout=20,
            env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "HOME": "/"},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (probe.stdout + probe.stderr).decode("utf-8", "replace")
    if probe.returncode != 0:
        return None
    match = _VERSION_RE.search(text)
    return OfferedLanguage(language, match.group(1) if match else "unknown")


@functools.cache
def offered_languages() -> tuple[OfferedLanguage, ...]:
    """Return the languages whose toolchain is installed, probing once per process."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        probes = list(pool.map(_probe, LANGUAGES))
    return tuple(offered for offered in probes if offered is not None)


def offered_ids() -> tuple[str, ...]:
    """Return the ids of the offered languages."""
    return tuple(offered.language.id for offered in offered_languages())


def known_language(language_id: str) -> Language:
    """Return the entry for ``language_id`` whether or not it is installed."""
    try:
        return _BY_ID[language_id]
    except KeyError:
        raise UnknownLanguageError(
            f"unknown language {language_id!r}; known: {', '.join(sorted(_BY_ID))}"
        ) from None


def get_language(language_id: str) -> Language:
    """Return the offered language ``language_id``; the error lists the offered ids."""
    for offered in offered_languages():
        if offered.language.id == language_id:
            return offered.language
    raise UnknownLanguageError(
        f"language {language_id!r} is not offered here; offered: {', '.join(offered_ids())}"
    )


def language_for_files(filenames: Iterable[str]) -> Language:
    """Return the known language of these source files, judged by their extensions.

    Header files (``.h``) alone do not decide; several languages at once are an error.
    """
    names = list(filenames)
    found: list[Language] = []
    for language in LANGUAGES:
        if any(language.matches(name) for name in names) and language not in found:
            found.append(language)
    if not found:
        suffixes = sorted({Path(name).suffix or name for name in names})
        raise UnknownLanguageError(
            f"no language uses {', '.join(suffixes)}; pass --language or rename the file"
        )
    if len(found) > 1:
        # C++ sources may come with C files; otherwise mixing languages is ambiguous.
        ids = {language.id for language in found}
        if ids == {"c", "cpp"}:
            return _BY_ID["cpp"]
        raise UnknownLanguageError(
            "files of several languages ("
            + ", ".join(language.id for language in found)
            + "); pass --language"
        )
    return found[0]
