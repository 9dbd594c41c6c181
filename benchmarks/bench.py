"""Benchmarks for nst_teach (issue #6): overhead per evaluation, speed and memory per size, time to quality.

Run from the repository root: ``python benchmarks/bench.py`` (``--quick`` for a short run).
It prints a Markdown table and writes JSON; benchmarks/README.md says what each number means.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.nn.functional import mse_loss

import nst_teach as nt
from nst_teach import data, transfer
from nst_teach.lbfgs import LBFGS
from nst_teach.losses import content_loss, layer_weights, style_loss, style_targets
from nst_teach.optimize import optimize
from nst_teach.settings import Settings
from nst_teach.transfer import CONTENT_LAYERS, STYLE_LAYERS, _resize_longest
from nst_teach.vgg import LAYER_INDEX, WEIGHTS, VGG19Features, caffe_weights_path

LAYERS = list(dict.fromkeys(CONTENT_LAYERS + STYLE_LAYERS))
DEEPEST = max(LAYERS, key=LAYER_INDEX.get)
_STYLIZE = inspect.signature(nt.stylize).parameters
ALPHA, BETA = _STYLIZE["alpha"].default, _STYLIZE["beta"].default
HISTORY = _STYLIZE["lbfgs_history"].default  # L-BFGS history_size in stylize
RESULTS = Path(__file__).resolve().parent / "results"
AUTOCAST = {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}

# Defaults per (device kind, quick): sizes for evals/s, evaluations per stylize run, interleaved
# rounds of the overhead measurement, its image size, and size and budget for time to quality.
DEFAULTS = {
    ("cpu", False): dict(sizes=[128, 256, 512], evals=12, rounds=3, overhead_size=256, ttq_size=256, ttq_evals=150),
    ("cpu", True): dict(sizes=[128, 256], evals=5, rounds=2, overhead_size=256, ttq_size=128, ttq_evals=40),
    ("gpu", False): dict(sizes=[512, 1024], evals=40, rounds=3, overhead_size=512, ttq_size=512, ttq_evals=500),
    ("gpu", True): dict(sizes=[512, 1024], evals=12, rounds=2, overhead_size=512, ttq_size=512, ttq_evals=150),
}


# ---------------------------------------------------------------- the model and its speed-ups


class TunedVGG(VGG19Features):
    """VGG19Features with the benchmark's optional speed-ups around forward_net; features come back float32."""

    def __init__(self, base: VGG19Features, channels_last=False, autocast=None, compile=False):
        super().__init__(base.features, base.preprocessing, base.weights, base.pooling, base.weights_sha256)
        self.channels_last, self.autocast = channels_last, autocast
        if channels_last:
            self.features.to(memory_format=torch.channels_last)
        plain = super().forward_net
        self._net = torch.compile(plain) if compile else plain

    def forward_net(self, x, layers):
        """The package's forward_net, in channels-last memory and under autocast when asked."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.autocast or torch.float32, enabled=self.autocast is not None):
            out = self._net(x, layers)
        return {name: f.float() for name, f in out.items()}


def make_model(s: dict) -> VGG19Features:
    """The package's VGG19 on s['device'], wrapped only when a speed-up flag is set."""
    base = nt.load_vgg19(s["weights"], device=s["device"])
    if not (s["channels_last"] or s["autocast"] or s["compile"]):
        return base
    return TunedVGG(base, s["channels_last"], AUTOCAST[s["autocast"]], s["compile"])


def setup_torch(s: dict) -> None:
    """Thread count and cuDNN autotuning, as asked."""
    if s["threads"]:
        torch.set_num_threads(s["threads"])
    if s["cudnn_benchmark"]:
        torch.backends.cudnn.benchmark = True


def sync(device) -> None:
    """Wait for the GPU, so that a clock read after it counts the work queued before it."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


# ---------------------------------------------------------------- timing one evaluation


def diffs(stamps, skip=1) -> list[float]:
    """Seconds between successive time stamps, dropping the first `skip` (warm-up)."""
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)][skip:]


def stylize_intervals(model, content, style, size, evals):
    """Run nt.stylize (defaults otherwise) and time each evaluation as the gap between callbacks."""
    stamps = []
    result = nt.stylize(content, style, size=size, max_evals=evals, model=model, progress=False,
                        callback=lambda i, image, losses: stamps.append(time.perf_counter()))
    return diffs(stamps, skip=1 if evals >= 3 else 0), result


def bare_pass(model, z) -> float:
    """Seconds of model.forward_net(z, [deepest]) + sum().backward() on the leaf z."""
    sync(z.device)
    t = time.perf_counter()
    model.forward_net(z, [DEEPEST])[DEEPEST].sum().backward()
    sync(z.device)
    z.grad = None
    return time.perf_counter() - t


def torch_lbfgs(z) -> torch.optim.LBFGS:
    """torch's L-BFGS as pastiche uses it: one iteration per step, otherwise torch's defaults (history 100)."""
    return torch.optim.LBFGS([z], lr=1.0, max_iter=1)


def lbfgs_step_s(numel, device, n=10, use_torch=False) -> float:
    """Median seconds of one L-BFGS iteration's own work once its history is full (100 pairs).

    The closure is a near-free, ill-conditioned quadratic, so every iteration stores a pair.
    use_torch: time torch.optim.LBFGS (no line search, one iteration per step) instead of nst_teach's.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(numel, generator=gen).to(device).requires_grad_(True)
    a = torch.logspace(-4, 0, numel)[torch.randperm(numel, generator=gen)].to(device)
    if use_torch:
        opt = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=HISTORY, line_search_fn=None,
                                tolerance_grad=0.0, tolerance_change=0.0)
    else:
        opt = LBFGS([x], history_size=HISTORY)
    times = []

    def closure():
        x.grad = a * x.detach()
        return (0.5 * a * x.detach() ** 2).sum()

    for _ in range(HISTORY + 1 + n):
        sync(device)
        t = time.perf_counter()
        opt.step(closure)
        sync(device)
        times.append(time.perf_counter() - t)
    full = len(opt.state[x]["old_dirs"]) if use_torch else int(opt.on.sum())
    assert full == HISTORY, "the L-BFGS history did not fill up"
    return statistics.median(times[-n:])


# ---------------------------------------------------------------- the reference: pastiche's VGG19

PASTICHE_NAMES = {f"{k}{b}_{n}": f"block{b}_{k}{n}" for b in range(1, 6) for n in range(1, 5) for k in ("conv", "relu")}


def pastiche_vgg(device):
    """pastiche's own VGG19 from the same weights file, frozen, on `device` up to the deepest layer."""
    from pastiche.vgg19 import VGG19

    net = VGG19.from_quantized_bin(str(caffe_weights_path()))
    net.requires_grad_(False)
    last = VGG19.LAYER_INDEX_LOOKUP[PASTICHE_NAMES[DEEPEST]]
    return net.set_device_strategy([str(device) if i <= last else None for i in range(len(VGG19.LAYER_NAMES))])


def reference_stepper(net, content_image, style_image, prep):
    """step() runs one evaluation of pastiche's VGG19 + Gram/MSE losses + backward under stylize's L-BFGS: seconds."""
    from pastiche.pastiche import gram

    c, s = PASTICHE_NAMES[CONTENT_LAYERS[0]], [PASTICHE_NAMES[n] for n in STYLE_LAYERS]
    with torch.no_grad():
        content_target = net(prep(content_image), [c])[c]
        style_grams = {n: gram(f) for n, f in net(prep(style_image), s).items()}
    z = prep(content_image).detach().requires_grad_(True)
    opt, losses = torch_lbfgs(z), []

    def closure():
        opt.zero_grad(set_to_none=True)
        out = net(z, [c] + s)
        style = sum(mse_loss(gram(out[n]), style_grams[n]) for n in s) / len(s)
        total = ALPHA * mse_loss(out[c], content_target) + BETA * style
        total.backward()
        losses.append(total.item())
        return total

    def step():
        sync(z.device)
        t = time.perf_counter()
        opt.step(closure)
        sync(z.device)
        return time.perf_counter() - t

    return step, losses


class _Budget(Exception):
    """Ends an optimiser step from inside its closure."""


# ---------------------------------------------------------------- 1. overhead per evaluation


def images_at(s: dict, size: int, device):
    """Content and style as stylize sees them at `size` (the same resizing), on `device`."""
    content = _resize_longest(nt.load_image(s["content"]), size).to(device)
    return content, _resize_longest(nt.load_image(s["style"]), size).to(device)


def interleaved_run(s: dict, model, z, ref_step) -> dict:
    """One stylize run; in its callback, after each evaluation, one bare pass (and one reference evaluation)."""
    enter, leave, bare, ref = [], [], [], []

    def callback(i, image, losses):
        sync(z.device)
        enter.append(time.perf_counter())
        bare.append(bare_pass(model, z))
        if ref_step is not None:
            ref.append(ref_step())
        leave.append(time.perf_counter())

    result = nt.stylize(s["content"], s["style"], size=s["overhead_size"], max_evals=s["evals"], model=model,
                        progress=False, callback=callback)
    evals = [b - a for a, b in zip(leave, enter[1:], strict=False)]
    # evals[k] ran between the k-th and (k+1)-th callbacks, just after bare[k]; the first of each is warm-up.
    return dict(evals=evals[1:], bare=bare[1:-1], ref=ref[1:-1], first_loss=result.history[0]["total"])


def measure_overhead(s: dict, model, log) -> dict:
    """Stylize evaluations against bare forward+backward passes (and the reference), interleaved one by one."""
    content, style = images_at(s, s["overhead_size"], model.device)
    z = model.preprocessing(content).detach().requires_grad_(True)
    ref_step, ref_losses = reference_stepper(pastiche_vgg(model.device), content, style, model.preprocessing) if s["reference"] else (None, [])
    runs = []
    for r in range(s["rounds"]):
        log(f"overhead: round {r + 1}/{s['rounds']}, {s['evals']} evaluations at {s['overhead_size']} px")
        runs.append(interleaved_run(s, model, z, ref_step))
    evals, bare = sum((r["evals"] for r in runs), []), sum((r["bare"] for r in runs), [])
    ratio = statistics.median(evals) / statistics.median(bare)
    lbfgs_full = lbfgs_step_s(z.numel(), z.device)
    torch_lbfgs_full = lbfgs_step_s(z.numel(), z.device, use_torch=True)
    out = dict(size=s["overhead_size"], image_hw=list(z.shape[-2:]), deepest_layer=DEEPEST, rounds=s["rounds"],
               evals_per_run=s["evals"], stylize_eval_s=_summary(evals), bare_fwd_bwd_s=_summary(bare), ratio=ratio,
               ratio_per_round=[statistics.median(r["evals"]) / statistics.median(r["bare"]) for r in runs],
               lbfgs_step_full_history_s=lbfgs_full, torch_lbfgs_step_full_history_s=torch_lbfgs_full,
               ratio_full_history=ratio + lbfgs_full / statistics.median(bare), target=1.10)
    if s["reference"]:
        refs = sum((r["ref"] for r in runs), [])
        out["reference"] = dict(eval_s=_summary(refs), ratio=statistics.median(evals) / statistics.median(refs),
                                first_loss_rel_diff=abs(ref_losses[0] / runs[0]["first_loss"] - 1))
    return out


def _summary(times) -> dict:
    """Median, min, max and count of a list of seconds."""
    return dict(median=statistics.median(times), min=min(times), max=max(times), n=len(times))


# ---------------------------------------------------------------- 2. evaluations per second and memory


def peak_rss_mb() -> float | None:
    """This process's peak resident memory so far, MiB (None where the OS does not say)."""
    status = Path("/proc/self/status")
    if status.is_file():  # Linux: VmHWM; ru_maxrss would count the parent's memory from before exec
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def speed_worker(s: dict) -> dict:
    """One size, in a fresh process so peaks don't mix: evaluations per second and peak memory."""
    setup_torch(s)
    model = make_model(s)
    rss_loaded = peak_rss_mb()
    times, result = stylize_intervals(model, s["content"], s["style"], s["size"], s["evals"])
    pairs = min(result.evals - 1, HISTORY)  # at most one (s, y) pair per L-BFGS iteration after the first
    pair_mb = 2 * result.image.numel() * 4 / 2**20
    out = dict(size=s["size"], image_hw=list(result.image.shape[-2:]), evals=result.evals,
               eval_s=_summary(times), evals_per_s=1 / statistics.median(times),
               rss_after_load_mb=rss_loaded, peak_rss_mb=peak_rss_mb(), lbfgs_pairs=pairs,
               lbfgs_pair_mb=pair_mb, lbfgs_full_extra_mb=(HISTORY - pairs) * pair_mb)
    on_cpu = model.device.type == "cpu"
    out["projected_peak_rss_mb"] = out["peak_rss_mb"] + (out["lbfgs_full_extra_mb"] if on_cpu else 0)
    if model.device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(model.device) / 2**20
        # nst_teach.lbfgs allocates its whole history on the device at the second evaluation.
        out["projected_cuda_peak_mb"] = out["cuda_peak_mb"]
    return out


def measure_speed(s: dict, log) -> list[dict]:
    """speed_worker for each size, each in its own subprocess."""
    rows = []
    for size in s["sizes"]:
        log(f"speed: {size} px, {s['evals']} evaluations, in a subprocess")
        job = json.dumps(dict(s, size=size))
        done = subprocess.run([sys.executable, __file__, "--worker", job], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"the {size} px worker failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


# ---------------------------------------------------------------- 3. time to quality


def defaults_to_quality(model, s: dict) -> dict:
    """Wall time and evaluations until stylize (package defaults) gets below fraction * its first loss."""
    t0, first, hit = time.perf_counter(), [], {}

    def callback(i, image, losses):
        first.append(losses["total"])
        if losses["total"] < s["fraction"] * first[0]:
            hit.update(evals=i, seconds=time.perf_counter() - t0)
            return True

    result = nt.stylize(s["content"], s["style"], size=s["ttq_size"], max_evals=s["ttq_evals"],
                        model=model, progress=False, callback=callback)
    return _quality(hit, first, result.evals, time.perf_counter() - t0)


def tutorial_to_quality(model, s: dict) -> dict:
    """The PyTorch tutorial's loop, timed the same way: LBFGS() defaults on [0, 1] pixels, clamped in the closure."""
    t0 = time.perf_counter()
    prep, device = model.preprocessing, model.device
    content, style = images_at(s, s["ttq_size"], device)
    with torch.no_grad():
        content_targets = model.extract(content, CONTENT_LAYERS)
        style_grams = style_targets(model.extract(style, STYLE_LAYERS))
    weights = layer_weights(STYLE_LAYERS)
    x = content.clone().requires_grad_(True)
    opt, losses, hit = torch.optim.LBFGS([x]), [], {}

    def closure():
        if hit or len(losses) >= s["ttq_evals"]:
            raise _Budget
        with torch.no_grad():
            x.clamp_(0, 1)
        opt.zero_grad()
        features = model.forward_net(prep(x), LAYERS)
        lc = sum(content_loss(features[n], content_targets[n]) for n in CONTENT_LAYERS) / len(CONTENT_LAYERS)
        total = ALPHA * lc + BETA * style_loss(features, style_grams, weights)
        total.backward()
        losses.append(total.item())
        if losses[-1] < s["fraction"] * losses[0]:
            hit.update(evals=len(losses), seconds=time.perf_counter() - t0)
        return total

    try:
        while True:
            opt.step(closure)
    except _Budget:
        pass
    return _quality(hit, losses, len(losses), time.perf_counter() - t0)


def _quality(hit, losses, evals, seconds) -> dict:
    """One loop's time-to-quality record: reached or not, how far it got, and its losses / the first."""
    ratios = [v / losses[0] if math.isfinite(v) else None for v in losses]
    best = min((r for r in ratios if r is not None), default=None)
    return dict(reached=bool(hit), evals=hit.get("evals"), seconds=hit.get("seconds"), first_loss=losses[0],
                best_ratio=best, evals_run=evals, seconds_run=seconds, loss_ratios=[float(f"{r:.4g}") if r is not None else None for r in ratios])


def measure_quality(s: dict, model, log) -> dict:
    """Defaults, tutorial baseline, defaults again (A, B, A): the faster default run's time against the baseline's."""
    log(f"time to quality: defaults at {s['ttq_size']} px")
    runs = [defaults_to_quality(model, s)]
    log(f"time to quality: tutorial baseline, up to {s['ttq_evals']} evaluations")
    baseline = tutorial_to_quality(model, s)
    log("time to quality: defaults again")
    runs.append(defaults_to_quality(model, s))
    times = [r["seconds"] for r in runs if r["reached"]]
    defaults = dict(runs[-1], seconds=statistics.median(times) if times else None, seconds_each=times)
    out = dict(size=s["ttq_size"], fraction=s["fraction"], budget_evals=s["ttq_evals"], defaults=defaults,
               baseline=baseline, first_loss_rel_diff=abs(baseline["first_loss"] / runs[0]["first_loss"] - 1))
    if times and baseline["reached"]:
        out["speedup"] = baseline["seconds"] / defaults["seconds"]
        out["evals_ratio"] = baseline["evals"] / defaults["evals"]
    elif times:  # a lower bound: the baseline ran this long without getting there
        out["speedup_at_least"] = baseline["seconds_run"] / defaults["seconds"]
    return out


# ---------------------------------------------------------------- 4. a whole default run


class TorchLBFGS(torch.optim.LBFGS):
    """torch.optim.LBFGS in stylize's place: no line search, one evaluation per step, no early stop."""

    def __init__(self, params, lr=1.0, history_size=HISTORY):
        super().__init__(params, lr=lr, max_iter=1, history_size=history_size, line_search_fn=None,
                         tolerance_grad=0.0, tolerance_change=0.0)


def torch_lbfgs_run(model, content, style, p):
    """The default run with torch.optim.LBFGS in place of nst_teach.lbfgs.LBFGS, from the package's own parts."""
    settings = Settings(size=p.size, max_evals=p.max_evals, device=model.device)
    content_image, style_images = transfer.prepare_images(nt.load_image(content), [nt.load_image(style)], settings)
    P, A = transfer.extract_targets(model, content_image, style_images, [1.0], settings)
    target = transfer.initial_target(content_image, style_images, settings, model)
    return optimize(transfer.LossTerms(model, P, A, settings), target, TorchLBFGS([target]),
                    max_evals=p.max_evals, to_image=model.preprocessing.inverse)


def measure_full_run(s: dict, model, log) -> dict:
    """stylize with the device's preset size and budget, wall time with the model loaded: the package as it
    is, with torch's L-BFGS in its place, and (CUDA) with CUDA graphs; all of them twice, in turn, since a
    first run pays one-time costs (torch.optim's first step took about 1 s more on a CPU)."""
    p = nt.preset(model.device)
    variants = (["nst_teach", "torch L-BFGS"] + (["CUDA graphs"] if model.device.type == "cuda" else [])) * 2
    out = dict(size=p.size, max_evals=p.max_evals, runs={})
    for name in variants:
        log(f"full run: {p.max_evals} evaluations at {p.size} px, {name}")
        sync(model.device)
        t = time.perf_counter()
        if name == "torch L-BFGS":
            result = torch_lbfgs_run(model, s["content"], s["style"], p)
        else:
            result = nt.stylize(s["content"], s["style"], model=model, progress=False, cuda_graphs=name == "CUDA graphs")
        sync(model.device)
        seconds = time.perf_counter() - t
        r = out["runs"].setdefault(name, dict(seconds=[], evals=len(result.history)))
        r["seconds"].append(seconds)
        r["final_loss_ratio"] = result.history[-1]["total"] / result.history[0]["total"]
    for r in out["runs"].values():
        r["best_s"] = min(r["seconds"])
        r["evals_per_s"] = r["evals"] / r["best_s"]
    return out


# ---------------------------------------------------------------- machine, table, main


def machine(device) -> dict:
    """Where and with what the numbers were taken."""
    device = torch.device(device)
    cpu = platform.processor()
    if Path("/proc/cpuinfo").is_file():
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    return dict(platform=platform.platform(), python=platform.python_version(), cpu=cpu, cpu_count=os.cpu_count(),
                torch=torch.__version__, nst_teach=nt.__version__, threads=torch.get_num_threads(),
                device=str(device), device_name=name, load_average=_load(), commit=_commit())


def _load():
    """1-minute load average (other work on the machine makes the timings noisy)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _commit():
    """The repository's commit, if git is there."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def table(res: dict) -> str:
    """The results as a Markdown table."""
    m, rows = res["machine"], []
    if "overhead" in res:
        o = res["overhead"]
        rows.append((f"overhead per evaluation, {o['size']} px", f"{o['ratio']:.3f}",
                     f"stylize eval {o['stylize_eval_s']['median']:.3f} s / bare fwd+bwd to {o['deepest_layer']} "
                     f"{o['bare_fwd_bwd_s']['median']:.3f} s (medians of {o['stylize_eval_s']['n']} / "
                     f"{o['bare_fwd_bwd_s']['n']}; rounds {', '.join(f'{r:.3f}' for r in o['ratio_per_round'])}); "
                     f"target <= {o['target']:.2f}"))
        if "reference" in o:
            r = o["reference"]
            rows.append(("stylize eval / reference eval (pastiche VGG19)", f"{r['ratio']:.3f}",
                         f"reference {r['eval_s']['median']:.3f} s (median of {r['eval_s']['n']}); "
                         f"first losses differ by {r['first_loss_rel_diff']:.1e}"))
    for row in res.get("speed", []):
        mem = f"peak RSS {row['peak_rss_mb']:.0f} MiB after {row['evals']} evals"
        if "cuda_peak_mb" in row:
            mem = f"GPU peak {row['cuda_peak_mb']:.0f} MiB (projected {row['projected_cuda_peak_mb']:.0f} with full L-BFGS history), {mem}"
        else:
            mem += f" (projected {row['projected_peak_rss_mb']:.0f} MiB with full L-BFGS history)"
        rows.append((f"evals/s, {row['size']} px ({'x'.join(map(str, row['image_hw']))})", f"{row['evals_per_s']:.2f}", mem))
    if "quality" in res:
        q = res["quality"]
        goal = f"time to {q['fraction']:.0%} of the first loss, {q['size']} px"
        for name, r in (("package defaults", q["defaults"]), ("tutorial baseline", q["baseline"])):
            value = f"{r['seconds']:.1f} s" if r["reached"] else "not reached"
            detail = (f"{r['evals']} evals" if r["reached"] else
                      f"not reached in {r['evals_run']} evals / {r['seconds_run']:.0f} s; best {r['best_ratio']:.3g} of the first loss")
            rows.append((f"{goal}: {name}", value, detail))
        if "speedup" in q:
            rows.append(("defaults faster by", f"{q['speedup']:.1f}x",
                         f"baseline time / defaults time; in evaluations {q['evals_ratio']:.1f}x"))
        elif "speedup_at_least" in q:
            rows.append(("defaults faster by", f">= {q['speedup_at_least']:.1f}x", "the baseline never got there"))
    if "full" in res:
        f = res["full"]
        for name, r in f["runs"].items():
            rows.append((f"whole default run, {f['size']} px, {r['evals']} evals: {name}", f"{r['best_s']:.1f} s",
                         f"{r['evals_per_s']:.1f} evals/s, best of runs {', '.join(f'{x:.1f}' for x in r['seconds'])} s; "
                         f"final loss {r['final_loss_ratio']:.3g} of the first"))
    load = "" if m["load_average"] is None else f", load average {m['load_average']:.1f}"
    head = (f"{m['date']}, {m['device_name']} ({m['device']}), CPU {m['cpu']} x{m['cpu_count']}, "
            f"{m['threads']} threads, torch {m['torch']}{load}")
    lines = [head, "", "| measurement | value | detail |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += [f"\nnote: {n}" for n in res["notes"]]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options; those left out are filled from DEFAULTS."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short run: fewer sizes and evaluations")
    p.add_argument("--device", default="auto", help="cpu, cuda, mps or auto (the best present)")
    p.add_argument("--sizes", type=int, nargs="+", help="longest sides for evals/s and memory")
    p.add_argument("--evals", type=int, help="evaluations per stylize run (overhead and speed)")
    p.add_argument("--rounds", type=int, help="interleaved rounds of the overhead measurement")
    p.add_argument("--overhead-size", type=int, help="image size for the overhead ratio")
    p.add_argument("--ttq-size", type=int, help="image size for time to quality")
    p.add_argument("--ttq-evals", type=int, help="evaluation budget of each time-to-quality loop")
    p.add_argument("--fraction", type=float, default=0.02, help="time to quality: loss below this fraction of its first value")
    p.add_argument("--content", default=str(data.content_path()), help="content image (default: bundled)")
    p.add_argument("--style", default=str(data.style_path()), help="style image (default: bundled)")
    p.add_argument("--weights", default="caffe", choices=WEIGHTS)
    p.add_argument("--threads", type=int, help="torch.set_num_threads")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    p.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark (CUDA only)")
    p.add_argument("--autocast", choices=("bf16", "fp16"), help="mixed precision around forward_net")
    p.add_argument("--compile", action="store_true", help="torch.compile the forward pass")
    p.add_argument("--reference", action="store_true", help="also time pastiche's own VGG19 (caffe weights)")
    p.add_argument("--only", nargs="+", choices=("overhead", "speed", "quality", "full"),
                   help="run only these sections (full: a whole default run, on a GPU by default)")
    p.add_argument("--json", type=Path, help="where to write the JSON (default benchmarks/results/DATE-DEVICE.json)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def settings(args: argparse.Namespace) -> dict:
    """The options as a plain dict, with the device resolved and DEFAULTS filled in."""
    s = {k: v for k, v in vars(args).items() if k not in ("json", "worker")}
    s["device"] = str(nt.pick_device(args.device))
    kind = "cpu" if torch.device(s["device"]).type == "cpu" else "gpu"
    for key, value in DEFAULTS[(kind, args.quick)].items():
        s[key] = value if s.get(key) is None else s[key]
    if s["reference"] and s["weights"] != "caffe":
        raise SystemExit("--reference needs --weights caffe (pastiche ships only those)")
    return s


def notes(s: dict) -> list[str]:
    """What the flags did (or did not do) on this device."""
    cpu, out = torch.device(s["device"]).type == "cpu", []
    if s["cudnn_benchmark"] and cpu:
        out.append("--cudnn-benchmark has no effect on the CPU")
    for flag in ("channels_last", "autocast", "compile"):
        if s[flag]:
            value = "" if s[flag] is True else f" {s[flag]}"
            out.append(f"--{flag.replace('_', '-')}{value}: the benchmark wraps the model (TunedVGG); the package does not do this yet")
    return out


def run(s: dict, log=print) -> dict:
    """All asked-for sections with settings s; returns the results as a JSON-able dict."""
    setup_torch(s)
    res = dict(machine=machine(s["device"]), settings=s, notes=notes(s))
    res["machine"]["date"] = datetime.date.today().isoformat()
    # The whole default run takes minutes on a CPU (256 px, 150 evaluations, twice): on a GPU only, unless asked.
    gpu = torch.device(s["device"]).type != "cpu"
    only = s["only"] or ("overhead", "speed", "quality") + (("full",) if gpu and not s["quick"] else ())
    model = make_model(s) if {"overhead", "quality", "full"} & set(only) else None
    if "overhead" in only:
        res["overhead"] = measure_overhead(s, model, log)
    if "speed" in only:
        res["speed"] = measure_speed(s, log)
    if "quality" in only:
        res["quality"] = measure_quality(s, model, log)
    if "full" in only:
        res["full"] = measure_full_run(s, model, log)
    res["machine"]["load_average_end"] = _load()
    return res


def main(argv=None) -> dict | None:
    """Run the benchmark, print the table, write the JSON."""
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(speed_worker(json.loads(args.worker))))
        return None
    s = settings(args)
    started = time.perf_counter()
    res = run(s, log=lambda msg: print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True))
    res["seconds"] = time.perf_counter() - started
    path = args.json or RESULTS / f"{res['machine']['date']}-{torch.device(s['device']).type}{'-quick' if s['quick'] else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    print(f"\n{res['seconds']:.0f} s; JSON: {path}")
    return res


if __name__ == "__main__":
    main()
