"""nst_teach.lbfgs against torch.optim.LBFGS (no line search, one evaluation per step) as oracle."""

import pytest
import torch

from nst_teach.lbfgs import LBFGS

N = 30
_gen = torch.Generator().manual_seed(0)
_B = torch.randn(N, N, generator=_gen, dtype=torch.float64)
A = _B @ _B.T / N + 0.1 * torch.eye(N, dtype=torch.float64)  # symmetric positive definite
b = torch.randn(N, generator=_gen, dtype=torch.float64)


def quadratic(x):
    return 0.5 * x @ A @ x - b @ x


def log_cosh(x):  # convex, not quadratic: the curvature changes from step to step
    return torch.log(torch.cosh(x - b)).sum() + 0.5 * x @ A @ x


def double_well(x):  # negative curvature near 0: the first pair has s.y < 0
    return ((x**2 - 1) ** 2).sum() / 4 + 0.01 * x.sum()


def run(optimizer, f, history_size, steps, x0):
    x = x0.clone().requires_grad_(True)
    if optimizer == "torch":
        opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=history_size,
                                line_search_fn=None, tolerance_grad=0, tolerance_change=0)
    else:
        opt = LBFGS([x], lr=1, history_size=history_size)
    points, evals = [], []

    def closure():
        evals.append(1)
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
        points.append(x.detach().clone())
    assert len(evals) == steps  # one evaluation per step
    return torch.stack(points), opt


@pytest.mark.parametrize("f", [quadratic, log_cosh])
@pytest.mark.parametrize("history_size", [3, 100])
def test_same_iterates_as_torch_lbfgs(f, history_size):
    x0 = torch.linspace(-1, 1, N, dtype=torch.float64)
    steps = 15  # before the gradient vanishes and pairs with s.y <= 1e-10 appear
    expected, _ = run("torch", f, history_size, steps, x0)
    mine, _ = run("mine", f, history_size, steps, x0)
    torch.testing.assert_close(mine, expected, rtol=0, atol=1e-10)


def test_converges_to_the_minimiser_of_a_quadratic():
    points, _ = run("mine", quadratic, 100, 60, torch.zeros(N, dtype=torch.float64))
    # pairs with s.y <= 1e-10 stop counting near the end
    torch.testing.assert_close(points[-1], torch.linalg.solve(A, b), rtol=0, atol=1e-5)


def test_a_pair_with_negative_curvature_is_switched_off_as_torch_skips_it():
    x0 = torch.linspace(0.05, 0.4, 10, dtype=torch.float64)
    expected, theirs = run("torch", double_well, 100, 10, x0)
    mine, ours = run("mine", double_well, 100, 10, x0)
    # This problem amplifies rounding (torch against itself from x0 + 1e-15 differs by 1e-8 here).
    torch.testing.assert_close(mine, expected, rtol=0, atol=1e-6)
    assert ours.on[0] == 0 and ours.on[1 : ours.used].all()
    assert len(theirs.state[next(iter(theirs.state))]["old_dirs"]) == int(ours.on.sum())


def test_float32_on_the_cpu_close_to_torch():
    x0 = torch.linspace(-1, 1, N)
    f = lambda x: log_cosh(x.double()).float()  # noqa: E731
    expected, _ = run("torch", f, 100, 10, x0)
    mine, _ = run("mine", f, 100, 10, x0)
    torch.testing.assert_close(mine, expected, rtol=0, atol=1e-4)


def test_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="one tensor"):
        LBFGS([torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="history_size"):
        LBFGS(torch.zeros(2, requires_grad=True), history_size=0)
    x = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward"):
        LBFGS(x).step(lambda: (x**2).sum())


def test_backtrack_takes_the_last_move_back_to_a_tenth_and_still_converges():
    x = torch.zeros(N, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([x], history_size=100)

    def closure():
        opt.zero_grad()
        loss = quadratic(x)
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="no move"):
        opt.backtrack()
    for _ in range(5):
        opt.step(closure)
    before, move = x.detach() - opt.s, opt.s.clone()
    opt.backtrack(0.1)
    torch.testing.assert_close(x.detach(), before + 0.1 * move)
    for _ in range(80):
        opt.step(closure)
    torch.testing.assert_close(x.detach(), torch.linalg.solve(A, b), rtol=0, atol=1e-5)


def run_bounded(f, x0, steps, **kw):
    x = x0.clone().requires_grad_(True)
    opt = LBFGS([x], history_size=20, **kw)
    points, moves = [], []

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    for _ in range(steps):
        before = x.detach().clone()
        opt.step(closure)
        points.append(x.detach().clone())
        moves.append((x.detach() - before).abs().max().item())
    return torch.stack(points), moves


def test_bounded_steps_stay_in_the_box_and_reach_scipys_bounded_minimiser():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    low = torch.full((N,), -0.3, dtype=torch.float64)
    high = torch.full((N,), 0.4, dtype=torch.float64)
    points, _ = run_bounded(quadratic, torch.zeros(N, dtype=torch.float64), 150, bounds=(low, high))
    assert ((points >= low) & (points <= high)).all()
    fun = lambda v: (quadratic(torch.tensor(v)).item(), (A @ torch.tensor(v) - b).numpy())  # noqa: E731
    oracle = scipy_optimize.minimize(fun, torch.zeros(N).numpy(), jac=True, method="L-BFGS-B",
                                     bounds=list(zip(low.numpy(), high.numpy(), strict=True)),
                                     options={"ftol": 1e-15, "gtol": 1e-12})
    active = (oracle.x <= -0.3 + 1e-9) | (oracle.x >= 0.4 - 1e-9)
    assert 0 < active.sum() < N  # the box matters and the minimiser is not all corners
    torch.testing.assert_close(points[-1], torch.tensor(oracle.x), rtol=0, atol=1e-5)


def test_max_move_limits_every_step_and_sets_the_first():
    x0 = torch.linspace(-1, 1, N, dtype=torch.float64)
    _, moves = run_bounded(log_cosh, x0, 30, max_move=0.05)
    assert moves[0] == pytest.approx(0.05) and max(moves) <= 0.05 + 1e-12


@pytest.mark.parametrize("scale", [1e-9, 1e9])
def test_the_losss_scale_does_not_change_the_iterates(scale):
    # torch's first step, min(1, 1/|g|_1), and an absolute curvature test (s.y > 1e-10) stall a
    # tiny loss.
    x0 = torch.linspace(-1, 1, N, dtype=torch.float64)
    reference, _ = run_bounded(log_cosh, x0, 40, max_move=0.5)
    scaled, _ = run_bounded(lambda x: scale * log_cosh(x), x0, 40, max_move=0.5)
    torch.testing.assert_close(scaled, reference, rtol=1e-6, atol=1e-9)
    assert log_cosh(scaled[-1]) < 0.5 * log_cosh(x0)  # and it made progress


def two_loop_with_preconditioner(f, P, x0, steps, history, fade=None):
    """Reference: the textbook two-loop recursion with H0 = gamma P, gamma = s.y / y.P y.

    Nocedal & Wright, algorithm 7.4. fade: at step k (from 0) P is I + max(0, 1 - k/fade) (P - I).
    """
    x, S, Y, points = x0.clone(), [], [], []
    grad = lambda v: torch.func.grad(f)(v)  # noqa: E731
    g = grad(x)
    full, eye = P, torch.eye(len(x0), dtype=x0.dtype)
    for k in range(steps):
        if fade is not None:
            P = eye + max(0.0, 1 - k / fade) * (full - eye)
        if k == 0:
            d = -g * min(1.0, 1.0 / g.abs().sum().item())  # torch's first step
        else:
            q, alphas = g.clone(), []
            for s, y in reversed(list(zip(S, Y, strict=True))):
                a = (s @ q) / (s @ y)
                alphas.append(a)
                q = q - a * y
            gamma = (S[-1] @ Y[-1]) / (Y[-1] @ P @ Y[-1])
            r = gamma * (P @ q)
            for (s, y), a in zip(zip(S, Y, strict=True), reversed(alphas), strict=True):
                r = r + s * (a - (y @ r) / (s @ y))
            d = -r
        x_new = x + d
        g_new = grad(x_new)
        S.append(x_new - x)
        Y.append(g_new - g)
        S, Y = S[-history:], Y[-history:]
        x, g = x_new, g_new
        points.append(x.clone())
    return torch.stack(points)


@pytest.mark.parametrize("history", [3, 30])
def test_the_preconditioned_compact_form_is_the_two_loop_recursion_with_h0_gamma_p(history):
    gen = torch.Generator().manual_seed(3)
    B = torch.randn(N, N, generator=gen, dtype=torch.float64) / N**0.5
    P = B @ B.T + 0.5 * torch.eye(N, dtype=torch.float64)  # symmetric positive definite
    x0 = torch.linspace(-1, 1, N, dtype=torch.float64)
    expected = two_loop_with_preconditioner(log_cosh, P, x0, 12, history)
    x = x0.clone().requires_grad_(True)
    opt = LBFGS([x], history_size=history, precondition=lambda v: P @ v)
    mine = []

    def closure():
        opt.zero_grad()
        loss = log_cosh(x)
        loss.backward()
        return loss

    for _ in range(12):
        opt.step(closure)
        mine.append(x.detach().clone())
    torch.testing.assert_close(torch.stack(mine), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("fade", [4, 7.5])
def test_a_fading_preconditioner_is_the_two_loop_recursion_with_that_steps_h0(fade):
    gen = torch.Generator().manual_seed(5)
    B = torch.randn(N, N, generator=gen, dtype=torch.float64) / N**0.5
    P = B @ B.T + 0.5 * torch.eye(N, dtype=torch.float64)
    x0 = torch.linspace(-1, 1, N, dtype=torch.float64)
    steps = 14  # past the fade: the last steps are plain L-BFGS
    expected = two_loop_with_preconditioner(log_cosh, P, x0, steps, 5, fade=fade)
    plain = two_loop_with_preconditioner(log_cosh, P, x0, steps, 5, fade=1e-9)
    x = x0.clone().requires_grad_(True)
    opt = LBFGS([x], history_size=5, precondition=lambda v: P @ v, fade=fade)
    mine, weights = [], []

    def closure():
        opt.zero_grad()
        loss = log_cosh(x)
        loss.backward()
        return loss

    for _ in range(steps):
        weights.append(opt.weight())
        opt.step(closure)
        mine.append(x.detach().clone())
    torch.testing.assert_close(torch.stack(mine), expected, rtol=0, atol=1e-9)
    assert weights[0] == 1 and weights[-1] == 0 and weights[2] == pytest.approx(1 - 2 / fade)
    assert (torch.stack(mine) - plain).abs().max() > 1e-3  # the fading made a difference


def test_fade_must_be_positive():
    with pytest.raises(ValueError, match="fade must be a positive"):
        LBFGS([torch.zeros(3, requires_grad=True)], precondition=lambda v: v, fade=0)


def test_the_adaptive_limit_shrinks_after_a_rise_and_grows_after_a_limited_fall():
    x = torch.zeros(N, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([x], history_size=10, max_move=0.01, adapt=True)
    losses = iter([5.0, 4.0, 3.0, 3.5, 3.0])
    radii = []

    def closure():
        opt.zero_grad()
        (x.sum() * 0 + quadratic(x)).backward()  # the gradient of a real problem, the loss scripted
        return torch.tensor(next(losses), dtype=torch.float64)

    for _ in range(5):
        opt.step(closure)
        radii.append(round(opt.radius.item(), 6))
    # 0.01 at first; the first step is exactly that long (not cut), so the limit stays; the second
    # is cut and lowers the loss, so the limit doubles; a rise quarters it
    assert radii[:4] == [0.01, 0.01, 0.02, 0.005]


@pytest.mark.parametrize("shape", [(1, 3, 37, 50), (1, 3, 64, 48), (1, 3, 5, 7)])
def test_the_pyramid_preconditioner_is_symmetric_positive_definite(shape):
    from nst_teach.optimize import pyramid_smoothing

    P, n = pyramid_smoothing(shape), 3 * shape[2] * shape[3]
    gen = torch.Generator().manual_seed(4)
    u, v = (torch.randn(n, generator=gen, dtype=torch.float64) for _ in range(2))
    assert abs(u @ P(v) - v @ P(u)) < 1e-9 * (u.norm() * v.norm())
    assert (v @ P(v)) >= v @ v  # the identity plus positive semidefinite block averages
    if n <= 300:  # small enough to write P out
        dense = torch.stack([P(e) for e in torch.eye(n, dtype=torch.float64)])
        torch.testing.assert_close(dense, dense.T) and None
        assert torch.linalg.eigvalsh(dense).min() >= 1 - 1e-9
