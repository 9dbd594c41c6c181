"""Checkers of notebook 02 (correlation): 02.1 correlation_from_covariance, 02.2 pearson_r."""

from __future__ import annotations

import torch

from .core import call_answer, compare_answer, covariance, exercise, randn

DECK_COVARIANCE = torch.tensor(
    [[3.16, 4.13, 2.79], [4.13, 11.79, 4.32], [2.79, 4.32, 9.31]], dtype=torch.float64
)


@exercise("02.1", "correlation_from_covariance")
def check_correlation_from_covariance(fn) -> str:
    """Exercise 02.1: fn(C) for a (V, V) covariance -> (V, V) correlation c_jk / sqrt(c_jj c_kk)."""
    scales = torch.tensor([[1.0], [3.0], [0.5], [2.0]], dtype=torch.float64)
    for C in (DECK_COVARIANCE, covariance(randn((4, 9), seed=41) * scales)):
        V = C.shape[0]
        var = C.diagonal()
        std = var.sqrt()
        call = f"correlation_from_covariance(C) for a {V} x {V} C"
        wrong = [
            ("you divided by c_jj * c_kk (the variances); divide by sqrt(c_jj * c_kk), the product "
             "of the standard deviations.", C / (var[:, None] * var[None, :])),
            ("you divided each row j by its standard deviation only; divide by both: "
             "sqrt(c_jj) * sqrt(c_kk).", C / std[:, None]),
            ("you divided each column k by its standard deviation only; divide by both: "
             "sqrt(c_jj) * sqrt(c_kk).", C / std[None, :]),
            ("you divided each row by its variance c_jj; divide by sqrt(c_jj * c_kk).",
             C / var[:, None]),
            ("you returned the covariance unchanged.", C),
        ]
        shapes = {(V,): "a vector: did you compute only the standard deviations? "
                        "r is a V x V matrix.",
                  (): "one number: r is a V x V matrix, one entry per pair of variables."}
        expected = C / (std[:, None] * std[None, :])
        got = call_answer(fn, C, call=call)
        compare_answer(got, expected, call, wrong, shapes, _explain_correlation)
    return ("correlation_from_covariance turns the deck's covariance into the deck's "
            "correlation table.")


def _explain_correlation(got: torch.Tensor) -> str | None:
    """What an unexplained (V, V) answer gets wrong: its diagonal or its symmetry."""
    if not torch.allclose(got.diagonal(), torch.ones(len(got), dtype=torch.float64), atol=1e-6):
        return ("the diagonal should be all 1 (each variable correlates perfectly with itself); "
                f"yours is {[round(v, 3) for v in got.diagonal().tolist()]}.")
    if not torch.allclose(got, got.T, atol=1e-8):
        return "your matrix is not symmetric: r_jk must equal r_kj."
    return None


@exercise("02.2", "pearson_r")
def check_pearson_r(fn) -> str:
    """Exercise 02.2: fn(x, y) for two 1-D tensors -> Pearson r with the deck's formula."""
    x = randn([8], seed=51, mean=4.0, scale=2.0)
    noise = randn([8], seed=52)
    for y in (10.0 + 0.8 * x + noise, 3.0 - 1.5 * x + 2.0 * noise):  # one positive r, one negative
        n = len(x)
        dx, dy = x - x.mean(), y - y.mean()
        sxy, sxx, syy = (dx * dy).sum(), dx.square().sum(), dy.square().sum()
        r = sxy / (sxx * syy).sqrt()
        call = f"pearson_r(x, y) for n = {n}"
        wrong = [
            ("you forgot to centre: subtract the means before multiplying (what you computed is "
             "the cosine similarity of x and y).",
             (x * y).sum() / (x.square().sum() * y.square().sum()).sqrt()),
            ("you divided the numerator by n - 1 but not the sums under the square root: your "
             f"r is 1/(n-1) = {1 / (n - 1):.3f} times the right one. The factors cancel; leave "
             "them out or use them on both.", sxy / (n - 1) / (sxx * syy).sqrt()),
            (f"you mixed n - 1 (covariance) with n (standard deviations): your r is n/(n-1) = "
             f"{n / (n - 1):.3f} times the right one.",
             (sxy / (n - 1)) / ((sxx / n) * (syy / n)).sqrt()),
            (f"you mixed n (covariance) with n - 1 (standard deviations): your r is (n-1)/n = "
             f"{(n - 1) / n:.3f} times the right one.",
             (sxy / n) / ((sxx / (n - 1)) * (syy / (n - 1))).sqrt()),
            ("you forgot the square root in the denominator: "
             "r = sum dx dy / sqrt(sum dx^2 * sum dy^2).", sxy / (sxx * syy)),
            ("you returned the covariance c, not r: divide by the standard deviations.",
             sxy / (n - 1)),
            ("you returned r squared; r keeps its sign.", r.square()),
            ("you returned |r|: the sign says whether y rises or falls with x, keep it.", r.abs()),
        ]
        shapes = {(n,): "one value per observation: sum them."}
        compare_answer(call_answer(fn, x, y, call=call), r, call, wrong, shapes, _explain_r)
    return "pearson_r matches nt.correlation and numpy.corrcoef, for a positive and a negative r."


def _explain_r(got: torch.Tensor) -> str | None:
    value = got.item()
    if abs(value) > 1 + 1e-9:
        return f"r must lie between -1 and 1, yours is {value:.4g}: check the denominator."
    return None
