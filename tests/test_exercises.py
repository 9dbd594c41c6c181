"""Tests for nst_teach.exercises: right answers pass, typical mistakes are named, stubs never crash."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nst_teach import exercises
from nst_teach.exercises import SOLVED, UNSOLVED, WRONG, Feedback


def centred(X):
    return X - X.mean(dim=-1, keepdim=True)


def stub(*args):
    raise NotImplementedError("Exercise 1: replace this line with your code")


# ---------------------------------------------------------------- core


def test_feedback_reads_as_one_line():
    feedback = Feedback("01.1", "covariance_by_hand", WRONG, "you divided by n.")
    assert str(feedback) == repr(feedback)
    assert str(feedback).startswith("❌ Exercise 01.1 (covariance_by_hand) not yet: you divided by n.")
    assert "\n" not in str(feedback) and not feedback and not feedback.ok


@pytest.mark.parametrize("number", ["01.1", "01.2", "01.3", "02.1", "02.2", "03.1", "03.2", "03.3"])
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    feedback = exercises.check(number, stub)
    assert feedback.status == UNSOLVED
    assert "not solved yet" in str(feedback) and "NotImplementedError" in feedback.message


def test_ellipsis_answer_is_not_solved_yet():
    assert exercises.check("01.1", ...).status == UNSOLVED


def test_check_by_name_or_number_and_solved_registry():
    right = lambda x, y: torch.cov(torch.stack([x, y]))[0, 1]  # noqa: E731
    assert exercises.check("covariance_by_hand", stub).status == UNSOLVED
    assert not exercises.solved("01.1")
    assert exercises.check("01.1", right).ok
    assert exercises.solved("01.1") and exercises.solved("covariance_by_hand")
    assert not exercises.check("01.1", lambda x, y: 0.0).ok
    assert not exercises.solved("01.1")  # the latest verdict counts


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="01.1"):
        exercises.check("99.9", stub)


def test_registering_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        exercises.exercise("01.1", "another")(lambda fn: "ok")


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
    feedback = exercises.check_covariance_by_hand(answer)
    assert feedback.status == WRONG and words in feedback.message


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
    feedback = exercises.check_covariance_by_hand(answer)
    assert feedback.status == WRONG and words in feedback.message


@pytest.mark.parametrize(
    "answer",
    [cov_xy, lambda x, y: float(np.cov(x.numpy(), y.numpy())[0, 1]), lambda x, y: torch.cov(torch.stack([x, y]))[0, 1:]],
)
def test_covariance_by_hand_accepts_right_answers(answer):
    assert exercises.check_covariance_by_hand(answer).status == SOLVED


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda X: torch.cov(X.T), "treated the columns as the variables"),
        (lambda X: centred(X).T @ centred(X) / (X.shape[1] - 1), "6 x 6 matrix has one row per observation"),
        (lambda X: torch.cov(X, correction=0), "divided by n instead of n - 1"),
        (lambda X: X @ X.T / (X.shape[1] - 1), "forgot to centre"),
        (lambda X: (X - X.mean(dim=0)) @ (X - X.mean(dim=0)).T / (X.shape[1] - 1), "mean of each column"),
        (lambda X: (X - X.mean()) @ (X - X.mean()).T / (X.shape[1] - 1), "one overall mean"),
        (lambda X: centred(X) @ centred(X).T, "forgot to divide by n - 1"),
        (lambda X: torch.corrcoef(X), "correlation"),
        (lambda X: torch.cov(X).diagonal(), "only the diagonal"),
        (lambda X: centred(X), "shape of X itself"),
        (lambda X: 3 * torch.cov(X), "3 times the right answer"),
    ],
)
def test_covariance_matrix_names_the_mistake(answer, words):
    feedback = exercises.check_covariance_matrix(answer)
    assert feedback.status == WRONG and words in feedback.message


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
    feedback = exercises.check_data_with_covariance(answer)
    assert feedback.status == WRONG and words in feedback.message


def test_data_with_covariance_accepts_any_exact_recipe():
    assert exercises.check_data_with_covariance(lambda Z, t: torch.linalg.cholesky(t) @ whiten(Z)).ok
    assert exercises.check_data_with_covariance(lambda Z, t: torch.linalg.cholesky(t) @ whiten(Z) + 7).ok


# ---------------------------------------------------------------- notebook 02


def corr(C):
    std = C.diagonal().sqrt()
    return C / torch.outer(std, std)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda C: C / torch.outer(C.diagonal(), C.diagonal()), "divide by sqrt(c_jj * c_kk)"),
        (lambda C: C / C.diagonal().sqrt()[:, None], "each row j by its standard deviation only"),
        (lambda C: C / C.diagonal().sqrt()[None, :], "each column k by its standard deviation only"),
        (lambda C: C / C.diagonal()[:, None], "by its variance"),
        (lambda C: C, "covariance unchanged"),
        (lambda C: C.diagonal().sqrt(), "only the standard deviations"),
        (lambda C: C / 3, "diagonal should be all 1"),
        (lambda C: corr(C) + torch.triu(torch.full_like(C, 0.01), diagonal=1), "not symmetric"),
    ],
)
def test_correlation_from_covariance_names_the_mistake(answer, words):
    feedback = exercises.check_correlation_from_covariance(answer)
    assert feedback.status == WRONG and words in feedback.message


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
        (lambda x, y: torch.cov(torch.stack([x, y]))[0, 1] / (x.std(correction=0) * y.std(correction=0)), "mixed n - 1"),
        (lambda x, y: torch.cov(torch.stack([x, y]))[0, 1], "covariance c, not r"),
        (lambda x, y: pearson(x, y) ** 2, "r squared"),
        (lambda x, y: pearson(x, y).abs(), "|r|"),
        (lambda x, y: 1.5, "between -1 and 1"),
    ],
)
def test_pearson_r_names_the_mistake(answer, words):
    feedback = exercises.check_pearson_r(answer)
    assert feedback.status == WRONG and words in feedback.message


@pytest.mark.parametrize("answer", [pearson, lambda x, y: np.corrcoef(x.numpy(), y.numpy())[0, 1]])
def test_pearson_r_accepts_right_answers(answer):
    assert exercises.check_pearson_r(answer).ok


# ---------------------------------------------------------------- notebook 03


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda M: M.T @ M, "M^T M"),
        (lambda M: M * M, "element by element"),
        (lambda M: M @ M.T / M.shape[1], "divided by n"),
        (lambda M: centred(M) @ centred(M).T, "centred M"),
    ],
)
def test_gram_by_hand_names_the_mistake(answer, words):
    feedback = exercises.check_gram_by_hand(answer)
    assert feedback.status == WRONG and words in feedback.message


def test_gram_by_hand_catches_a_missing_transpose_on_the_decks_square_m():
    feedback = exercises.check_gram_by_hand(lambda M: M @ M)
    assert feedback.status == WRONG and "without transposing" in feedback.message


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
        (lambda F: F.reshape(-1, F.shape[0]).T @ F.reshape(-1, F.shape[0]) / 20, "mixes channels and positions"),
        (lambda F: flat(F).T @ flat(F) / 20, "positions by positions"),
        (lambda F: F @ F.transpose(1, 2) / 20, "flatten F (C, H, W) into M"),
        (lambda F: (flat(F) @ flat(F).T / 20)[None], "batch dimension"),
    ],
)
def test_gram_hw_names_the_mistake(answer, words):
    feedback = exercises.check_gram_hw(answer)
    assert feedback.status == WRONG and words in feedback.message


def test_gram_hw_accepts_the_package_and_a_permuted_flatten():
    import nst_teach as nt

    assert exercises.check_gram_hw(lambda F: nt.gram_matrix(F[None], normalize="hw")[0]).ok
    assert exercises.check_gram_hw(lambda F: F.permute(1, 2, 0).reshape(-1, F.shape[0]).T @ F.permute(1, 2, 0).reshape(-1, F.shape[0]) / 20).ok


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
    feedback = exercises.check_gram_from_statistics(answer)
    assert feedback.status == WRONG and words in feedback.message


def test_gram_from_statistics_accepts_the_right_answer():
    right = lambda m, C, n: (n - 1) * C + n * m[:, None] * m[None, :]  # noqa: E731
    assert exercises.check_gram_from_statistics(right).ok
