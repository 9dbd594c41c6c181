"""Exercise checkers that say WHAT is wrong: shape, transposition, n versus n-1, centring, scale.

Used in every notebook's exercises. An exercise cell (tagged ``exercise``) defines a stub whose
body is ``raise NotImplementedError(...)``; the student replaces that line and runs the checker:

    exercises.check_covariance_by_hand(covariance_by_hand)      # or check("01.1", ...)

A checker never raises: it returns a ``Feedback`` that shows as one line, "solved", "not yet:
<the mistake>" or "not solved yet", so a student notebook runs top to bottom. ``solved("01.1")``
tells later cells whether an answer they need is in place.

Adding a checker (one function per exercise, one section per notebook, in notebook order):

    @exercise("04.1", "flatten_by_hand")
    def check_flatten_by_hand(fn) -> str:
        F = _randn((3, 4, 5), seed=41)
        got = _call(fn, F, call="flatten_by_hand(F)")
        _compare(got, F.reshape(3, 20), "flatten_by_hand(F)", wrong=[("you ...", variant)])
        return "flatten_by_hand matches nt.flatten_features."   # the success message

Inside a checker, raise ``CheckFailed("what is wrong")``; ``_call`` and ``_compare`` do it for you.
The wrong variants are the answers that typical mistakes give, computed on the checker's own data,
so the message names the mistake instead of saying "wrong".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

SOLVED, WRONG, UNSOLVED = "solved", "wrong", "unsolved"
_ICONS = {SOLVED: "✅", WRONG: "❌", UNSOLVED: "📝"}

# ------------------------------------------------------------------ core


class CheckFailed(AssertionError):
    """Raised inside a checker when the answer is wrong; the message says what is wrong."""


class NotSolved(Exception):
    """Raised inside a checker when the stub is still in place (NotImplementedError or ...)."""


@dataclass(frozen=True)
class Feedback:
    """A checker's verdict on one exercise: status is "solved", "wrong" or "unsolved"."""

    number: str
    name: str
    status: str
    message: str

    @property
    def ok(self) -> bool:
        """True when the exercise is solved."""
        return self.status == SOLVED

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = {SOLVED: "solved", WRONG: "not yet", UNSOLVED: "not solved yet"}[self.status]
        return f"{_ICONS[self.status]} Exercise {self.number} ({self.name}) {verdict}: {self.message}"

    __repr__ = __str__


CHECKERS: dict[str, Callable[..., Feedback]] = {}  # "01.1" and "covariance_by_hand" -> checker
_results: dict[str, Feedback] = {}  # the latest verdict per exercise number, for solved()


def exercise(number: str, name: str):
    """Register a checker for exercise ``number`` ("NN.k"); it returns a success message or raises."""

    def register(check_fn: Callable[..., str]) -> Callable[..., Feedback]:
        @functools.wraps(check_fn)
        def run(answer, *args, **kwargs) -> Feedback:
            status, message = _verdict(check_fn, answer, args, kwargs)
            feedback = Feedback(number, name, status, message)
            _results[number] = feedback
            return feedback

        if number in CHECKERS or name in CHECKERS:
            raise ValueError(f"exercise {number} ({name}) is registered twice")
        CHECKERS[number] = CHECKERS[name] = run
        return run

    return register


def _verdict(check_fn, answer, args, kwargs) -> tuple[str, str]:
    if answer is Ellipsis:
        return UNSOLVED, "replace `...` in the exercise cell with your answer, run it, then run this cell again."
    try:
        return SOLVED, check_fn(answer, *args, **kwargs)
    except (NotSolved, NotImplementedError):
        return UNSOLVED, (
            "replace the line `raise NotImplementedError(...)` in the exercise cell with your code, "
            "run that cell, then run this one again."
        )
    except CheckFailed as failure:
        return WRONG, str(failure)
    except Exception as error:  # a checker must never crash the notebook
        return WRONG, f"could not check your answer ({type(error).__name__}: {error})."


def check(exercise_id: str, answer, *args, **kwargs) -> Feedback:
    """Run the checker for an exercise given by number ("01.1") or name ("covariance_by_hand")."""
    if exercise_id not in CHECKERS:
        known = ", ".join(sorted(k for k in CHECKERS if k[:1].isdigit()))
        raise KeyError(f"no exercise {exercise_id!r}; known exercises: {known}")
    return CHECKERS[exercise_id](answer, *args, **kwargs)


def solved(exercise_id: str) -> bool:
    """True when the latest check of this exercise (number or name) passed: guards later cells."""
    return any(f.ok for f in _results.values() if exercise_id in (f.number, f.name))


# ------------------------------------------------------------------ helpers for checkers


def _randn(shape: Sequence[int], seed: int, mean: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    """Reproducible float64 samples: the checker's own data, the same on every machine."""
    generator = torch.Generator().manual_seed(seed)
    return mean + scale * torch.randn(*shape, generator=generator, dtype=torch.float64)


def _call(fn, *args, call: str):
    """Call the student's function on copies of args; its failures become CheckFailed messages."""
    if not callable(fn):
        raise CheckFailed(
            f"expected a function, got {type(fn).__name__}: pass the function itself, without ()."
        )
    try:
        result = fn(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
    except NotImplementedError:
        raise NotSolved() from None
    except Exception as error:
        raise CheckFailed(f"{call} raised {type(error).__name__}: {_one_line(error)}") from None
    if result is None:
        raise CheckFailed(f"{call} returned None: did you forget `return`?")
    if result is Ellipsis:
        raise NotSolved()
    return result


def _tensor(answer, what: str) -> torch.Tensor:
    """A number, list, NumPy array or tensor -> float64 tensor; anything else is a CheckFailed."""
    if isinstance(answer, torch.Tensor):
        return answer.detach().cpu().to(torch.float64)
    if isinstance(answer, (bool, str, bytes)) or answer is None:
        raise CheckFailed(f"{what} should be a number or a tensor, got {type(answer).__name__}.")
    try:
        return torch.as_tensor(np.asarray(answer, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{what} should be a number or a tensor, got {type(answer).__name__}."
        ) from None


def _shape(t: torch.Tensor) -> str:
    return "a single number" if t.ndim == 0 else "shape (" + ", ".join(map(str, t.shape)) + ")"


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def _compare(
    answer,
    expected: torch.Tensor,
    what: str,
    wrong: Sequence[tuple[str, torch.Tensor]] = (),
    shapes: dict[tuple[int, ...], str] | None = None,
    explain: Callable[[torch.Tensor], str | None] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> None:
    """Raise CheckFailed naming the mistake unless answer equals expected.

    wrong: (message, what that mistake gives) pairs, tried in order; shapes: hints for wrong shapes;
    explain: a last look at the answer before the generic "wrong at entry ..." message.
    """
    got = _tensor(answer, what)
    expected = expected.to(torch.float64)
    if got.shape != expected.shape and got.numel() == 1 and expected.numel() == 1:
        got = got.reshape(expected.shape)  # 3.0, tensor(3.) and tensor([3.]) are all one number
    if got.shape != expected.shape:
        for message, variant in wrong:
            if _close(got, variant, rtol, atol):
                raise CheckFailed(message)
        hint = (shapes or {}).get(tuple(got.shape))
        if hint is None and got.ndim == 2 and tuple(got.shape) == tuple(expected.shape)[::-1]:
            hint = "transposed?"
        raise CheckFailed(
            f"{what} has {_shape(got)}, expected {_shape(expected)}" + (f": {hint}" if hint else ".")
        )
    if not torch.isfinite(got).all():
        raise CheckFailed(f"{what} contains NaN or infinity: look for a division by zero.")
    if _close(got, expected, rtol, atol):
        return
    for message, variant in wrong:
        if _close(got, variant, rtol, atol):
            raise CheckFailed(message)
    factor = _constant_ratio(got, expected)
    if factor is not None:
        raise CheckFailed(
            f"{what} is {factor:.4g} times the right answer: a scale factor is off "
            "(check what you divide by)."
        )
    note = explain(got) if explain else None
    if note:
        raise CheckFailed(note)
    error = (got - expected).abs()
    index = tuple(int(i) for i in np.unravel_index(int(error.argmax()), tuple(got.shape)))
    where = f" at entry {list(index)}" if index else ""
    raise CheckFailed(
        f"{what} is wrong{where}: got {got[index].item():.6g}, expected {expected[index].item():.6g}."
    )


def _constant_ratio(got: torch.Tensor, expected: torch.Tensor) -> float | None:
    """k when got == k * expected for one k (not 0 or 1), else None."""
    if expected.numel() < 2:  # any two numbers have a ratio: it says nothing about one number
        return None
    mask = expected.abs() > 1e-12
    if not mask.any() or bool((got[~mask].abs() > 1e-8).any()):
        return None
    ratios = got[mask] / expected[mask]
    k = ratios[0].item()
    if not torch.allclose(ratios, torch.full_like(ratios, k), rtol=1e-5, atol=1e-12):
        return None
    return None if math.isclose(k, 0.0, abs_tol=1e-12) or math.isclose(k, 1.0) else k


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _centred(X: torch.Tensor) -> torch.Tensor:
    """Each row minus its own mean: variables in rows (V, n), as in nt.covariance."""
    return X - X.mean(dim=-1, keepdim=True)


def _covariance(X: torch.Tensor) -> torch.Tensor:
    """The reference 1/(n-1) covariance of the rows of X (V, n) -> (V, V), written out here."""
    Xc = _centred(X)
    return Xc @ Xc.T / (X.shape[-1] - 1)


# ------------------------------------------------------------------ notebook 01: covariance

TINY_X = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)  # notebook 01's table
TINY_Y = torch.tensor([3.0, 6.0, 4.0, 5.0, 7.0], dtype=torch.float64)


@exercise("01.1", "covariance_by_hand")
def check_covariance_by_hand(fn) -> str:
    """Exercise 01.1: fn(x, y) for two 1-D tensors -> c = 1/(n-1) * sum (x_i - mean x)(y_i - mean y)."""
    pairs = [(TINY_X, TINY_Y), (_randn([7], seed=11, mean=3.0), _randn([7], seed=12, mean=-2.0, scale=2.0))]
    for x, y in pairs:
        n = len(x)
        dx, dy = x - x.mean(), y - y.mean()
        products = dx * dy
        call = f"covariance_by_hand(x, y) for n = {n}"
        wrong = [
            (f"you divided by n instead of n - 1: your answer is (n-1)/n = {(n - 1) / n:.2f} times "
             "the right one. The deck's sample covariance divides by n - 1.", products.sum() / n),
            ("you forgot to centre: subtract the means (x_i - mean x) and (y_i - mean y) before "
             "multiplying.", (x * y).sum() / (n - 1)),
            ("you forgot to centre (subtract the means) and divided by n instead of n - 1.", (x * y).mean()),
            ("you forgot to divide the sum by n - 1.", products.sum()),
            ("you returned the variance of x: multiply (x_i - mean x) by (y_i - mean y), not by itself.",
             (dx * dx).sum() / (n - 1)),
            ("you returned the correlation r (divided by the standard deviations); covariance keeps "
             "the units, and r is notebook 02.", products.sum() / (dx.square().sum() * dy.square().sum()).sqrt()),
            ("you returned the products (x_i - mean x)(y_i - mean y) one per observation: sum them, "
             "then divide by n - 1.", products),
            ("you returned the whole 2 x 2 covariance matrix; return only its off-diagonal entry c_xy.",
             _covariance(torch.stack([x, y]))),
        ]
        shapes = {(n,): "one value per observation: sum them, then divide by n - 1.",
                  (2, 2): "that is a 2 x 2 matrix; return only the off-diagonal entry c_xy."}
        _compare(_call(fn, x, y, call=call), products.sum() / (n - 1), call, wrong, shapes)
    return "covariance_by_hand agrees with the deck's formula (c = 1.75 on the table, and on random data)."


@exercise("01.2", "covariance_matrix")
def check_covariance_matrix(fn) -> str:
    """Exercise 01.2: fn(X) for X (V, n), variables in rows -> (V, V) covariance matrix."""
    V, n = 3, 6
    X = _randn((V, n), seed=21, scale=2.0) + torch.tensor([[1.0], [5.0], [-3.0]], dtype=torch.float64)
    Xc = _centred(X)
    expected = Xc @ Xc.T / (n - 1)
    by_columns = X - X.mean(dim=0, keepdim=True)
    by_all = X - X.mean()
    std = expected.diagonal().sqrt()
    call = f"covariance_matrix(X) for X of shape ({V}, {n})"
    wrong = [
        (f"you treated the columns as the variables: you got a {n} x {n} matrix, one row per "
         f"observation. Here variables are rows, X is (V, n) = ({V}, {n}) as in numpy.cov: use "
         "Xc @ Xc.T, not Xc.T @ Xc.", _covariance(X.T)),
        (f"you divided by n instead of n - 1: your answer is (n-1)/n = {(n - 1) / n:.2f} times the right one.",
         Xc @ Xc.T / n),
        ("you forgot to centre: subtract each row's mean, X - X.mean(dim=1, keepdim=True), first.",
         X @ X.T / (n - 1)),
        ("you subtracted the mean of each column (each observation); subtract the mean of each row "
         "(each variable): X.mean(dim=1, keepdim=True).", by_columns @ by_columns.T / (n - 1)),
        ("you subtracted one overall mean; each variable (row) needs its own mean.", by_all @ by_all.T / (n - 1)),
        ("you forgot to divide by n - 1.", Xc @ Xc.T),
        ("you returned the correlation (divided by the standard deviations); this asks for the covariance.",
         expected / (std[:, None] * std[None, :])),
        ("you returned only the diagonal (the variances); return the whole V x V matrix.", expected.diagonal()),
    ]
    shapes = {
        (n, n): f"a {n} x {n} matrix has one row per observation: variables are the rows of X, "
                "so use Xc @ Xc.T, not Xc.T @ Xc.",
        (V, n): "that is the shape of X itself: multiply the centred data by its transpose, Xc @ Xc.T.",
        (V,): "only the diagonal (the variances): return the whole V x V matrix.",
    }
    _compare(_call(fn, X, call=call), expected, call, wrong, shapes)
    return "covariance_matrix matches nt.covariance, numpy.cov and torch.cov."


@exercise("01.3", "data_with_covariance")
def check_data_with_covariance(fn) -> str:
    """Exercise 01.3: fn(Z, target) -> data (V, n) whose sample covariance is exactly target."""
    target = torch.tensor([[4.0, 2.0, 0.6], [2.0, 3.0, -0.5], [0.6, -0.5, 1.0]], dtype=torch.float64)
    V, n = 3, 12
    Z = _randn((V, n), seed=31, mean=0.5)
    L = torch.linalg.cholesky(target)
    Zc = _centred(Z)
    W = torch.linalg.solve_triangular(torch.linalg.cholesky(_covariance(Z)), Zc, upper=False)
    W_biased = torch.linalg.solve_triangular(torch.linalg.cholesky(Zc @ Zc.T / n), Zc, upper=False)
    call = f"data_with_covariance(Z, target) for Z of shape ({V}, {n})"
    data = _tensor(_call(fn, Z, target, call=call), call)
    if data.shape != Z.shape:
        hint = "transposed? Variables are rows, as in Z." if data.shape == Z.T.shape else "return one column per sample, like Z."
        raise CheckFailed(f"{call} has {_shape(data)}, expected shape ({V}, {n}): {hint}")
    what = "the covariance of your data"
    wrong = [
        ("your data's covariance is only close to the target: colouring raw random samples "
         "gives target covariance on average, not exactly. Whiten Z exactly first (centre it, "
         "then solve with the Cholesky factor of its own covariance).", _covariance(L @ Z)),
        ("you coloured with the upper factor L^T: cov(L^T W) = L^T L, which is not the target. "
         "Use the lower factor L = torch.linalg.cholesky(target), so that L L^T = target.",
         _covariance(L.T @ W)),
        ("you multiplied by the target itself: the covariance becomes target @ target^T. "
         "Multiply by its Cholesky factor L (a 'square root': L L^T = target).", _covariance(target @ W)),
        (f"your covariance is n/(n-1) = {n / (n - 1):.3f} times the target: you whitened with the 1/n "
         "covariance; use the 1/(n-1) one (nt.covariance).", _covariance(L @ W_biased)),
    ]

    def explain(got):
        if (got - target).abs().max() < 0.5 * target.abs().max():
            return ("your data's covariance is close to the target but not exact: whiten Z exactly "
                    "first, so that its covariance is exactly I, then colour it with L.")
        return ("your data's covariance is not the target. The recipe: centre Z, whiten it with the "
                "Cholesky factor of its own covariance, colour it with L = torch.linalg.cholesky(target).")

    _compare(_covariance(data), target, what, wrong, explain=explain, rtol=1e-6, atol=1e-9)
    return "your data's sample covariance is exactly the target (whiten, then colour with L)."


# ------------------------------------------------------------------ notebook 02: correlation

DECK_COVARIANCE = torch.tensor(
    [[3.16, 4.13, 2.79], [4.13, 11.79, 4.32], [2.79, 4.32, 9.31]], dtype=torch.float64
)


@exercise("02.1", "correlation_from_covariance")
def check_correlation_from_covariance(fn) -> str:
    """Exercise 02.1: fn(C) for a (V, V) covariance -> (V, V) correlation r_jk = c_jk / sqrt(c_jj c_kk)."""
    A = _randn((4, 9), seed=41)
    for C in (DECK_COVARIANCE, _covariance(A * torch.tensor([[1.0], [3.0], [0.5], [2.0]], dtype=torch.float64))):
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
            ("you divided each row by its variance c_jj; divide by sqrt(c_jj * c_kk).", C / var[:, None]),
            ("you returned the covariance unchanged.", C),
        ]
        shapes = {(V,): "a vector: did you compute only the standard deviations? r is a V x V matrix.",
                  (): "one number: r is a V x V matrix, one entry per pair of variables."}

        def explain(got, V=V):
            if not torch.allclose(got.diagonal(), torch.ones(V, dtype=torch.float64), atol=1e-6):
                return ("the diagonal should be all 1 (each variable correlates perfectly with itself); "
                        f"yours is {[round(v, 3) for v in got.diagonal().tolist()]}.")
            if not torch.allclose(got, got.T, atol=1e-8):
                return "your matrix is not symmetric: r_jk must equal r_kj."
            return None

        _compare(_call(fn, C, call=call), C / (std[:, None] * std[None, :]), call, wrong, shapes, explain)
    return "correlation_from_covariance turns the deck's covariance into the deck's correlation table."


@exercise("02.2", "pearson_r")
def check_pearson_r(fn) -> str:
    """Exercise 02.2: fn(x, y) for two 1-D tensors -> Pearson r with the deck's formula."""
    x = _randn([8], seed=51, mean=4.0, scale=2.0)
    noise = _randn([8], seed=52)
    for y in (10.0 + 0.8 * x + noise, 3.0 - 1.5 * x + 2.0 * noise):  # one positive r, one negative
        n = len(x)
        dx, dy = x - x.mean(), y - y.mean()
        sxy, sxx, syy = (dx * dy).sum(), dx.square().sum(), dy.square().sum()
        r = sxy / (sxx * syy).sqrt()
        call = f"pearson_r(x, y) for n = {n}"
        wrong = [
            ("you forgot to centre: subtract the means before multiplying (what you computed is the "
             "cosine similarity of x and y).", (x * y).sum() / (x.square().sum() * y.square().sum()).sqrt()),
            (f"you divided the numerator by n - 1 but not the sums under the square root: your r is "
             f"1/(n-1) = {1 / (n - 1):.3f} times the right one. The factors cancel; leave them out "
             "or use them on both.", sxy / (n - 1) / (sxx * syy).sqrt()),
            (f"you mixed n - 1 (covariance) with n (standard deviations): your r is n/(n-1) = "
             f"{n / (n - 1):.3f} times the right one.", (sxy / (n - 1)) / ((sxx / n) * (syy / n)).sqrt()),
            (f"you mixed n (covariance) with n - 1 (standard deviations): your r is (n-1)/n = "
             f"{(n - 1) / n:.3f} times the right one.", (sxy / n) / ((sxx / (n - 1)) * (syy / (n - 1))).sqrt()),
            ("you forgot the square root in the denominator: r = sum dx dy / sqrt(sum dx^2 * sum dy^2).",
             sxy / (sxx * syy)),
            ("you returned the covariance c, not r: divide by the standard deviations.", sxy / (n - 1)),
            ("you returned r squared; r keeps its sign.", r.square()),
            ("you returned |r|: the sign says whether y rises or falls with x, keep it.", r.abs()),
        ]

        def explain(got):
            value = got.item()
            return (f"r must lie between -1 and 1, yours is {value:.4g}: check the denominator."
                    if abs(value) > 1 + 1e-9 else None)

        _compare(_call(fn, x, y, call=call), r, call, wrong, {(n,): "one value per observation: sum them."}, explain)
    return "pearson_r matches nt.correlation and numpy.corrcoef, for a positive and a negative r."


# ------------------------------------------------------------------ notebook 03: Gram matrix

DECK_M = torch.tensor([[19.0, 20.0], [9.0, 8.0]], dtype=torch.float64)  # the deck's Gram example


@exercise("03.1", "gram_by_hand")
def check_gram_by_hand(fn) -> str:
    """Exercise 03.1: fn(M) for M (C, n) -> G = M M^T (C, C), no normalisation."""
    for M in (DECK_M, _randn((3, 5), seed=61, mean=1.0)):
        C, n = M.shape
        call = f"gram_by_hand(M) for M of shape ({C}, {n})"
        Mc = _centred(M)
        wrong = [
            (f"you computed M^T M ({n} x {n}, positions by positions); the Gram matrix is M M^T "
             f"({C} x {C}), channels by channels: M @ M.T.", M.T @ M),
            ("you multiplied element by element (M * M); use the matrix product M @ M.T.", M * M),
            *([("you multiplied M by itself without transposing: use M @ M.T.", M @ M)] if C == n else []),
            (f"you divided by n = {n}: the deck's Gram is plain M M^T (normalize='none').", M @ M.T / n),
            ("you centred M first: that gives (n - 1) times the covariance. The Gram matrix uses the "
             "raw values.", Mc @ Mc.T),
        ]
        shapes = {(n, n): f"that is M^T M, positions by positions; the Gram matrix is M @ M.T, ({C}, {C}).",
                  (C, n): "the shape of M itself: did you multiply element by element? Use M @ M.T."}
        _compare(_call(fn, M, call=call), M @ M.T, call, wrong, shapes)
    return "gram_by_hand reproduces the deck: [[19, 20], [9, 8]] -> [[761, 331], [331, 145]]."


@exercise("03.2", "gram_hw")
def check_gram_hw(fn) -> str:
    """Exercise 03.2: fn(F) for feature maps F (C, H, W) -> G = M M^T / (H*W) with M = F as (C, H*W)."""
    C, H, W = 3, 4, 5
    F = torch.relu(_randn((C, H, W), seed=71, mean=0.3))
    M = F.reshape(C, H * W)
    G = M @ M.T
    scrambled = F.reshape(H * W, C).T  # a reshape that mixes channels and positions
    call = f"gram_hw(F) for F of shape ({C}, {H}, {W})"
    wrong = [
        (f"you forgot to normalise: divide by H*W = {H * W}, the number of positions.", G),
        (f"you divided by C*H*W = {C * H * W} ('chw'); this exercise asks for 'hw': divide by H*W only.",
         G / (C * H * W)),
        (f"you divided by H = {H} only; divide by H*W, the number of positions.", G / H),
        (f"you divided by W = {W} only; divide by H*W, the number of positions.", G / W),
        ("you divided by H*W - 1: that is the covariance's n - 1; the Gram is an average over the "
         "H*W positions.", G / (H * W - 1)),
        (f"you reshaped F to (H*W, C) = ({H * W}, {C}) and transposed: that mixes channels and "
         "positions. F.reshape(C, H*W) keeps each channel in its own row.", scrambled @ scrambled.T / (H * W)),
        ("you computed M^T M (positions by positions); the Gram matrix is M @ M.T.", M.T @ M / (H * W)),
    ]
    shapes = {
        (H * W, H * W): f"({H * W}, {H * W}) is positions by positions: flatten to M = "
                        "F.reshape(C, H*W) and use M @ M.T, channels by channels.",
        (C, H, H): "a 3-D result: flatten F (C, H, W) into M (C, H*W) first, then M @ M.T.",
        (C, W, W): "a 3-D result: flatten F (C, H, W) into M (C, H*W) first, then M @ M.T.",
        (C, H, W): "the shape of F itself: flatten it into M (C, H*W), then M @ M.T / (H*W).",
        (1, C, C): "you kept a batch dimension: for F (C, H, W) return a (C, C) matrix.",
    }
    _compare(_call(fn, F, call=call), G / (H * W), call, wrong, shapes)
    return "gram_hw matches nt.gram_matrix(F[None], normalize='hw')[0]."


@exercise("03.3", "gram_from_statistics")
def check_gram_from_statistics(fn) -> str:
    """Exercise 03.3: fn(mean, covariance, n) -> M M^T = (n - 1) * covariance + n * outer(mean, mean)."""
    C, n = 3, 10
    M = _randn((C, n), seed=81) + torch.tensor([[1.0], [0.2], [2.0]], dtype=torch.float64)
    mean, cov = M.mean(dim=1), _covariance(M)
    outer = mean[:, None] * mean[None, :]
    call = f"gram_from_statistics(mean, covariance, n) for C = {C} rows and n = {n}"
    wrong = [
        ("you left out the means: M M^T = (n - 1) * covariance + n * mean mean^T. The mean term is "
         "what dominates the Gram matrix of features that are never negative.", (n - 1) * cov),
        ("you used n instead of n - 1 for the covariance part: the centred rows give "
         "Mc Mc^T = (n - 1) * covariance.", n * cov + n * outer),
        ("you forgot the factor n on mean mean^T: each of the n columns adds mean mean^T.", (n - 1) * cov + outer),
        ("you forgot the factors: M M^T = (n - 1) * covariance + n * mean mean^T.", cov + outer),
        ("mean * mean multiplies element by element (shape (C,)); you need the outer product "
         "mean mean^T: torch.outer(mean, mean) or mean[:, None] * mean[None, :].", (n - 1) * cov + n * mean * mean),
        ("mean @ mean is one number (the inner product); you need the outer product "
         "mean mean^T: torch.outer(mean, mean).", (n - 1) * cov + n * (mean @ mean)),
    ]
    shapes = {(C,): "a vector: mean * mean is element by element; use the outer product torch.outer(mean, mean)."}
    _compare(_call(fn, mean, cov, n, call=call), M @ M.T, call, wrong, shapes)
    return "gram_from_statistics matches nt.gram_matrix: M M^T = (n - 1) C + n mean mean^T."


# --- notebook 04 ---
# Feature maps: flattening (C, H, W) -> (C, H*W), and the layer table's shapes.


@exercise("04.1", "flatten_by_hand")
def check_flatten_by_hand(fn) -> str:
    """Exercise 04.1: fn(F) for one feature map F (C, H, W) -> M (C, H*W), row c = channel c line by line."""
    for seed, (C, H, W) in ((91, (3, 4, 5)), (92, (2, 3, 7))):
        F = _randn((C, H, W), seed=seed)
        call = f"flatten_by_hand(F) for F of shape ({C}, {H}, {W})"
        wrong = [
            (f"you reshaped F to (H*W, C) = ({H * W}, {C}) and transposed: that mixes channels and "
             "positions. F.reshape(C, H*W) keeps each channel in its own row.", F.reshape(H * W, C).T),
            ("you read each channel column by column (position x*H + y); read it line by line, "
             "position y*W + x, as F.reshape(C, H*W) and nt.flatten_features do.",
             F.transpose(1, 2).reshape(C, H * W)),
            (f"you returned (H*W, C) = ({H * W}, {C}), one row per position: transposed. The deck's 2-D "
             "map has one row per channel, (C, H*W).", F.reshape(C, H * W).T),
            (f"you reshaped F straight to (H*W, C) = ({H * W}, {C}): one row per position, with channels "
             "and positions mixed. Use F.reshape(C, H*W).", F.reshape(H * W, C)),
            ("you flattened everything into one vector; keep one row per channel: F.reshape(C, H*W).",
             F.reshape(-1)),
            ("you kept a batch dimension: for F of shape (C, H, W) return (C, H*W).", F.reshape(1, C, H * W)),
            (f"you merged the channels with the rows: (C*H, W) = ({C * H}, {W}). Keep the channels apart "
             "and merge H and W: F.reshape(C, H*W).", F.reshape(C * H, W)),
        ]
        _compare(_call(fn, F, call=call), F.reshape(C, H * W), call, wrong)
    return "flatten_by_hand matches nt.flatten_features: (C, H, W) -> (C, H*W), channel by channel."


def _vgg_shape(name: str, height: int, width: int, *, own_pool: bool = False, pool_before: bool = False,
               cap: bool = True, ceil: bool = False, swap: bool = False) -> tuple[int, int, int]:
    """(C, h, w) of a VGG19 layer for a height x width image; the keywords make the typical mistakes."""
    block = int(name[4])
    channels = 64 * 2 ** (block - 1)
    channels = min(channels, 512) if cap else channels
    pools = block - 1
    if name.startswith("pool"):
        pools = block - 1 if pool_before else block
    elif own_pool:
        pools = block
    h, w = height, width
    for _ in range(pools):
        h, w = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
    return (channels, w, h) if swap else (channels, h, w)


@exercise("04.2", "feature_shape")
def check_feature_shape(fn) -> str:
    """Exercise 04.2: fn(name, height, width) -> (C, h, w) of that VGG19 layer, from the rules alone."""
    from .vgg import LAYER_NAMES

    height, width = 100, 75  # odd sizes: pooling rounds down
    rows = []
    for name in LAYER_NAMES:
        call = f"feature_shape({name!r}, {height}, {width})"
        got = _tensor(_call(fn, name, height, width, call=call), call)
        if got.shape != (3,):
            hint = {(4,): " without the batch dimension", (2,): ": the channels C first, then h and w"}.get(tuple(got.shape), "")
            raise CheckFailed(f"{call} returned {_shape(got)}; return three numbers (C, h, w){hint}.")
        rows.append(got)
    got = torch.stack(rows)

    def table(**mistake) -> torch.Tensor:
        return torch.tensor([_vgg_shape(n, height, width, **mistake) for n in LAYER_NAMES], dtype=torch.float64)

    wrong = [
        ("you counted the pooling of the layer's own block: conv3_1 comes before pool3, so only "
         "pool1 and pool2 have halved the image (224 -> 56, not 28).", table(own_pool=True)),
        ("poolB is the output of block B's pooling: it has been halved B times, pool1 already once.",
         table(pool_before=True)),
        ("the channels double per block only up to 512: block 5 has 512 channels, like block 4.",
         table(cap=False)),
        ("MaxPool2d(2, 2) drops an odd last row or column: round down (height // 2), not up.",
         table(ceil=True)),
        ("you swapped height and width: return (C, h, w), the height first, as PyTorch does.", table(swap=True)),
    ]
    expected = table()

    def explain(got):
        for name, mine, right in zip(LAYER_NAMES, got.tolist(), expected.tolist(), strict=True):
            if mine != right:
                return (f"for {name} on a {height} x {width} image you gave {tuple(int(v) for v in mine)}, "
                        f"expected {tuple(int(v) for v in right)}.")
        return None

    _compare(got, expected, "your shapes", wrong, explain=explain)
    return "feature_shape gives the shape of every one of the 37 layers, conv1_1 to pool5."


# --- notebook 05 ---
# Content loss: the deck's MSE, and the feature maps of the asked-for layer.


@exercise("05.1", "content_mse")
def check_content_mse(fn) -> str:
    """Exercise 05.1: fn(F_G, F_C) for feature maps (1, C, H, W) -> 1/n * sum (F_C - F_G)^2, n = C*H*W."""
    B, C, H, W = 1, 3, 4, 5
    F_G = torch.relu(_randn((B, C, H, W), seed=101, mean=0.5))
    F_C = torch.relu(_randn((B, C, H, W), seed=102, mean=0.5))
    d = F_G - F_C
    n = d.numel()
    call = f"content_mse(F_G, F_C) for feature maps of shape ({B}, {C}, {H}, {W})"
    wrong = [
        (f"you returned the sum of squared errors: divide it by n = C*H*W = {n} (or use .mean()).", d.square().sum()),
        (f"you divided by H*W = {H * W}, the positions; n counts every value, n = C*H*W = {n}.",
         d.square().sum() / (H * W)),
        (f"you divided by C = {C}, the channels; n counts every value, n = C*H*W = {n}.", d.square().sum() / C),
        ("that is Gatys et al.'s 1/2 * sum; the deck's content loss (and nt.content_loss) is the mean "
         "1/n * sum (F_C - F_G)^2.", d.square().sum() / 2),
        (f"you divided by n - 1 = {n - 1}: that is the covariance's correction; a mean squared error "
         "divides by n.", d.square().sum() / (n - 1)),
        ("you squared the mean difference; square each difference first, then average.", d.mean().square()),
        ("you averaged the differences without squaring them: positive and negative errors cancel.", d.mean()),
        ("you returned the mean absolute error; square the differences instead.", d.abs().mean()),
        ("you returned the root mean squared error: leave out the square root.", d.square().mean().sqrt()),
        ("you returned one squared error per value: average them into one number.", d.square()),
        ("you averaged over positions only, one value per channel: average over all n = C*H*W values.",
         d.square().mean(dim=(2, 3))),
    ]
    shapes = {(C,): "one value per channel: average over every value, n = C*H*W.",
              (H, W): "one value per position: average over every value, n = C*H*W."}
    _compare(_call(fn, F_G, F_C, call=call), d.square().mean(), call, wrong, shapes)
    return "content_mse is the deck's 1/n * sum (F_C - F_G)^2, the same as nt.content_loss."


@exercise("05.2", "content_loss_at")
def check_content_loss_at(fn, model=None) -> str:
    """Exercise 05.2: fn(model, generated, content, layer) -> content loss of two images at one layer.

    model: the notebook's VGG19 (default: a small random-weight VGG19 on the CPU, for speed).
    """
    from .losses import content_loss
    from .vgg import LAYER_NAMES, load_vgg19

    if model is None:
        model = load_vgg19(weights="random", device="cpu")
    generator = torch.Generator().manual_seed(111)
    generated, content = torch.rand(2, 1, 3, 32, 32, generator=generator)
    with torch.no_grad():
        F_G, F_C = (model.extract(image, LAYER_NAMES) for image in (generated, content))
        losses = {name: content_loss(F_G[name], F_C[name]).double().cpu() for name in LAYER_NAMES}
    for layer in ("conv4_2", "relu2_1"):
        call = f"content_loss_at(model, generated, content, {layer!r})"
        twin = layer.replace("conv", "relu") if layer.startswith("conv") else layer.replace("relu", "conv")
        wrong = [
            (f"you compared the feature maps of {twin}, not {layer}: pre- and post-ReLU maps differ, "
             "reluB_K = max(0, convB_K). Extract exactly the layer you are given.", losses[twin]),
            *[(f"you compared the feature maps of {other}, not {layer}: extract the layer you are given, "
               "model.extract(image, [layer])[layer].", losses[other]) for other in LAYER_NAMES if other not in (layer, twin)],
            ("you compared the images' pixels: run both images through the network first, "
             "model.extract(image, [layer])[layer].", (generated - content).square().mean().double()),
            ("you summed the squared errors: the content loss is their mean (divide by n = C*H*W).",
             (F_G[layer] - F_C[layer]).square().sum().double().cpu()),
        ]
        got = _call(fn, model, generated, content, layer, call=call)
        _compare(got, losses[layer], call, wrong, rtol=1e-4, atol=1e-12)
    return "content_loss_at extracts the asked-for layer and compares it like nt.content_loss."


# --- notebook 06 ---
# Style loss: one layer's Gram MSE, then the weighted sum over layers.


def _gram_hw(F: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C): M M^T / (H*W), written out here as the checkers' reference."""
    _, C, H, W = F.shape
    M = F.reshape(C, H * W)
    return M @ M.T / (H * W)


@exercise("06.1", "layer_style_loss")
def check_layer_style_loss(fn) -> str:
    """Exercise 06.1: fn(F_G, F_S) for (1, C, H, W) maps -> E = mean over C^2 entries of (G - A)^2, Grams "hw"."""
    C, H, W = 3, 4, 5
    F_G = torch.relu(_randn((1, C, H, W), seed=121, mean=0.3))
    F_S = torch.relu(_randn((1, C, H, W), seed=122, mean=0.6, scale=1.5))
    M_G, M_S = F_G.reshape(C, H * W), F_S.reshape(C, H * W)
    G, A = _gram_hw(F_G), _gram_hw(F_S)
    Mc_G, Mc_S = _centred(M_G), _centred(M_S)
    D = F_G - F_S
    call = f"layer_style_loss(F_G, F_S) for feature maps of shape (1, {C}, {H}, {W})"
    wrong = [
        (f"you forgot to normalise the Gram matrices: divide M M^T by H*W = {H * W}.", ((M_G @ M_G.T - M_S @ M_S.T) ** 2).mean()),
        (f"you divided the Gram matrices by C*H*W ('chw'); nt.style_loss uses 'hw': divide by H*W = {H * W} only.",
         ((G - A) / C).square().mean()),
        (f"you divided the Gram matrices by H*W - 1: that is the covariance's n - 1; the Gram matrix "
         f"averages over the H*W = {H * W} positions.", ((G - A) * (H * W) / (H * W - 1)).square().mean()),
        ("you included Gatys et al.'s factor 1/4; nt.style_loss leaves it out (its E_l is the paper's times 4).",
         (G - A).square().mean() / 4),
        (f"you summed over the C x C entries; average them (divide by C^2 = {C * C}).", (G - A).square().sum()),
        ("you compared the feature maps themselves: that is the content loss. Compare their Gram matrices.",
         D.square().mean()),
        ("you took the Gram matrix of the difference, Gram(F_G - F_S); take the difference of the Gram "
         "matrices, Gram(F_G) - Gram(F_S).", _gram_hw(D).square().mean()),
        ("you computed M^T M (positions by positions); the Gram matrix is M M^T, channels by channels.",
         ((M_G.T @ M_G - M_S.T @ M_S) / (H * W)).square().mean()),
        ("you centred the features (that makes a covariance); the Gram matrix uses them as they are.",
         ((Mc_G @ Mc_G.T - Mc_S @ Mc_S.T) / (H * W)).square().mean()),
        ("you returned the norm ||G - A||; the loss is the mean of the squared differences.",
         (G - A).norm()),
        ("you returned the root of the mean squared difference: leave out the square root.",
         (G - A).square().mean().sqrt()),
        ("you returned the squared differences of every entry: average them into one number.", (G - A).square()),
    ]
    shapes = {(C, C): "that is a C x C matrix: average its squared differences into one number.",
              (1, C, C): "that is a C x C matrix: average its squared differences into one number."}
    _compare(_call(fn, F_G, F_S, call=call), (G - A).square().mean(), call, wrong, shapes)
    return "layer_style_loss is the style loss of one layer, as nt.style_loss computes it."


@exercise("06.2", "style_loss_by_hand")
def check_style_loss_by_hand(fn) -> str:
    """Exercise 06.2: fn(target_features, style_grams) -> sum over style_grams' layers of (1/L) * E_l."""
    sizes = {"relu1_1": (2, 6, 6), "relu2_1": (4, 3, 3), "relu3_1": (8, 2, 2)}
    target_features, style_grams, seed = {}, {}, 131
    for name, (C, H, W) in sizes.items():
        target_features[name] = torch.relu(_randn((1, C, H, W), seed=seed, mean=0.3))
        style_grams[name] = _gram_hw(torch.relu(_randn((1, C, H, W), seed=seed + 1, mean=0.5)))[None]
        seed += 2
    target_features["relu4_2"] = _randn((1, 16, 1, 1), seed=seed)  # a content layer: not a style layer
    names, L = list(sizes), len(sizes)
    E = {n: (_gram_hw(target_features[n])[None] - style_grams[n]).square().mean() for n in names}
    raw = {n: (_gram_hw(target_features[n])[None] * (sizes[n][1] * sizes[n][2]) - style_grams[n]).square().mean()
           for n in names}
    call = "style_loss_by_hand(target_features, style_grams)"
    wrong = [
        (f"you added the layers without their weights w_l = 1/L: with L = {L} layers that is {L} times too much.",
         sum(E.values())),
        (f"you used only the last layer, {names[-1]}; the style loss is applied on many layers: add "
         "w_l * E_l for every layer of style_grams.", E[names[-1]]),
        (f"you used only the first layer, {names[0]}; add w_l * E_l for every layer of style_grams.", E[names[0]]),
        (f"you used only the last layer's share, E_{names[-1]} / L: add up the layers.", E[names[-1]] / L),
        ("you compared M M^T of the target with the style Grams, which are divided by H*W ('hw'): "
         "normalise the target's Gram the same way.", sum(raw.values()) / L),
        (f"you divided the sum by L twice (L^2 = {L * L}): the weights are w_l = 1/L.", sum(E.values()) / L**2),
    ]
    try:
        got = _call(fn, target_features, style_grams, call=call)
    except CheckFailed as failure:
        if "KeyError" not in str(failure):
            raise
        raise CheckFailed(f"{failure}; loop over the layers of style_grams: target_features may hold "
                          "more layers (here the content layer relu4_2).") from None
    _compare(got, sum(E.values()) / L, call, wrong, {(L,): "one value per layer: add them up, weighted by 1/L."})
    return "style_loss_by_hand matches nt.style_loss: the mean of the layers' Gram MSEs."


# --- notebook 07 ---
# The loop: a trainable target image, and the optimiser's steps.


@exercise("07.1", "make_target")
def check_make_target(fn) -> str:
    """Exercise 07.1: fn(content_image, preprocessing) -> leaf tensor requiring grad, = preprocessing(content_image)."""
    from .vgg import CAFFE_PREPROCESSING as prep

    content_image = torch.rand(1, 3, 6, 5, generator=torch.Generator().manual_seed(141))
    call = "make_target(content_image, preprocessing)"
    got = _call(fn, content_image, prep, call=call)
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{call} returned {type(got).__name__}; return a torch tensor the optimiser can update.")
    wrong = [
        ("your target is the content image in pixel space, RGB in [0, 1]; the network (and the optimiser) "
         "work in its input space: start from preprocessing(content_image).", content_image.double()),
        ("you applied preprocessing.inverse; preprocessing(content_image) turns the picture into the "
         "network's input.", prep.inverse(content_image).double()),
    ]
    shapes = {(3, 6, 5): "you dropped the batch dimension: keep (1, 3, H, W), the shape the network takes."}
    _compare(got.detach(), prep(content_image).double(), call, wrong, shapes, rtol=1e-5, atol=1e-4)
    if not got.requires_grad:
        raise CheckFailed("your target does not require gradients, so back-propagation cannot reach it: "
                          "call .requires_grad_(True) on it.")
    if not got.is_leaf:
        raise CheckFailed("your target is not a leaf tensor (it is computed from another tensor that requires "
                          "grad), and torch.optim only updates leaves: .detach() it, then .requires_grad_(True).")
    return "make_target makes a trainable copy of the content image in the network's input space."


def _adam_losses(loss_fn, x0: torch.Tensor, steps: int, lr: float, *, zero_grad: bool = True,
                 new_optimizer: bool = False, sgd: bool = False, after: bool = False) -> list[float]:
    """The reference loop of exercise 07.2; the keywords make the typical mistakes."""
    x = x0.clone().requires_grad_(True)
    make = (lambda: torch.optim.SGD([x], lr=lr)) if sgd else (lambda: torch.optim.Adam([x], lr=lr))
    optimizer, losses = make(), []
    for _ in range(steps):
        if new_optimizer:
            optimizer = make()
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        optimizer.step()
        losses.append(loss_fn(x).item() if after else loss.item())
    return losses


@exercise("07.2", "optimise")
def check_optimise(fn) -> str:
    """Exercise 07.2: fn(target, loss_fn, steps, lr) -> list of losses; Adam updates target in place."""
    A = _randn((5, 3), seed=151)
    b = _randn((5,), seed=152)

    def loss_fn(x):
        return ((A @ x - b) ** 2).sum()

    x0 = _randn((3,), seed=153)
    steps, lr = 6, 0.3
    call = f"optimise(target, loss_fn, steps={steps}, lr={lr})"
    target = x0.clone().requires_grad_(True)
    try:
        got = fn(target, loss_fn, steps, lr)
    except NotImplementedError:
        raise NotSolved() from None
    except Exception as error:
        raise CheckFailed(f"{call} raised {type(error).__name__}: {_one_line(error)}") from None
    if got is None:
        raise CheckFailed(f"{call} returned None: did you forget `return losses`?")
    if got is Ellipsis:
        raise NotSolved()
    try:
        got = [float(v) for v in got]
    except (TypeError, ValueError):
        raise CheckFailed(f"{call} should return a list of {steps} numbers, one loss per step.") from None
    if len(got) != steps:
        raise CheckFailed(f"{call} returned {len(got)} losses; return one per step, {steps} in all.")

    def run(**mistake):
        return torch.tensor(_adam_losses(loss_fn, x0, steps, lr, **mistake), dtype=torch.float64)

    wrong = [
        ("you forgot optimizer.zero_grad(): PyTorch adds each new gradient to the old ones, so every "
         "step follows the sum of all gradients so far.", run(zero_grad=False)),
        ("you created the optimiser inside the loop: Adam's running averages restart at every step. "
         "Create it once, before the loop.", run(new_optimizer=True)),
        ("you created the optimiser inside the loop and never zeroed the gradients.",
         run(new_optimizer=True, zero_grad=False)),
        ("that is plain gradient descent (torch.optim.SGD); this exercise asks for torch.optim.Adam.", run(sgd=True)),
        ("you recorded each loss after its update; record the loss you back-propagate, before "
         "optimizer.step().", run(after=True)),
    ]
    _compare(torch.tensor(got, dtype=torch.float64), run(), "your losses", wrong, rtol=1e-6, atol=1e-9)
    x = x0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(x).backward()
        optimizer.step()
    if not torch.allclose(target.detach(), x.detach(), rtol=1e-6, atol=1e-9):
        raise CheckFailed("your losses are right, but the tensor passed in as target did not end where Adam "
                          "takes it: update target itself (torch.optim.Adam([target], lr=lr)), not a copy, "
                          "as style transfer updates the pixels of the target image.")
    return "optimise is the deck's last step: back-propagate into the target and let Adam update it."


# --- notebook 08 ---
# The paper's Figure 3: its alpha/beta ratio in this package's units, and the content layer's size.


def _paper_ratio_cases() -> tuple[torch.Tensor, torch.Tensor]:
    """(ratios, n_values): paper alpha/beta ratios and N*M sizes of a content layer, as float64."""
    ratios = torch.tensor([1e-3, 1e-4, 1e-2], dtype=torch.float64)
    n_values = torch.tensor([46_080.0, 442_368.0, 1_000.0], dtype=torch.float64)
    return ratios, n_values


@exercise("08.1", "paper_to_ours")
def check_paper_to_ours(fn) -> str:
    """Exercise 08.1: fn(ratio, n_values) -> our beta/alpha for the paper's alpha/beta = ratio: 1 / (2 * n_values * ratio)."""
    ratios, n = _paper_ratio_cases()
    got = []
    for r, nm in zip(ratios.tolist(), n.tolist(), strict=True):
        call = f"paper_to_ours({r:g}, {nm:g})"
        got.append(_tensor(_call(fn, r, nm, call=call), call).reshape(-1))
        if got[-1].numel() != 1:
            raise CheckFailed(f"{call} returned {got[-1].numel()} numbers; return one: our beta / alpha.")
    got = torch.cat(got)
    wrong = [
        ("your answer is 4 times too large: you forgot that the paper's E_l carries 1/4 and ours does not "
         "(ours = 4 E_l), so the paper's style loss is ours / 4.", 2 / (n * ratios)),
        ("your answer is 16 times too large: you used the factor 4 the wrong way round. Ours = 4 E_l, so "
         "the paper's style loss is ours / 4, not 4 x ours.", 8 / (n * ratios)),
        ("your answer is a quarter of the right one: you applied the paper's 1/4 twice; ours = 4 E_l "
         "already, so divide our style loss by 4 once.", 1 / (8 * n * ratios)),
        ("your answer is half the right one: you forgot the 1/2 in the paper's content loss, "
         "1/2 * sum (F - P)^2 = (N*M / 2) x our mean.", 1 / (4 * n * ratios)),
        ("your answer is twice the right one: you forgot both the 1/2 of the paper's content loss and the "
         "1/4 of its style loss.", 1 / (n * ratios)),
        ("you forgot N*M: the paper's content loss is a sum over the N*M values of the content layer, "
         "ours is their mean, so the paper's is N*M/2 times ours.", 1 / (2 * ratios)),
        ("you forgot N*M and the factor 4 of the style loss.", 2 / ratios),
        ("you inverted the ratio: that is alpha/beta; return our beta/alpha (large when the paper's "
         "alpha/beta is small).", 2 * n * ratios),
        ("you multiplied by the paper's ratio instead of dividing by it: the paper gives alpha/beta, "
         "we want beta/alpha.", ratios / (2 * n)),
        ("you multiplied by N*M instead of dividing by it: the content term grows with N*M in the paper, "
         "so its style weight shrinks in our units.", n / (2 * ratios)),
    ]
    _compare(got, 1 / (2 * n * ratios), "your beta/alpha values", wrong, rtol=1e-6, atol=0)
    return "paper_to_ours translates the paper's alpha/beta into our beta/alpha: 1 / (2 N M ratio)."


def _content_values(height: int, width: int, channels: int = 512, pools: int = 3, ceil: bool = False) -> float:
    h, w = height, width
    for _ in range(pools):
        h, w = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
    return float(channels * h * w)


@exercise("08.2", "content_values")
def check_content_values(fn) -> str:
    """Exercise 08.2: fn(height, width) -> N*M of relu4_2 for an image of height x width px: 512 * (h//8) * (w//8)."""
    sizes = [(85, 73), (128, 109), (100, 75), (512, 436)]
    got = []
    for height, width in sizes:
        call = f"content_values({height}, {width})"
        got.append(_tensor(_call(fn, height, width, call=call), call).reshape(-1))
        if got[-1].numel() != 1:
            raise CheckFailed(f"{call} returned {got[-1].numel()} numbers; return one: N * M.")
    got = torch.cat(got)

    def table(**mistake) -> torch.Tensor:
        return torch.tensor([_content_values(h, w, **mistake) for h, w in sizes], dtype=torch.float64)

    wrong = [
        ("you rounded up: MaxPool2d(2, 2) drops an odd last row or column, so each pooling rounds down "
         "(85 -> 42 -> 21 -> 10).", table(ceil=True)),
        ("you halved the image four times: relu4_2 comes after pool1, pool2 and pool3 but before pool4, "
         "so M = (h // 8) * (w // 8).", table(pools=4)),
        ("you halved the image only twice: pool3 comes before block 4, so relu4_2 is 1/8 of the image "
         "on each side.", table(pools=2)),
        ("you returned M alone, the positions: N*M also counts the N = 512 channels of relu4_2.", table(channels=1)),
        ("block 4 has 512 channels, not 256 (256 is block 3).", table(channels=256)),
        ("you counted the image's pixels: the content loss is taken at relu4_2, 512 channels at 1/8 of the "
         "image's height and width.", torch.tensor([float(h * w) for h, w in sizes], dtype=torch.float64)),
        ("you divided height * width by 64 without rounding: each pooling rounds down on its own, "
         "M = (h // 8) * (w // 8).", torch.tensor([512.0 * h * w / 64 for h, w in sizes], dtype=torch.float64)),
    ]
    _compare(got, table(), "your N*M values", wrong, rtol=1e-9, atol=0)
    return "content_values counts relu4_2's values: N = 512 channels times M = (h // 8) * (w // 8) positions."


# --- notebook 09 ---
# Controls (Gatys et al. 2017): luminance for colour preservation, and blended style targets.


@exercise("09.1", "luminance_of")
def check_luminance_of(fn) -> str:
    """Exercise 09.1: fn(image) for an RGB image (1, 3, H, W) in [0, 1] -> Y = .299 R + .587 G + .114 B, (1, 1, H, W)."""
    image = torch.rand(1, 3, 5, 4, generator=torch.Generator().manual_seed(161), dtype=torch.float64)
    R, G, B = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    expected = 0.299 * R + 0.587 * G + 0.114 * B
    call = "luminance_of(image) for an image of shape (1, 3, 5, 4)"
    got = _tensor(_call(fn, image, call=call), call)
    if got.shape == (1, 5, 4) or got.shape == (5, 4):
        raise CheckFailed(f"{call} has {_shape(got)}: keep the channel dimension, (1, 1, H, W) "
                          "(image[:, 0:1] keeps it, image[:, 0] drops it).")
    if got.shape == (1, 3, 5, 4):
        raise CheckFailed(f"{call} has three channels: return one, Y = 0.299 R + 0.587 G + 0.114 B, of shape (1, 1, H, W).")
    wrong = [
        ("you swapped red and blue (0.114 R + 0.587 G + 0.299 B): the image is RGB, channel 0 is red. "
         "BGR is only the Caffe network's input order, not the picture's.", 0.114 * R + 0.587 * G + 0.299 * B),
        ("you averaged the three channels: the eye is most sensitive to green and least to blue, "
         "so Y = 0.299 R + 0.587 G + 0.114 B.", image.mean(dim=1, keepdim=True)),
        ("you used the weights 299, 587, 114 without dividing by 1000: they must sum to 1, "
         "so that white (1, 1, 1) keeps luminance 1.", 1000 * expected),
        ("you scaled Y to 0-255: keep the picture's units, [0, 1].", 255 * expected),
        ("you mixed up the weights of green and blue (0.299 R + 0.114 G + 0.587 B).", 0.299 * R + 0.114 * G + 0.587 * B),
    ]

    def explain(got):
        white = _tensor(_call(fn, torch.ones(1, 3, 2, 2, dtype=torch.float64), call="luminance_of(white)"), "luminance_of(white)")
        total = white.reshape(-1)[0].item()
        if not math.isclose(total, 1.0, rel_tol=1e-6):
            return (f"white (1, 1, 1) should have luminance 1, yours gives {total:.4g}: your weights sum to "
                    f"{total:.4g}, not 1. Use 0.299, 0.587 and 0.114.")
        if (got - expected).abs().max() < 0.02:
            return "close, but not the NTSC weights: use exactly Y = 0.299 R + 0.587 G + 0.114 B."
        return None

    _compare(got, expected, call, wrong, explain=explain, rtol=1e-6, atol=1e-9)
    return "luminance_of is Y = 0.299 R + 0.587 G + 0.114 B, the same as nst_teach.color.luminance."


@exercise("09.2", "blend_grams")
def check_blend_grams(fn) -> str:
    """Exercise 09.2: fn(grams, weights) -> sum_i (w_i / sum w) * G_i, one blended (C, C) target."""
    cases = [([3.0, 1.0], 171), ([0.2, 0.5, 0.8], 172)]
    for weights, seed in cases:
        k = len(weights)
        grams = [_gram_hw(torch.relu(_randn((1, 4, 3, 3), seed=seed + 10 * i, mean=0.4))) for i in range(k)]
        w = torch.tensor(weights, dtype=torch.float64)
        stack = torch.stack(grams)
        weighted = (w[:, None, None] * stack).sum(0)
        call = f"blend_grams(grams, weights={weights})"
        wrong = [
            (f"you did not normalise the weights: they sum to {w.sum().item():g}, so your target is "
             f"{w.sum().item():g} times too large. Divide each weight by their sum.", weighted),
            (f"you divided by the number of styles ({k}) instead of the sum of the weights "
             f"({w.sum().item():g}): normalise with w_i / sum(w).", weighted / k),
            ("you ignored the weights and averaged the Gram matrices.", stack.mean(0)),
            ("you paired the weights with the Gram matrices in reverse order: weights[i] belongs to grams[i].",
             (w.flip(0)[:, None, None] * stack).sum(0) / w.sum()),
            ("you squared the weights: use w_i / sum(w).", (w[:, None, None] ** 2 * stack).sum(0) / (w**2).sum()),
        ]
        shapes = {(k, 4, 4): "one Gram matrix per style: add them up into one target of shape (C, C)."}
        _compare(_call(fn, grams, weights, call=call), weighted / w.sum(), call, wrong, shapes)
    return "blend_grams makes one target, sum_i (w_i / sum w) G_i, as nt.stylize does with style_weights."


# --- notebook 10 ---
# Under the hood: reading a run's history, evaluations and time to reach a loss.


def _bumpy_history() -> list[dict[str, float]]:
    """A made-up stylize history: total loss falling with two bumps, as L-BFGS runs do."""
    totals = [100.0, 60.0, 35.0, 41.0, 22.0, 18.0, 19.5, 12.0, 9.0, 8.5]
    return [{"content": 0.4 * t, "style": 600.0 - 5 * t, "tv": 0.0, "total": t} for t in totals]


def _first_at_or_below(history, threshold, key="total"):
    return next((i for i, h in enumerate(history) if h[key] <= threshold), None)


@exercise("10.1", "evals_to_reach")
def check_evals_to_reach(fn) -> str:
    """Exercise 10.1: fn(history, threshold) -> how many evaluations until history's total first is <= threshold (None if never)."""
    history = _bumpy_history()
    n = len(history)
    for threshold in (40.0, 19.0, 150.0, 5.0):
        call = f"evals_to_reach(history, {threshold:g})"
        got = _call_maybe_none(fn, history, threshold, call=call)
        i = _first_at_or_below(history, threshold)
        if i is None:
            if got is not None:
                raise CheckFailed(f"{call} returned {got!r}, but the loss never gets to {threshold:g} "
                                  "in this run: return None then (a number would look like a real count).")
            continue
        if got is None:
            raise CheckFailed(f"{call} returned None, but the loss gets to {threshold:g} at evaluation {i + 1}.")
        got = _number(got, call)
        last = max(j for j, h in enumerate(history) if h["total"] > threshold) + 1 if threshold < history[0]["total"] else 0
        mistakes = [
            (i, "off by one: that is the index of history; evaluations count from 1, so history[i] "
                "is evaluation i + 1."),
            (i + 2, "one too many: history[i] is evaluation i + 1."),
            (n, f"you returned the run's whole number of evaluations, {n}: count only those until the "
                "loss first reaches the threshold."),
            (history[i]["total"], "you returned the loss itself; return how many evaluations it took."),
            (last + 1, "you counted from the last time the loss was above the threshold: L-BFGS can bounce "
                       "back up; return the FIRST evaluation at or below it."),
        ]
        for key in ("content", "style"):
            j = _first_at_or_below(history, threshold, key)
            mistakes.append(((j + 1) if j is not None else -1,
                             f"you looked at the {key} loss; compare the total loss, history[i]['total']."))
        if got != i + 1:
            for value, message in mistakes:
                if math.isclose(got, value):
                    raise CheckFailed(f"{call} gave {got:g}: {message}")
            raise CheckFailed(f"{call} gave {got:g}, expected {i + 1} (the loss first falls to "
                              f"{history[i]['total']:g} at evaluation {i + 1}).")
    return "evals_to_reach counts function evaluations from 1, the first time the loss gets there."


@exercise("10.2", "time_to_reach")
def check_time_to_reach(fn) -> str:
    """Exercise 10.2: fn(history, stamps, started, threshold) -> seconds from started to the end of the first evaluation with total <= threshold."""
    history = _bumpy_history()
    started = 1000.0  # time.perf_counter() values are seconds since some arbitrary moment
    stamps = [started + 0.5 + 0.3 * k + 0.01 * k * k for k in range(len(history))]
    for threshold in (40.0, 10.0, 5.0):
        call = f"time_to_reach(history, stamps, started, {threshold:g})"
        got = _call_maybe_none(fn, history, stamps, started, threshold, call=call)
        i = _first_at_or_below(history, threshold)
        if i is None:
            if got is not None:
                raise CheckFailed(f"{call} returned {got!r}, but the loss never gets to {threshold:g}: return None.")
            continue
        if got is None:
            raise CheckFailed(f"{call} returned None, but the loss gets to {threshold:g} at evaluation {i + 1}.")
        got = _number(got, call)
        right = stamps[i] - started
        mistakes = [
            (stamps[i], "you returned the raw time stamp: time.perf_counter() counts from an arbitrary "
                        "moment, subtract the run's start, stamps[i] - started."),
            (stamps[i - 1] - started, "off by one: that is the end of the evaluation BEFORE the one that "
                                      "reached the threshold; stamps[i] belongs to history[i]."),
            (stamps[min(i + 1, len(stamps) - 1)] - started, "off by one: stamps[i] (not stamps[i + 1]) is the "
                                                            "end of evaluation history[i]."),
            (stamps[-1] - started, "you returned the whole run's time: stop at the first evaluation that "
                                   "reaches the threshold."),
            (float(i + 1), "you returned the number of evaluations; this asks for seconds."),
            (float(i), "you returned an index; this asks for seconds."),
        ]
        if not math.isclose(got, right, rel_tol=1e-9):
            for value, message in mistakes:
                if math.isclose(got, value, rel_tol=1e-9):
                    raise CheckFailed(f"{call} gave {got:.4g}: {message}")
            raise CheckFailed(f"{call} gave {got:.4g}, expected {right:.4g} s (evaluation {i + 1}).")
    return "time_to_reach measures seconds from the start to the first evaluation that reaches the loss."


def _call_maybe_none(fn, *args, call: str):
    """Like _call, but None is an allowed answer ("never")."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__}: pass the function itself, without ().")
    try:
        result = fn(*args)
    except NotImplementedError:
        raise NotSolved() from None
    except Exception as error:
        raise CheckFailed(f"{call} raised {type(error).__name__}: {_one_line(error)}") from None
    if result is Ellipsis:
        raise NotSolved()
    return result


def _number(value, call: str) -> float:
    t = _tensor(value, call)
    if t.numel() != 1:
        raise CheckFailed(f"{call} returned {_shape(t)}; return one number.")
    return float(t.reshape(()).item())
