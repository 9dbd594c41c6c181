"""The optimisation loop of style transfer: evaluate, step, keep the best image, stop in time.

Taught in notebooks 07 (the loop) and 10 (inside the L-BFGS step). ``optimize`` updates one tensor,
the target image, by L-BFGS (``nst_teach.lbfgs``) or Adam. Its rules, each applied in one place
below:

- Budget (``_closure``): every evaluation, one forward and one backward pass, counts, a rejected
  one too; the run ends when ``max_evals`` are spent.
- Best image (``_record``): the image returned is the one with the lowest accepted loss.
- Safeguard (``_shorter_step``): an L-BFGS evaluation whose loss is NaN or inf, or over ``BLOWUP``
  times the last accepted one, is answered by a shorter step, up to ``MAX_BACKTRACKS`` in a row.
- Callback (``_record``): ``callback(i, image, losses)`` after every evaluation (a rejected one
  shows the best image so far); returning True stops the run.
- Ctrl-C stops the run and keeps the best image; so does running out of memory after the first
  evaluation (before it, a MemoryError suggests a smaller size).

``guarded_loop`` holds the stopping rules (a ``StopRun``, Ctrl-C, out of memory, closing the
progress bar) and ``show_progress`` the bar's update, so that the real-time network's training
loop (``nst_teach.feedforward.training``, notebook 11) stops by the same rules.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as nnf

from .lbfgs import LBFGS

# L-BFGS for images (make_optimizer), each choice measured in benchmarks/README.md:
# - MAX_MOVE: the largest change of any pixel in one step at first, in [0, 1] units; the limit then
#   adapts as a trust region (nst_teach.lbfgs: quartered after a step that raised the loss, doubled
#   after a cut step that lowered it). Without a limit, steps of 100x the pixel range were
#   projected back onto the box, and one pair's final loss was 1.9x the tutorial loop's.
# - FIRST_MOVE: the first step, steepest descent, changes the largest pixel by this much.
# - PYRAMID_*: the starting curvature's preconditioner (pyramid_smoothing).
MAX_MOVE = 0.05
# FIRST_MOVE is a probe: a loss that is tiny next to the content term's curvature is not thrown far
FIRST_MOVE = 1e-3
PYRAMID_LEVELS = 4
PYRAMID_WEIGHT = 2.0
# PYRAMID_FADE: the preconditioner fades out over this fraction of the evaluations (None: never).
# Fading over the whole run took a drawing of fine lines from 13 % to 4 % above the tutorial loop's
# loss, at most 0.7 % worse on the seven other kinds of painting (benchmarks/optimizer_defaults.py).
PYRAMID_FADE: float | None = 1.0
# Healthy runs' bumps stay under 10x the last accepted loss; a step that lands beyond BLOWUP x is
# taken back, at most MAX_BACKTRACKS times in a row.
MAX_BACKTRACKS = 5
BLOWUP = 100.0
LOSS_NAMES = ("content", "style", "tv", "total")
ADAM_LR = 0.02  # Adam's step in pixel units of [0, 1] when no lr is given


@dataclass
class Run:
    """The loop's state between evaluations, and what it hands back."""

    history: list[dict[str, float]] = field(default_factory=list)  # one record per evaluation
    best: torch.Tensor | None = None  # the target with the lowest accepted loss so far
    best_loss: float = math.inf
    best_losses: dict[str, float] = field(default_factory=dict)  # the best target's losses
    last_accepted: float = math.inf  # the loss a blow-up is measured against
    backtracks: int = 0  # shorter steps tried in a row
    stop_reason: str = "completed"


class _Rejected(Exception):
    """An evaluation that cannot be used (NaN, inf or a blow-up); ratio = its loss / the last
    accepted."""

    def __init__(self, ratio: float):
        super().__init__(f"loss ratio {ratio:g}")
        self.ratio = ratio


class StopRun(Exception):
    """Ends a run from inside its loop (or the optimiser's closure); the message is the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_optimizer(target: torch.Tensor, name: str, lr: float | None, lbfgs_history: int,
                   max_evals: int | None = None):
    """L-BFGS for images (see the module docstring) or Adam (lr in pixel units of [0, 1]).

    max_evals: the run's budget, over whose first PYRAMID_FADE the preconditioner fades out."""
    if name == "lbfgs":
        fade = (None if PYRAMID_FADE is None or max_evals is None
                else max(1.0, PYRAMID_FADE * max_evals))
        return LBFGS([target], lr=1.0, history_size=lbfgs_history, bounds=(0.0, 1.0),
                     max_move=MAX_MOVE, first_move=FIRST_MOVE, adapt=True,
                     precondition=pyramid_smoothing(target.shape), fade=fade)
    return torch.optim.Adam([target], lr=ADAM_LR if lr is None else lr)


def pyramid_smoothing(shape, levels: int = PYRAMID_LEVELS, weight: float = PYRAMID_WEIGHT):
    """P v = v + sum_l weight^l * U_l U_l^T v / 4^l, l = 1 .. levels; U_l is bilinear upsampling
    from the image at 1/2^l of its size, U_l^T its adjoint (a tent-weighted average).

    For L-BFGS's starting curvature H0 = gamma P: each coarser scale of the image gets a longer
    step than its finest detail, where the style loss's curvature is largest. P is symmetric and
    positive definite (I plus terms U U^T), so H0 is a valid L-BFGS start. Bilinear, not block
    averages: steps on blocks left 2^l-pixel squares in the picture wherever no loss term saw them.
    """
    height, width = shape[-2:]
    coarse = [(-(-height // 2**level), -(-width // 2**level)) for level in range(1, levels + 1)
              if min(height, width) >= 2**level]

    def P(v: torch.Tensor) -> torch.Tensor:
        image = v.view(shape)
        out = image.clone()
        for level, size in enumerate(coarse, start=1):
            low = _upsample_adjoint(image, size)
            up = nnf.interpolate(low, size=(height, width), mode="bilinear", align_corners=False)
            out += (weight / 4) ** level * up
        return out.reshape(-1)

    return P


def _upsample_adjoint(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """U^T image for U = bilinear upsampling from `size` to image's (H, W): (B, C, h, w)."""
    with torch.enable_grad():
        low = torch.zeros(*image.shape[:-2], *size, dtype=image.dtype, device=image.device,
                          requires_grad=True)
        up = nnf.interpolate(low, size=image.shape[-2:], mode="bilinear", align_corners=False)
        return torch.autograd.grad(up, low, image.detach())[0]


def optimize(loss_terms: Callable, target: torch.Tensor, optimizer, *, max_evals: int,
             callback=None, bar=None, report=None) -> Run:
    """Minimise ``loss_terms(target)[3]`` over the target image's pixels, ``max_evals``
    evaluations.

    target: (1, 3, H, W) in [0, 1], a leaf that requires grad; it stays in [0, 1].
    loss_terms(target) -> (content, style, tv, total) as one tensor, total differentiable.
    report(image) -> losses, if given, gives the losses reported for the returned image (e.g.
    recomputed in float32) in place of its evaluation's; the progress bar ends on them.
    Returns the Run: its history, its best target and why it stopped.
    """
    run = Run(best=target.detach().clone())
    closure = _closure(run, loss_terms, target, optimizer, max_evals, callback, bar)
    size = max(target.shape[-2:])
    advice = (f"out of memory on {target.device} at size {size}: try a smaller size, "
              f"e.g. size={max(32, size * 2 // 3)}")
    with guarded_loop(run, bar, advice, "evaluation", finish=lambda: _report(run, report, bar)):
        while True:  # until the closure raises StopRun: budget spent, callback, or no way forward
            try:
                optimizer.step(closure)
                if not isinstance(optimizer, LBFGS):  # L-BFGS projects its own steps
                    with torch.no_grad():
                        target.clamp_(0, 1)
                run.backtracks = 0
            except _Rejected as rejection:
                _shorter_step(run, optimizer, rejection.ratio)
    return run


@contextlib.contextmanager
def guarded_loop(run: Run, bar, advice: str, unit: str, finish=None):
    """Run a loop's body; turn its ends into ``run.stop_reason`` and close the progress bar.

    A StopRun gives its reason; Ctrl-C "interrupted"; out of memory ``advice`` with the ``unit``
    (evaluation, step) it stopped at, or a MemoryError(advice) before anything was recorded in
    ``run.history``. What the loop kept so far (the best image, the network) stays usable.
    ``finish()``, if given, runs last, before the bar closes.
    """
    try:
        yield run
    except StopRun as stop:
        run.stop_reason = stop.reason
    except KeyboardInterrupt:
        run.stop_reason = "interrupted"
    except torch.OutOfMemoryError as e:
        if not run.history:
            raise MemoryError(advice) from e
        run.stop_reason = f"{advice} (stopped at {unit} {len(run.history) + 1})"
    finally:
        if finish is not None:
            finish()
        if bar is not None:
            bar.close()


def _report(run: Run, report, bar) -> None:
    """The returned image's reported losses: ``report(image)``, shown last on the bar."""
    if report is None or not run.history:
        return
    run.best_losses = report(run.best)
    if bar is not None:
        bar.set_postfix(loss=f"{run.best_losses['total']:.3g}", refresh=True)


def show_progress(bar, losses: dict[str, float]) -> None:
    """One more evaluation or step on the progress bar (if any), with its total loss."""
    if bar is not None:
        bar.update(1)
        bar.set_postfix(loss=f"{losses['total']:.3g}", refresh=False)


def _closure(run: Run, loss_terms, target, optimizer, max_evals, callback, bar):
    """The function the optimiser calls: one evaluation (forward, losses, backward), recorded."""

    def closure():
        if len(run.history) >= max_evals:
            raise StopRun("completed")
        optimizer.zero_grad(set_to_none=True)
        losses = loss_terms(target)
        losses[3].backward()
        out = losses.detach()
        # One read of the four numbers, after the backward pass is queued: on a GPU the CPU waits
        # once per evaluation.
        *values, grad_finite = torch.cat((out, target.grad.isfinite().all().reshape(1))).tolist()
        _record(run, dict(zip(LOSS_NAMES, values, strict=True)), grad_finite, target, optimizer,
                callback, bar)
        return out[3]

    return closure


def _record(run: Run, losses: dict, grad_finite: bool, target, optimizer, callback, bar) -> None:
    """Count the evaluation, keep the best target, show the callback; raise _Rejected for an
    unusable one."""
    run.history.append(losses)  # every evaluation counts, a rejected one too
    show_progress(bar, losses)
    total, last = losses["total"], run.last_accepted
    ratio = total / last if last > 0 else (math.nan if math.isnan(total) else 1.0)
    can_backtrack = isinstance(optimizer, LBFGS) and run.backtracks < MAX_BACKTRACKS
    rejected = not (math.isfinite(total) and grad_finite) or (can_backtrack and ratio > BLOWUP)
    if not rejected:
        run.last_accepted = total
        if total < run.best_loss:
            run.best_loss, run.best, run.best_losses = total, target.detach().clone(), losses
    # The callback sees every evaluation; for a rejected one, the best image so far.
    shown = run.best if rejected else target.detach()
    # the callback gets a copy it may keep
    if callback is not None and callback(len(run.history), shown.clone(), losses):
        raise StopRun("stopped by callback")
    if rejected:
        raise _Rejected(ratio)


def _shorter_step(run: Run, optimizer, ratio: float) -> None:
    """Answer a rejected L-BFGS evaluation by taking the step back part of the way.

    A step without a line search can overshoot far, from noise at a large beta up to a loss 10^19
    times the last, or inf. Far out the style loss grows with the fourth power of the step (squared
    Gram entries), so a loss r times too large asks for the step times r^(-1/4); between 1e-4 and
    0.5, and 1e-3 when the loss is NaN or inf.
    """
    if not isinstance(optimizer, LBFGS) or optimizer.s is None or run.backtracks == MAX_BACKTRACKS:
        tried = f" ({run.backtracks} shorter steps did not help)" if run.backtracks else ""
        raise StopRun(f"non-finite loss at evaluation {len(run.history)}{tried}")
    finite = math.isfinite(ratio) and ratio > 0
    optimizer.backtrack(min(0.5, max(1e-4, ratio**-0.25)) if finite else 1e-3)
    run.backtracks += 1

