"""L-BFGS for the style-transfer loop: one evaluation per step, no line search, no GPU waits.

Taught in notebook 10. Same iterates as ``torch.optim.LBFGS(line_search_fn=None, max_iter=1)``
called once per evaluation (tests/test_lbfgs.py checks this), with two differences in how:

- torch's two-loop recursion turns each stored pair's coefficient into a Python number, so the
  CPU waits for the GPU 2m times per step (m = history size; stylize uses 20): measured 13-16 ms per
  step on an H100, longer than an evaluation at 512 px. Here nothing leaves the device.
- The direction uses the compact form of Byrd, Nocedal & Schnabel (1994),
  H g = gamma g + S p + gamma Y q, with p and q from m x m triangular solves. It costs two
  passes over the stored pairs, as the two-loop does, but as two matrix products instead of 4m
  small vector operations (each one a kernel launch on a GPU).

A pair with too little curvature (s.y <= 1e-10 |s| |y|) is kept but switched off, which gives the
same direction as skipping it (torch skips s.y <= 1e-10; deciding which needs the GPU's answer). It
then takes a slot of the history, so the two differ once the history is full and a pair has been
switched off. The test is relative, so that the loss's scale does not matter.

A starting curvature H0 = gamma P for a symmetric positive definite ``precondition`` P (stylize:
a pyramid of smoothings, ``optimize.pyramid_smoothing``); ``fade`` makes it
H0 = gamma (I + c (P - I)) with c going from 1 down to 0 over that many steps (the products the
compact form needs are kept apart for I and P - I, so that a new c costs nothing).

Two additions for images (both off by default, on in ``stylize``):
- ``bounds=(low, high)``: every step is projected into the box, so each iterate is a valid image;
  a value at a bound that the gradient pushes further out is left out of the direction.
- ``max_move``: no value changes by more than this in one step. ``first_move``: the first step,
  steepest descent, changes the largest value by exactly this much (default: max_move). torch's
  first step, min(1, 1/|g|_1), depends on the loss's scale (a tiny loss gives a tiny step), and
  the curvature it measures over that step made an unlimited second step overshoot to a loss up
  to 10^17 times the first.
"""

from __future__ import annotations

import torch


class LBFGS:
    """Limited-memory BFGS on one tensor; ``step(closure)`` makes exactly one evaluation.

    closure() must compute the loss, call ``backward()`` and return the loss. The first step is
    steepest descent of length min(1, 1/|g|_1) * lr, as in torch (or max_move long); later steps
    move by lr * H g (shortened to max_move). bounds: (low, high), broadcastable to the tensor.
    """

    def __init__(self, params, lr: float = 1.0, history_size: int = 100, bounds=None,
                 max_move: float | None = None, first_move: float | None = None,
                 adapt: bool = False, precondition=None, fade: int | None = None):
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        if len(params) != 1:
            raise ValueError(f"this LBFGS optimises one tensor, got {len(params)}")
        if history_size < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size}")
        self.x = params[0]
        self.lr, self.m = float(lr), int(history_size)
        self.used = 0  # slots filled so far (<= m); slot j holds the pair added at step j mod m
        self.newest = -1
        self.pairs = None  # (m, 2, N): pairs[j] = (s_j, y_j)
        # (m, m) float64 by slot: SY[i, j] = s_i.y_j, YY[i, j] = y_i.y_j, YE[i, j] = y_i.E y_j
        self.SY = self.YY = self.YE = None
        self.on = None  # (m,) float64: 1 for a pair in use, 0 for one switched off
        self.gamma = None  # initial inverse Hessian gamma * I: s.y / y.y of the newest good pair
        self._Sg = self._Yg = self._Eg = None  # s_i.g, y_i.g, y_i.E g (latest gradient), by slot
        self.g_prev = None
        self.s = None  # the last move
        # (low, high): every step is projected into the box
        self.bounds = None if bounds is None else tuple(
            torch.as_tensor(b, dtype=self.x.dtype, device=self.x.device) for b in bounds)
        self.max_move = max_move  # the largest change of any value in one step (None: no limit)
        # the first step's largest change
        self.first_move = first_move if first_move is not None else max_move
        # adapt: the limit shrinks 4x after a step that raised the loss and doubles (up to 1) after
        # a limited step that lowered it: a trust region on the largest change, with no extra
        # evaluation.
        self.adapt, self.radius, self.last_loss, self.limited = adapt, None, None, None
        self.precondition = precondition  # P: v -> P v, symmetric positive definite; H0 = gamma * P
        # fade: P's part beyond the identity, E = P - I, is weighed by c = 1 - step/fade, down to
        # 0: H0 = gamma (I + c E), long steps on coarse scales first, plain L-BFGS after `fade`.
        if fade is not None and not fade > 0:
            raise ValueError(f"fade must be a positive number of steps, got {fade}")
        self.fade, self.steps = fade, 0
        for name, value in (("max_move", max_move), ("first_move", self.first_move)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        if set_to_none or self.x.grad is None:
            self.x.grad = None
        else:
            self.x.grad.zero_()

    @torch.no_grad()
    def step(self, closure):
        with torch.enable_grad():
            loss = closure()
        if self.x.grad is None:
            raise RuntimeError("LBFGS.step: the closure must call backward() on the loss")
        g = self.x.grad.detach().reshape(-1).clone()
        self._adapt_radius(loss)
        free = None if self.bounds is None else self._free(g)
        g_dir = g if free is None else torch.where(free, g, 0.0)
        if self.s is None:  # steepest descent
            move = g_dir.neg().mul_(self._first_step_length(g_dir))
        else:
            self._remember(self.s, g - self.g_prev, g_dir)
            move = self._direction(g_dir).mul_(-self.lr)
        if free is not None:
            move = torch.where(free, move, 0.0)
        if self.max_move is not None:  # shorten, keeping the direction
            limit = self.radius if self.radius is not None else self.max_move
            factor = limit / move.abs().amax().clamp(min=1e-30)
            self.limited = factor < 1
            move.mul_(torch.clamp(factor, max=1.0))
        self.g_prev = g
        self.steps += 1
        before = self.x.detach().clone() if self.bounds is not None else None
        self.x.add_(move.view_as(self.x))
        if self.bounds is not None:  # project into the box; the pair remembers the move made
            self.x.clamp_(*self.bounds)
            move = (self.x.detach() - before).reshape(-1)
        self.s = move
        return loss

    def weight(self) -> float:
        """c in H0 = gamma (I + c (P - I)): 1 without fading, then down to 0 at step `fade`."""
        if self.precondition is None:
            return 0.0
        return 1.0 if self.fade is None else max(0.0, 1.0 - self.steps / self.fade)

    def _adapt_radius(self, loss) -> None:
        """The next move's step limit, from this loss and the last one (kept on the device)."""
        if not self.adapt or self.max_move is None:
            return
        loss = torch.as_tensor(loss, device=self.x.device).detach().double()
        if self.radius is None:
            self.radius = torch.tensor(float(self.max_move), dtype=torch.float64,
                                       device=self.x.device)
        elif self.last_loss is not None:
            grown = torch.where(self.limited, torch.clamp(self.radius * 2, max=1.0), self.radius)
            self.radius = torch.where(loss > self.last_loss, self.radius / 4, grown)
        self.last_loss = loss

    def _first_step_length(self, g: torch.Tensor) -> torch.Tensor:
        """torch's min(1, 1/|g|_1) * lr, or first_move / |g|_inf (largest change: first_move)."""
        if self.first_move is None:
            return torch.clamp(g.abs().sum().reciprocal(), max=1.0) * self.lr
        return self.first_move / g.abs().amax().clamp(min=1e-30)

    def _free(self, g: torch.Tensor) -> torch.Tensor:
        """Which values may move: not those at a bound that the gradient pushes further out."""
        low, high = (torch.broadcast_to(b, self.x.shape).reshape(-1) for b in self.bounds)
        x = self.x.detach().reshape(-1)
        return ~(((x <= low) & (g > 0)) | ((x >= high) & (g < 0)))

    @torch.no_grad()
    def backtrack(self, factor: float = 0.1) -> None:
        """Take back part of the last move, x = x_before + factor * s: for a NaN or inf point.

        Call it after a step whose closure raised; the next step then evaluates the nearer point and
        pairs it with the shortened move, so the history stays consistent.
        """
        if self.s is None:
            raise RuntimeError("LBFGS.backtrack: no move to take back yet")
        self.x.sub_(self.s.view_as(self.x) * (1 - factor))
        self.s.mul_(factor)

    def _remember(self, s: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> None:
        """Store the pair (s, y) and every inner product the direction needs, in one pass."""
        if self.pairs is None:
            n, dev = s.numel(), s.device
            self.pairs = s.new_empty((self.m, 2, n))
            self.SY = torch.zeros((self.m, self.m), dtype=torch.float64, device=dev)
            self.YY, self.YE = torch.zeros_like(self.SY), torch.zeros_like(self.SY)
            self.on = torch.zeros(self.m, dtype=torch.float64, device=dev)
            self.gamma = torch.ones((), dtype=torch.float64, device=dev)
        j = self.newest = (self.newest + 1) % self.m
        self.used = min(self.used + 1, self.m)
        # A pair with a NaN or inf in it is stored as zeros, which switches it off below; an inf
        # kept in the history would turn even a zero weight into NaN (0 * inf).
        self.pairs[j, 0] = torch.where(torch.isfinite(s).all(), s, 0.0)
        self.pairs[j, 1] = torch.where(torch.isfinite(y).all(), y, 0.0)
        # One product over the history: (s_i.y, s_i.g, y_i.y, y_i.g, y_i.Ey, y_i.Eg) for every
        # stored pair i, E = P - I (without a preconditioner the last two are not needed).
        # (An (N, k) right-hand side made CPU BLAS four times slower than this (k, N) one.)
        P = self.precondition
        rows = (y, g) if P is None else (y, g, P(y) - y, P(g) - g)
        dots = (torch.stack(rows) @ self.pairs[: self.used].reshape(2 * self.used, -1).T).double()
        dots = dots.T.reshape(self.used, 2, len(rows))
        self.SY[: self.used, j] = dots[:, 0, 0]
        self.YY[: self.used, j] = self.YY[j, : self.used] = dots[:, 1, 0]
        self._Sg, self._Yg = dots[:, 0, 1], dots[:, 1, 1]
        if P is not None:
            self.YE[: self.used, j] = self.YE[j, : self.used] = dots[:, 1, 2]
            self._Eg = dots[:, 1, 3]
        c = self.weight()
        ys, yy = self.SY[j, j], self.YY[j, j] + (c * self.YE[j, j] if c else 0.0)  # y_j . P y_j
        ss = self.pairs[j, 0].double().square().sum()
        # enough curvature relative to the pair's own size; float32 products can overflow
        good = (ys > 1e-10 * torch.sqrt(ss * yy)) & torch.isfinite(ys) & torch.isfinite(yy)
        self.on[j] = good.double()
        self.gamma = torch.where(good, ys / yy, self.gamma)

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """H g by the compact form, the small algebra in float64, pairs ordered oldest first."""
        k = self.used
        oldest = (self.newest + 1) % k if k == self.m else 0
        by_age = lambda v: torch.roll(v[:k], -oldest, 0)  # noqa: E731
        on = by_age(self.on)
        one, both = on > 0, (on[:, None] * on[None, :]) > 0
        # Switched-off pairs are zeroed with where(), not by multiplying: their entries may be inf.
        c = self.weight()  # H0 = gamma (I + c E): Y^T P Y = Y^T Y + c Y^T E Y, the same for Y^T P g
        SY = torch.roll(self.SY[:k, :k], (-oldest, -oldest), (0, 1))
        YP = self.YY[:k, :k] + c * self.YE[:k, :k] if c else self.YY[:k, :k]
        YY = torch.where(both, torch.roll(YP, (-oldest, -oldest), (0, 1)), 0.0)
        # a switched-off pair: a lone 1 on R's diagonal
        R = torch.where(both, torch.triu(SY), 0.0) + torch.diag(1 - on)
        D = torch.where(one, SY.diagonal(), 0.0)
        Yg = self._Yg + c * self._Eg if c else self._Yg
        a, b = torch.where(one, by_age(self._Sg), 0.0), torch.where(one, by_age(Yg), 0.0)
        gamma = self.gamma
        u = torch.linalg.solve_triangular(R, a[:, None], upper=True)  # R^-1 S^T g
        v = D[:, None] * u + gamma * (YY @ u) - gamma * b[:, None]
        # R^-T ((D + gamma Y^T P Y) R^-1 a - gamma Y^T P g)
        p = torch.linalg.solve_triangular(R.T, v, upper=False)
        if not c:  # H g = gamma g + S p - gamma Y u
            coef = torch.stack((p[:, 0], -gamma * u[:, 0]), dim=1)  # weights of s_i and y_i, by age
            coef = torch.roll(coef, oldest, 0).to(g.dtype).reshape(-1)
            return (coef @ self.pairs[:k].reshape(2 * k, -1)).add_(g * gamma.to(g.dtype))
        # H g = gamma P (g - Y u) + S p, with H0 = gamma P, P = I + c E
        p_, u_ = (torch.roll(v[:, 0], oldest, 0).to(g.dtype) for v in (p, u))
        w = g - u_ @ self.pairs[:k, 1]
        Pw = self.precondition(w) if c == 1 else w + c * (self.precondition(w) - w)
        return Pw.mul_(gamma.to(g.dtype)).add_(p_ @ self.pairs[:k, 0])
