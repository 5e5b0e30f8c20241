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
#: How much of a source file content detection reads.
_HEAD_BYTES = 64 * 1024
_SHEBANG = re.compile(r"\A#!\s*(\S+)(?:[ \t]+(\S+))?")
_PERL_MARKS = re.compile(r"\$[A-Za-z_{]|^\s*(?:use|my|our|sub|print|package)\b", re.MULTILINE)
_PROLOG_MARKS = re.compile(r":-")
_PYTHON2_MARKS = re.compile(
    r"^[ \t]*(?:"
    r"print[ \t]+[^\s(=.,)\]}]"  # print "x"
    r"|print[ \t]*>>"  # print >>sys.stderr, x
    r"|exec[ \t]+[\"']"  # exec "code"
    r"|except[ \t]+[\w.]+[ \t]*,[ \t]*\w+[ \t]*:"  # except ValueError, error:
    r")",
    re.MULTILINE,
)


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
    finds_main_class: bool = (
        False  # Java, Scala: the main file is the one with ``static void main``
    )
    header_extensions: tuple[str, ...] = ()  # copied along but not compiled
    # How the main file is found among several: "" by name (main or the problem's slug),
    # "java" / "scala" the class or object holding ``main``, "pascal" the one that is no unit.
    main_finder: str = ""
    # Whether its extensions pick it by themselves; False for a language sharing another's
    # (PyPy's .py, POSIX sh's .sh), chosen by ``--language`` or by the file's content.
    detected: bool = True
    # Extensions it also takes, though they pick another language (Prolog's .pl is Perl's
    # unless its content reads as Prolog; see language_for_paths).
    shared_extensions: tuple[str, ...] = ()
    modules_first: bool = False  # Fortran: files defining modules are compiled first
    open_files: int = 64  # RLIMIT_NOFILE of its runs (R refuses to start under 170 or so)

    def matches(self, filename: str) -> bool:
        """Return whether ``filename`` has one of this language's extensions."""
        suffix = Path(filename).suffix.lower()
        return suffix in self.extensions or suffix in self.shared_extensions


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


def run_environment(language: Language, *, memory_mb: int) -> dict[str, str]:
    """Return the run's environment variables, ``{memory_mb}`` replaced (Mono's, PyPy's heap)."""
    return {key: value.replace("{memory_mb}", str(memory_mb)) for key, value in language.run_env}


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

# A fixed script (file names come as arguments, never as shell text).
_NODE_CHECK = (
    'for f; do case "$f" in *.mjs) m=1;; *.cjs) m=0;; *) m=0; grep -Eq '
    "'^[[:space:]]*(import|export)([[:space:]{*]|$)' \"$f\" && m=1;; esac; "
    'if [ $m = 1 ]; then /usr/bin/node --input-type=module --check < "$f"; '
    'else /usr/bin/node --check "$f"; fi || { echo "in $f" >&2; exit 1; }; done'
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
        # Every file is checked: as an ES module when it imports or exports (.mjs always;
        # `node --check` passes an ES module unchecked), else as CommonJS (.cjs always).
        compile=("/bin/sh", "-c", _NODE_CHECK, "node-check", "{sources}"),
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
        # -c parses (and runs BEGIN blocks and ``use``, inside the compile's sandbox).
        compile=("/usr/bin/perl", "-c", "{main}"),
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
        main_finder="pascal",
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
        modules_first=True,
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
        extensions=(".hs", ".lhs"),
        # -rtsopts: the run passes the heap limit to the RTS (+RTS -M); modules are found by name.
        compile=(
            "/usr/bin/ghc",
            "-O2",
            "-rtsopts",
            "-outputdir",
            "/tmp/ghc",  # noqa: S108
            "-o",
            "main",
            "{main}",
        ),
        artefact="./main",
        run=("./main", "+RTS", "-M{memory_mb}m", "-K256m", "-RTS"),
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
        run_env=(("MONO_GC_PARAMS", "max-heap-size={memory_mb}m"),),
        version=("/usr/bin/mcs", "--version"),
        executables=("/usr/bin/mcs", "/usr/bin/mono"),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
    ),
    Language(
        id="ada",
        name="Ada (GNAT)",
        extensions=(".adb", ".ada"),
        # gnatmake compiles the main unit and every unit it withs (their .ads/.adb by name).
        compile=("/usr/bin/gnatmake", "-q", "-O2", "-o", "main", "{main}"),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/gnatmake", "--version"),
        executables=("/usr/bin/gnatmake",),
        header_extensions=(".ads",),
        main_finder="ada",
    ),
    Language(
        id="sh",
        name="POSIX sh (dash)",
        extensions=(".sh",),
        compile=("/usr/bin/dash", "-n", "{main}"),
        run=("/usr/bin/dash", "{main}"),
        version=("/usr/bin/dpkg-query", "--showformat=${Version}", "--show", "dash"),
        executables=("/usr/bin/dash",),
        detected=False,  # .sh is Bash unless the file starts with #!/bin/sh
    ),
    Language(
        id="ocaml",
        name="OCaml",
        extensions=(".ml",),
        # ocamlopt needs the modules in dependency order: ocamldep sorts them (a fixed script;
        # the file names are checked safe words).
        compile=(
            "/bin/sh",
            "-c",
            'exec /usr/bin/ocamlopt -o main $(/usr/bin/ocamldep -sort "$@")',
            "ocaml-build",
            "{sources}",
        ),
        artefact="./main",
        run=("./main",),
        version=("/usr/bin/ocamlopt", "-version"),
        executables=("/usr/bin/ocamlopt", "/usr/bin/ocamldep"),
        all_sources=True,
    ),
    Language(
        id="prolog",
        name="Prolog (SWI-Prolog)",
        extensions=(".plg", ".prolog"),
        shared_extensions=(".pl",),
        # A saved state whose goal is main/0 (as DOMjudge and problemtools build it); .pl files
        # that read as Prolog come here too (see language_for_paths).
        compile=(
            "/usr/bin/swipl",
            "-O",
            "-q",
            "-g",
            "main",
            "-t",
            "halt",
            "-o",
            "main",
            "-c",
            "{sources}",
        ),
        artefact="./main",
        run=("/usr/bin/swipl", "--stack-limit={memory_mb}m", "-x", "main", "--"),
        version=("/usr/bin/swipl", "--version"),
        executables=("/usr/bin/swipl",),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
    ),
    Language(
        id="r",
        name="R",
        extensions=(".r",),
        compile=("/usr/bin/Rscript", "-e", "invisible(parse(commandArgs(TRUE)[1]))", "{main}"),
        run=("/usr/bin/Rscript", "{main}"),
        open_files=256,
        version=("/usr/bin/Rscript", "--version"),
        executables=("/usr/bin/Rscript",),
    ),
    Language(
        id="scala",
        name="Scala",
        extensions=(".scala",),
        compile=("/usr/bin/scalac", "-J-Xmx1024m", "-J-XX:+UseSerialGC", "-d", ".", "{sources}"),
        artefact="*.class",
        run=(
            *_JVM_RUN,
            "-cp",
            ".:/usr/share/scala/lib/scala-library.jar",
            "{main_class}",
        ),
        version=("/usr/bin/scalac", "-version"),
        executables=("/usr/bin/scalac", "/usr/bin/java"),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
        finds_main_class=True,
        main_finder="scala",
    ),
    Language(
        id="php",
        name="PHP",
        extensions=(".php",),
        compile=("/usr/bin/php", "-l", "{main}"),
        run=("/usr/bin/php", "-d", "memory_limit={memory_mb}M", "{main}"),
        version=("/usr/bin/php", "--version"),
        executables=("/usr/bin/php",),
    ),
    Language(
        id="lisp",
        name="Common Lisp (SBCL)",
        extensions=(".lisp", ".cl"),
        # compile-file writes main.fasl; a read error is an error, hence exit code 1.
        compile=(
            "/usr/bin/sbcl",
            "--noinform",
            "--non-interactive",
            "--no-sysinit",
            "--no-userinit",
            "--eval",
            '(compile-file (car (last sb-ext:*posix-argv*)) :output-file "/box/main.fasl")',
            "--end-toplevel-options",
            "{main}",
        ),
        artefact="./main.fasl",
        run=(
            "/usr/bin/sbcl",
            "--dynamic-space-size",
            "{memory_mb}MB",
            "--control-stack-size",
            "64MB",
            "--script",
            "main.fasl",
        ),
        version=("/usr/bin/sbcl", "--version"),
        executables=("/usr/bin/sbcl",),
        address_space=False,
        compile_address_space=False,
    ),
    Language(
        id="pypy3",
        name="PyPy 3",
        extensions=(".py", ".py3"),
        compile=("/usr/bin/pypy3", "-I", "-m", "py_compile", "{sources}"),
        run=("/usr/bin/pypy3", "{main}"),
        version=("/usr/bin/pypy3", "--version"),
        executables=("/usr/bin/pypy3",),
        run_env=(("PYPY_GC_MAX", "{memory_mb}MB"),),
        address_space=False,
        compile_address_space=False,
        all_sources=True,
        detected=False,  # .py is CPython's; PyPy is chosen by --language pypy3
    ),
)

_BY_ID = {language.id: language for language in LANGUAGES}

#: What a submit-answer submission is written in: answer files, nothing to build or run.
#: Not in LANGUAGES (never offered for programs); the runner checks the files themselves.
ANSWERS = Language(
    id="answers",
    name="Answer files",
    extensions=(".out", ".ans", ".txt"),
    run=(),
    version=(),
)


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
        if not language.detected:
            continue
        picked = any(Path(name).suffix.lower() in language.extensions for name in names)
        if picked and language not in found:
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


def _interpreter(text: str) -> str:
    """Return the program a ``#!`` line names (``env``'s argument for ``#!/usr/bin/env x``)."""
    match = _SHEBANG.match(text)
    if match is None:
        return ""
    program, argument = match.group(1), match.group(2) or ""
    name = program.rsplit("/", 1)[-1]
    return argument.rsplit("/", 1)[-1] if name == "env" else name


def looks_like_prolog(text: str) -> bool:
    """Return whether a ``.pl`` source is Prolog rather than Perl.

    The ``#!`` line decides when there is one; else Perl's variables or keywords make it
    Perl, and ``:-`` (a rule or a directive) without them makes it Prolog. Anything else
    is Perl, as DOMjudge reads ``.pl``.
    """
    interpreter = _interpreter(text)
    if interpreter:
        return interpreter.startswith("swipl") or interpreter.startswith("prolog")
    return _PROLOG_MARKS.search(text) is not None and _PERL_MARKS.search(text) is None


def looks_like_python2(text: str) -> bool:
    """Return whether a Python source is written for Python 2 (``#!`` or a print statement)."""
    interpreter = _interpreter(text)
    if interpreter:
        if interpreter in ("python2", "pypy") or interpreter.startswith("python2."):
            return True
        if interpreter.startswith(("python3", "pypy3")):
            return False
    return _PYTHON2_MARKS.search(text) is not None


def _head(path: Path) -> str:
    with path.open("rb") as source:
        return source.read(_HEAD_BYTES).decode("utf-8", errors="replace")


def language_for_paths(paths: Iterable[Path]) -> Language:
    """Return the known language of these source files, by extension and then content.

    ``.pl`` is Perl unless its sources read as Prolog (``looks_like_prolog``); ``.sh`` is
    Bash unless every script starts with ``#!/bin/sh`` (POSIX sh). Python 2 sources are
    detected by ``looks_like_python2``, which the caller may use to skip them.
    """
    files = list(paths)
    language = language_for_files(path.name for path in files)
    sources = [path for path in files if language.matches(path.name)]
    if language.id == "perl" and all(looks_like_prolog(_head(path)) for path in sources):
        return _BY_ID["prolog"]
    if language.id == "bash" and all(_interpreter(_head(path)) == "sh" for path in sources):
        return _BY_ID["sh"]
    return language
