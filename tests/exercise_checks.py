"""Checks that every exercise checker of notebooks 04-11 must pass, shared by their test files.

Each test_exercises_NN.py parametrises these over its own exercise numbers.
"""

from __future__ import annotations

from conftest import assert_wrong, stub, verdict

from nst_teach.exercises import UNSOLVED, WRONG


def assert_stub_is_open(number: str, **kwargs) -> None:
    """A stub (returns None) and an ellipsis answer are "not solved yet", never wrong or raised."""
    feedback = verdict(number, stub, **kwargs)
    assert feedback.status == UNSOLVED and "not solved yet" in str(feedback)
    assert verdict(number, ..., **kwargs).status == UNSOLVED


def assert_crash_is_reported(number: str, **kwargs) -> None:
    """An answer that raises is a WRONG verdict naming the exception, not an exception."""

    def crash(*args, **kwargs):
        raise ZeroDivisionError("oops")

    feedback = verdict(number, crash, **kwargs)
    assert feedback.status == WRONG and "ZeroDivisionError" in feedback.message


def assert_value_is_named(number: str) -> None:
    """A value given where a function is wanted is named as such."""
    assert_wrong(verdict(number, 3.0), "expected a function")
