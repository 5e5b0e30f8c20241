"""The default output validator: whitespace-separated token comparison.

It follows the default output validator of the Kattis problem package format (legacy and
2025-09) and of problemtools:

- tokens are separated by runs of ASCII whitespace (space, tab, LF, CR, VT, FF), so leading and
  trailing whitespace, blank lines and `\\r\\n` line ends do not matter by default;
- `case_sensitive`: tokens must match byte for byte; otherwise ASCII letters match up to case;
- `space_change_sensitive`: every whitespace run (leading and trailing ones too) must be the same
  as in the answer;
- `float_absolute_tolerance E`, `float_relative_tolerance E`, `float_tolerance E` (both): every
  answer token that is a decimal number (the spec's grammar: sign, digits, optional point and
  exponent; so no `nan`, `inf` or hex) is compared numerically and passes when it is within either
  tolerance; any number formatting is then accepted (`1e0` matches `1.000`). Without a tolerance
  every token compares as a string, so `1.0` does not match `1`.
- `nan` and `inf` are never numbers: an answer token `nan` only matches the string `nan` (up to
  case), and an output `nan` never matches a numeric answer token. Numbers a double cannot hold
  (too large, `1e400`; too small, `1e-400`, or subnormal) are compared exactly as decimals,
  whatever their exponent (`5e9999999999999999999` is not within 1e-6 of `1e9999999999999999999`),
  up to exponents of `MAX_EXPONENT_DIGITS` digits; a longer exponent only matches its own token.

The work is done on chunks of about a megabyte with `bytes.split` and list comparison, so a
50 MB output is checked without a per-character Python loop.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, Rounded
from itertools import islice

_CHUNK_BYTES = 1 << 20
_SHOWN_TOKEN_CHARS = 60

_WHITESPACE = rb" \t\n\r\x0b\x0c"
_TOKEN = re.compile(rb"[^ \t\n\r\x0b\x0c]+")
_WHITESPACE_RUN = re.compile(rb"[ \t\n\r\x0b\x0c]+")
_TOKEN_END = re.compile(rb"[^ \t\n\r\x0b\x0c][ \t\n\r\x0b\x0c]")
_FLOAT = re.compile(rb"[+-]?(?:[0-9]*\.[0-9]+|[0-9]+\.?)(?:[eE][+-]?[0-9]+)?")
_NUMBER_PARTS = re.compile(rb"([+-]?)([0-9]*)\.?([0-9]*)(?:[eE]([+-]?)([0-9]+))?")
# A number token that a double turns into 0 although a digit of its mantissa is not zero.
_UNDERFLOWED = re.compile(rb"(?:^|[ ])[+-]?[0.]*[1-9]")
_NUMBER_BYTES = b"0123456789+-.eE"
_MIN_NORMAL = sys.float_info.min
# A number below the smallest normal double (2.2e-308) written without a negative exponent has
# at least 307 zeros after its point: a shorter run of zeros is enough to look closer.
_ZEROS_OF_A_TINY_NUMBER = b"0" * 300
# Exact decimal arithmetic: results are never rounded (a rounding would raise).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, Rounded])

#: Longest exponent (in digits) of a number compared numerically; longer ones compare as text.
MAX_EXPONENT_DIGITS = 4000

FLAGS_WITH_VALUE = ("float_relative_tolerance", "float_absolute_tolerance", "float_tolerance")
FLAGS_WITHOUT_VALUE = ("case_sensitive", "space_change_sensitive")


class CheckerFlagError(ValueError):
    """The flags given to the default checker are invalid (a problem package error)."""


@dataclass(frozen=True)
class CheckResult:
    """The checker's judgement of one output: accepted or not, and why."""

    accepted: bool
    message: str = ""
    score: float | None = None  # a custom validator's score.txt, when it wrote one
    score_multiplier: float | None = None  # its score_multiplier.txt (2025-09)


@dataclass(frozen=True)
class CheckerOptions:
    """The parsed flags of the default checker."""

    case_sensitive: bool = False
    space_change_sensitive: bool = False
    absolute_tolerance: float | None = None
    relative_tolerance: float | None = None

    @property
    def uses_floats(self) -> bool:
        """Return whether numeric tokens compare with a tolerance."""
        return self.absolute_tolerance is not None or self.relative_tolerance is not None


def parse_flags(flags: Sequence[str]) -> CheckerOptions:
    """Parse default-checker flags (``["float_tolerance", "1e-6"]``); raise CheckerFlagError."""
    case_sensitive = False
    space_change_sensitive = False
    absolute: float | None = None
    relative: float | None = None
    position = 0
    while position < len(flags):
        flag = flags[position]
        position += 1
        if flag == "case_sensitive":
            case_sensitive = True
        elif flag == "space_change_sensitive":
            space_change_sensitive = True
        elif flag in FLAGS_WITH_VALUE:
            if position >= len(flags):
                raise CheckerFlagError(f"checker flag '{flag}' needs a number after it")
            value = _parse_tolerance(flag, flags[position])
            position += 1
            if flag != "float_relative_tolerance":
                absolute = value
            if flag != "float_absolute_tolerance":
                relative = value
        else:
            known = ", ".join(FLAGS_WITHOUT_VALUE + FLAGS_WITH_VALUE)
            raise CheckerFlagError(f"unknown checker flag '{flag}' (known flags: {known})")
    return CheckerOptions(case_sensitive, space_change_sensitive, absolute, relative)


def _parse_tolerance(flag: str, text: str) -> float:
    if _FLOAT.fullmatch(text.encode()) is None:
        raise CheckerFlagError(f"checker flag '{flag}' needs a decimal number, got '{text}'")
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise CheckerFlagError(f"checker flag '{flag}' needs a finite number >= 0, got '{text}'")
    return value


def check_tokens(output: bytes, answer: bytes, flags: Sequence[str] = ()) -> CheckResult:
    """Compare a program's output with the answer file as the default output validator does."""
    options = parse_flags(flags)
    if output == answer:
        return CheckResult(True)
    if not options.uses_floats and not options.case_sensitive and output.lower() == answer.lower():
        return CheckResult(True)
    result = _token_result(output, answer, options)
    if result is not None:
        return result
    if options.space_change_sensitive:
        return _whitespace_result(output, answer)
    return CheckResult(True)


def _whitespace_result(output: bytes, answer: bytes) -> CheckResult:
    out_leading = _WHITESPACE_RUN.match(output)
    ans_leading = _WHITESPACE_RUN.match(answer)
    if (out_leading is None) != (ans_leading is None):
        expected = _show(b"" if ans_leading is None else ans_leading.group())
        got = _show(b"" if out_leading is None else out_leading.group())
        return CheckResult(
            False,
            f"wrong answer on line 1: whitespace differs at the start: expected {expected}, "
            f"got {got}",
        )
    difference = _first_difference(
        _Stream(output, _split_runs, _WHITESPACE_RUN),
        _Stream(answer, _split_runs, _WHITESPACE_RUN),
        None,
    )
    if difference is None:
        return CheckResult(True)
    out_item, ans_item, out_line, ans_line, _ = difference
    where = _where(out_line, ans_line)
    if out_item is None:
        return CheckResult(
            False, f"wrong answer {where}: the output lacks the final whitespace {_show(ans_item)}"
        )
    if ans_item is None:
        return CheckResult(
            False, f"wrong answer {where}: unexpected trailing whitespace {_show(out_item)}"
        )
    return CheckResult(
        False,
        f"wrong answer {where}: whitespace differs: expected {_show(ans_item)}, "
        f"got {_show(out_item)}",
    )


def _token_result(output: bytes, answer: bytes, options: CheckerOptions) -> CheckResult | None:
    fold = not options.case_sensitive
    splitter = _split_tokens_folded if fold else _split_tokens
    tolerance = _Tolerance(options) if options.uses_floats else None
    difference = _first_difference(_Stream(output, splitter), _Stream(answer, splitter), tolerance)
    if difference is None:
        return None
    out_item, ans_item, out_line, ans_line, index = difference
    where = _where(out_line, ans_line)
    if out_item is None:
        if not output.strip(_WHITESPACE):
            return CheckResult(
                False, f"wrong answer: the output is empty, expected {_show(ans_item)} first"
            )
        return CheckResult(
            False,
            f"wrong answer: the output ends after {_count(index)}, expected {_show(ans_item)} "
            f"next (line {ans_line} of the answer)",
        )
    if ans_item is None:
        return CheckResult(
            False,
            f"wrong answer on line {out_line}: unexpected extra output {_show(out_item)} after "
            f"the expected {_count(index)}",
        )
    assert out_item is not None and ans_item is not None
    detail = ""
    if options.uses_floats and _FLOAT.fullmatch(ans_item):
        detail = _float_detail(out_item, ans_item, options)
    return CheckResult(
        False,
        f"wrong answer {where}: expected {_show(ans_item)}, got {_show(out_item)} "
        f"(token {index + 1}){detail}",
    )


def _count(tokens: int) -> str:
    return "1 token" if tokens == 1 else f"{tokens} tokens"


def _where(out_line: int, ans_line: int) -> str:
    if out_line == ans_line:
        return f"on line {out_line}"
    return f"on line {out_line} of the output (line {ans_line} of the answer)"


def _show(item: bytes | None) -> str:
    if item is None:
        return "nothing"
    text = item.decode("utf-8", "backslashreplace")
    if len(text) > _SHOWN_TOKEN_CHARS:
        text = text[:_SHOWN_TOKEN_CHARS] + "..."
    shown = repr(text)
    return "'" + shown[1:-1] + "'" if shown[0] == '"' else shown


def _split_tokens(data: bytes, start: int, end: int) -> list[bytes]:
    return data[start:end].split()


def _split_tokens_folded(data: bytes, start: int, end: int) -> list[bytes]:
    return data[start:end].lower().split()


def _split_runs(data: bytes, start: int, end: int) -> list[bytes]:
    return _WHITESPACE_RUN.findall(data, start, end)


def _chunk_bounds(data: bytes) -> Iterator[tuple[int, int]]:
    """Yield chunk limits that fall at the start of a whitespace run (never inside a token)."""
    start = 0
    size = len(data)
    while start < size:
        match = _TOKEN_END.search(data, min(start + _CHUNK_BYTES, size))
        end = size if match is None else match.start() + 1
        yield start, end
        start = end


class _Stream:
    """The items (tokens or whitespace runs) of one file, a chunk at a time."""

    def __init__(
        self,
        data: bytes,
        split: Callable[[bytes, int, int], list[bytes]],
        pattern: re.Pattern[bytes] = _TOKEN,
    ) -> None:
        self.data = data
        self._split = split
        self._pattern = pattern  # finds the same items as ``split``, with their positions
        self._bounds = _chunk_bounds(data)
        self.items: list[bytes] = []
        self.offset = 0
        self.chunk: tuple[int, int] = (0, 0)
        self.consumed = 0  # items consumed before the current chunk

    def available(self) -> int:
        """Return how many items are left in the chunk, loading chunks as needed (0 at the end)."""
        while self.offset >= len(self.items):
            bounds = next(self._bounds, None)
            if bounds is None:
                return 0
            self.consumed += len(self.items)
            self.chunk = bounds
            self.items = self._split(self.data, *bounds)
            self.offset = 0
        return len(self.items) - self.offset

    def line_of(self, local_index: int) -> int:
        """Return the 1-based line of the item at ``local_index`` in the current chunk."""
        start, end = self.chunk
        match = next(islice(self._pattern.finditer(self.data, start, end), local_index, None), None)
        position = start if match is None else match.start()
        return self.data.count(b"\n", 0, position) + 1

    def original(self, local_index: int) -> bytes:
        """Return the item at ``local_index`` as written (before case folding)."""
        start, end = self.chunk
        match = next(islice(self._pattern.finditer(self.data, start, end), local_index, None), None)
        return b"" if match is None else match.group()

    def end_line(self) -> int:
        """Return the line just after the last byte of the file."""
        return self.data.count(b"\n") + 1


_Difference = tuple[bytes | None, bytes | None, int, int, int]


def _first_difference(
    output: _Stream, answer: _Stream, tolerance: _Tolerance | None
) -> _Difference | None:
    """Return (output item, answer item, output line, answer line, index) of the first mismatch."""
    while True:
        out_left = output.available()
        ans_left = answer.available()
        index = output.consumed + output.offset
        if out_left == 0 and ans_left == 0:
            return None
        if out_left == 0:
            return (
                None,
                answer.original(answer.offset),
                output.end_line(),
                answer.line_of(answer.offset),
                index,
            )
        if ans_left == 0:
            return (
                output.original(output.offset),
                None,
                output.line_of(output.offset),
                answer.end_line(),
                index,
            )
        count = min(out_left, ans_left)
        out_part = output.items[output.offset : output.offset + count]
        ans_part = answer.items[answer.offset : answer.offset + count]
        if out_part != ans_part and (
            tolerance is None or not tolerance.all_within(out_part, ans_part)
        ):
            for position, (got, expected) in enumerate(zip(out_part, ans_part, strict=True)):
                if got != expected and (tolerance is None or not tolerance.within(got, expected)):
                    out_index = output.offset + position
                    ans_index = answer.offset + position
                    return (
                        output.original(out_index),
                        answer.original(ans_index),
                        output.line_of(out_index),
                        answer.line_of(ans_index),
                        index + position,
                    )
        output.offset += count
        answer.offset += count


def _is_number(token: bytes) -> bool:
    return _FLOAT.fullmatch(token) is not None


class _Tolerance:
    """Numeric comparison of tokens within an absolute or a relative tolerance."""

    def __init__(self, options: CheckerOptions) -> None:
        self.absolute = options.absolute_tolerance
        self.relative = options.relative_tolerance
        # None means "not set"; 0.0 is then equivalent since equal tokens are accepted anyway.
        self._absolute = self.absolute or 0.0
        self._relative = self.relative or 0.0

    def all_within(self, got: list[bytes], expected: list[bytes]) -> bool:
        """Return whether every pair is numerically close (False means: look item by item)."""
        joined = b"".join(got) + b"".join(expected)
        if joined.translate(None, _NUMBER_BYTES):
            return False  # some token holds other characters: not all numbers
        try:
            got_values = list(map(float, got))
            expected_values = list(map(float, expected))
        except ValueError:
            return False
        # Only a negative exponent or a long run of zeros makes a token too small for a double.
        may_underflow = b"e-" in joined or b"E-" in joined or _ZEROS_OF_A_TINY_NUMBER in joined
        for values, tokens in ((got_values, got), (expected_values, expected)):
            if math.inf in values or -math.inf in values:
                return False  # compared one by one, exactly as decimals
            if may_underflow and not _all_fit_a_double(values, tokens):
                return False
        absolute = self._absolute
        relative = self._relative
        return all(
            abs(value - reference) <= absolute
            or abs(value - reference) <= relative * abs(reference)
            for value, reference in zip(got_values, expected_values, strict=True)
        )

    def within(self, got: bytes, expected: bytes) -> bool:
        """Return whether one output token is close enough to a numeric answer token."""
        if not _is_number(expected) or not _is_number(got):
            return False  # a string answer token (already different) or a non-number output
        return _within(got, expected, self.absolute, self.relative)


def _within(got: bytes, expected: bytes, absolute: float | None, relative: float | None) -> bool:
    value = float(got)
    reference = float(expected)
    if not (_fits_a_double(value, got) and _fits_a_double(reference, expected)):
        return _within_exactly(got, expected, absolute, relative)
    error = abs(value - reference)
    if absolute is not None and error <= absolute:
        return True
    return relative is not None and error <= relative * abs(reference)


def _fits_a_double(value: float, token: bytes) -> bool:
    """Return whether ``value`` is ``token`` as a normal double (or a true zero)."""
    if value == 0.0:
        return _UNDERFLOWED.match(token) is None
    return _MIN_NORMAL <= abs(value) < math.inf


def _all_fit_a_double(values: list[float], tokens: list[bytes]) -> bool:
    """Return whether every token is its value as a normal double (or a true zero)."""
    if math.inf in values or -math.inf in values:
        return False
    if min(map(abs, values), default=math.inf) >= _MIN_NORMAL:
        return True
    tiny = sum(map(_MIN_NORMAL.__gt__, map(abs, values)))
    if not tiny:
        return True
    if tiny != values.count(0.0):
        return False  # a subnormal
    zeros = b" ".join(token for token, value in zip(tokens, values, strict=True) if value == 0.0)
    return _UNDERFLOWED.search(zeros) is None


@dataclass(frozen=True)
class _Exact:
    """A decimal number as sign, integer coefficient and a power of ten of any size."""

    negative: bool
    coefficient: Decimal  # an integer >= 0
    exponent: int

    def negated(self) -> _Exact:
        """Return minus this number."""
        return _Exact(not self.negative, self.coefficient, self.exponent)

    def top(self) -> int:
        """Return a power of ten above this number's magnitude: |x| < 10 ** top."""
        return self.exponent + self.coefficient.adjusted() + 1


def _exact(token: bytes) -> _Exact | None:
    """Return a number token as an exact decimal, or None if its exponent is too long."""
    match = _NUMBER_PARTS.fullmatch(token)
    assert match is not None  # the grammar was checked before
    sign, whole, fraction, exponent_sign, exponent_digits = match.groups()
    exponent_digits = (exponent_digits or b"").lstrip(b"0")
    if len(exponent_digits) > MAX_EXPONENT_DIGITS:
        return None
    exponent = int(exponent_digits or b"0")
    if exponent_sign == b"-":
        exponent = -exponent
    digits = (whole + fraction).lstrip(b"0").decode() or "0"
    return _Exact(sign == b"-", Decimal(digits), exponent - len(fraction))


def _exact_float(value: float) -> _Exact:
    """Return a finite double as the exact decimal it is."""
    exact = Decimal(value)
    power = exact.as_tuple().exponent
    assert isinstance(power, int)
    return _Exact(exact.is_signed(), _EXACT.scaleb(abs(exact), -power), power)


def _sign_of_sum(terms: Iterable[_Exact]) -> int:
    """Return the sign (-1, 0, 1) of the exact sum of ``terms``, whatever their exponents.

    Terms are summed exactly in groups of overlapping magnitudes, largest first: a group whose
    sum is not zero outweighs every smaller term (their sum is below its last digit).
    """
    left = sorted((term for term in terms if term.coefficient), key=_Exact.top, reverse=True)
    while left:
        group = [left.pop(0)]
        lowest = group[0].exponent
        while left and left[0].top() >= lowest:
            group.append(left.pop(0))
            lowest = min(lowest, group[-1].exponent)
        total = Decimal(0)
        for term in group:
            shifted = _EXACT.scaleb(term.coefficient, term.exponent - lowest)
            total = _EXACT.subtract(total, shifted) if term.negative else _EXACT.add(total, shifted)
        if total:
            return -1 if total < 0 else 1
    return 0


def _within_exactly(
    got: bytes, expected: bytes, absolute: float | None, relative: float | None
) -> bool:
    """Compare two number tokens exactly as decimals, whatever their exponents."""
    value = _exact(got)
    reference = _exact(expected)
    if value is None or reference is None:
        return False  # exponents too long to compare; the tokens differ
    direction = _sign_of_sum((value, reference.negated()))
    if direction == 0:
        return True
    # |value - reference| as two terms
    error = (value, reference.negated()) if direction > 0 else (value.negated(), reference)
    if absolute is not None and _sign_of_sum((*error, _exact_float(absolute).negated())) <= 0:
        return True
    if relative is None:
        return False
    factor = _exact_float(relative)
    limit = _Exact(
        True,
        _EXACT.multiply(factor.coefficient, reference.coefficient),
        factor.exponent + reference.exponent,
    )
    return _sign_of_sum((*error, limit)) <= 0


def _float_detail(got: bytes, expected: bytes, options: CheckerOptions) -> str:
    if _FLOAT.fullmatch(got) is None:
        return ": expected a number"
    value = float(got)
    reference = float(expected)
    tolerances = []
    if options.absolute_tolerance is not None:
        tolerances.append(f"absolute tolerance {options.absolute_tolerance:g}")
    if options.relative_tolerance is not None:
        tolerances.append(f"relative tolerance {options.relative_tolerance:g}")
    if not (_fits_a_double(value, got) and _fits_a_double(reference, expected)):
        return f": the difference exceeds the {' and '.join(tolerances)}"
    error = abs(value - reference)
    relative_error = error / abs(reference) if reference else math.inf
    return (
        f": absolute error {error:.3e}, relative error {relative_error:.3e} exceed the "
        + " and the ".join(tolerances)
    )
