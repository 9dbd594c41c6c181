"""Checkers of notebook 01 (covariance): 01.1 covariance_by_hand, 01.2 covariance_matrix,
01.3 data_with_covariance."""

from __future__ import annotations

import torch

from .core import (
    CheckFailed,
    as_tensor,
    call_answer,
    centred,
    compare_answer,
    covariance,
    describe_shape,
    exercise,
    randn,
)

TINY_X = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)  # notebook 01's table
TINY_Y = torch.tensor([3.0, 6.0, 4.0, 5.0, 7.0], dtype=torch.float64)


@exercise("01.1", "covariance_by_hand")
def check_covariance_by_hand(fn) -> str:
    """Exercise 01.1: fn(x, y) for 1-D x, y -> c = 1/(n-1) sum (x_i - mean x)(y_i - mean y)."""
    random_pair = (randn([7], seed=11, mean=3.0), randn([7], seed=12, mean=-2.0, scale=2.0))
    for x, y in [(TINY_X, TINY_Y), random_pair]:
        n = len(x)
        dx, dy = x - x.mean(), y - y.mean()
        products = dx * dy
        call = f"covariance_by_hand(x, y) for n = {n}"
        wrong = [
            (f"you divided by n instead of n - 1: your answer is (n-1)/n = {(n - 1) / n:.2f} times "
             "the right one. The deck's sample covariance divides by n - 1.", products.sum() / n),
            ("you forgot to centre: subtract the means (x_i - mean x) and (y_i - mean y) before "
             "multiplying.", (x * y).sum() / (n - 1)),
            ("you forgot to centre (subtract the means) and divided by n instead of n - 1.",
             (x * y).mean()),
            ("you forgot to divide the sum by n - 1.", products.sum()),
            ("you returned the variance of x: multiply (x_i - mean x) by (y_i - mean y), "
             "not by itself.", (dx * dx).sum() / (n - 1)),
            ("you returned the correlation r (divided by the standard deviations); covariance "
             "keeps the units, and r is notebook 02.",
             products.sum() / (dx.square().sum() * dy.square().sum()).sqrt()),
            ("you returned the products (x_i - mean x)(y_i - mean y) one per observation: sum "
             "them, then divide by n - 1.", products),
            ("you returned the whole 2 x 2 covariance matrix; return only its off-diagonal "
             "entry c_xy.", covariance(torch.stack([x, y]))),
        ]
        shapes = {(n,): "one value per observation: sum them, then divide by n - 1.",
                  (2, 2): "that is a 2 x 2 matrix; return only the off-diagonal entry c_xy."}
        got = call_answer(fn, x, y, call=call)
        compare_answer(got, products.sum() / (n - 1), call, wrong, shapes)
    return ("covariance_by_hand agrees with the deck's formula (c = 1.75 on the table, "
            "and on random data).")


@exercise("01.2", "covariance_matrix")
def check_covariance_matrix(fn) -> str:
    """Exercise 01.2: fn(X) for X (V, n), variables in rows -> (V, V) covariance matrix."""
    V, n = 3, 6
    means = torch.tensor([[1.0], [5.0], [-3.0]], dtype=torch.float64)
    X = randn((V, n), seed=21, scale=2.0) + means
    Xc = centred(X)
    expected = Xc @ Xc.T / (n - 1)
    by_columns = X - X.mean(dim=0, keepdim=True)
    by_all = X - X.mean()
    std = expected.diagonal().sqrt()
    call = f"covariance_matrix(X) for X of shape ({V}, {n})"
    wrong = [
        (f"you treated the columns as the variables: you got a {n} x {n} matrix, one row per "
         f"observation. Here variables are rows, X is (V, n) = ({V}, {n}) as in numpy.cov: use "
         "Xc @ Xc.T, not Xc.T @ Xc.", covariance(X.T)),
        (f"you divided by n instead of n - 1: your answer is (n-1)/n = {(n - 1) / n:.2f} times "
         "the right one.", Xc @ Xc.T / n),
        ("you forgot to centre: subtract each row's mean, X - X.mean(dim=1, keepdim=True), first.",
         X @ X.T / (n - 1)),
        ("you subtracted the mean of each column (each observation); subtract the mean of each row "
         "(each variable): X.mean(dim=1, keepdim=True).", by_columns @ by_columns.T / (n - 1)),
        ("you subtracted one overall mean; each variable (row) needs its own mean.",
         by_all @ by_all.T / (n - 1)),
        ("you forgot to divide by n - 1.", Xc @ Xc.T),
        ("you returned the correlation (divided by the standard deviations); this asks for the "
         "covariance.", expected / (std[:, None] * std[None, :])),
        ("you returned only the diagonal (the variances); return the whole V x V matrix.",
         expected.diagonal()),
    ]
    shapes = {
        (n, n): f"a {n} x {n} matrix has one row per observation: variables are the rows of X, "
                "so use Xc @ Xc.T, not Xc.T @ Xc.",
        (V, n): "that is the shape of X itself: multiply the centred data by its transpose, "
                "Xc @ Xc.T.",
        (V,): "only the diagonal (the variances): return the whole V x V matrix.",
    }
    compare_answer(call_answer(fn, X, call=call), expected, call, wrong, shapes)
    return "covariance_matrix matches nt.covariance, numpy.cov and torch.cov."


@exercise("01.3", "data_with_covariance")
def check_data_with_covariance(fn) -> str:
    """Exercise 01.3: fn(Z, target) -> data (V, n) whose sample covariance is exactly target."""
    target = torch.tensor([[4.0, 2.0, 0.6], [2.0, 3.0, -0.5], [0.6, -0.5, 1.0]],
                          dtype=torch.float64)
    V, n = 3, 12
    Z = randn((V, n), seed=31, mean=0.5)
    L = torch.linalg.cholesky(target)
    Zc = centred(Z)
    Z_white = torch.linalg.solve_triangular(torch.linalg.cholesky(covariance(Z)), Zc,
                                            upper=False)
    Z_biased = torch.linalg.solve_triangular(torch.linalg.cholesky(Zc @ Zc.T / n), Zc,
                                             upper=False)
    call = f"data_with_covariance(Z, target) for Z of shape ({V}, {n})"
    data = as_tensor(call_answer(fn, Z, target, call=call), call)
    if data.shape != Z.shape:
        hint = ("transposed? Variables are rows, as in Z." if data.shape == Z.T.shape
                else "return one column per sample, like Z.")
        raise CheckFailed(f"{call} has {describe_shape(data)}, expected shape ({V}, {n}): {hint}")
    wrong = [
        ("your data's covariance is only close to the target: colouring raw random samples "
         "gives target covariance on average, not exactly. Whiten Z exactly first (centre it, "
         "then solve with the Cholesky factor of its own covariance).", covariance(L @ Z)),
        ("you coloured with the upper factor L^T: cov(L^T Z_white) = L^T L, which is not the "
         "target. Use the lower factor L = torch.linalg.cholesky(target), so that L L^T = target.",
         covariance(L.T @ Z_white)),
        ("you multiplied by the target itself: the covariance becomes target @ target^T. "
         "Multiply by its Cholesky factor L (a 'square root': L L^T = target).",
         covariance(target @ Z_white)),
        (f"your covariance is n/(n-1) = {n / (n - 1):.3f} times the target: you whitened with the "
         "1/n covariance; use the 1/(n-1) one (nt.covariance).", covariance(L @ Z_biased)),
    ]

    def explain(got):
        if (got - target).abs().max() < 0.5 * target.abs().max():
            return ("your data's covariance is close to the target but not exact: whiten Z exactly "
                    "first, so that its covariance is exactly I, then colour it with L.")
        return ("your data's covariance is not the target. The recipe: centre Z, whiten it with "
                "the Cholesky factor of its own covariance, colour it with "
                "L = torch.linalg.cholesky(target).")

    what = "the covariance of your data"
    compare_answer(covariance(data), target, what, wrong, explain=explain, rtol=1e-6, atol=1e-9)
    return "your data's sample covariance is exactly the target (whiten, then colour with L)."
