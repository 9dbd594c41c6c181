"""The checkers' machinery: verdicts (Feedback), the registry (@exercise, check, solved, progress),
and the helpers that call the student's function and name what is wrong with its answer.

A checker never raises: it returns a ``Feedback`` that shows as one line. Inside a checker, raise
``CheckFailed("what is wrong")``; ``call_answer`` and ``compare_answer`` do it for you.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

SOLVED, WRONG, UNSOLVED = "solved", "wrong", "unsolved"
_ICONS = {SOLVED: "✅", WRONG: "❌", UNSOLVED: "📝"}
_VERDICTS = {SOLVED: "solved", WRONG: "not yet", UNSOLVED: "not solved yet"}


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

    def require(self) -> None:
        """None when solved, else AssertionError(this one line): an nbgrader test cell's assert."""
        if not self.ok:
            raise AssertionError(str(self))

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{self.headline()}: {self.message}"

    def headline(self) -> str:
        """The verdict without the message: "✅ Exercise 01.1 (covariance_by_hand) solved"."""
        verdict = _VERDICTS[self.status]
        return f"{_ICONS[self.status]} Exercise {self.number} ({self.name}) {verdict}"

    __repr__ = __str__


# ------------------------------------------------------------------ the registry

CHECKERS: dict[str, Callable[..., Feedback]] = {}  # "01.1" and "covariance_by_hand" -> checker
_EXERCISES: dict[str, tuple[str, str]] = {}  # "01.1" and "covariance_by_hand" -> (number, name)
_MISSING = object()  # solved()'s "no answer given", distinct from every answer, None included


def exercise(number: str, name: str):
    """Register a checker for exercise ``number`` ("NN.k") whose answer the notebook calls ``name``.

    The checker returns a success message or raises; its arguments after the answer need defaults,
    so that solved() can run it on the answer alone.
    """

    def register(check_fn: Callable[..., str]) -> Callable[..., Feedback]:
        if number in CHECKERS or name in CHECKERS:
            raise ValueError(f"exercise {number} ({name}) is registered twice")
        _require_defaults(check_fn, number)

        @functools.wraps(check_fn)
        def run(answer, *args, **kwargs) -> Feedback:
            feedback = Feedback(number, name, *_verdict(check_fn, answer, args, kwargs))
            if not args and not kwargs:  # solved() runs the checker with its defaults only
                _remember(number, answer, feedback)
            return feedback

        CHECKERS[number] = CHECKERS[name] = run
        _EXERCISES[number] = _EXERCISES[name] = (number, name)
        return run

    return register


def _require_defaults(check_fn: Callable[..., str], number: str) -> None:
    """Refuse a checker that solved() could not run with the answer alone."""
    P = inspect.Parameter
    extra = list(inspect.signature(check_fn).parameters.values())[1:]
    optional = (P.VAR_POSITIONAL, P.VAR_KEYWORD)
    needed = [p.name for p in extra if p.default is P.empty and p.kind not in optional]
    if needed:
        raise TypeError(f"the checker of exercise {number} needs defaults for {', '.join(needed)}: "
                        "solved() runs it with the answer alone.")


def _verdict(check_fn, answer, args, kwargs) -> tuple[str, str]:
    """(status, message) of check_fn on answer; the checker's own failures never escape."""
    if answer is Ellipsis:
        return UNSOLVED, ("replace `...` in the exercise cell with your answer, run it, "
                          "then run this cell again.")
    try:
        return SOLVED, check_fn(answer, *args, **kwargs)
    except (NotSolved, NotImplementedError):
        return UNSOLVED, (
            "replace the line `raise NotImplementedError(...)` in the exercise cell with your "
            "code, run that cell, then run this one again."
        )
    except CheckFailed as failure:
        return WRONG, str(failure)
    except Exception as error:  # a checker must never crash the notebook
        return WRONG, f"could not check your answer ({type(error).__name__}: {error})."


def _lookup(exercise_id: str) -> tuple[str, str]:
    """(number, name) of an exercise given by number ("01.1") or name ("covariance_by_hand")."""
    if exercise_id not in _EXERCISES:
        known = ", ".join(sorted(k for k in CHECKERS if k[:1].isdigit()))
        raise KeyError(f"no exercise {exercise_id!r}; known exercises: {known}")
    return _EXERCISES[exercise_id]


def check(exercise_id: str, answer, *args, **kwargs) -> Feedback:
    """Run the checker for an exercise given by number ("01.1") or name ("covariance_by_hand")."""
    number, _ = _lookup(exercise_id)
    return CHECKERS[number](answer, *args, **kwargs)


def solved(exercise_id: str, answer=_MISSING) -> bool:
    """True when the exercise's checker accepts answer: guards the later cells that use it.

    The rule: the verdict depends on the answer alone, never on which cells ran before. Without
    ``answer`` it is the object bound to the exercise's name (``covariance_by_hand`` for "01.1") in
    the notebook's namespace, ``sys.modules["__main__"]`` (the IPython user namespace in a kernel);
    a name that is not bound there is not solved. The checker runs with its default arguments
    (05.2 on a small random VGG19). Verdicts are remembered per answer object, so a redefined
    function (a re-run exercise cell) is checked again and an unchanged one is not; a checker cell
    run without extra arguments records its verdict for the same object. Hence a function that
    calls a helper redefined since keeps its verdict until its checker cell runs again.
    """
    number, name = _lookup(exercise_id)
    if answer is _MISSING:
        answer = vars(sys.modules["__main__"]).get(name, _MISSING)
        if answer is _MISSING:
            return False
    feedback = _recall(number, answer)
    if feedback is None:
        feedback = CHECKERS[number](answer)  # records its verdict
    return feedback.ok


@dataclass(frozen=True)
class Progress:
    """The verdicts on one notebook's exercises, in order: what its last code cell shows."""

    notebook: str
    feedback: tuple[Feedback, ...]

    @property
    def open(self) -> list[str]:
        """Numbers ("01.2") of the exercises not solved yet: wrong, a stub, or not defined."""
        return [f.number for f in self.feedback if not f.ok]

    def __str__(self) -> str:
        total, left = len(self.feedback), len(self.open)
        if left:
            head = (f"{_ICONS[UNSOLVED]} Notebook {self.notebook}: {total - left} of {total} "
                    f"exercises solved, still open: {', '.join(self.open)}.")
        else:
            every = "both" if total == 2 else f"all {total}"
            head = f"{_ICONS[SOLVED]} Notebook {self.notebook}: {every} exercises solved."
        return "\n".join([head] + ["  " + f.headline() for f in self.feedback])

    __repr__ = __str__


def progress(notebook: str) -> Progress:
    """Which exercises of notebook ``notebook`` ("01") are solved, each judged as solved() does."""
    notebook = str(notebook).zfill(2)
    numbers = sorted({n for n, _ in _EXERCISES.values() if n.split(".")[0] == notebook},
                     key=lambda n: int(n.split(".")[1]))
    if not numbers:
        known = sorted({n.split(".")[0] for n, _ in _EXERCISES.values()})
        raise ValueError(f"no exercises for notebook {notebook!r}; give its number, one of "
                         f"{', '.join(known)}.")
    return Progress(notebook, tuple(_current_feedback(n) for n in numbers))


def _current_feedback(number: str) -> Feedback:
    """The verdict on the object bound to the exercise's name in __main__, as solved() finds it."""
    _, name = _EXERCISES[number]
    answer = vars(sys.modules["__main__"]).get(name, _MISSING)
    if answer is _MISSING:
        return Feedback(number, name, UNSOLVED, "not defined yet: run its exercise cell.")
    feedback = _recall(number, answer)
    return feedback if feedback is not None else CHECKERS[number](answer)


# Verdicts per (exercise number, id(answer)), with a reference to the answer that proves the id
# still names the same object: weak where Python allows it (functions, tensors), else strong.
_memo: dict[tuple[str, int], tuple[Callable[[], object], Feedback]] = {}


def _remember(number: str, answer, feedback: Feedback) -> None:
    key = (number, id(answer))
    try:
        ref = weakref.ref(answer, functools.partial(_forget, key))
    except TypeError:  # numbers, lists, ...: kept alive, so that their id cannot be reused
        ref = functools.partial(_same, answer)
    _memo[key] = (ref, feedback)


def _same(obj):
    return obj


def _forget(key: tuple[str, int], ref: weakref.ref) -> None:
    """Drop a dead answer's verdict (unless a newer answer with the same id replaced it)."""
    if key in _memo and _memo[key][0] is ref:
        del _memo[key]


def _recall(number: str, answer) -> Feedback | None:
    entry = _memo.get((number, id(answer)))
    return entry[1] if entry is not None and entry[0]() is answer else None


# ------------------------------------------------------------------ calling the student's function

def call_answer(fn, *args, call: str, copy: bool = True, none_ok: bool = False,
                returns: str = "return"):
    """fn(*args) for the student's fn; a stub raises NotSolved, a failure CheckFailed saying so.

    copy: pass clones of tensor arguments, so that an in-place edit cannot spoil the checker's data
    (off where the exercise is to update an argument in place); none_ok: None is an answer
    ("never"); returns: the statement a None result suggests was forgotten.
    """
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__}: "
                          "pass the function itself, without ().")
    if copy:
        args = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
    try:
        result = fn(*args)
    except NotImplementedError:
        raise NotSolved() from None
    except Exception as error:
        raise CheckFailed(f"{call} raised {type(error).__name__}: {_one_line(error)}") from None
    if result is Ellipsis:
        raise NotSolved()
    if result is None and not none_ok:
        raise CheckFailed(f"{call} returned None: did you forget `{returns}`?")
    return result


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# ------------------------------------------------------------------ reading and comparing answers

def as_tensor(answer, what: str) -> torch.Tensor:
    """A number, list, NumPy array or tensor -> float64 tensor; anything else is a CheckFailed."""
    if isinstance(answer, torch.Tensor):
        return answer.detach().cpu().to(torch.float64)
    message = f"{what} should be a number or a tensor, got {type(answer).__name__}."
    if isinstance(answer, (bool, str, bytes)) or answer is None:
        raise CheckFailed(message)
    try:
        return torch.as_tensor(np.asarray(answer, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckFailed(message) from None


def as_number(value, call: str) -> float:
    """One number from the student's answer; a tensor of several is a CheckFailed."""
    t = as_tensor(value, call)
    if t.numel() != 1:
        raise CheckFailed(f"{call} returned {describe_shape(t)}; return one number.")
    return float(t.reshape(()).item())


def describe_shape(t: torch.Tensor) -> str:
    return "a single number" if t.ndim == 0 else "shape (" + ", ".join(map(str, t.shape)) + ")"


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def compare_answer(
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
    got = as_tensor(answer, what)
    expected = expected.to(torch.float64)
    if got.shape != expected.shape and got.numel() == 1 and expected.numel() == 1:
        got = got.reshape(expected.shape)  # 3.0, tensor(3.) and tensor([3.]) are all one number
    if got.shape != expected.shape:
        _named_mistake(got, wrong, rtol, atol)
        raise CheckFailed(_shape_message(got, expected, what, shapes))
    if not torch.isfinite(got).all():
        raise CheckFailed(f"{what} contains NaN or infinity: look for a division by zero.")
    if _close(got, expected, rtol, atol):
        return
    _named_mistake(got, wrong, rtol, atol)
    factor = _constant_ratio(got, expected)
    if factor is not None:
        raise CheckFailed(f"{what} is {factor:.4g} times the right answer: a scale factor is off "
                          "(check what you divide by).")
    note = explain(got) if explain else None
    if note:
        raise CheckFailed(note)
    error = (got - expected).abs()
    index = tuple(int(i) for i in np.unravel_index(int(error.argmax()), tuple(got.shape)))
    where = f" at entry {list(index)}" if index else ""
    raise CheckFailed(f"{what} is wrong{where}: got {got[index].item():.6g}, "
                      f"expected {expected[index].item():.6g}.")


def _named_mistake(got: torch.Tensor, wrong, rtol: float, atol: float) -> None:
    """Raise the message of the first typical mistake whose answer got equals."""
    for message, variant in wrong:
        if _close(got, variant, rtol, atol):
            raise CheckFailed(message)


def _shape_message(got: torch.Tensor, expected: torch.Tensor, what: str, shapes) -> str:
    hint = (shapes or {}).get(tuple(got.shape))
    if hint is None and got.ndim == 2 and tuple(got.shape) == tuple(expected.shape)[::-1]:
        hint = "transposed?"
    return (f"{what} has {describe_shape(got)}, expected {describe_shape(expected)}"
            + (f": {hint}" if hint else "."))


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


# ------------------------------------------------------------------ the checkers' data and maths

def randn(shape: Sequence[int], seed: int, mean: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    """Reproducible float64 samples: the checker's own data, the same on every machine."""
    generator = torch.Generator().manual_seed(seed)
    return mean + scale * torch.randn(*shape, generator=generator, dtype=torch.float64)


def centred(X: torch.Tensor) -> torch.Tensor:
    """Each row minus its own mean: variables in rows (V, n), as in nt.covariance."""
    return X - X.mean(dim=-1, keepdim=True)


def covariance(X: torch.Tensor) -> torch.Tensor:
    """The reference 1/(n-1) covariance of the rows of X (V, n) -> (V, V), written out here."""
    Xc = centred(X)
    return Xc @ Xc.T / (X.shape[-1] - 1)


def gram_hw(F: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C): M M^T / (H*W), written out here as the checkers' reference."""
    _, C, H, W = F.shape
    M = F.reshape(C, H * W)
    return M @ M.T / (H * W)
