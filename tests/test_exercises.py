"""nst_teach.exercises: right answers pass, typical mistakes are named, stubs never crash."""

from __future__ import annotations

import gc
import json
import re
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_wrong, stub

from nst_teach import exercises
from nst_teach.exercises import SOLVED, UNSOLVED, WRONG, Feedback

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def centred(X):
    return X - X.mean(dim=-1, keepdim=True)


# ---------------------------------------------------------------- core


def test_feedback_reads_as_one_line():
    feedback = Feedback("01.1", "covariance_by_hand", WRONG, "you divided by n.")
    assert str(feedback) == repr(feedback)
    assert str(feedback).startswith(
        "❌ Exercise 01.1 (covariance_by_hand) not yet: you divided by n.")
    assert "\n" not in str(feedback) and not feedback and not feedback.ok


@pytest.mark.parametrize("number", ["01.1", "01.2", "01.3", "02.1", "02.2", "03.1", "03.2", "03.3"])
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    feedback = exercises.check(number, stub)
    assert feedback.status == UNSOLVED
    assert "not solved yet" in str(feedback) and "NotImplementedError" in feedback.message


def test_ellipsis_answer_is_not_solved_yet():
    assert exercises.check("01.1", ...).status == UNSOLVED


def test_check_by_name_or_number():
    right = lambda x, y: torch.cov(torch.stack([x, y]))[0, 1]  # noqa: E731
    assert exercises.check("covariance_by_hand", stub).status == UNSOLVED
    assert exercises.check("01.1", right).ok and exercises.check("covariance_by_hand", right).ok
    assert exercises.CHECKERS["01.1"] is exercises.CHECKERS["covariance_by_hand"]
    assert exercises.CHECKERS["01.1"] is exercises.check_covariance_by_hand


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="01.1"):
        exercises.check("99.9", stub)
    with pytest.raises(KeyError, match="01.1"):
        exercises.solved("99.9")


def test_registering_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        exercises.exercise("01.1", "another")(lambda fn: "ok")


def test_a_checker_that_solved_could_not_run_alone_is_refused():
    with pytest.raises(TypeError, match="defaults for model"):
        exercises.exercise("99.1", "needs_a_model")(lambda fn, model, steps=3: "ok")
    assert "99.1" not in exercises.CHECKERS and "needs_a_model" not in exercises.CHECKERS


# ---------------------------------------------------------------- solved() and require()


def wrong_cov(x, y):
    return (x * y).mean()


def test_solved_follows_the_name_in_the_notebook_whatever_ran_before(monkeypatch):
    main = sys.modules["__main__"]  # the IPython user namespace in a kernel
    monkeypatch.delattr(main, "covariance_by_hand", raising=False)
    assert not exercises.solved("01.1")  # nothing bound to the name: not solved
    assert not exercises.check("01.1", wrong_cov).ok
    monkeypatch.setattr(main, "covariance_by_hand", cov_xy, raising=False)
    assert exercises.solved("01.1") and exercises.solved("covariance_by_hand")
    assert not exercises.check("01.1", wrong_cov).ok  # a later failing check of another answer...
    assert exercises.solved("01.1")  # ...does not change the verdict on the bound one
    monkeypatch.setattr(main, "covariance_by_hand", wrong_cov)
    assert not exercises.solved("01.1")
    assert exercises.check("01.1", cov_xy).ok  # a later passing check of another answer...
    assert not exercises.solved("01.1")  # ...does not solve the bound one
    monkeypatch.setattr(main, "covariance_by_hand", stub)
    assert not exercises.solved("01.1")
    monkeypatch.setattr(main, "covariance_by_hand", cov_xy)
    assert exercises.solved("01.1")


def test_solved_checks_the_answer_it_is_given():
    assert exercises.solved("01.1", cov_xy) and exercises.solved("covariance_by_hand", cov_xy)
    assert not exercises.solved("01.1", wrong_cov)
    assert not exercises.solved("01.1", stub)
    assert not exercises.solved("01.1", ...)
    assert not exercises.solved("01.1", None) and not exercises.solved("01.1", 1.75)


def test_solved_remembers_a_function_and_rechecks_a_redefined_one():
    runs = []

    def define(right):  # a fresh function each time, as re-running an exercise cell makes
        def covariance_by_hand(x, y):
            runs.append(1)
            return cov_xy(x, y) if right else wrong_cov(x, y)

        return covariance_by_hand

    first = define(right=False)
    assert not exercises.solved("01.1", first)
    count = len(runs)
    assert count > 0 and not exercises.solved("01.1", first)
    assert len(runs) == count  # the same object: its verdict is remembered, not recomputed
    second = define(right=True)
    assert exercises.solved("01.1", second) and len(runs) > count
    assert not exercises.solved("01.1", first)  # each object keeps its own verdict


def test_solved_does_not_keep_answers_alive():
    answer = lambda x, y: wrong_cov(x, y)  # noqa: E731
    assert not exercises.solved("01.1", answer)
    ref = weakref.ref(answer)
    del answer
    gc.collect()
    assert ref() is None


def test_require_is_silent_when_solved_and_raises_the_feedback_line_otherwise():
    assert exercises.check_covariance_by_hand(cov_xy).require() is None
    feedback = exercises.check_covariance_by_hand(wrong_cov)
    with pytest.raises(AssertionError) as info:
        feedback.require()
    assert str(info.value) == str(feedback)
    assert "not yet" in str(info.value) and "forgot to centre" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(AssertionError, match="not solved yet"):
        exercises.check("01.1", stub).require()


def test_every_notebook_checks_the_name_that_solved_looks_up():
    names = {k: v.__name__ for k, v in exercises.CHECKERS.items() if not k[:1].isdigit()}
    registered = {function: name for name, function in names.items()}
    seen = set()
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for checker, argument in re.findall(r"exercises\.(check_\w+)\((\w+)", code):
            assert registered[checker] == argument, f"{path.name}: {checker}({argument})"
            seen.add(checker)
        for exercise_id in re.findall(r"exercises\.solved\(\"([^\"]+)\"", code):
            assert exercise_id in exercises.CHECKERS, f"{path.name}: solved({exercise_id!r})"
    assert seen == set(registered), "a checker that no notebook runs"


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x, y: None, "forget `return`"),
        (lambda x, y: 1 / 0, "raised ZeroDivisionError"),
        (lambda x, y: "1.75", "should be a number or a tensor, got str"),
        (lambda x, y: float("nan"), "NaN"),
        (1.75, "expected a function, got float"),
    ],
)
def test_broken_answers_are_explained_not_raised(answer, words):
    assert_wrong(exercises.check_covariance_by_hand(answer), words)


def test_the_students_inputs_are_copies():
    def destructive(x, y):
        x -= x.mean()  # in place: must not spoil the checker's own data
        y -= y.mean()
        return (x * y).sum() / (len(x) - 1)

    assert exercises.check_covariance_by_hand(destructive).ok
    assert exercises.check_covariance_by_hand(destructive).ok


# ---------------------------------------------------------------- notebook 01


def cov_xy(x, y):
    return ((x - x.mean()) * (y - y.mean())).sum() / (len(x) - 1)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x, y: ((x - x.mean()) * (y - y.mean())).mean(), "divided by n instead of n - 1"),
        (lambda x, y: (x * y).sum() / (len(x) - 1), "forgot to centre"),
        (lambda x, y: (x * y).mean(), "forgot to centre"),
        (lambda x, y: ((x - x.mean()) * (y - y.mean())).sum(), "forgot to divide"),
        (lambda x, y: (x - x.mean()) * (y - y.mean()), "sum them"),
        (lambda x, y: np.cov(x, y), "2 x 2"),
        (lambda x, y: np.corrcoef(x, y)[0, 1], "correlation r"),
        (lambda x, y: cov_xy(x, x), "variance of x"),
    ],
)
def test_covariance_by_hand_names_the_mistake(answer, words):
    assert_wrong(exercises.check_covariance_by_hand(answer), words)


@pytest.mark.parametrize(
    "answer",
    [
        cov_xy,
        lambda x, y: float(np.cov(x.numpy(), y.numpy())[0, 1]),
        lambda x, y: torch.cov(torch.stack([x, y]))[0, 1:],
    ],
)
def test_covariance_by_hand_accepts_right_answers(answer):
    assert exercises.check_covariance_by_hand(answer).status == SOLVED


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda X: torch.cov(X.T), "treated the columns as the variables"),
        (lambda X: centred(X).T @ centred(X) / (X.shape[1] - 1),
         "6 x 6 matrix has one row per observation"),
        (lambda X: torch.cov(X, correction=0), "divided by n instead of n - 1"),
        (lambda X: X @ X.T / (X.shape[1] - 1), "forgot to centre"),
        (lambda X: (X - X.mean(dim=0)) @ (X - X.mean(dim=0)).T / (X.shape[1] - 1),
         "mean of each column"),
        (lambda X: (X - X.mean()) @ (X - X.mean()).T / (X.shape[1] - 1), "one overall mean"),
        (lambda X: centred(X) @ centred(X).T, "forgot to divide by n - 1"),
        (lambda X: torch.corrcoef(X), "correlation"),
        (lambda X: torch.cov(X).diagonal(), "only the diagonal"),
        (lambda X: centred(X), "shape of X itself"),
        (lambda X: 3 * torch.cov(X), "3 times the right answer"),
    ],
)
def test_covariance_matrix_names_the_mistake(answer, words):
    assert_wrong(exercises.check_covariance_matrix(answer), words)


@pytest.mark.parametrize("answer", [lambda X: torch.cov(X), lambda X: np.cov(X.numpy())])
def test_covariance_matrix_accepts_right_answers(answer):
    assert exercises.check_covariance_matrix(answer).ok


def whiten(Z, correction=1):
    Zc = centred(Z)
    S = Zc @ Zc.T / (Z.shape[1] - correction)
    return torch.linalg.solve_triangular(torch.linalg.cholesky(S), Zc, upper=False)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda Z, t: torch.linalg.cholesky(t) @ Z, "only close to the target"),
        (lambda Z, t: torch.linalg.cholesky(t).T @ whiten(Z), "upper factor"),
        (lambda Z, t: t @ whiten(Z), "multiplied by the target itself"),
        (lambda Z, t: torch.linalg.cholesky(t) @ whiten(Z, correction=0), "whitened with the 1/n"),
        (lambda Z, t: (torch.linalg.cholesky(t) @ whiten(Z)).T, "transposed"),
        (lambda Z, t: whiten(Z), "not the target"),
    ],
)
def test_data_with_covariance_names_the_mistake(answer, words):
    assert_wrong(exercises.check_data_with_covariance(answer), words)


def test_data_with_covariance_accepts_any_exact_recipe():
    checker = exercises.check_data_with_covariance
    assert checker(lambda Z, t: torch.linalg.cholesky(t) @ whiten(Z)).ok
    assert checker(lambda Z, t: torch.linalg.cholesky(t) @ whiten(Z) + 7).ok


# ---------------------------------------------------------------- notebook 02


def corr(C):
    std = C.diagonal().sqrt()
    return C / torch.outer(std, std)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda C: C / torch.outer(C.diagonal(), C.diagonal()), "divide by sqrt(c_jj * c_kk)"),
        (lambda C: C / C.diagonal().sqrt()[:, None], "each row j by its standard deviation only"),
        (lambda C: C / C.diagonal().sqrt()[None, :],
         "each column k by its standard deviation only"),
        (lambda C: C / C.diagonal()[:, None], "by its variance"),
        (lambda C: C, "covariance unchanged"),
        (lambda C: C.diagonal().sqrt(), "only the standard deviations"),
        (lambda C: C / 3, "diagonal should be all 1"),
        (lambda C: corr(C) + torch.triu(torch.full_like(C, 0.01), diagonal=1), "not symmetric"),
    ],
)
def test_correlation_from_covariance_names_the_mistake(answer, words):
    assert_wrong(exercises.check_correlation_from_covariance(answer), words)


def test_correlation_from_covariance_accepts_the_right_answer():
    assert exercises.check_correlation_from_covariance(corr).ok


def pearson(x, y):
    dx, dy = x - x.mean(), y - y.mean()
    return (dx * dy).sum() / ((dx**2).sum() * (dy**2).sum()).sqrt()


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x, y: (x * y).sum() / ((x**2).sum() * (y**2).sum()).sqrt(), "forgot to centre"),
        (lambda x, y: pearson(x, y) / (len(x) - 1), "numerator by n - 1"),
        (lambda x, y: torch.cov(torch.stack([x, y]))[0, 1]
         / (x.std(correction=0) * y.std(correction=0)), "mixed n - 1"),
        (lambda x, y: torch.cov(torch.stack([x, y]))[0, 1], "covariance c, not r"),
        (lambda x, y: pearson(x, y) ** 2, "r squared"),
        (lambda x, y: pearson(x, y).abs(), "|r|"),
        (lambda x, y: 1.5, "between -1 and 1"),
    ],
)
def test_pearson_r_names_the_mistake(answer, words):
    assert_wrong(exercises.check_pearson_r(answer), words)


@pytest.mark.parametrize("answer", [pearson, lambda x, y: np.corrcoef(x.numpy(), y.numpy())[0, 1]])
def test_pearson_r_accepts_right_answers(answer):
    assert exercises.check_pearson_r(answer).ok


# ---------------------------------------------------------------- notebook 03


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda M: M.T @ M, "F^T F"),
        (lambda M: M * M, "element by element"),
        (lambda M: M @ M.T / M.shape[1], "divided by M"),
        (lambda M: centred(M) @ centred(M).T, "centred F"),
    ],
)
def test_gram_by_hand_names_the_mistake(answer, words):
    assert_wrong(exercises.check_gram_by_hand(answer), words)


def test_gram_by_hand_catches_a_missing_transpose_on_the_decks_square_m():
    assert_wrong(exercises.check_gram_by_hand(lambda M: M @ M), "without transposing")


def test_gram_by_hand_accepts_the_right_answer():
    feedback = exercises.check_gram_by_hand(lambda M: M @ M.T)
    assert feedback.ok and "761" in feedback.message


def flat(F):
    return F.reshape(F.shape[0], -1)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda F: flat(F) @ flat(F).T, "forgot to normalise"),
        (lambda F: flat(F) @ flat(F).T / F.numel(), "('chw')"),
        (lambda F: flat(F) @ flat(F).T / F.shape[1], "divided by H = 4 only"),
        (lambda F: flat(F) @ flat(F).T / F.shape[2], "divided by W = 5 only"),
        (lambda F: flat(F) @ flat(F).T / (F.shape[1] * F.shape[2] - 1), "H*W - 1"),
        (lambda F: F.reshape(-1, F.shape[0]).T @ F.reshape(-1, F.shape[0]) / 20,
         "mixes channels and positions"),
        (lambda F: flat(F).T @ flat(F) / 20, "positions by positions"),
        (lambda F: F @ F.transpose(1, 2) / 20, "flatten the maps (N, H, W) into F"),
        (lambda F: (flat(F) @ flat(F).T / 20)[None], "batch dimension"),
    ],
)
def test_gram_hw_names_the_mistake(answer, words):
    assert_wrong(exercises.check_gram_hw(answer), words)


def test_gram_hw_accepts_the_package_and_a_permuted_flatten():
    import nst_teach as nt

    assert exercises.check_gram_hw(lambda F: nt.gram_matrix(F[None], normalize="hw")[0]).ok
    def permuted(F):
        return F.permute(1, 2, 0).reshape(-1, F.shape[0])

    assert exercises.check_gram_hw(lambda F: permuted(F).T @ permuted(F) / 20).ok


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda m, C, n: (n - 1) * C, "left out the means"),
        (lambda m, C, n: n * C + n * torch.outer(m, m), "n instead of n - 1"),
        (lambda m, C, n: (n - 1) * C + torch.outer(m, m), "forgot the factor n"),
        (lambda m, C, n: C + torch.outer(m, m), "forgot the factors"),
        (lambda m, C, n: (n - 1) * C + n * m * m, "element by element"),
        (lambda m, C, n: (n - 1) * C + n * (m @ m), "inner product"),
        (lambda m, C, n: n * m * m, "outer product"),
    ],
)
def test_gram_from_statistics_names_the_mistake(answer, words):
    assert_wrong(exercises.check_gram_from_statistics(answer), words)


def test_gram_from_statistics_accepts_the_right_answer():
    right = lambda m, C, n: (n - 1) * C + n * m[:, None] * m[None, :]  # noqa: E731
    assert exercises.check_gram_from_statistics(right).ok
