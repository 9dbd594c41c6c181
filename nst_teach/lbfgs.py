"""L-BFGS for the style-transfer loop: one evaluation per step, no line search, no waiting on the GPU.

Taught in notebook 10. Same iterates as ``torch.optim.LBFGS(line_search_fn=None, max_iter=1)``
called once per evaluation (tests/test_lbfgs.py checks this), with two differences in how:

- torch's two-loop recursion turns each stored pair's coefficient into a Python number, so the
  CPU waits for the GPU 2m times per step (m = history size, 100 here): measured 13-16 ms per
  step on an H100, longer than an evaluation at 512 px. Here nothing leaves the device.
- The direction uses the compact form of Byrd, Nocedal & Schnabel (1994),
  H g = gamma g + S p + gamma Y q, with p and q from m x m triangular solves. It costs two
  passes over the stored pairs, as the two-loop does, but as two matrix products instead of 4m
  small vector operations (each one a kernel launch on a GPU).

A pair with too little curvature (s.y <= 1e-10) is kept but switched off, which gives the same
direction as skipping it (torch skips it; deciding which needs the GPU's answer). It then takes a
slot of the history, so the two differ once the history is full and a pair has been switched off.
"""

from __future__ import annotations

import torch


class LBFGS:
    """Limited-memory BFGS on one tensor; ``step(closure)`` makes exactly one evaluation.

    closure() must compute the loss, call ``backward()`` and return the loss. The first step is
    steepest descent of length min(1, 1/|g|_1) * lr, as in torch; later steps move by lr * H g.
    """

    def __init__(self, params, lr: float = 1.0, history_size: int = 100):
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
        self.SY = self.YY = None  # (m, m) float64 by slot: SY[i, j] = s_i.y_j, YY[i, j] = y_i.y_j
        self.on = None  # (m,) float64: 1 for a pair in use, 0 for one switched off
        self.gamma = None  # the initial inverse Hessian gamma * I: s.y / y.y of the newest good pair
        self._Sg = self._Yg = None  # s_i.g and y_i.g for the latest gradient, by slot
        self.g_prev = None
        self.s = None  # the last move

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
        if self.s is None:
            step_length = torch.clamp(g.abs().sum().reciprocal(), max=1.0) * self.lr
            self.s = g.neg().mul_(step_length)
        else:
            self._remember(self.s, g - self.g_prev, g)
            self.s = self._direction(g).mul_(-self.lr)
        self.g_prev = g
        self.x.add_(self.s.view_as(self.x))
        return loss

    @torch.no_grad()
    def backtrack(self, factor: float = 0.1) -> None:
        """Take back part of the last move: x = x_before + factor * s, for an unusable point (NaN or inf).

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
            self.YY = torch.zeros_like(self.SY)
            self.on = torch.zeros(self.m, dtype=torch.float64, device=dev)
            self.gamma = torch.ones((), dtype=torch.float64, device=dev)
        j = self.newest = (self.newest + 1) % self.m
        self.used = min(self.used + 1, self.m)
        # A pair with a NaN or inf in it is stored as zeros, which switches it off below; an inf
        # kept in the history would turn even a zero weight into NaN (0 * inf).
        self.pairs[j, 0] = torch.where(torch.isfinite(s).all(), s, 0.0)
        self.pairs[j, 1] = torch.where(torch.isfinite(y).all(), y, 0.0)
        # One product over the history: (s_i.y, s_i.g, y_i.y, y_i.g) for every stored pair i.
        # (A (N, 2) right-hand side made CPU BLAS four times slower than this (2, N) one.)
        dots = (torch.stack((y, g)) @ self.pairs[: self.used].reshape(2 * self.used, -1).T).double()
        dots = dots.T.reshape(self.used, 2, 2)
        self.SY[: self.used, j] = dots[:, 0, 0]
        self.YY[: self.used, j] = dots[:, 1, 0]
        self.YY[j, : self.used] = dots[:, 1, 0]
        self._Sg, self._Yg = dots[:, 0, 1], dots[:, 1, 1]
        ys, yy = self.SY[j, j], self.YY[j, j]
        good = (ys > 1e-10) & torch.isfinite(ys) & torch.isfinite(yy)  # float32 products can overflow
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
        SY = torch.roll(self.SY[:k, :k], (-oldest, -oldest), (0, 1))
        YY = torch.where(both, torch.roll(self.YY[:k, :k], (-oldest, -oldest), (0, 1)), 0.0)
        R = torch.where(both, torch.triu(SY), 0.0) + torch.diag(1 - on)  # a switched-off pair: a lone 1
        D = torch.where(one, SY.diagonal(), 0.0)
        a, b = torch.where(one, by_age(self._Sg), 0.0), torch.where(one, by_age(self._Yg), 0.0)
        gamma = self.gamma
        u = torch.linalg.solve_triangular(R, a[:, None], upper=True)  # R^-1 S^T g
        v = D[:, None] * u + gamma * (YY @ u) - gamma * b[:, None]
        p = torch.linalg.solve_triangular(R.T, v, upper=False)  # R^-T ((D + gamma Y^T Y) R^-1 a - gamma b)
        coef = torch.stack((p[:, 0], -gamma * u[:, 0]), dim=1)  # weights of s_i and y_i, by age
        coef = torch.roll(coef, oldest, 0).to(g.dtype).reshape(-1)
        return (coef @ self.pairs[:k].reshape(2 * k, -1)).add_(g * gamma.to(g.dtype))
