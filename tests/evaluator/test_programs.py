"""Building and running programs: source staging, main selection, and every language for real."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.evaluator.languages import LANGUAGES, known_language, offered_ids
from service.evaluator.programs import (
    MAX_ARTEFACT_FILES,
    BuildOutputError,
    BuildResult,
    build_program,
    collect_artefacts,
    make_readable_dir,
    make_scratch_dir,
    run_limits,
    run_program,
)
from service.evaluator.sandbox.base import Outcome, RunSpec, Sandbox
from service.evaluator.verdicts import Verdict
from tests.fakes import FakeSandbox, compiles_to, is_build, real_sandbox
from tests.helpers import require_or_skip

BUILD_NUMBERS = itertools.count()

#: Languages whose compile takes several seconds: left out by ``make test-fast``.
SLOW_COMPILERS = {"kotlin", "scala", "haskell"}


def every_language(ids: list[str]) -> list[object]:
    """Return pytest params for ``ids``, the slow compilers marked slow."""
    return [
        pytest.param(language_id, marks=pytest.mark.slow)
        if language_id in SLOW_COMPILERS
        else language_id
        for language_id in ids
    ]


#: Programs reading an integer and printing it doubled, by language: (file name, source).
DOUBLERS = {
    "python3": ("double.py", "print(int(input()) * 2)\n"),
    "c": (
        "double.c",
        '#include <stdio.h>\nint main(void) { long n; if (scanf("%ld", &n) != 1) return 1;'
        ' printf("%ld\\n", n * 2); return 0; }\n',
    ),
    "cpp": (
        "double.cpp",
        "#include <iostream>\nint main() { long n; std::cin >> n; std::cout << n * 2 << '\\n'; }\n",
    ),
    "java": (
        "Double.java",
        "import java.util.Scanner;\npublic class Double { public static void main(String[] args)"
        " { System.out.println(new Scanner(System.in).nextLong() * 2); } }\n",
    ),
    "javascript": (
        "double.js",
        'const n = Number(require("fs").readFileSync(0, "utf8").trim());\nconsole.log(n * 2);\n',
    ),
    "rust": (
        "double.rs",
        "use std::io::Read;\nfn main() { let mut s = String::new();"
        " std::io::stdin().read_to_string(&mut s).unwrap();"
        ' let n: i64 = s.trim().parse().unwrap(); println!("{}", n * 2); }\n',
    ),
    "go": (
        "double.go",
        'package main\nimport "fmt"\n'
        "func main() { var n int64; fmt.Scan(&n); fmt.Println(n * 2) }\n",
    ),
    "ruby": ("double.rb", "puts gets.to_i * 2\n"),
    "bash": ("double.sh", "read -r n\necho $((n * 2))\n"),
    "perl": ("double.pl", 'my $n = <STDIN>;\nprint $n * 2, "\\n";\n'),
    "awk": ("double.awk", "{ print $1 * 2 }\n"),
    "lua": ("double.lua", 'print(io.read("n") * 2)\n'),
    "pascal": (
        "double.pas",
        "program double;\nvar n: int64;\nbegin\n  readln(n);\n  writeln(n * 2);\nend.\n",
    ),
    "fortran": (
        "double.f90",
        "program double\n  integer(8) :: n\n  read(*, *) n\n"
        "  print '(I0)', n * 2\nend program double\n",
    ),
    "kotlin": ("double.kt", "fun main() { println(readLine()!!.trim().toLong() * 2) }\n"),
    "haskell": ("double.hs", 'main = interact $ \\s -> show (2 * read s :: Integer) ++ "\\n"\n'),
    "csharp": (
        "double.cs",
        "class P { static void Main() {"
        " System.Console.WriteLine(long.Parse(System.Console.ReadLine().Trim()) * 2); } }\n",
    ),
    "ada": (
        "double.adb",
        "with Ada.Text_IO; with Ada.Long_Long_Integer_Text_IO;\nprocedure Double is\n"
        "   N : Long_Long_Integer;\nbegin\n   Ada.Long_Long_Integer_Text_IO.Get (N);\n"
        "   Ada.Long_Long_Integer_Text_IO.Put (N * 2, Width => 0);\n"
        "   Ada.Text_IO.New_Line;\nend Double;\n",
    ),
    "sh": ("double.sh", "#!/bin/sh\nread n\necho $((n * 2))\n"),
    "ocaml": ("double.ml", 'let () = Scanf.scanf " %d" (fun n -> Printf.printf "%d\\n" (n * 2))\n'),
    "prolog": (
        "double.plg",
        "main :- read_line_to_string(user_input, S), number_string(N, S),"
        ' M is N * 2, format("~w~n", [M]).\n',
    ),
    "r": ("double.R", 'n <- scan(file("stdin"), quiet = TRUE)\ncat(n * 2, "\\n", sep = "")\n'),
    "scala": (
        "Double.scala",
        "object Double {\n  def main(args: Array[String]): Unit ="
        " println(scala.io.StdIn.readLine().trim.toLong * 2)\n}\n",
    ),
    "php": ("double.php", '<?php\n$n = (int) trim(fgets(STDIN));\necho $n * 2, "\\n";\n'),
    "lisp": ("double.lisp", '(format t "~d~%" (* 2 (read)))\n'),
    "pypy3": ("double.py", "print(int(input()) * 2)\n"),
}


def write(directory: Path, files: dict[str, str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """A scratch dir the sandbox uid can traverse (pytest's tmp_path is private to root)."""
    path = make_scratch_dir(None, "verdict-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def build(
    sandbox: Sandbox, language_id: str, files: list[Path], work: Path, slug: str = ""
) -> BuildResult:
    directory = make_readable_dir(work, f"build-{next(BUILD_NUMBERS)}")
    return await build_program(
        sandbox, known_language(language_id), files, directory, problem_slug=slug
    )


def compiled(sandbox: FakeSandbox) -> RunSpec:
    return sandbox.builds[0]


# --- staging and main selection (fake sandbox) ---------------------------------------------


async def test_c_compiles_every_source_and_copies_headers(tmp_path: Path, work: Path) -> None:
    files = write(tmp_path / "src", {"main.c": "", "util.c": "", "util.h": "", "notes.txt": ""})
    sandbox = FakeSandbox(compiler=compiles_to("main"))

    built = await build(sandbox, "c", files, work)

    assert built.program is not None
    assert compiled(sandbox).argv[-3:] == ["main.c", "util.c", "-lm"]
    assert sorted(p.name for p in built.program.directory.iterdir()) == [
        "main",
        "main.c",
        "util.c",
        "util.h",
    ]


@pytest.mark.parametrize(
    ("names", "slug", "main"),
    [
        (["only.py"], "", "only.py"),
        (["helper.py", "main.py"], "", "main.py"),
        (["helper.py", "sum.py"], "sum", "sum.py"),
        (["helper.py", "Main.py"], "", "Main.py"),
        (["hello.py", "main.py", "message.py"], "hello", "hello.py"),  # DOMjudge's hello
    ],
)
async def test_python_runs_the_file_named_like_the_problem_or_main(
    tmp_path: Path, work: Path, names: list[str], slug: str, main: str
) -> None:
    files = write(tmp_path / "src", dict.fromkeys(names, "pass\n"))

    built = await build(FakeSandbox(), "python3", files, work, slug)

    assert built.program is not None
    assert built.program.main == main


async def test_pascal_picks_the_program_among_units_then_by_name(
    tmp_path: Path, work: Path
) -> None:
    unit = "unit hello;\ninterface\nimplementation\nend.\n"
    program = "program p;\nbegin\nend.\n"
    one = write(tmp_path / "one", {"hello.pp": unit, "prog.pas": program})
    two = write(tmp_path / "two", {"main.pas": program, "other.pas": program})

    by_kind = await build(FakeSandbox(compiler=compiles_to("main")), "pascal", one, work, "hello")
    by_name = await build(FakeSandbox(compiler=compiles_to("main")), "pascal", two, work, "hello")

    assert by_kind.program is not None and by_kind.program.main == "prog.pas"
    assert by_name.program is not None and by_name.program.main == "main.pas"


async def test_several_python_files_without_a_main_one_is_a_compile_error(
    tmp_path: Path, work: Path
) -> None:
    files = write(tmp_path / "src", {"a.py": "", "b.py": ""})
    sandbox = FakeSandbox()

    built = await build(sandbox, "python3", files, work, "sum")

    assert built.verdict is Verdict.CE
    assert "name the main one main.py or sum.py" in built.output
    assert sandbox.specs == []


async def test_java_finds_the_class_with_main_and_its_package(tmp_path: Path, work: Path) -> None:
    files = write(
        tmp_path / "src",
        {
            "Util.java": "class Util { static int twice(int x) { return 2 * x; } }\n",
            "Solution.java": "package judge;\n\npublic class Solution {\n"
            "    public static void main(String[] args) {}\n}\n",
        },
    )
    sandbox = FakeSandbox(compiler=compiles_to("judge/Solution.class", "Util.class"))

    built = await build(sandbox, "java", files, work)

    assert built.program is not None
    assert (built.program.main, built.program.main_class) == ("Solution.java", "judge.Solution")
    assert compiled(sandbox).argv[-2:] == ["Solution.java", "Util.java"]


async def test_java_without_main_is_a_compile_error(tmp_path: Path, work: Path) -> None:
    files = write(tmp_path / "src", {"A.java": "class A {}\n"})

    built = await build(FakeSandbox(), "java", files, work)

    assert built.verdict is Verdict.CE
    assert "no class has a `public static void main" in built.output


@pytest.mark.parametrize("name", ["-o.c", ".hidden.c", "a b.c", "x;rm.c"])
async def test_file_names_that_could_inject_arguments_are_refused(
    tmp_path: Path, work: Path, name: str
) -> None:
    source = tmp_path / "src" / "good.c"
    source.parent.mkdir()
    source.write_text("int main(void) { return 0; }\n")
    odd = source.with_name(name)
    source.rename(odd)
    sandbox = FakeSandbox()

    built = await build(sandbox, "c", [odd], work)

    assert built.verdict is Verdict.CE
    assert "is not allowed" in built.output
    assert sandbox.specs == []


async def test_a_symlinked_source_is_refused(tmp_path: Path, work: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    link = tmp_path / "src" / "main.c"
    link.parent.mkdir()
    link.symlink_to(secret)

    built = await build(FakeSandbox(), "c", [link], work)

    assert built.verdict is Verdict.CE
    assert "not a regular file" in built.output


async def test_too_much_source_is_a_compile_error(tmp_path: Path, work: Path) -> None:
    files = write(tmp_path / "src", {"big.py": "#" * (2 * 1024 * 1024)})

    built = await build(FakeSandbox(), "python3", files, work)

    assert built.verdict is Verdict.CE
    assert "exceed" in built.output


async def test_no_source_of_the_language_is_a_compile_error(tmp_path: Path, work: Path) -> None:
    files = write(tmp_path / "src", {"a.py": ""})

    built = await build(FakeSandbox(), "c", files, work)

    assert built.verdict is Verdict.CE
    assert "no C source" in built.output


async def test_compiles_get_generous_limits_and_runs_the_problem_limits(
    tmp_path: Path, work: Path
) -> None:
    files = write(tmp_path / "src", {"Main.java": "class Main { static void main() {} }"})
    sandbox = FakeSandbox(compiler=compiles_to("Main.class"))
    built = await build(sandbox, "java", files, work)
    assert built.program is not None

    await run_program(
        sandbox, built.program, limits=run_limits(1.5, 256, 8, built.program.language)
    )
    await run_program(sandbox, built.program, limits=run_limits(1.5, 256, 8))  # AS forced off

    compile_spec, run_spec, forced_spec = sandbox.specs
    assert not forced_spec.limits.address_space
    assert is_build(compile_spec) and not is_build(run_spec)
    # The compile writes to its own tmpfs /box and sees the sources read-only; runs see the build.
    assert compile_spec.workdir is None
    assert [bind.writable for bind in compile_spec.binds] == [False, True]
    assert (run_spec.workdir, run_spec.workdir_writable) == (built.program.directory, False)
    assert compile_spec.limits.processes >= 64
    assert not compile_spec.limits.address_space and not run_spec.limits.address_space
    assert run_spec.limits.cpu_time == 1.5
    assert "-Xmx256m" in run_spec.argv


# --- every offered language, for real ------------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.parametrize("language_id", every_language([language.id for language in LANGUAGES]))
async def test_every_language_builds_and_runs_in_the_sandbox(
    tmp_path: Path, work: Path, language_id: str
) -> None:
    require_or_skip(language_id in offered_ids(), f"{language_id} toolchain not installed")
    async with real_sandbox() as sandbox:
        name, text = DOUBLERS[language_id]
        files = write(tmp_path / "src", {name: text})
        given = tmp_path / "input.txt"
        given.write_text("21\n")

        built = await build(sandbox, language_id, files, work)
        assert built.program is not None, built.output
        result = await run_program(
            sandbox,
            built.program,
            stdin=given,
            limits=run_limits(5.0, 512, 8, built.program.language),
        )

        assert result.outcome is Outcome.EXITED, (result.message, result.stderr)
        assert (result.exit_code, result.stdout.strip()) == (0, b"42"), result.stderr


@pytest.mark.sandbox
async def test_multi_file_c_and_python_build_for_real(tmp_path: Path, work: Path) -> None:
    async with real_sandbox() as sandbox:
        c_files = write(
            tmp_path / "c",
            {
                "main.c": '#include <stdio.h>\n#include "util.h"\n'
                'int main(void) { printf("%d\\n", twice(21)); return 0; }\n',
                "util.c": '#include "util.h"\nint twice(int x) { return 2 * x; }\n',
                "util.h": "int twice(int x);\n",
            },
        )
        py_files = write(
            tmp_path / "py",
            {
                "main.py": "from helper import twice\nprint(twice(21))\n",
                "helper.py": "def twice(x):\n    return 2 * x\n",
            },
        )
        limits = run_limits(5.0, 256, 8)

        c_built, py_built = await asyncio.gather(
            build(sandbox, "c", c_files, work), build(sandbox, "python3", py_files, work)
        )
        assert c_built.program is not None and py_built.program is not None
        results = await asyncio.gather(
            run_program(sandbox, c_built.program, limits=limits),
            run_program(sandbox, py_built.program, limits=limits),
        )

        assert [result.stdout for result in results] == [b"42\n", b"42\n"]


@pytest.mark.sandbox
async def test_a_compile_error_keeps_the_compilers_message(tmp_path: Path, work: Path) -> None:
    async with real_sandbox() as sandbox:
        files = write(tmp_path / "src", {"broken.c": "int main(void) { return nope; }\n"})

        built = await build(sandbox, "c", files, work)

        assert built.verdict is Verdict.CE
        assert "nope" in built.output
        assert "error" in built.output


@pytest.mark.sandbox
async def test_a_python_syntax_error_is_a_compile_error(tmp_path: Path, work: Path) -> None:
    async with real_sandbox() as sandbox:
        files = write(tmp_path / "src", {"bad.py": "print(\n"})

        built = await build(sandbox, "python3", files, work)

        assert built.verdict is Verdict.CE
        assert "SyntaxError" in built.output or "was never closed" in built.output


#: A syntax error in each language whose compile step only checks the source.
SYNTAX_ERRORS = {
    "python3": ("bad.py", "print(\n"),
    "pypy3": ("bad.py", "def f(:\n"),
    "perl": ("bad.pl", 'print "unclosed;\n'),
    "ruby": ("bad.rb", "def f\n"),
    "javascript": ("bad.js", "function f( {\n"),
    "bash": ("bad.sh", "if true; then\n"),
    "sh": ("bad.sh", "#!/bin/sh\nif true; then\n"),
    "php": ("bad.php", "<?php echo 1\n"),
    "lua": ("bad.lua", "if x then\n"),
    "r": ("bad.R", "f <- function( {\n"),
    "lisp": ("bad.lisp", '(format t "x"\n'),
    "prolog": ("bad.plg", "main :- write(x\n"),
}


@pytest.mark.sandbox
@pytest.mark.parametrize("language_id", sorted(SYNTAX_ERRORS))
async def test_a_syntax_error_of_an_interpreted_language_is_a_compile_error(
    tmp_path: Path, work: Path, language_id: str
) -> None:
    require_or_skip(language_id in offered_ids(), f"{language_id} toolchain not installed")
    name, text = SYNTAX_ERRORS[language_id]
    async with real_sandbox() as sandbox:
        built = await build(sandbox, language_id, write(tmp_path / "src", {name: text}), work)

    assert built.verdict is Verdict.CE, built.output
    assert built.output.strip()


@pytest.mark.sandbox
async def test_javascript_modules_are_checked_file_by_file(tmp_path: Path, work: Path) -> None:
    # `node --check` alone passes an ES module unchecked: a broken imported file was an RE.
    main = "import { hello } from './module.js';\nconsole.log(hello());\n"
    good = write(
        tmp_path / "good",
        {"hello.js": main, "module.js": "export function hello() { return 'hi'; }\n"},
    )
    bad = write(
        tmp_path / "bad",
        {"hello.js": main, "module.js": "export function hello() {\n  letter x = 1\n}\n"},
    )
    async with real_sandbox() as sandbox:
        built = await build(sandbox, "javascript", good, work, "hello")
        broken = await build(sandbox, "javascript", bad, work, "hello")
        assert built.program is not None, built.output
        result = await run_program(sandbox, built.program, limits=run_limits(5.0, 256, 8))

    assert result.stdout == b"hi\n", result.stderr
    assert broken.verdict is Verdict.CE
    assert "in module.js" in broken.output


@pytest.mark.sandbox
async def test_multi_file_java_with_a_package_runs_its_main_class(
    tmp_path: Path, work: Path
) -> None:
    require_or_skip("java" in offered_ids(), "java toolchain not installed")
    files = write(
        tmp_path / "java",
        {
            "Solution.java": "package judge;\npublic class Solution {\n"
            "    public static void main(String[] args) {"
            " System.out.println(Util.twice(21)); }\n}\n",
            "Util.java": "package judge;\n"
            "class Util { static int twice(int x) { return 2 * x; } }\n",
        },
    )
    async with real_sandbox() as sandbox:
        built = await build(sandbox, "java", files, work)
        assert built.program is not None, built.output
        result = await run_program(sandbox, built.program, limits=run_limits(5.0, 256, 8))

    assert result.stdout == b"42\n", result.stderr


#: Programs of several files printing 42, by language; the problem's slug is "hello".
MULTI_FILE = {
    "cpp": {
        "main.cpp": '#include <iostream>\n#include "util.hpp"\n'
        'int main() { std::cout << twice(21) << "\\n"; }\n',
        "util.cpp": '#include "util.hpp"\nint twice(int x) { return 2 * x; }\n',
        "util.hpp": "int twice(int x);\n",
    },
    "go": {
        "main.go": 'package main\nimport "fmt"\nfunc main() { fmt.Println(twice(21)) }\n',
        "util.go": "package main\nfunc twice(x int) int { return 2 * x }\n",
    },
    "fortran": {
        "main.f90": "program hello\n  use arith\n  print '(I0)', twice(21)\nend program hello\n",
        "util.f90": "module arith\ncontains\n  integer function twice(x)\n    integer :: x\n"
        "    twice = 2 * x\n  end function twice\nend module arith\n",
    },
    # DOMjudge's case: the unit is named like the problem; the program is the other file.
    "pascal": {
        "hello.pp": "unit hello;\ninterface\nfunction twice(x: longint): longint;\n"
        "implementation\nfunction twice(x: longint): longint;\n"
        "begin\n  twice := 2 * x;\nend;\nend.\n",
        "test-hello-unit.pas": "{ the program }\nprogram usesunit;\nuses hello;\n"
        "begin\n  writeln(twice(21));\nend.\n",
    },
    "rust": {
        "main.rs": 'mod util;\nfn main() { println!("{}", util::twice(21)); }\n',
        "util.rs": "pub fn twice(x: i64) -> i64 { 2 * x }\n",
    },
    "ada": {
        "hello.adb": "with Ada.Text_IO; with Util;\nprocedure Hello is\nbegin\n"
        "   Ada.Text_IO.Put_Line (Integer'Image (Util.Twice (21)));\nend Hello;\n",
        "util.ads": "package Util is\n   function Twice (X : Integer) return Integer;\nend Util;\n",
        "util.adb": "package body Util is\n   function Twice (X : Integer) return Integer is\n"
        "   begin\n      return 2 * X;\n   end Twice;\nend Util;\n",
    },
    "ocaml": {
        "main.ml": 'let () = Printf.printf "%d\\n" (Util.twice 21)\n',
        "util.ml": "let twice x = 2 * x\n",
    },
    "csharp": {
        "Main.cs": "class P { static void Main() { System.Console.WriteLine(Util.Twice(21)); } }\n",
        "Util.cs": "static class Util { public static int Twice(int x) { return 2 * x; } }\n",
    },
    "prolog": {
        "main.plg": 'main :- twice(21, X), format("~w~n", [X]).\n',
        "util.plg": "twice(X, Y) :- Y is 2 * X.\n",
    },
    "javascript": {
        "hello.js": 'const { twice } = require("./util.js");\nconsole.log(twice(21));\n',
        "util.js": "module.exports = { twice: (x) => 2 * x };\n",
    },
    "kotlin": {
        "Main.kt": "fun main() { println(twice(21)) }\n",
        "Util.kt": "fun twice(x: Int): Int = 2 * x\n",
    },
    "scala": {
        "Main.scala": "object Main {\n"
        "  def main(args: Array[String]): Unit = println(Util.twice(21))\n}\n",
        "Util.scala": "object Util {\n  def twice(x: Int): Int = 2 * x\n}\n",
    },
    "haskell": {
        "main.hs": "import Util (twice)\nmain :: IO ()\nmain = print (twice 21)\n",
        "Util.hs": "module Util (twice) where\ntwice :: Int -> Int\ntwice x = 2 * x\n",
    },
}


@pytest.mark.sandbox
@pytest.mark.parametrize("language_id", every_language(sorted(MULTI_FILE)))
async def test_every_language_that_compiles_several_files_builds_them_for_real(
    tmp_path: Path, work: Path, language_id: str
) -> None:
    require_or_skip(language_id in offered_ids(), f"{language_id} toolchain not installed")
    files = write(tmp_path / "src", MULTI_FILE[language_id])
    async with real_sandbox() as sandbox:
        built = await build(sandbox, language_id, files, work, "hello")
        assert built.program is not None, built.output
        result = await run_program(
            sandbox, built.program, limits=run_limits(5.0, 512, 8, built.program.language)
        )

    assert result.outcome is Outcome.EXITED, (result.message, result.stderr)
    assert result.stdout.strip() == b"42", result.stderr


#: Programs starting four threads (OS threads) that each add their number: they print 10.
THREADED = {
    "c": (
        "threads.c",
        "#include <pthread.h>\n#include <stdio.h>\n"
        "static long part[4];\n"
        "static void *work(void *arg) { long i = (long)arg; part[i] = i + 1; return NULL; }\n"
        "int main(void) {\n"
        "    pthread_t threads[4]; long sum = 0;\n"
        "    for (long i = 0; i < 4; i++)\n"
        "        if (pthread_create(&threads[i], NULL, work, (void *)i) != 0) {\n"
        '            perror("pthread_create"); return 1; }\n'
        "    for (int i = 0; i < 4; i++) { pthread_join(threads[i], NULL); sum += part[i]; }\n"
        '    printf("%ld\\n", sum); return 0;\n}\n',
    ),
    "cpp": (
        "threads.cpp",
        "#include <atomic>\n#include <iostream>\n#include <thread>\n#include <vector>\n"
        "int main() {\n    std::atomic<long> sum{0}; std::vector<std::thread> threads;\n"
        "    for (long i = 1; i <= 4; i++) threads.emplace_back([&sum, i] { sum += i; });\n"
        "    for (auto &thread : threads) thread.join();\n"
        "    std::cout << sum << '\\n';\n}\n",
    ),
    "java": (
        "Main.java",
        "import java.util.concurrent.atomic.AtomicLong;\n"
        "public class Main { public static void main(String[] args) throws Exception {\n"
        "    AtomicLong sum = new AtomicLong(); Thread[] threads = new Thread[4];\n"
        "    for (int i = 0; i < 4; i++) { final long n = i + 1;"
        " threads[i] = new Thread(() -> sum.addAndGet(n)); threads[i].start(); }\n"
        "    for (Thread thread : threads) thread.join();\n"
        "    System.out.println(sum.get()); } }\n",
    ),
    "go": (
        "threads.go",
        'package main\nimport ("fmt"; "runtime"; "sync"; "sync/atomic")\n'
        "func main() {\n    var sum int64; var group sync.WaitGroup\n"
        "    for i := int64(1); i <= 4; i++ {\n        group.Add(1)\n"
        "        go func(n int64) { runtime.LockOSThread(); atomic.AddInt64(&sum, n);"
        " group.Done() }(i)\n    }\n"
        "    group.Wait(); fmt.Println(sum)\n}\n",
    ),
    "rust": (
        "threads.rs",
        "fn main() {\n"
        "    let threads: Vec<_> = (1..=4u64).map(|n| std::thread::spawn(move || n)).collect();\n"
        '    println!("{}", threads.into_iter().map(|t| t.join().unwrap()).sum::<u64>());\n}\n',
    ),
    "python3": (
        "threads.py",
        "import threading\nparts = []\n"
        "threads = [threading.Thread(target=parts.append, args=(n,)) for n in range(1, 5)]\n"
        "for thread in threads:\n    thread.start()\n"
        "for thread in threads:\n    thread.join()\nprint(sum(parts))\n",
    ),
}


@pytest.mark.sandbox
@pytest.mark.parametrize("language_id", sorted(THREADED))
async def test_threaded_programs_run_under_the_memory_limit(
    tmp_path: Path, work: Path, language_id: str
) -> None:
    require_or_skip(language_id in offered_ids(), f"{language_id} toolchain not installed")
    async with real_sandbox() as sandbox:
        name, text = THREADED[language_id]
        built = await build(sandbox, language_id, write(tmp_path / "src", {name: text}), work)
        assert built.program is not None, built.output
        result = await run_program(
            sandbox, built.program, limits=run_limits(5.0, 256, 8, built.program.language)
        )

    assert result.outcome is Outcome.EXITED, (result.message, result.stderr)
    assert (result.exit_code, result.stdout) == (0, b"10\n"), result.stderr


@pytest.mark.sandbox
async def test_the_main_thread_may_still_recurse_deeply(tmp_path: Path, work: Path) -> None:
    source = (
        "#include <stdio.h>\n"
        "static long depth(long n) { volatile char frame[64]; frame[0] = (char)n;"
        " return n == 0 ? frame[0] : 1 + depth(n - 1); }\n"
        'int main(void) { printf("%ld\\n", depth(1000000)); return 0; }\n'
    )
    async with real_sandbox() as sandbox:
        built = await build(sandbox, "c", write(tmp_path / "src", {"deep.c": source}), work)
        assert built.program is not None, built.output
        result = await run_program(
            sandbox, built.program, limits=run_limits(5.0, 256, 8, built.program.language)
        )

    assert (result.outcome, result.stdout) == (Outcome.EXITED, b"1000000\n"), result.stderr


# --- what a build hands to the runs --------------------------------------------------------


@pytest.mark.sandbox
async def test_a_build_hands_the_runs_its_sources_and_artefact_read_only(
    tmp_path: Path, work: Path
) -> None:
    source = (
        '#include <stdio.h>\n#include "answer.h"\n'
        'int main(void) { FILE *f = fopen("out.txt", "w");'
        ' printf("%d %s\\n", ANSWER, f ? "wrote" : "read-only"); return 0; }\n'
    )
    files = write(tmp_path / "src", {"main.c": source, "answer.h": "#define ANSWER 42\n"})
    async with real_sandbox() as sandbox:
        built = await build(sandbox, "c", files, work)
        assert built.program is not None, built.output
        result = await run_program(sandbox, built.program, limits=run_limits(5.0, 256, 8))

    assert result.stdout == b"42 read-only\n", result.stderr
    directory = built.program.directory
    assert sorted(path.name for path in directory.iterdir()) == ["answer.h", "main", "main.c"]
    for path in [directory, *directory.iterdir()]:
        info = path.lstat()
        assert info.st_uid == os.geteuid() and not info.st_mode & 0o022, path
    assert [path.name for path in work.iterdir()] == [directory.name]  # no build leftovers


def archive_of(path: Path, members: list[tuple[str, bytes | str | None]]) -> Path:
    """Write a tar: (name, bytes) for a file, (name, str) for a symlink, (name, None) a dir."""
    with tarfile.open(path, "w") as tar:
        for name, content in members:
            member = tarfile.TarInfo(name)
            if content is None:
                member.type = tarfile.DIRTYPE
                tar.addfile(member)
            elif isinstance(content, str):
                member.type, member.linkname = tarfile.SYMTYPE, content
                tar.addfile(member)
            else:
                member.size, member.mode = len(content), 0o755
                tar.addfile(member, io.BytesIO(content))
    return path


@pytest.mark.parametrize(
    ("members", "pattern", "copied"),
    [
        ([("./main", b"ELF"), ("./answer.txt", b"42"), ("./cache/x", b"")], "./main", ["main"]),
        (
            [("./Main.class", b"1"), ("./judge/Util.class", b"2"), ("./notes", b"")],
            "*.class",
            ["Main.class", "judge/Util.class"],
        ),
        ([("./main", "/etc/passwd"), ("./main.txt", b"")], "./main", "produced no main"),
        ([("./main", None)], "./main", "produced no main"),
        ([("../main", b"x")], "./main", "outside its directory"),
        ([("/main", b"x")], "*main", "outside its directory"),
        ([("./main", b"x"), ("./main", b"y")], "./main", "wrote 'main' twice"),
        ([("./a", b"x"), ("./a/b.class", b"y")], "*", "wrote 'a' twice"),
    ],
)
def test_only_declared_regular_files_leave_a_build_archive(
    tmp_path: Path,
    members: list[tuple[str, bytes | str | None]],
    pattern: str,
    copied: list[str] | str,
) -> None:
    archive = archive_of(tmp_path / "build.tar", members)
    target = tmp_path / "build"
    target.mkdir()

    if isinstance(copied, str):
        with pytest.raises(BuildOutputError, match=copied):
            collect_artefacts(archive, target, pattern)
        return
    assert collect_artefacts(archive, target, pattern) == copied
    found = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert found == copied
    assert all(not p.is_symlink() for p in target.rglob("*"))


def test_a_build_archive_with_too_many_files_is_refused(tmp_path: Path) -> None:
    members: list[tuple[str, bytes | str | None]] = [
        (f"./C{i}.class", b"") for i in range(MAX_ARTEFACT_FILES + 1)
    ]
    archive = archive_of(tmp_path / "build.tar", members)
    (tmp_path / "build").mkdir()

    with pytest.raises(BuildOutputError, match="more than"):
        collect_artefacts(archive, tmp_path / "build", "*.class")


def test_an_empty_or_garbled_build_archive_is_refused(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    garbled = tmp_path / "garbled.tar"
    garbled.write_bytes(b"not a tar archive" * 100)

    with pytest.raises(BuildOutputError, match="produced no main"):
        collect_artefacts(empty, tmp_path / "build", "./main")
    with pytest.raises(BuildOutputError, match="unreadable"):
        collect_artefacts(garbled, tmp_path / "build", "./main")
