"""CUDA only (skipped elsewhere): the same results as on the CPU, and no needless waiting for the
GPU."""

import warnings

import pytest
import torch

import nst_teach as nt
from nst_teach import data
from nst_teach.lbfgs import LBFGS

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _syncs(fn) -> int:
    """How many times fn makes the CPU wait for the GPU (torch's sync debug mode, counted)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode(0)
    # (Turning the mode on warns once that it is a prototype; only the per-call warnings count.)
    return sum("called a synchronizing CUDA operation" in str(w.message) for w in caught)


def test_lbfgs_steps_never_wait_for_the_gpu():
    x = torch.randn(1000, device="cuda", requires_grad=True)
    a = torch.rand(1000, device="cuda") + 0.1
    opt = LBFGS([x], history_size=5)

    def closure():
        opt.zero_grad()
        loss = (a * x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)  # the history is allocated here
    assert (
        _syncs(lambda: [opt.step(closure) for _ in range(12)]) == 0
    )  # fills and wraps the history
    assert torch.isfinite(x).all()


def test_lbfgs_gives_the_same_iterates_on_the_gpu_and_the_cpu():
    gen = torch.Generator().manual_seed(0)
    B = torch.randn(20, 20, generator=gen, dtype=torch.float64)
    A, b = (
        B @ B.T / 20 + 0.1 * torch.eye(20, dtype=torch.float64),
        torch.randn(20, generator=gen, dtype=torch.float64),
    )
    points = {}
    for dev in ("cpu", "cuda"):
        x = torch.zeros(20, dtype=torch.float64, device=dev, requires_grad=True)
        A_, b_ = A.to(dev), b.to(dev)
        opt = LBFGS([x], history_size=4)

        def closure(x=x, A_=A_, b_=b_, opt=opt):
            opt.zero_grad()
            loss = 0.5 * x @ A_ @ x - b_ @ x
            loss.backward()
            return loss

        for _ in range(15):
            opt.step(closure)
        points[dev] = x.detach().cpu()
    torch.testing.assert_close(points["cuda"], points["cpu"], rtol=0, atol=1e-9)


def test_gram_backward_on_the_gpu_matches_finite_differences():
    F = torch.randn(1, 4, 3, 5, dtype=torch.float64, device="cuda", requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: nt.gram_matrix(f, "hw"), (F,))


def test_stylize_on_the_gpu_matches_the_cpu_and_returns_a_cpu_image():
    kw = dict(size=64, max_evals=8, progress=False)
    runs = {
        dev: nt.stylize(data.content_path(), data.style_path(), device=dev, **kw)
        for dev in ("cpu", "cuda")
    }
    gpu, cpu = runs["cuda"], runs["cpu"]
    assert gpu.settings.device.type == "cuda" and gpu.image.device.type == "cpu"
    # cuDNN may use TF32 for convolutions: agree to about a percent, not to float32 rounding.
    assert abs(gpu.history[0]["total"] / cpu.history[0]["total"] - 1) < 1e-2
    assert gpu.history[-1]["total"] < gpu.history[0]["total"] / 2
    assert torch.isfinite(gpu.image).all()


def test_stylize_waits_for_the_gpu_at_most_once_per_evaluation():
    model = nt.load_vgg19(device="cuda")
    content, style = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)

    def run(evals):
        return lambda: nt.stylize(
            content, style, model=model, size=64, max_evals=evals, progress=False
        )

    run(3)()  # warm up
    extra = _syncs(run(25)) - _syncs(run(5))
    assert extra <= 20, f"{extra} waits for 20 more evaluations"


def test_default_preset_on_cuda_is_512_px_500_evaluations(monkeypatch):
    monkeypatch.delenv("NST_TEACH_FAST", raising=False)
    p = nt.preset("cuda")
    assert (p.size, p.max_evals) == (512, 500)


def test_a_stop_mid_run_on_the_gpu_keeps_the_best_image():
    r = nt.stylize(
        data.content_path(),
        data.style_path(),
        device="cuda",
        size=64,
        max_evals=50,
        progress=False,
        callback=lambda i, image, losses: i == 5,
    )
    assert r.evals == 5 and r.stop_reason == "stopped by callback" and torch.isfinite(r.image).all()
