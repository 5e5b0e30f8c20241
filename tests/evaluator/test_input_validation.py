"""Input validators: run on every test input by verify, in every folder the formats use."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.evaluator import load_package
from service.evaluator.input_validation import validate_inputs
from service.evaluator.programs import make_scratch_dir
from service.evaluator.verify import verify
from tests.factories import write_package
from tests.fakes import real_sandbox

#: Accepts one integer between its two arguments (default 1 and 100) on a line of its own.
RANGE_VALIDATOR = """\
import sys
low, high = (int(arg) for arg in sys.argv[1:3]) if len(sys.argv) > 2 else (1, 100)
text = sys.stdin.read()
if not text.endswith("\\n") or not text[:-1].isdigit():
    print("expected one integer on a line", file=sys.stderr)
    sys.exit(43)
if not low <= int(text) <= high:
    print(f"{int(text)} is outside [{low}, {high}]", file=sys.stderr)
    sys.exit(43)
sys.exit(42)
"""

TESTS = {
    "sample/1": ("5\n", "5\n"),
    "secret/small/1": ("7\n", "7\n"),
    "secret/big/1": ("5000\n", "5000\n"),
}


def with_validators(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.sandbox
async def test_every_input_is_checked_and_the_failing_ones_are_named(tmp_path: Path) -> None:
    root = with_validators(
        write_package(
            tmp_path / "ranges", TESTS, submissions={"accepted/echo.py": "print(input())\n"}
        ),
        {
            "input_validators/range.py": RANGE_VALIDATOR,
            # The big group widens the range for the validator named "range" only.
            "data/secret/big/testdata.yaml": "input_validator_flags:\n  range: 1 10000\n",
        },
    )
    problem = load_package(root)
    strict = load_package(
        with_validators(
            write_package(tmp_path / "strict", TESTS),
            {"input_format_validators/range.py": RANGE_VALIDATOR},  # the legacy folder
        )
    )

    async with real_sandbox() as sandbox:
        report = await verify(sandbox, problem, time_limit=2.0)
        scratch = make_scratch_dir(None, "verdict-test-")
        checked = await validate_inputs(sandbox, strict, scratch)

    assert report.inputs.validators == ("range",)
    assert (report.inputs.checked, report.inputs.failures) == (3, ())
    assert report.ok
    assert (checked.checked, len(checked.failures)) == (3, 1)
    (failure,) = checked.failures
    assert (failure.validator, failure.test) == ("range", "secret/big/1")
    assert failure.message == "rejected it: 5000 is outside [1, 100]"


@pytest.mark.sandbox
async def test_validators_of_other_set_ups_are_listed_as_not_run(tmp_path: Path) -> None:
    root = with_validators(
        write_package(tmp_path / "others", TESTS),
        {
            "input_validators/format.ctd": "INT(1, 100) NEWLINE\n",
            "input_validator/any_input/build": "#!/bin/sh\n",
            "input_validator/any_input/run": "#!/bin/sh\n",
            "input_validators/broken.c": "int main(void) { return nope; }\n",
            "input_validators/crashes.py": "import sys\nsys.exit(1)\n",
        },
    )
    problem = load_package(root)

    async with real_sandbox() as sandbox:
        checked = await validate_inputs(sandbox, problem, make_scratch_dir(None, "verdict-"))

    not_run = dict(checked.not_run)
    assert not_run["format"] == "a checktestdata script (no .ctd here)"
    assert "DOMjudge's judgehost set-up" in not_run["any_input"]
    assert not_run["broken"].startswith("cannot build it")
    # A validator that crashes accepts nothing: every input fails it, saying how.
    assert checked.validators == ("crashes",)
    assert [failure.test for failure in checked.failures] == [test.name for test in problem.tests]
    assert checked.failures[0].message == "did not accept it (exit code 1)"
