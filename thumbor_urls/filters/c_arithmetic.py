"""C's arithmetic, for porting Thumbor's C filters (thumbor/ext/filters/_*.c) byte for byte.

Python's integers and doubles differ from C's in a few places those loops rely on: integer
division truncates toward zero in C, a double converted to int truncates and the result is then
clamped to a byte (`ADJUST_COLOR`), some steps are in single precision, `round()` sends halves
away from zero, `int` is 32 bits wide, and sums are not compensated.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

INT_MAX = 2**31 - 1  # a C int; Thumbor passes some arguments through PyArg "i", a 500 above


def trunc_div(numerator: int, denominator: int) -> int:
    """C's integer division: the quotient truncated toward zero (Python's // floors)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator < 0) == (denominator < 0) else -quotient


def clamp8(value: float) -> int:
    """`ADJUST_COLOR`, after C's truncating conversion to int."""
    return min(max(int(value), 0), 255)


def c_sum(values: Iterable[float]) -> float:
    """A C loop's `total += value` in double precision, in order. Python's sum() compensates
    for rounding since 3.12 (Lambda's runtime): on blur(6,2)'s 13 taps it is one bit off."""
    total = 0.0
    for value in values:
        total += value
    return total


def f32(value: float) -> float:
    """Round to IEEE single precision: Thumbor's C uses `float` in places, and a double result
    rounded to float equals the float operation for + - * / (24 + 2 bits fit in 53)."""
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


def c_round(value: float) -> float:
    """C's round(): halves away from zero (Python's round() goes to even)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)
