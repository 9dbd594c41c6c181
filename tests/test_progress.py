"""exercises.core.progress("NN"): the last cell of each notebook, listing the exercises still open.

The answers are bound in __main__, where a notebook's kernel keeps them and where solved() looks.
"""

from __future__ import annotations

import sys

import pytest
import torch

from nst_teach.exercises import core

MAIN = sys.modules["__main__"]


def right_covariance(x, y):
    return torch.cov(torch.stack([x, y]))[0, 1]  # torch's own, as the oracle


def covariance_over_n(x, y):
    return ((x - x.mean()) * (y - y.mean())).mean()


def stub(*args):
    raise NotImplementedError("Exercise 2: replace this line with your code")


@pytest.fixture
def namespace(monkeypatch):
    """A clean __main__: none of notebook 01's answers bound."""
    for name in ("covariance_by_hand", "covariance_matrix", "data_with_covariance"):
        monkeypatch.delattr(MAIN, name, raising=False)
    return lambda name, value: monkeypatch.setattr(MAIN, name, value, raising=False)


def test_nothing_defined_means_everything_open(namespace):
    progress = core.progress("01")
    assert progress.open == ["01.1", "01.2", "01.3"]
    assert str(progress).splitlines()[0] == (
        "📝 Notebook 01: 0 of 3 exercises solved, still open: 01.1, 01.2, 01.3."
    )


def test_a_right_a_wrong_and_a_stub_answer(namespace):
    namespace("covariance_by_hand", right_covariance)
    namespace("covariance_matrix", stub)
    namespace("data_with_covariance", covariance_over_n)  # a wrong kind of answer altogether
    progress = core.progress(1)  # the number alone works too
    assert progress.open == ["01.2", "01.3"]
    lines = str(progress).splitlines()
    assert lines[0] == "📝 Notebook 01: 1 of 3 exercises solved, still open: 01.2, 01.3."
    assert lines[1:] == [
        "  ✅ Exercise 01.1 (covariance_by_hand) solved",
        "  📝 Exercise 01.2 (covariance_matrix) not solved yet",
        "  ❌ Exercise 01.3 (data_with_covariance) not yet",
    ]
    assert repr(progress) == str(progress)  # what the notebook's last cell shows


def test_a_redefined_answer_is_judged_again(namespace):
    namespace("covariance_by_hand", covariance_over_n)
    assert "01.1" in core.progress("01").open
    namespace("covariance_by_hand", right_covariance)
    assert "01.1" not in core.progress("01").open


def test_all_solved_in_a_two_exercise_notebook(namespace):
    namespace(
        "correlation_from_covariance",
        lambda C: C / torch.outer(C.diagonal().sqrt(), C.diagonal().sqrt()),
    )
    namespace("pearson_r", lambda x, y: torch.corrcoef(torch.stack([x, y]))[0, 1])
    assert str(core.progress("02")).splitlines()[0] == "✅ Notebook 02: both exercises solved."


def test_an_unknown_notebook_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"no exercises for notebook '99'; give its number, one of 01, 02"
    ):
        core.progress("99")
