"""Loading problem packages: both formats, test data, submissions, and hostile zips."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from service.evaluator import ZipLimits
from service.evaluator.package import (
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    PackageError,
    UnsupportedProblem,
    extract_zip,
    is_package,
    load_package,
)
from tests.factories import EXAMPLES, yaml_alias_bomb, yaml_nested


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) under ``root`` and return ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def package(
    tmp_path: Path, extra: dict[str, str | bytes] | None = None, *, slug: str = "demo"
) -> Path:
    """Write a minimal valid legacy package plus ``extra`` files and return its directory."""
    files: dict[str, str | bytes] = {
        "problem.yaml": "name: Demo\n",
        "data/sample/1.in": "1\n",
        "data/sample/1.ans": "1\n",
        "data/secret/1.in": "2\n",
        "data/secret/1.ans": "2\n",
        "submissions/accepted/echo.py": "print(input())\n",
    }
    files.update(extra or {})
    return write(tmp_path / slug, files)


def error_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(PackageError) as caught:
        load_package(path, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# --- the example problems ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["hello", "bigio", "floatdiv", "anypath", "groups", "limits"])
def test_every_example_problem_loads(slug: str) -> None:
    problem = load_package(EXAMPLES / slug)
    assert problem.slug == slug
    assert problem.tests[0].sample and not problem.tests[-1].sample
    categories = {submission.category for submission in problem.submissions}
    assert {"accepted", "wrong_answer"} <= categories
    languages = {submission.files[0].suffix for submission in problem.submissions}
    assert len(languages) >= 4
    assert problem.statements


def test_legacy_example_reads_flags_and_timelimit_file() -> None:
    floatdiv = load_package(EXAMPLES / "floatdiv")
    assert floatdiv.format_version == "legacy"
    assert floatdiv.validation == "default"
    assert floatdiv.validator_flags == ("float_tolerance", "1e-6")
    assert floatdiv.limits.memory_mb == 256
    assert floatdiv.limits.time_limit is None
    limits = load_package(EXAMPLES / "limits")
    assert limits.limits.time_limit == 1.0  # from .timelimit
    assert {s.category for s in limits.submissions} >= {
        "time_limit_exceeded",
        "run_time_error",
        "memory_limit_exceeded",
    }


def test_2025_example_has_a_custom_validator_and_new_defaults() -> None:
    problem = load_package(EXAMPLES / "anypath")
    assert problem.format_version == "2025-09"
    assert problem.name == "Any Path Will Do"
    assert problem.validation == "custom"
    assert [f.name for f in problem.validator_files] == ["validate.py"]
    assert problem.limits.time_multiplier == 2.0
    assert problem.limits.time_safety_margin == 1.5
    assert problem.statements[0].parent.name == "statement"


def test_nested_groups_come_in_sorted_order() -> None:
    names = [test.name for test in load_package(EXAMPLES / "groups").tests]
    assert names[:3] == ["sample/1", "sample/2", "secret/1-small/01"]
    assert names.index("secret/2-large/a-positive/03") < names.index("secret/2-large/b-negative/01")
    assert names[-1] == "secret/3-edge/04-cancel"
    assert names == names[:2] + sorted(names[2:])


# --- problem.yaml -----------------------------------------------------------------------------


def test_minimal_package_gets_the_defaults(tmp_path: Path) -> None:
    problem = load_package(package(tmp_path))
    assert problem.name == "Demo"
    assert problem.validation == "default"
    assert problem.validator_flags == ()
    assert problem.validator_files == ()
    assert problem.limits.time_limit is None
    assert problem.limits.time_multiplier == 5.0
    assert problem.limits.memory_mb == 2048
    assert [t.name for t in problem.tests] == ["sample/1", "secret/1"]
    assert problem.tests[0].input.read_text() == "1\n"
    assert problem.tests[1].answer.name == "1.ans"
    assert is_package(problem.root)


def test_legacy_limits_and_unknown_keys(tmp_path: Path) -> None:
    config = (
        "name: Demo\nauthor: Someone\nfuture_key: {a: 1}\nlimits:\n  time_multiplier: 3\n"
        "  time_safety_margin: 1.5\n  memory: 512\n  output: 16\n  compilation_time: 30\n"
        "  validation_memory: 1024\n  time_limit: 2.5\n"
    )
    problem = load_package(package(tmp_path, {"problem.yaml": config, ".timelimit": "7\n"}))
    limits = problem.limits
    assert (limits.time_multiplier, limits.time_safety_margin) == (3.0, 1.5)
    assert (limits.memory_mb, limits.output_mb, limits.compilation_time) == (512, 16, 30)
    assert limits.validation_memory_mb == 1024
    assert limits.time_limit == 2.5  # problem.yaml wins over .timelimit


def test_2025_format_reads_time_multipliers_and_name_map(tmp_path: Path) -> None:
    config = (
        "problem_format_version: 2025-09\nname:\n  sv: Hej\n  en: Hello\nuuid: x\n"
        "type: pass-fail\nlimits:\n  time_limit: 1.5\n  time_multipliers:\n"
        "    ac_to_time_limit: 4\n    time_limit_to_tle: 3\n  memory: 128\n"
    )
    problem = load_package(package(tmp_path, {"problem.yaml": config}))
    assert problem.name == "Hello"
    assert problem.format_version == "2025-09"
    assert problem.limits.time_limit == 1.5
    assert (problem.limits.time_multiplier, problem.limits.time_safety_margin) == (4.0, 3.0)
    assert problem.limits.memory_mb == 128


def test_name_map_without_english_takes_the_first(tmp_path: Path) -> None:
    config = "problem_format_version: 2025-09\nname:\n  sv: Hej\n  da: Hej hej\n"
    assert load_package(package(tmp_path, {"problem.yaml": config})).name == "Hej"


def test_missing_name_falls_back_to_the_slug(tmp_path: Path) -> None:
    assert load_package(package(tmp_path, {"problem.yaml": ""})).name == "demo"


def test_timelimit_file_gives_the_time_limit(tmp_path: Path) -> None:
    problem = load_package(package(tmp_path, {".timelimit": "3\n"}))
    assert problem.limits.time_limit == 3.0


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"problem.yaml": "name: [unclosed\n"}, "problem.yaml: invalid YAML at line"),
        (
            {"problem.yaml": "- a\n- b\n"},
            "problem.yaml: expected a map of keys at the top, got a list",
        ),
        ({"problem.yaml": "limits: 5\n"}, "problem.yaml: 'limits' must be a map"),
        (
            {"problem.yaml": "limits:\n  memory: lots\n"},
            "'memory' must be a number, got the text 'lots'",
        ),
        ({"problem.yaml": "limits:\n  memory: 1.5\n"}, "'memory' must be a whole number"),
        ({"problem.yaml": "limits:\n  memory: 0\n"}, "'memory' must be greater than 0"),
        ({"problem.yaml": "limits:\n  memory: .inf\n"}, "'memory' is out of range, got 'inf'"),
        ({"problem.yaml": "limits:\n  output: .nan\n"}, "'output' is out of range"),
        ({"problem.yaml": f"limits:\n  memory: {10**400}\n"}, "'memory' is out of range"),
        ({"problem.yaml": "limits:\n  time_limit: -1\n"}, "'time_limit' must be greater than 0"),
        (
            {"problem.yaml": "limits:\n  time_multiplier: 0.5\n"},
            "'time_multiplier' must be at least 1",
        ),
        ({"problem.yaml": "validation: fancy\n"}, "'validation' must be 'default' or 'custom'"),
        ({"problem.yaml": "validation: custom\n"}, "validation is 'custom' but output_validators/"),
        (
            {"problem.yaml": "validator_flags: float_tolerence 1e-6\n"},
            "unknown checker flag 'float_tolerence'",
        ),
        (
            {"problem.yaml": "validator_flags: {a: 1}\n"},
            "'validator_flags' must be a string or a list",
        ),
        (
            {"problem.yaml": "problem_format_version: 1999-01\n"},
            "unknown problem_format_version '1999-01'",
        ),
        ({"problem.yaml": "name: {}\n"}, "'name' must be a string or a map"),
        ({"problem.yaml": b"name: \xff\xfe\n"}, "problem.yaml: not UTF-8 text"),
        ({".timelimit": "soon\n"}, ".timelimit: expected a number of seconds, got 'soon'"),
        (
            {"data/secret/2.in": "x\n"},
            "data/secret/2.in: the test has no answer file data/secret/2.ans",
        ),
        (
            {"data/secret/g/1.in": "1\n", "data/secret/g/1.ans": "1\n", "data/secret/g.in": "1\n"},
            "a test case and a test group share the name 'g'",
        ),
        (
            {"data/secret/testdata.yaml": "output_validator_flags: nonsense\n"},
            "invalid flags for the default validator in test secret/1",
        ),
        (
            {"data/secret/testdata.yaml": "output_validator_args: [1, [2]]\n"},
            "data/secret/testdata.yaml",
        ),
        (
            {
                "output_validators/a/a.py": "",
                "output_validators/b/b.py": "",
                "problem.yaml": "validation: custom\n",
            },
            "output_validators/: holds several validators (a, b)",
        ),
    ],
)
def test_malformed_packages_name_the_file_and_the_problem(
    tmp_path: Path, files: dict[str, str | bytes], message: str
) -> None:
    assert message in error_of(package(tmp_path, files))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "problem_format_version: 2025-09\ntype: [interactive, multi-pass]\n",
            "interactive multi-pass problems are not supported yet",
        ),
    ],
)
def test_unsupported_problem_kinds_say_so(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(UnsupportedProblem, match=message):
        load_package(package(tmp_path, {"problem.yaml": config, "output_validators/v/v.py": ""}))


def test_missing_pieces_are_reported(tmp_path: Path) -> None:
    root = package(tmp_path)
    (root / "problem.yaml").unlink()
    assert "problem.yaml: missing" in error_of(root)
    empty = write(tmp_path / "empty", {"problem.yaml": "", "data/secret/readme.txt": "x"})
    assert "data/: no test cases (expected .in and .ans files" in error_of(empty)
    nodata = write(tmp_path / "nodata", {"problem.yaml": ""})
    assert "data/: missing" in error_of(nodata)


def test_a_package_with_sample_tests_only_is_judged_on_them(tmp_path: Path) -> None:
    # DOMjudge's own example problems have no data/secret at all.
    root = write(
        tmp_path / "hello",
        {"problem.yaml": "name: Hello\n", "data/sample/1.in": "", "data/sample/1.ans": "hi\n"},
    )

    problem = load_package(root)

    assert [test.name for test in problem.tests] == ["sample/1"]
    assert problem.samples_only
    assert not load_package(package(tmp_path)).samples_only


@pytest.mark.parametrize("name", ["Demo", "has space", "-dash", "a.b", "ünï"])
def test_package_names_are_checked(tmp_path: Path, name: str) -> None:
    root = package(tmp_path, slug=name)
    assert f"the package name '{name}' must be" in error_of(root)


def test_hidden_files_and_other_data_folders_are_ignored(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "data/secret/.2.in": "x",
            "data/secret/notes.txt": "x",
            "data/invalid_input/1.in": "x",
            "data/secret/1.in.statement": "x",
            "submissions/accepted/.hidden.py": "x",
            "submissions/submissions.yaml": "accepted: {}\n",
            "submissions/.git/a.py": "x",
        },
    )
    problem = load_package(root)
    assert [t.name for t in problem.tests] == ["sample/1", "secret/1"]
    assert [s.path for s in problem.submissions] == ["accepted/echo.py"]


def test_a_folder_of_another_tool_expects_what_its_tags_say_or_nothing(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "submissions/mixed/tagged.c": "// @EXPECTED_RESULTS@: WRONG-ANSWER\n",
            "submissions/strange_folder/a.py": "x",
        },
    )

    expected = {s.path: s.expected for s in load_package(root).submissions}

    assert expected["mixed/tagged.c"] == ("WA",)
    assert expected["strange_folder/a.py"] == ()  # verify reports it skipped, saying why


# --- validator flags by group -----------------------------------------------------------------


def test_group_flags_combine_with_problem_flags(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "problem.yaml": "validator_flags: case_sensitive\n",
            "data/secret/g1/1.in": "",
            "data/secret/g1/1.ans": "",
            "data/secret/g1/testdata.yaml": "output_validator_flags: float_tolerance 1e-3\n",
            "data/secret/g2/1.in": "",
            "data/secret/g2/1.ans": "",
            "data/secret/g2/2.in": "",
            "data/secret/g2/2.ans": "",
            "data/secret/g2/2.yaml": "output_validator_args: [space_change_sensitive]\n",
        },
    )
    (root / "data/secret/1.in").unlink()
    (root / "data/secret/1.ans").unlink()
    problem = load_package(root)
    flags = {test.name: test.validator_flags for test in problem.tests}
    assert flags == {
        "sample/1": ("case_sensitive",),
        "secret/g1/1": ("case_sensitive", "float_tolerance", "1e-3"),
        "secret/g2/1": ("case_sensitive",),
        "secret/g2/2": ("case_sensitive", "space_change_sensitive"),
    }
    assert problem.validator_flags == ("case_sensitive",)


def test_flags_shared_by_every_test_become_the_problem_flags(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "problem.yaml": "problem_format_version: 2025-09\n",
            "data/sample/test_group.yaml": "output_validator_args: [float_tolerance, '1e-4']\n",
            "data/secret/test_group.yaml": "output_validator_args: [float_tolerance, '1e-4']\n",
        },
    )
    assert load_package(root).validator_flags == ("float_tolerance", "1e-4")


# --- submissions ------------------------------------------------------------------------------


def test_submissions_expect_verdicts_by_folder_or_tag(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "submissions/slow_accepted/slow.py": "x",
            "submissions/run_time_error/crash.c": "x",
            "submissions/time_limit_exceeded/loop.cpp": "x",
            "submissions/memory_limit_exceeded/hog.c": "x",
            "submissions/compiler_error/bad.c": "x",
            "submissions/output_limit/flood.c": "x",
            "submissions/no_output/quiet.c": "x",
            "submissions/wrong_answer/mixed.c": "/* @EXPECTED_RESULTS@: CORRECT, WRONG-ANSWER */\n",
            "submissions/accepted/tagged.py": "# @EXPECTED_RESULTS@: TIMELIMIT,RUN-ERROR\n",
            "submissions/accepted/multi/main.py": "import helper\n",
            "submissions/accepted/multi/helper.py": "",
        },
    )
    expected = {s.path: (s.expected, s.category) for s in load_package(root).submissions}
    assert expected == {
        "accepted/echo.py": (("AC",), "accepted"),
        "accepted/multi": (("AC",), "accepted"),
        "accepted/tagged.py": (("TLE", "RE", "MLE"), "accepted"),
        "compiler_error/bad.c": (("CE",), "compiler_error"),
        "memory_limit_exceeded/hog.c": (("MLE",), "memory_limit_exceeded"),
        "no_output/quiet.c": (("WA",), "no_output"),
        "output_limit/flood.c": (("OLE",), "output_limit"),
        "run_time_error/crash.c": (("RE", "MLE"), "run_time_error"),
        "slow_accepted/slow.py": (("AC",), "slow_accepted"),
        "time_limit_exceeded/loop.cpp": (("TLE",), "time_limit_exceeded"),
        "wrong_answer/mixed.c": (("AC", "WA"), "wrong_answer"),
    }
    multi = next(s for s in load_package(root).submissions if s.path == "accepted/multi")
    assert [f.name for f in multi.files] == ["helper.py", "main.py"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("CORRECT", ("AC",)),
        ("ACCEPTED", ("AC",)),
        ("WRONG-ANSWER", ("WA",)),
        ("WRONG_ANSWER", ("WA",)),
        ("TIMELIMIT", ("TLE",)),
        ("TIME_LIMIT_EXCEEDED", ("TLE",)),
        ("RUN-ERROR", ("RE", "MLE")),
        ("RUN_TIME_ERROR", ("RE", "MLE")),
        ("NO-OUTPUT", ("WA",)),
        ("OUTPUT-LIMIT", ("OLE",)),
        ("COMPILER-ERROR", ("CE",)),
        ("compiler_error", ("CE",)),
        ("MEMORY-LIMIT", ("MLE",)),
        ("ACCEPTED, TIME_LIMIT_EXCEEDED", ("AC", "TLE")),
    ],
)
def test_both_spellings_of_domjudge_result_tags_are_read(
    tmp_path: Path, tag: str, expected: tuple[str, ...]
) -> None:
    root = package(tmp_path, {"submissions/accepted/tagged.c": f"// @EXPECTED_RESULTS@: {tag}\n"})

    tagged = next(s for s in load_package(root).submissions if s.path == "accepted/tagged.c")

    assert (tagged.expected, tagged.problem) == (expected, "")


def test_a_tag_needs_its_colon_a_mention_in_prose_is_none(tmp_path: Path) -> None:
    text = (
        "/* Fails because of several @EXPECTED_RESULTS@ tags.\n"
        " * @EXPECTED_RESULTS@: WRONG-ANSWER */\n"
    )
    root = package(tmp_path, {"submissions/accepted/odd.c": text})

    odd = next(s for s in load_package(root).submissions if s.path == "accepted/odd.c")

    assert (odd.expected, odd.problem) == (("WA",), "")


def test_an_unknown_tag_is_a_problem_of_that_submission_only(tmp_path: Path) -> None:
    root = package(
        tmp_path, {"submissions/wrong_answer/x.c": "// @EXPECTED_RESULTS@: CORRECT, WRONG\n"}
    )

    by_path = {s.path: s for s in load_package(root).submissions}

    assert by_path["wrong_answer/x.c"].expected == ()
    assert "wrong_answer/x.c: unknown @EXPECTED_RESULTS@ result 'WRONG'" in (
        by_path["wrong_answer/x.c"].problem
    )
    assert (by_path["accepted/echo.py"].expected, by_path["accepted/echo.py"].problem) == (
        ("AC",),
        "",
    )


def test_expected_result_txt_beside_a_multi_file_submission_decides(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "submissions/accepted/multi/expected_result.txt": (
                "@EXPECTED_RESULTS@: CORRECT, NO-OUTPUT\n"
            ),
            "submissions/accepted/multi/main.c": "int main(void) { return 0; }\n",
            "submissions/accepted/plain/expected_result.txt": "wrong_answer\n",
            "submissions/accepted/plain/main.py": "print(0)\n",
        },
    )

    by_path = {s.path: s for s in load_package(root).submissions}

    assert by_path["accepted/multi"].expected == ("AC", "WA")
    assert [f.name for f in by_path["accepted/multi"].files] == ["main.c"]
    assert by_path["accepted/plain"].expected == ("WA",)


def test_tags_of_several_files_that_disagree_are_a_problem(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        {
            "submissions/accepted/multi/a.c": "// @EXPECTED_RESULTS@: CORRECT\n",
            "submissions/accepted/multi/b.c": "// @EXPECTED_RESULTS@: WRONG-ANSWER\n",
        },
    )

    multi = next(s for s in load_package(root).submissions if s.path == "accepted/multi")

    assert "tags disagree" in multi.problem


def test_check_manually_submissions_are_marked(tmp_path: Path) -> None:
    root = package(tmp_path, {"submissions/check_manually/odd.c": "int main(void) {}\n"})

    odd = next(s for s in load_package(root).submissions if s.path == "check_manually/odd.c")

    assert odd.check_manually and odd.expected == ()


# --- directories with symbolic links ----------------------------------------------------------


def test_symlink_inside_the_package_is_allowed(tmp_path: Path) -> None:
    root = package(tmp_path)
    (root / "data/secret/2.in").symlink_to(root / "data/secret/1.in")
    (root / "data/secret/2.ans").symlink_to("1.ans")
    assert [t.name for t in load_package(root).tests][-1] == "secret/2"


def test_symlink_pointing_outside_the_package_is_rejected(tmp_path: Path) -> None:
    root = package(tmp_path)
    secret = tmp_path / "host-secret.txt"
    secret.write_text("password")
    (root / "data/secret/2.in").symlink_to(secret)
    assert "data/secret/2.in: symbolic link pointing outside the package" in error_of(root)
    (root / "data/secret/2.in").unlink()
    (root / "data/escape").symlink_to("/etc")
    assert "data/escape: symbolic link pointing outside the package" in error_of(root)


def test_broken_symlink_is_rejected(tmp_path: Path) -> None:
    root = package(tmp_path)
    (root / "data/secret/2.in").symlink_to(root / "nowhere")
    assert "data/secret/2.in: broken symbolic link" in error_of(root)


# --- zips -------------------------------------------------------------------------------------


def zip_of(directory: Path, archive: Path, *, top: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                name = path.relative_to(directory).as_posix()
                bundle.write(path, f"{top}/{name}" if top else name)
    return archive


@pytest.mark.parametrize("top", [None, "demo"])
def test_zip_package_loads_with_or_without_a_top_folder(tmp_path: Path, top: str | None) -> None:
    archive = zip_of(package(tmp_path), tmp_path / "demo.zip", top=top)
    problem = load_package(archive, extract_to=tmp_path / "out")
    assert problem.slug == "demo"
    assert problem.root.is_relative_to(tmp_path / "out")
    assert [t.name for t in problem.tests] == ["sample/1", "secret/1"]
    assert problem.tests[1].answer.read_text() == "2\n"


def test_zip_keeps_executable_bits(tmp_path: Path) -> None:
    root = package(tmp_path, {"output_validator/run": "#!/bin/sh\nexit 42\n"})
    (root / "output_validator/run").chmod(0o755)
    archive = zip_of(root, tmp_path / "demo.zip")
    problem = load_package(archive, extract_to=tmp_path / "out")
    assert os.access(problem.root / "output_validator/run", os.X_OK)
    assert not os.access(problem.root / "problem.yaml", os.X_OK)


def test_zip_without_extract_dir_uses_a_temporary_one(tmp_path: Path) -> None:
    archive = zip_of(package(tmp_path), tmp_path / "demo.zip")
    problem = load_package(archive)
    try:
        assert problem.root.name.startswith("verdict-demo-")
    finally:
        import shutil

        shutil.rmtree(problem.root)


def test_extraction_dir_must_be_empty(tmp_path: Path) -> None:
    archive = zip_of(package(tmp_path), tmp_path / "demo.zip")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert "the extraction directory is not empty" in error_of(archive, extract_to=tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def snapshot(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def hostile_zip(tmp_path: Path, build: object) -> tuple[Path, Path, set[str]]:
    """Zip a valid package plus the members ``build`` adds; return zip, target and snapshot."""
    source = package(tmp_path / "src")
    archive = tmp_path / "work" / "demo.zip"
    archive.parent.mkdir()
    zip_of(source, archive)
    with zipfile.ZipFile(archive, "a") as bundle:
        build(bundle)  # type: ignore[operator]
    (tmp_path / "etc").mkdir()
    return archive, tmp_path / "work" / "deep" / "extract", snapshot(tmp_path)


def assert_rejected(tmp_path: Path, build: object, message: str) -> None:
    archive, target, before = hostile_zip(tmp_path, build)
    with pytest.raises(PackageError) as caught:
        load_package(archive, extract_to=target)
    assert message in str(caught.value)
    assert "demo.zip" in str(caught.value)
    after = snapshot(tmp_path)
    outside = {name for name in after - before if not name.startswith("work/deep/extract")}
    assert outside <= {"work/deep"}  # only the parent of the extraction dir was created
    assert not any(target.iterdir())
    assert not (tmp_path / "etc" / "x").exists()
    assert not Path("/etc/x-verdict-test").exists()


def test_zip_member_with_an_absolute_path_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr(zipfile.ZipInfo("/etc/x-verdict-test"), "owned")

    assert_rejected(tmp_path, build, "'/etc/x-verdict-test' is an absolute path")


def test_zip_member_climbing_out_with_dotdot_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr(zipfile.ZipInfo("../../etc/x"), "owned")

    assert_rejected(tmp_path, build, "'../../etc/x' climbs out of the package with '..'")


def test_zip_member_with_dotdot_inside_the_path_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr(zipfile.ZipInfo("data/../../../etc/x"), "owned")

    assert_rejected(tmp_path, build, "climbs out of the package")


def test_zip_symlink_member_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        link = zipfile.ZipInfo("data/secret/2.in")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/shadow")

    assert_rejected(tmp_path, build, "'data/secret/2.in' is a symbolic link")


def test_zip_device_member_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        fifo = zipfile.ZipInfo("data/secret/pipe")
        fifo.create_system = 3
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        bundle.writestr(fifo, "")

    assert_rejected(tmp_path, build, "is not a regular file or directory")


def test_zip_bomb_by_compression_ratio_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr("data/secret/9.in", bytes(4 << 20), compress_type=zipfile.ZIP_LZMA)

    assert_rejected(tmp_path, build, "looks like a zip bomb")


def test_zip_with_too_many_members_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        for index in range(10_001):
            bundle.writestr(f"many/{index}.txt", "")

    assert_rejected(tmp_path, build, "entries; at most 10000 are allowed")


def test_zip_with_a_huge_declared_size_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr("data/secret/huge.in", b"x" * 100, compress_type=zipfile.ZIP_STORED)

    archive, target, _ = hostile_zip(tmp_path, build)
    content = bytearray(archive.read_bytes())
    name = b"data/secret/huge.in"
    central = content.rfind(b"PK\x01\x02", 0, content.rfind(name))
    content[central + 24 : central + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    archive.write_bytes(bytes(content))
    with pytest.raises(
        PackageError, match=r"'data/secret/huge.in' declares 4096.0 MiB uncompressed"
    ):
        load_package(archive, extract_to=target)
    assert not any(target.iterdir())


def test_zip_over_the_total_size_is_rejected(tmp_path: Path) -> None:
    archive = zip_of(package(tmp_path, {"data/secret/2.in": "9" * 5000}), tmp_path / "demo.zip")
    limits = ZipLimits(max_total_bytes=4000)
    with pytest.raises(PackageError, match=r"more than 0\.0 MiB uncompressed in total"):
        load_package(archive, extract_to=tmp_path / "out", zip_limits=limits)


def test_zip_with_duplicate_names_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        with pytest.warns(UserWarning, match="Duplicate name"):
            bundle.writestr("problem.yaml", "name: Evil twin\n")

    assert_rejected(tmp_path, build, "'problem.yaml' appears more than once")


def test_zip_with_a_file_where_a_folder_is_is_rejected(tmp_path: Path) -> None:
    def build(bundle: zipfile.ZipFile) -> None:
        bundle.writestr("data/secret/1.in/x", "1")

    assert_rejected(tmp_path, build, "is inside a file, not a directory")


def test_not_a_zip_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "demo.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert "demo.zip: not a readable zip archive" in error_of(archive, extract_to=tmp_path / "o")


def test_zip_without_problem_yaml_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "demo.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a/problem.yaml", "")
        bundle.writestr("b/problem.yaml", "")
    assert "no problem.yaml at the top of the zip" in error_of(archive, extract_to=tmp_path / "o")


def test_missing_package_path(tmp_path: Path) -> None:
    assert "no such package" in error_of(tmp_path / "absent.zip")


def test_extract_zip_alone_checks_before_writing(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("ok.txt", "fine")
        bundle.writestr(zipfile.ZipInfo("../escape.txt"), "owned")
    with pytest.raises(PackageError, match="climbs out"):
        extract_zip(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


# --- hostile YAML (#14, item 8) ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["problem.yaml", "data/secret/testdata.yaml"])
def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path, where: str) -> None:
    # A million values once expanded, from 400 bytes: refused as soon as a level passes the bound.
    message = error_of(package(tmp_path, {where: yaml_alias_bomb(6)}))
    assert message.startswith(f"{where}: ")
    assert f"more than {MAX_YAML_NODES} values once its aliases are expanded" in message


@pytest.mark.parametrize("where", ["problem.yaml", "data/secret/testdata.yaml"])
def test_deeply_nested_yaml_is_refused(tmp_path: Path, where: str) -> None:
    message = error_of(package(tmp_path, {where: yaml_nested(5000)}))
    assert message.startswith(f"{where}: ")
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in message


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    message = error_of(package(tmp_path, {"problem.yaml": "name: Demo\nloop: &loop [*loop]\n"}))
    assert "an alias (*loop) inside the list or map it names" in message


def test_modest_anchors_and_aliases_still_load(tmp_path: Path) -> None:
    config = (
        "name: Demo\nshared: &limits {memory: 512, output: 16}\nlimits: *limits\n"
        + yaml_alias_bomb(3, key="spare")  # a thousand values once expanded: fine
        + yaml_nested(MAX_YAML_DEPTH - 1, key="deep")  # in the top map: the deepest allowed
    )
    problem = load_package(package(tmp_path, {"problem.yaml": config}))
    assert (problem.limits.memory_mb, problem.limits.output_mb) == (512, 16)


@pytest.mark.parametrize(
    ("kinds", "problem_type", "submit_answer"),
    [
        ("submit-answer", "pass-fail", True),
        ("[scoring, submit-answer]", "scoring", True),
        ("scoring", "scoring", False),
        ("[pass-fail]", "pass-fail", False),
    ],
)
def test_2025_09_problem_types_that_are_judged(
    tmp_path: Path, kinds: str, problem_type: str, submit_answer: bool
) -> None:
    root = package(tmp_path, {"problem.yaml": f"problem_format_version: 2025-09\ntype: {kinds}\n"})

    problem = load_package(root)

    assert (problem.problem_type, problem.submit_answer) == (problem_type, submit_answer)


def test_an_unknown_problem_type_is_a_package_error(tmp_path: Path) -> None:
    root = package(tmp_path, {"problem.yaml": "problem_format_version: 2025-09\ntype: quiz\n"})

    assert "unknown problem type 'quiz'" in error_of(root)


@pytest.mark.parametrize(
    "config",
    ["validation: custom interactive\n", "problem_format_version: 2025-09\ntype: interactive\n"],
)
def test_interactive_problems_load_with_their_interactor(tmp_path: Path, config: str) -> None:
    folder = "output_validator/v.py" if "2025" in config else "output_validators/v/v.py"
    with_interactor = package(tmp_path / "with", {"problem.yaml": config, folder: ""})
    without = package(tmp_path / "without", {"problem.yaml": config})

    assert load_package(with_interactor).interactive
    assert "an interactive problem needs its validator (the interactor)" in error_of(without)


def test_submit_answer_and_interactive_exclude_each_other(tmp_path: Path) -> None:
    config = "problem_format_version: 2025-09\ntype: [interactive, submit-answer]\n"
    root = package(tmp_path, {"problem.yaml": config, "output_validator/v.py": ""})

    assert "'submit-answer' and 'interactive' exclude each other" in error_of(root)
