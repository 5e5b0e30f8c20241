"""The language registry: entries, lookup errors, detection by extension, offered toolchains."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator.languages import (
    LANGUAGES,
    UnknownLanguageError,
    compile_argv,
    get_language,
    known_language,
    language_for_files,
    language_for_paths,
    looks_like_prolog,
    looks_like_python2,
    offered_ids,
    offered_languages,
    run_argv,
)
from tests.helpers import require_or_skip

KATTIS_EXTENSIONS = {
    ".py": "python3",
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".c++": "cpp",
    ".java": "java",
    ".js": "javascript",
    ".rs": "rust",
    ".go": "go",
    ".rb": "ruby",
    ".sh": "bash",
    ".bash": "bash",
    ".pl": "perl",
    ".awk": "awk",
    ".lua": "lua",
    ".pas": "pascal",
    ".f95": "fortran",
    ".f90": "fortran",
    ".kt": "kotlin",
    ".hs": "haskell",
    ".cs": "csharp",
    ".lhs": "haskell",
    ".pp": "pascal",
    ".adb": "ada",
    ".ml": "ocaml",
    ".plg": "prolog",
    ".r": "r",
    ".scala": "scala",
    ".php": "php",
    ".lisp": "lisp",
    ".cl": "lisp",
}


def test_ids_and_detected_extensions_are_unique() -> None:
    ids = [language.id for language in LANGUAGES]
    detected = [language for language in LANGUAGES if language.detected]
    extensions = [ext for language in detected for ext in language.extensions]
    assert len(ids) == len(set(ids))
    assert len(extensions) == len(set(extensions))
    # The languages sharing an extension are chosen by id (or content), never by it alone.
    assert {language.id for language in LANGUAGES if not language.detected} == {"pypy3", "sh"}


def test_at_least_25_languages_are_known() -> None:
    assert len(LANGUAGES) >= 25


@pytest.mark.parametrize(("extension", "language_id"), sorted(KATTIS_EXTENSIONS.items()))
def test_kattis_and_domjudge_extensions_pick_the_language(extension: str, language_id: str) -> None:
    assert language_for_files([f"solution{extension}"]).id == language_id
    assert language_for_files([f"SOLUTION{extension.upper()}"]).id == language_id


def test_headers_alone_do_not_decide_but_c_with_cpp_is_cpp() -> None:
    assert language_for_files(["main.c", "util.h"]).id == "c"
    assert language_for_files(["main.cpp", "legacy.c", "util.h"]).id == "cpp"


def test_mixed_or_unknown_files_are_refused_with_a_hint() -> None:
    with pytest.raises(UnknownLanguageError, match="several languages"):
        language_for_files(["a.py", "b.rb"])
    with pytest.raises(UnknownLanguageError, match=r"no language uses \.txt.*--language"):
        language_for_files(["notes.txt"])


def test_unknown_id_lists_the_offered_ids() -> None:
    with pytest.raises(UnknownLanguageError) as caught:
        get_language("cobol")

    message = str(caught.value)
    assert "'cobol' is not offered here" in message
    for language_id in offered_ids():
        assert language_id in message
    with pytest.raises(UnknownLanguageError, match=r"known: .*python3"):
        known_language("cobol")


def test_argv_templates_expand_sources_main_class_and_memory() -> None:
    java = known_language("java")
    c = known_language("c")
    node = known_language("javascript")

    assert compile_argv(c, main="a.c", sources=["a.c", "b.c"], memory_mb=2048) == [
        "/usr/bin/gcc",
        "-std=gnu17",
        "-O2",
        "-pipe",
        "-o",
        "main",
        "a.c",
        "b.c",
        "-lm",
    ]
    assert run_argv(c, main="a.c", memory_mb=256) == ["./main"]
    java_run = run_argv(java, main="Sol.java", main_class="pkg.Sol", memory_mb=256)
    assert java_run[0] == "/usr/bin/java"
    assert "-Xmx256m" in java_run
    assert java_run[-1] == "pkg.Sol"
    assert "--max-old-space-size=512" in run_argv(node, main="a.js", memory_mb=512)
    assert compile_argv(known_language("awk"), main="a.awk", sources=["a.awk"], memory_mb=1) is None


def test_runtimes_that_reserve_address_space_do_not_get_rlimit_as() -> None:
    for language_id in ("java", "javascript", "go", "ruby"):
        assert not known_language(language_id).address_space
    for language_id in ("python3", "c", "cpp", "rust"):
        assert known_language(language_id).address_space


def test_toolchains_are_only_system_paths_the_sandbox_can_see() -> None:
    for language in LANGUAGES:
        for path in (*language.executables, language.version[0]):
            assert path.startswith("/usr/bin/"), (language.id, path)


def test_python_is_debians_not_pyenvs() -> None:
    require_or_skip("python3" in offered_ids(), "/usr/bin/python3 is missing")

    python = next(item for item in offered_languages() if item.language.id == "python3")

    assert python.language.run[0] == "/usr/bin/python3"
    assert python.version.startswith("3.")


def test_offered_languages_are_probed_once_and_have_versions() -> None:
    first = offered_languages()

    assert offered_languages() is first
    assert all(item.version[0].isdigit() for item in first)
    assert len(first) >= 1


def sources(tmp_path: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    return paths


@pytest.mark.parametrize(
    ("text", "language_id"),
    [
        ('print "Hello world!\\n";\n', "perl"),
        ("#!/usr/bin/perl\nmain :- true.\n", "perl"),
        ("my $line = <STDIN>; # a :- in a comment\n", "perl"),
        ("main :- write('Hello world!'), nl.\n", "prolog"),
        ("#!/usr/bin/env swipl\n:- initialization(main).\nmain :- halt.\n", "prolog"),
        ("1;\n", "perl"),
    ],
)
def test_a_pl_file_is_perl_or_prolog_by_its_content(
    tmp_path: Path, text: str, language_id: str
) -> None:
    language = language_for_paths(sources(tmp_path, {"hello.pl": text}))

    assert language.id == language_id
    assert language.matches("hello.pl")  # staged as a source of either language


@pytest.mark.parametrize(
    ("text", "language_id"),
    [
        ("#!/bin/sh\necho hi\n", "sh"),
        ("#!/usr/bin/env sh\necho hi\n", "sh"),
        ("#!/bin/bash\necho hi\n", "bash"),
        ("echo hi\n", "bash"),
    ],
)
def test_a_sh_file_is_posix_sh_only_with_a_sh_shebang(
    tmp_path: Path, text: str, language_id: str
) -> None:
    assert language_for_paths(sources(tmp_path, {"hello.sh": text})).id == language_id
    assert looks_like_prolog(text) is False


@pytest.mark.parametrize(
    ("text", "python2"),
    [
        ('print "Hello world!"\n', True),
        ("import sys\nprint >>sys.stderr, 'x'\n", True),
        ("try:\n    pass\nexcept ValueError, error:\n    pass\n", True),
        ("#!/usr/bin/python2\nprint(1)\n", True),
        ("#!/usr/bin/env python3\nprint 1\n", False),
        ("print('Hello world!')\n", False),
        ("print = len\nprint (1)\n", False),
    ],
)
def test_python_2_sources_are_recognised(text: str, python2: bool) -> None:
    assert looks_like_python2(text) is python2


def test_pypy_is_chosen_by_id_and_dot_py_stays_cpython(tmp_path: Path) -> None:
    paths = sources(tmp_path, {"a.py": "print(1)\n"})

    assert language_for_paths(paths).id == "python3"
    assert known_language("pypy3").matches("a.py")
