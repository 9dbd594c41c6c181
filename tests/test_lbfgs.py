"""nst_teach.lbfgs against torch.optim.LBFGS (no line search, one evaluation per step) as the oracle."""

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
        opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=history_size, line_search_fn=None,
                                tolerance_grad=0, tolerance_change=0)
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
    torch.testing.assert_close(points[-1], torch.linalg.solve(A, b), rtol=0, atol=1e-5)  # pairs with s.y <= 1e-10 stop counting near the end


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
