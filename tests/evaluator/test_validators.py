"""Edge cases of the default output validator (token comparison), as a table."""

from __future__ import annotations

import pytest

from service.evaluator.validators import CheckerFlagError, check_tokens, parse_flags

TOL = ("float_tolerance", "1e-6")
ABS = ("float_absolute_tolerance", "0.01")
REL = ("float_relative_tolerance", "0.01")
REL_1E6 = ("float_relative_tolerance", "1e-6")
REL_2 = ("float_relative_tolerance", "2")
CASE = ("case_sensitive",)
SPACE = ("space_change_sensitive",)

# (output, answer, flags, accepted)
CASES: list[tuple[bytes, bytes, tuple[str, ...], bool]] = [
    # identical and whitespace-insensitive by default
    (b"42\n", b"42\n", (), True),
    (b"42", b"42\n", (), True),
    (b"42\n\n\n", b"42\n", (), True),
    (b"42   \n", b"42\n", (), True),
    (b"  42", b"42\n", (), True),
    (b"1 2 3\n", b"1\n2\n3\n", (), True),
    (b"1\t2\t3", b"1 2 3\n", (), True),
    (b"1\r\n2\r\n", b"1\n2\n", (), True),
    (b"1\x0b2\x0c3", b"1 2 3", (), True),
    (b"", b"", (), True),
    (b"\n\n", b"", (), True),
    (b"", b"\n", (), True),
    (b"", b"5\n", (), False),
    (b"   \n", b"5\n", (), False),
    (b"5\n", b"", (), False),
    (b"1 2", b"1 2 3", (), False),
    (b"1 2 3 4", b"1 2 3", (), False),
    (b"12", b"1 2", (), False),
    (b"1 2", b"12", (), False),
    # strings and case
    (b"Hello World\n", b"hello world\n", (), True),
    (b"YES", b"yes", (), True),
    (b"YES", b"yes", CASE, False),
    (b"yes", b"yes", CASE, True),
    (b"\xc3\x89t\xc3\xa9", b"\xc3\xa9t\xc3\xa9", (), False),  # only ASCII letters fold
    (b"a\x00b", b"a\x00b", (), True),
    (b"a\x00b", b"a b", (), False),
    # numbers without a tolerance compare as strings
    (b"1.0", b"1", (), False),
    (b"1", b"1.0", (), False),
    (b"1e0", b"1", (), False),
    (b"1E5", b"1e5", (), True),
    (b"1E5", b"1e5", CASE, False),
    (b"007", b"7", (), False),
    (b"-0", b"0", (), False),
    (b"123456789012345678901234567890", b"123456789012345678901234567890", (), True),
    (b"123456789012345678901234567891", b"123456789012345678901234567890", (), False),
    # numbers with a tolerance: any formatting
    (b"1.0", b"1", TOL, True),
    (b"1e0", b"1.000", TOL, True),
    (b"+1.", b"1", TOL, True),
    (b".5", b"0.5", TOL, True),
    (b"5E-1", b"0.5", TOL, True),
    (b"-0", b"0", TOL, True),
    (b"1.0000005", b"1", TOL, True),
    (b"1.000002", b"1", TOL, False),
    (b"1000000.5", b"1000000", TOL, True),  # relative 1e-6 of 1e6 is 1
    (b"1000002", b"1000000", TOL, False),
    (b"0.015", b"0.01", ABS, True),
    (b"0.025", b"0.01", ABS, False),
    (b"100.9", b"100", ABS, False),
    (b"100.9", b"100", REL, True),
    (b"101.1", b"100", REL, False),
    (b"0.005", b"0", REL, False),
    (b"0.005", b"0", ABS, True),
    (b"100.9", b"100", ABS + REL, True),  # within either tolerance
    (b"0.005", b"0", ABS + REL, True),
    (b"abc", b"1.5", TOL, False),
    (b"0x1p0", b"1", TOL, False),
    (b"1,5", b"1.5", TOL, False),
    (b"1_0", b"10", TOL, False),
    (b"hello 1.0", b"HELLO 1", TOL, True),  # string tokens still fold case
    (b"hello 1.0", b"HELLO 1", TOL + CASE, False),
    (b"3.14159 2.71828", b"3.141592653 2.718281828", ("float_absolute_tolerance", "1e-5"), True),
    # nan and inf are strings, never numbers
    (b"nan", b"nan", TOL, True),
    (b"NaN", b"nan", TOL, True),
    (b"NaN", b"nan", TOL + CASE, False),
    (b"nan", b"1.0", TOL, False),
    (b"inf", b"1e400", TOL, False),
    (b"inf", b"inf", TOL, True),
    (b"1e308", b"inf", TOL, False),
    (b"nan", b"nan", (), True),
    # huge numbers
    (b"1e400", b"1.0000000001e400", ("float_relative_tolerance", "1e-9"), True),
    (b"1e400", b"1.1e400", ("float_relative_tolerance", "1e-9"), False),
    (b"-1e400", b"1e400", TOL, False),
    (b"1e-400", b"0", ("float_absolute_tolerance", "1e-9"), True),
    (b"1" * 400, b"1" * 400, TOL, True),
    (b"1" * 400, b"2" * 400, TOL, False),
    (b"1.7976931348623157e308", b"1.7976931348623157e308", TOL, True),
    # exponents beyond a double, and beyond Python's decimal range, compare exactly
    (b"5e9999999999999999999", b"1e9999999999999999999", TOL, False),
    (b"1e9999999999999999999", b"1e9999999999999999998", TOL, False),
    (b"1.0e9999999999999999999", b"1e9999999999999999999", TOL, True),
    (b"10e9999999999999999998", b"1e9999999999999999999", TOL, True),
    (b"1.0000001e9999999999999999999", b"1e9999999999999999999", REL_1E6, True),
    (b"1.00001e9999999999999999999", b"1e9999999999999999999", REL_1E6, False),
    (b"-1e9999999999999999999", b"1e9999999999999999999", REL_2, True),  # exactly 2 x |answer|
    (b"-1.0000000001e9999999999999999999", b"1e9999999999999999999", REL_2, False),
    (b"-9e999999999999999999", b"9e999999999999999999", ("float_relative_tolerance", "1.5"), False),
    (b"1e-9999999999999999999", b"0.5", ("float_absolute_tolerance", "0.5"), True),
    (b"-1e-9999999999999999999", b"0.5", ("float_absolute_tolerance", "0.5"), False),
    (b"1e-400", b"2e-400", REL_1E6, False),  # both underflow a double to 0
    (b"1e-400", b"2e-400", ABS, True),
    (b"1.0000001e-400", b"1e-400", REL_1E6, True),
    (b"3e-320", b"2e-320", REL_1E6, False),  # subnormal doubles
    (b"2e" + b"9" * 5000, b"1e" + b"9" * 5000, TOL, False),  # an exponent too long to compare
    (b"1 2 1e-400", b"1 2 2e-400", REL_1E6, False),  # among other numbers
    (b"0 2 -1e-9999999999999999999", b"0.0 2 0.5", ("float_absolute_tolerance", "0.5"), False),
    # space_change_sensitive
    (b"1 2\n", b"1 2\n", SPACE, True),
    (b"1  2\n", b"1 2\n", SPACE, False),
    (b"1\t2\n", b"1 2\n", SPACE, False),
    (b"1 2", b"1 2\n", SPACE, False),
    (b"1 2\n\n", b"1 2\n", SPACE, False),
    (b"1 2 \n", b"1 2\n", SPACE, False),
    (b" 1 2\n", b"1 2\n", SPACE, False),
    (b"1 2\r\n", b"1 2\n", SPACE, False),
    (b"A B\n", b"a b\n", SPACE, True),
    (b"A B\n", b"a b\n", SPACE + CASE, False),
    (b"1.0 2\n", b"1 2\n", SPACE + TOL, True),
    (b"1.0  2\n", b"1 2\n", SPACE + TOL, False),
    (b"1 3\n", b"1 2\n", SPACE, False),
    (b"", b"", SPACE, True),
    (b"\n", b"", SPACE, False),
]


@pytest.mark.parametrize(("output", "answer", "flags", "accepted"), CASES)
def test_default_checker_table(
    output: bytes, answer: bytes, flags: tuple[str, ...], accepted: bool
) -> None:
    result = check_tokens(output, answer, flags)
    assert result.accepted is accepted, result.message
    assert bool(result.message) is not accepted


@pytest.mark.parametrize(
    ("output", "answer", "flags", "expected"),
    [
        (b"1\n2\n6\n", b"1\n2\n5\n", (), "wrong answer on line 3: expected '5', got '6' (token 3)"),
        (b"1 2 6", b"1\n2\n5\n", (), "line 1 of the output (line 3 of the answer)"),
        (b"", b"5\n", (), "the output is empty, expected '5'"),
        (b"1 2", b"1 2 3\n", (), "the output ends after 2 tokens, expected '3' next"),
        (b"1 2 3 4", b"1 2 3\n", (), "unexpected extra output '4' after the expected 3 tokens"),
        (b"Yes", b"YES", CASE, "expected 'YES', got 'Yes'"),
        (b"x", b"1.5", TOL, "expected '1.5', got 'x' (token 1): expected a number"),
        (b"2", b"1", ABS, "absolute error 1.000e+00"),
        (b"1  2\n", b"1 2\n", SPACE, "whitespace differs: expected ' ', got '  '"),
        (b"1 2", b"1 2\n", SPACE, "lacks the final whitespace '\\n'"),
        (b"a\n\nb\nc\nX\n", b"a b c d", (), "on line 5 of the output (line 1 of the answer)"),
        (b"z" * 500, b"y", (), "got '" + "z" * 60 + "...'"),
    ],
)
def test_messages_say_where_and_what(
    output: bytes, answer: bytes, flags: tuple[str, ...], expected: str
) -> None:
    result = check_tokens(output, answer, flags)
    assert not result.accepted
    assert expected in result.message


def test_messages_show_the_original_case_of_tokens() -> None:
    result = check_tokens(b"Hello Wurld", b"HELLO WORLD")
    assert "expected 'WORLD', got 'Wurld'" in result.message


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (("float_tolerence", "1e-6"), "unknown checker flag 'float_tolerence'"),
        (("float_tolerance",), "needs a number after it"),
        (("float_tolerance", "abc"), "needs a decimal number, got 'abc'"),
        (("float_absolute_tolerance", "-1"), "finite number >= 0"),
        (("float_relative_tolerance", "nan"), "needs a decimal number"),
        (("ignore_case",), "known flags: case_sensitive"),
    ],
)
def test_invalid_flags_raise_a_clear_error(flags: tuple[str, ...], error: str) -> None:
    with pytest.raises(CheckerFlagError, match=error):
        check_tokens(b"1", b"1", flags)


def test_parse_flags_reads_every_flag() -> None:
    options = parse_flags(
        ["case_sensitive", "space_change_sensitive", "float_absolute_tolerance", "0.5"]
    )
    assert options.case_sensitive and options.space_change_sensitive
    assert options.absolute_tolerance == 0.5
    assert options.relative_tolerance is None
    both = parse_flags(["float_tolerance", "1e-4"])
    assert both.absolute_tolerance == both.relative_tolerance == 1e-4


def test_mismatch_deep_in_a_big_output_is_found_with_its_line() -> None:
    numbers = [str(i * 7919 % 1000003) for i in range(400_000)]
    answer = ("\n".join(numbers) + "\n").encode()
    numbers[345_678] = "-1"
    output = (" \n".join(numbers) + "\n").encode()
    result = check_tokens(output, answer)
    assert not result.accepted
    assert "on line 345679:" in result.message
    assert "(token 345679)" in result.message


def test_a_million_numbers_are_checked() -> None:
    # Its speed is measured by bench/checker.py, not here: a loaded machine breaks timings.
    numbers = [f"{i * 0.001:.6f}" for i in range(1_000_000)]
    answer = ("\n".join(numbers) + "\n").encode()
    output = ("  ".join(n.rstrip("0") for n in numbers) + "\n").encode()
    assert check_tokens(output, answer, TOL).accepted
    assert check_tokens(output, answer + b"1\n", TOL).accepted is False


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_chunk_boundaries_do_not_change_the_judgement(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from service.evaluator import validators

    rng = random.Random(chunk)
    words = [b"1", b"1.0", b"1e0", b"abc", b"ABC", b"-0", b"2.5", b"nan", b"x" * 9]
    spaces = [b" ", b"  ", b"\n", b"\r\n", b"\t", b"\n\n"]
    flag_sets: list[tuple[str, ...]] = [(), CASE, SPACE, TOL, TOL + SPACE]

    def text(tokens: list[bytes]) -> bytes:
        return b"".join(token + rng.choice(spaces) for token in tokens)

    cases = []
    for _ in range(150):
        tokens = [rng.choice(words) for _ in range(rng.randint(0, 12))]
        changed = list(tokens)
        if changed and rng.random() < 0.5:
            changed[rng.randrange(len(changed))] = rng.choice(words)
        if rng.random() < 0.2:
            changed.append(rng.choice(words))
        cases.append((text(changed), text(tokens), rng.choice(flag_sets)))
    expected = [check_tokens(output, answer, flags) for output, answer, flags in cases]
    assert {result.accepted for result in expected} == {True, False}
    monkeypatch.setattr(validators, "_CHUNK_BYTES", chunk)
    assert [check_tokens(output, answer, flags) for output, answer, flags in cases] == expected
