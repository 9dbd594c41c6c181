"""Benchmarks for nst_teach (issue #12): time to a finished image, and what one evaluation costs.

Run from the repository root: ``python benchmarks/bench.py`` (``--quick``: tiny sizes and budgets,
seconds, for tests). It prints a Markdown table and writes JSON; benchmarks/README.md says what
each number means. Every number is measured on what a user gets: ``nt.stylize`` at its defaults
(read from nst_teach, never written here), the image it returns, the default thread count.
"""

from __future__ import annotations

import argparse
import datetime
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

import nst_teach as nt
from nst_teach import data
from nst_teach.precision import autocast, cpu_model
from nst_teach.settings import Settings
from nst_teach.transfer import prepare_images
from nst_teach.tutorial import TutorialLoss, tutorial_loop
from nst_teach.vgg import WEIGHTS

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_THREADS = torch.get_num_threads()  # read before anything sets it
# content/style: photographs and paintings, bundled ones and the paper's
PAIRS = (
    "tubingen/starry_night",
    "tubingen/composition_vii",
    "grace_hopper/the_scream",
    "landscape/shipwreck",
    "grace_hopper/swirls",
    "landscape/waves",
)
TARGETS = dict(overhead=1.08, time_ratio=0.5, final_ratio=1.0, spike=10.0)  # issue #12
SECTIONS = ("overhead", "quality", "speed", "full", "precision")
# issue 20: photographs x paintings of many kinds (colourful, expressionist, geometric, abstract,
# high-contrast: circles is black-and-white geometry)
PRECISION_PAIRS = (
    "tubingen/starry_night",
    "grace_hopper/the_scream",
    "landscape/composition_vii",
    "tubingen/shipwreck",
    "landscape/waves",
    "grace_hopper/mosaic",
    "tubingen/circles",
)
PRECISION_TARGETS = dict(
    time_ratio_fp32=0.5,
    final_ratio_fp32=1.01,
    time_ratio_tutorial=0.5,
    final_ratio_tutorial=1.0,
    cost_ratio=1.08,
)

# Per (device kind, quick). stylize, overhead_options: options given to stylize besides the model,
# only in --quick (the full benchmark measures its defaults); tutorial_evals: the tutorial loop's
# budget; overhead_size/late_evals: the overhead run's size and its evaluations once the L-BFGS
# history is full; sizes/speed_evals: evals/s and memory; repeats/full_pairs: whole default runs.
FULL = dict(
    stylize={},
    overhead_options={},
    tutorial_evals=150,
    repeats=2,
    full_pairs=1,
    bare_reps=10,
    precision_pairs=PRECISION_PAIRS,
)
QUICK = dict(
    stylize=dict(size=40, max_evals=10),
    overhead_options=dict(lbfgs_history=4),
    tutorial_evals=8,
    late_evals=3,
    repeats=1,
    full_pairs=1,
    pairs=PAIRS[:2],
    speed_evals=4,
    bare_reps=2,
    precision_pairs=PRECISION_PAIRS[:2],
)
DEFAULTS = {
    ("cpu", False): dict(
        FULL, overhead_size=256, late_evals=20, sizes=[128, 256, 512], speed_evals=12
    ),
    ("cpu", True): dict(QUICK, overhead_size=32, sizes=[32]),
    ("gpu", False): dict(
        FULL, overhead_size=512, late_evals=40, sizes=[512, 1024], speed_evals=40, repeats=3
    ),
    ("gpu", True): dict(QUICK, overhead_size=64, sizes=[64, 128]),
}


# ---------------------------------------------------------------- pairs, the model, clocks


def image_path(name: str) -> str:
    """A bundled image's path by name, or an existing file."""
    if Path(name).is_file():
        return name
    try:
        return str(data.bundled(name))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{name!r} is not a file, and {e}") from None


def parse_pair(spec: str) -> dict:
    """'content/style' with bundled names, or 'CONTENT:STYLE' with names or file paths.

    A number N alone stands for the first N of the default pairs (each section's own list)."""
    if spec.isdigit() and int(spec) > 0:
        return int(spec)
    parts = spec.split(":", 1) if ":" in spec else spec.split("/")
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(
            f"pair {spec!r}: write content/style with bundled names (e.g. tubingen/starry_night) "
            "or CONTENT:STYLE with file paths"
        )
    content, style = (image_path(p) for p in parts)
    return dict(name=f"{Path(content).stem}/{Path(style).stem}", content=content, style=style)


def objective_settings() -> Settings:
    """stylize's defaults, which the tutorial loop copies (the everyday losses, not the paper's)."""
    d = Settings()
    if d.paper:
        raise SystemExit(
            "stylize's default is paper=True: the tutorial loop has the everyday losses only"
        )
    return d


def setting(result, name: str):
    """One of the settings a Result records (a Settings, or the dict of earlier versions)."""
    s = result.settings
    return s[name] if isinstance(s, dict) else getattr(s, name)


def load_model(weights: str, device) -> nt.vgg.VGG19Features:
    """The network stylize would load at its defaults, with these weights, on `device`."""
    d = Settings()
    return nt.load_vgg19(weights, device=device, pooling=d.pooling, normalize=d.normalize)


def sync(device) -> None:
    """Wait for the GPU, so that a clock read after it counts the work queued before it."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def set_threads(spec) -> int:
    """'default' (leave torch's count), 'all' (os.cpu_count()) or a number; call before any work."""
    if spec == "all":
        torch.set_num_threads(os.cpu_count())
    elif spec != "default":
        torch.set_num_threads(int(spec))
    return torch.get_num_threads()


def stylize_run(model, pair: dict, options: dict) -> dict:
    """nt.stylize given only the model (and `options`); seconds since the call per evaluation."""
    stamps, firsts = [], {}

    def callback(i, image, losses):
        stamps.append(time.perf_counter() - t0)
        if not firsts or list(firsts.values())[-1].shape != image.shape:
            firsts[i - 1] = image  # the first image at each size (a coarse-to-fine run has several)

    t0 = time.perf_counter()
    result = nt.stylize(
        pair["content"], pair["style"], model=model, progress=False, callback=callback, **options
    )
    seconds = time.perf_counter() - t0
    assert len(stamps) == result.evals, "stylize skipped its callback for some evaluation"
    return dict(result=result, stamps=stamps, seconds=seconds, firsts=firsts)


def at_final_size(result) -> list[int]:
    """Indices of the evaluations at the result's size (coarse-to-fine records carry "size")."""
    size = setting(result, "size")
    return [k for k, h in enumerate(result.history) if h.get("size", size) == size]


# ---------------------------------------------------------------- the tutorial loop


def pair_images(pair: dict, size: int, device):
    """Content and style (1, 3, H, W) in [0, 1], resized as stylize resizes them at `size`."""
    settings = Settings(size=size, device=torch.device(device))
    content, (style,) = prepare_images(
        nt.load_image(pair["content"]), [nt.load_image(pair["style"])], settings
    )
    return content, style


def tutorial_run(model, pair: dict, size: int, evals: int) -> dict:
    """The tutorial loop (nst_teach.tutorial, notebook 10) on a pair; seconds from image loading."""
    t0 = time.perf_counter()
    content, style = pair_images(pair, size, model.device)
    loss_fn = TutorialLoss(model, content, style, objective_settings())
    run = tutorial_loop(loss_fn, content, evals, started=t0)
    return dict(
        losses=run.losses,
        seconds=run.stamps[-1],
        evals=len(run.losses),
        image=run.image,
        loss_fn=loss_fn,
    )


# ---------------------------------------------------------------- 2. time to quality


def time_to(run: dict, loss: float) -> tuple[int | None, float | None]:
    """(evaluations, seconds) until stylize's reported loss first fell to <= loss, final size."""
    history = run["result"].history
    for k in at_final_size(run["result"]):
        if history[k]["total"] <= loss:
            return k + 1, run["stamps"][k]
    return None, None


def spike(totals, sizes=None) -> float:
    """max(loss) / first loss over a run, per size when it has several; inf after a NaN or inf."""
    groups: dict = {}
    for total, size in zip(totals, sizes or [None] * len(totals), strict=True):
        groups.setdefault(size, []).append(total)
    if not all(math.isfinite(t) for t in totals):
        return math.inf
    return max(max(g) / g[0] for g in groups.values())


def curve(totals) -> list[float]:
    """Each evaluation's loss / the first, to 4 significant digits."""
    return [float(f"{t / totals[0]:.4g}") for t in totals]


def rel_diff(a: float, b: float) -> float:
    """|a / b - 1|."""
    return abs(a / b - 1) if b else math.inf


def same_function(model, pair: dict, run: dict) -> dict:
    """stylize's reported losses vs the tutorial's loss of its images (final; first at its size)."""
    result = run["result"]
    loss_fn = TutorialLoss(
        model, *pair_images(pair, setting(result, "size"), model.device), objective_settings()
    )
    k, first = next(
        (k, im) for k, im in reversed(run["firsts"].items()) if im.shape == result.image.shape
    )
    with torch.no_grad():
        final = loss_fn(result.image.to(model.device)).item()
        first_loss = loss_fn(first.to(model.device)).item()
    reported = result.losses.get("total", math.nan)
    return dict(
        final_loss=reported,
        final_loss_recomputed=final,
        final_loss_rel_diff=rel_diff(final, reported),
        first_eval_rel_diff=rel_diff(first_loss, result.history[k]["total"]),
        first_eval=k + 1,
    )


def stylize_record(model, pair: dict, runs: list[dict], loss: float) -> dict:
    """What the pair's stylize runs did: time and evaluations to `loss`, final loss, spike..."""
    result = runs[0]["result"]
    totals = [h["total"] for h in result.history]
    sizes = [h["size"] for h in result.history] if "size" in result.history[0] else None
    reached = [time_to(run, loss) for run in runs]
    seconds = [t for _, t in reached]
    out = dict(
        evals=result.evals,
        seconds_each=[r["seconds"] for r in runs],
        stop_reason=result.stop_reason,
        evals_to_loss=reached[0][0],
        evals_to_loss_each=[e for e, _ in reached],
        time_to_loss=statistics.median(seconds) if None not in seconds else None,
        time_to_loss_each=seconds,
        spike=spike(totals, sizes),
        same_history=all(r["result"].history == result.history for r in runs),
        precisions=sorted({h.get("precision", "fp32") for h in result.history}),
        curve=curve(totals),
        **same_function(model, pair, runs[0]),
    )
    if sizes:
        out["curve_sizes"] = sizes
    return out


def measure_pair(model, pair: dict, s: dict, log) -> dict:
    """stylize, the tutorial loop, stylize again: the tutorial's loss L, time to it, final loss."""
    log(f"time to quality, {pair['name']}: stylize")
    runs = [stylize_run(model, pair, s["stylize"])]
    size = setting(runs[0]["result"], "size")
    log(
        f"time to quality, {pair['name']}: tutorial loop, {s['tutorial_evals']} evaluations "
        f"at {size} px"
    )
    tutorial = tutorial_run(model, pair, size, s["tutorial_evals"])
    log(f"time to quality, {pair['name']}: stylize again")
    runs.append(stylize_run(model, pair, s["stylize"]))
    losses = tutorial["losses"]
    loss = min((v for v in losses if math.isfinite(v)), default=math.nan)
    st = stylize_record(model, pair, runs, loss)
    first = runs[0]["result"].history[at_final_size(runs[0]["result"])[0]]["total"]
    d = objective_settings()
    same_start = (
        d.init == "content" and len(runs[0]["firsts"]) == 1
    )  # then both start at the content image
    return dict(
        pair=pair["name"],
        content=pair["content"],
        style=pair["style"],
        size=size,
        image_hw=list(runs[0]["result"].image.shape[-2:]),
        tutorial=dict(
            evals=tutorial["evals"],
            seconds=tutorial["seconds"],
            loss=loss,
            first_loss=losses[0],
            spike=spike(losses),
            curve=curve(losses),
        ),
        stylize=st,
        first_loss_rel_diff=rel_diff(losses[0], first) if same_start else None,
        time_ratio=None if st["time_to_loss"] is None else st["time_to_loss"] / tutorial["seconds"],
        final_ratio=st["final_loss"] / loss,
    )


def median_or_inf(values) -> float:
    """Median of values, a None (not reached) counting as infinitely slow."""
    return statistics.median([math.inf if v is None else v for v in values])


def quality_summary(rows: list[dict]) -> dict:
    """Medians over pairs (and the worst pair where a target holds for each)."""
    st, tu = [r["stylize"] for r in rows], [r["tutorial"] for r in rows]
    return dict(
        pairs=len(rows),
        time_ratio=median_or_inf([r["time_ratio"] for r in rows]),
        stylize_time_to_loss=median_or_inf([x["time_to_loss"] for x in st]),
        tutorial_seconds=statistics.median(x["seconds"] for x in tu),
        reached=sum(x["time_to_loss"] is not None for x in st),
        final_ratio=statistics.median(r["final_ratio"] for r in rows),
        final_ratio_worst=max(r["final_ratio"] for r in rows),
        stylize_spike_worst=max(x["spike"] for x in st),
        tutorial_spike_worst=max(x["spike"] for x in tu),
        final_loss_rel_diff_worst=max(x["final_loss_rel_diff"] for x in st),
        first_eval_rel_diff_worst=max(x["first_eval_rel_diff"] for x in st),
    )


def measure_quality(model, s: dict, log) -> dict:
    """Every pair, then medians over them."""
    rows = [measure_pair(model, pair, s, log) for pair in s["pairs"]]
    return dict(
        tutorial_evals=s["tutorial_evals"],
        threads=torch.get_num_threads(),
        medians=quality_summary(rows),
        pairs=rows,
    )


# ---------------------------------------------------------------- 1. overhead per evaluation


def bare_network(device) -> torch.nn.Sequential:
    """torchvision's VGG19 conv1_1 .. relu5_1 (in-place ReLUs), random weights, frozen: not ours."""
    import torchvision

    features = torchvision.models.vgg19().features[:30]
    assert isinstance(features[29], torch.nn.ReLU) and features[29].inplace, (
        "features[29] should be relu5_1"
    )
    return features.requires_grad_(False).eval().to(device)


def bare_pass(net, x: torch.Tensor) -> float:
    """Seconds of net(x).sum().backward() into the leaf x."""
    sync(x.device)
    t = time.perf_counter()
    net(x).sum().backward()
    sync(x.device)
    x.grad = None
    return time.perf_counter() - t


def interleaved(model, net, pair: dict, options: dict) -> list[tuple]:
    """stylize, a bare pass of the image's shape in each callback: (enter, leave, shape, bare s)."""
    marks, leaves, device = [], {}, model.device

    def callback(i, image, losses):
        sync(device)
        enter, shape = time.perf_counter(), tuple(image.shape)
        if shape not in leaves:
            leaves[shape] = torch.rand(shape, device=device, requires_grad=True)
        bare = bare_pass(net, leaves[shape])
        marks.append((enter, time.perf_counter(), shape, bare))

    nt.stylize(
        pair["content"], pair["style"], model=model, progress=False, callback=callback, **options
    )
    return marks


def phases(marks: list[tuple], size: int, history: int) -> dict:
    """Evaluations at `size`: early (the L-BFGS history filling, first one dropped) and late (full).

    Evaluation k takes from the end of callback k-1 to the start of callback k (its L-BFGS step
    included), paired with the bare pass just before it. The step before the j-th evaluation at
    one size uses j - 2 pairs, so the history is full from j = history + 2 on.
    """
    out: dict = dict(early=([], []), late=([], []))
    j = 1
    for prev, mark in zip(marks, marks[1:], strict=False):
        j = j + 1 if mark[2] == prev[2] else 1
        if j >= 3 and max(mark[2][-2:]) == size:
            evals, bare = out["late" if j >= history + 2 else "early"]
            evals.append(mark[0] - prev[1])
            bare.append(prev[3])
    return {name: _ratio(*pair) for name, pair in out.items()}


def _ratio(evals: list[float], bare: list[float]) -> dict:
    """Median stylize evaluation / median bare pass, and the median of the one-to-one ratios."""
    if not evals:
        return dict(n=0, ratio=None)
    return dict(
        n=len(evals),
        stylize_s=statistics.median(evals),
        bare_s=statistics.median(bare),
        ratio=statistics.median(evals) / statistics.median(bare),
        paired_ratio=statistics.median(e / b for e, b in zip(evals, bare, strict=True)),
    )


def overhead_worker(job: dict) -> dict:
    """One thread setting in a fresh process: stylize evaluations vs torchvision's bare VGG19."""
    threads = set_threads(job["threads"])  # before any work
    model, net = load_model(job["weights"], job["device"]), bare_network(job["device"])
    d = Settings(**job["options"])
    # enough evaluations for a full history at the final size, whatever the number of levels
    evals = (d.lbfgs_history + 1 + job["late_evals"]) * d.levels
    marks = interleaved(
        model, net, job["pair"], dict(job["options"], size=job["size"], max_evals=evals)
    )
    final = next(m[2] for m in reversed(marks))
    return dict(
        threads_asked=job["threads"],
        threads=threads,
        size=job["size"],
        image_hw=list(final[-2:]),
        evals=len(marks),
        lbfgs_history=d.lbfgs_history,
        **phases(marks, job["size"], d.lbfgs_history),
    )


def thread_specs(device) -> list:
    """default, 1 and all cores on the CPU (a row each when they differ); default only elsewhere."""
    if torch.device(device).type != "cpu":
        return ["default"]
    counts = {"default": DEFAULT_THREADS, 1: 1, "all": os.cpu_count()}
    specs = []
    for spec, count in counts.items():
        if count not in [counts[s] for s in specs]:
            specs.append(spec)
    return specs


def measure_overhead(s: dict, log) -> dict:
    """overhead_worker per thread setting, each in its own subprocess (threads set before work)."""
    rows = []
    for spec in thread_specs(s["device"]):
        log(f"overhead: {spec} threads, {s['overhead_size']} px, in a subprocess")
        job = dict(
            kind="overhead",
            threads=spec,
            weights=s["weights"],
            device=s["device"],
            pair=s["pairs"][0],
            size=s["overhead_size"],
            late_evals=s["late_evals"],
            options=s["overhead_options"],
        )
        rows.append(worker(job))
    return dict(
        pair=s["pairs"][0]["name"],
        target=TARGETS["overhead"],
        default_threads=DEFAULT_THREADS,
        cpu_count=os.cpu_count(),
        rows=rows,
    )


def worker(job: dict) -> dict:
    """Run `job` in a fresh python (this file, --worker) and return its JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(job)], capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the {job['kind']} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------ 3. evaluations per second and memory


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


def speed_worker(job: dict) -> dict:
    """One size in a fresh process, so that peaks don't mix: evaluations per second, peak memory."""
    model = load_model(job["weights"], job["device"])
    rss_loaded, d, stamps = peak_rss_mb(), Settings(), []
    result = nt.stylize(
        job["pair"]["content"],
        job["pair"]["style"],
        model=model,
        progress=False,
        size=job["size"],
        max_evals=job["evals"] * d.levels,
        callback=lambda i, image, losses: stamps.append((time.perf_counter(), image.shape)),
    )
    final = [
        b[0] - a[0]
        for a, b in zip(stamps, stamps[1:], strict=False)
        if a[1] == b[1] == result.image.shape
    ]
    times = final[1:] or final  # the first is warm-up
    pairs = min(len(final), d.lbfgs_history)  # pairs stored at the final size
    pair_mb = 2 * result.image.numel() * 4 / 2**20
    out = dict(
        size=job["size"],
        image_hw=list(result.image.shape[-2:]),
        evals=result.evals,
        evals_timed=len(times),
        eval_s=statistics.median(times),
        evals_per_s=1 / statistics.median(times),
        rss_after_load_mb=rss_loaded,
        peak_rss_mb=peak_rss_mb(),
        lbfgs_history=d.lbfgs_history,
        lbfgs_pairs=pairs,
        lbfgs_pair_mb=pair_mb,
        threads=torch.get_num_threads(),
    )
    # untouched pages of the history cost no RSS on the CPU: add what the missing pairs would take
    out["projected_peak_rss_mb"] = out["peak_rss_mb"] + (d.lbfgs_history - pairs) * pair_mb
    if model.device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(model.device) / 2**20
    return out


def measure_speed(s: dict, log) -> list[dict]:
    """speed_worker for each size, each in its own subprocess, on the first pair."""
    rows = []
    for size in s["sizes"]:
        log(f"speed: {size} px, in a subprocess")
        rows.append(
            worker(
                dict(
                    kind="speed",
                    weights=s["weights"],
                    device=s["device"],
                    pair=s["pairs"][0],
                    size=size,
                    evals=s["speed_evals"],
                )
            )
        )
    return rows


# ---------------------------------------------------------------- 4. a whole default run


def full_variants(device) -> dict:
    """stylize's defaults (the CUDA-graphs switch was removed, never measured on a GPU)."""
    return {"defaults": {}}


def full_record(model, pair: dict, run: dict) -> dict:
    """One whole run: wall time, evaluations, final loss (reported and recomputed), spike."""
    result = run["result"]
    totals = [h["total"] for h in result.history]
    sizes = [h["size"] for h in result.history] if "size" in result.history[0] else None
    check = same_function(model, pair, run)
    return dict(
        seconds=run["seconds"],
        evals=result.evals,
        size=setting(result, "size"),
        stop_reason=result.stop_reason,
        final_loss=check["final_loss"],
        final_loss_rel_diff=check["final_loss_rel_diff"],
        spike=spike(totals, sizes),
    )


def measure_full(model, s: dict, log) -> dict:
    """Whole default runs, variants in turn, `repeats` times (a first run pays one-time costs)."""
    out = []
    for pair in s["pairs"][: s["full_pairs"]]:
        runs: dict = {name: [] for name in full_variants(s["device"])}
        for r in range(s["repeats"]):
            for name, options in full_variants(s["device"]).items():
                log(f"whole default run, {pair['name']}, {name} ({r + 1}/{s['repeats']})")
                sync(model.device)
                runs[name].append(
                    full_record(model, pair, stylize_run(model, pair, {**s["stylize"], **options}))
                )
        variants = {
            name: dict(seconds=statistics.median(x["seconds"] for x in rs), runs=rs)
            for name, rs in runs.items()
        }
        losses = [rs[-1]["final_loss"] for rs in runs.values()]
        out.append(
            dict(
                pair=pair["name"],
                variants=variants,
                final_loss_rel_diff=rel_diff(losses[-1], losses[0]),
            )
        )
    return dict(threads=torch.get_num_threads(), runs=out)


# ---------------------------------------------------------------- 5. precision (issue 20)


def cpu_features() -> dict:
    """Whether this CPU multiplies bfloat16 natively (torch's own detection): AVX512-BF16, AMX."""
    found = {}
    for name, probe in (
        ("avx512_bf16", "_is_avx512_bf16_supported"),
        ("amx", "_is_amx_tile_supported"),
    ):
        check = getattr(torch.cpu, probe, None)
        found[name] = bool(check()) if check is not None else None
    return found


def bare_seconds(net, shape, precision: str, device, reps: int) -> float:
    """Median seconds of a bare forward+backward of `net` at `shape` in `precision` (a warm-up)."""
    x = torch.rand(shape, device=device, requires_grad=True)
    times = []
    for _ in range(reps + 1):
        sync(device)
        t = time.perf_counter()
        with autocast(precision, device):
            out = net(x)
        out.float().sum().backward()
        sync(device)
        times.append(time.perf_counter() - t)
        x.grad = None
    return statistics.median(times[1:])


def eval_seconds(run: dict) -> float | None:
    """Median seconds between evaluations at the final size, the first two (warm-up) left out."""
    at = at_final_size(run["result"])
    gaps = [run["stamps"][b] - run["stamps"][a] for a, b in zip(at, at[1:], strict=False)]
    gaps = gaps[2:] or gaps
    return statistics.median(gaps) if gaps else None


def precision_run(model, net, pair: dict, options: dict, reps: int) -> dict:
    """One stylize run; its precision, per-evaluation cost, and a bare pass in that precision."""
    run = stylize_run(model, pair, options)
    result = run["result"]
    ran = [h.get("precision", "fp32") for h in result.history]  # each evaluation's precision
    counts = {p: ran.count(p) for p in dict.fromkeys(ran)}
    used = max(counts, key=counts.get)  # the bare pass runs in the one most evaluations used
    per_eval = eval_seconds(run)
    bare = bare_seconds(net, tuple(result.image.shape), used, model.device, reps)
    return dict(
        run=run,
        precision=used,
        evals_per_precision=counts,
        seconds=run["seconds"],
        evals=result.evals,
        eval_s=per_eval,
        bare_s=bare,
        cost_ratio=None if per_eval is None else per_eval / bare,
    )


def float32_losses(loss_fn, images: dict) -> dict:
    """Each image's loss, recomputed in float32 by the tutorial's loss (no autocast)."""
    device = loss_fn.model.device
    with torch.no_grad():
        return {name: loss_fn(image.to(device).float()).item() for name, image in images.items()}


def precision_pair(model, net, pair: dict, s: dict, log) -> dict:
    """auto (the default), fp32 and the tutorial loop on one pair, float32 losses of each image."""
    log(f"precision, {pair['name']}: stylize at its defaults (precision auto)")
    auto = precision_run(model, net, pair, s["stylize"], s["bare_reps"])
    log(f"precision, {pair['name']}: stylize with precision='fp32'")
    fp32 = precision_run(model, net, pair, {**s["stylize"], "precision": "fp32"}, s["bare_reps"])
    size = setting(auto["run"]["result"], "size")
    log(f"precision, {pair['name']}: tutorial loop, {s['tutorial_evals']} evaluations, {size} px")
    tut = tutorial_run(model, pair, size, s["tutorial_evals"])
    final = float32_losses(
        tut["loss_fn"],
        dict(
            auto=auto["run"]["result"].image,
            fp32=fp32["run"]["result"].image,
            tutorial=tut["image"],
        ),
    )
    to_fp32 = time_to(auto["run"], final["fp32"])[1]
    to_tutorial = time_to(auto["run"], final["tutorial"])[1]
    strip = ("run",)
    return dict(
        pair=pair["name"],
        size=size,
        final_loss=final,
        auto={k: v for k, v in auto.items() if k not in strip},
        fp32={k: v for k, v in fp32.items() if k not in strip},
        tutorial=dict(
            seconds=tut["seconds"], evals=tut["evals"], lowest_evaluated=min(tut["losses"])
        ),
        time_to_fp32=to_fp32,
        time_ratio_fp32=_ratio_or_none(to_fp32, fp32["seconds"]),
        final_ratio_fp32=final["auto"] / final["fp32"],
        time_to_tutorial=to_tutorial,
        time_ratio_tutorial=_ratio_or_none(to_tutorial, tut["seconds"]),
        final_ratio_tutorial=final["auto"] / final["tutorial"],
    )


def _ratio_or_none(a: float | None, b: float) -> float | None:
    """a / b, None when a is None (not reached)."""
    return None if a is None else a / b


def precision_summary(rows: list[dict]) -> dict:
    """Medians over the pairs, and the worst pair where a target holds for each."""

    def costs(name):
        return [r[name]["cost_ratio"] for r in rows if r[name]["cost_ratio"] is not None]

    return dict(
        pairs=len(rows),
        precision_used=sorted({r["auto"]["precision"] for r in rows}),
        time_ratio_fp32=median_or_inf([r["time_ratio_fp32"] for r in rows]),
        final_ratio_fp32=statistics.median(r["final_ratio_fp32"] for r in rows),
        final_ratio_fp32_worst=max(r["final_ratio_fp32"] for r in rows),
        time_ratio_tutorial=median_or_inf([r["time_ratio_tutorial"] for r in rows]),
        final_ratio_tutorial=statistics.median(r["final_ratio_tutorial"] for r in rows),
        final_ratio_tutorial_worst=max(r["final_ratio_tutorial"] for r in rows),
        cost_ratio_auto=statistics.median(costs("auto")) if costs("auto") else None,
        cost_ratio_fp32=statistics.median(costs("fp32")) if costs("fp32") else None,
    )


def measure_precision(model, s: dict, log) -> dict:
    """Every precision pair, then medians; the bare network is torchvision's VGG19 (random)."""
    net = bare_network(s["device"])
    rows = [precision_pair(model, net, pair, s, log) for pair in s["precision_pairs"]]
    return dict(
        threads=torch.get_num_threads(),
        tutorial_evals=s["tutorial_evals"],
        stylize=s["stylize"],
        cpu_bf16=cpu_features(),
        targets=PRECISION_TARGETS,
        medians=precision_summary(rows),
        pairs=rows,
    )


def precision_rows(p: dict) -> list[tuple]:
    """Table rows of the precision section: medians (with targets), then every pair."""
    m, t = p["medians"], PRECISION_TARGETS
    used = "/".join(m["precision_used"])
    rows = [
        (
            f"precision: auto ({used}) time to fp32's final loss / fp32's time, median of "
            f"{m['pairs']}",
            _num(m["time_ratio_fp32"], ".2f"),
            f"<= {t['time_ratio_fp32']}",
            f"{p['threads']} threads; CPU bf16 units {p['cpu_bf16']}",
        ),
        (
            "precision: final loss auto / fp32, worst pair",
            _num(m["final_ratio_fp32_worst"], ".4f"),
            f"<= {t['final_ratio_fp32']} each",
            f"median {m['final_ratio_fp32']:.4f}",
        ),
        (
            "precision: auto's time to the tutorial's loss / the tutorial's time, median",
            _num(m["time_ratio_tutorial"], ".2f"),
            f"<= {t['time_ratio_tutorial']}",
            f"tutorial loop: {p['tutorial_evals']} evaluations, float32",
        ),
        (
            "precision: final loss auto / tutorial, worst pair",
            _num(m["final_ratio_tutorial_worst"], ".4f"),
            f"<= {t['final_ratio_tutorial']} each",
            f"median {m['final_ratio_tutorial']:.4f}",
        ),
        (
            f"precision: one evaluation / bare fwd+bwd in the same precision ({used}), median",
            _num(m["cost_ratio_auto"], ".3f"),
            f"<= {t['cost_ratio']}",
            f"fp32 runs: {_num(m['cost_ratio_fp32'], '.3f')}",
        ),
    ]
    for r in p["pairs"]:
        a, f, loss = r["auto"], r["fp32"], r["final_loss"]
        rows.append(
            (
                f"{r['pair']}: precision",
                f"{_num(r['time_ratio_fp32'], '.2f')} / {_num(r['time_ratio_tutorial'], '.2f')}",
                "time to fp32 / to tutorial",
                f"auto {a['seconds']:.1f} s, fp32 {f['seconds']:.1f} s, tutorial "
                f"{r['tutorial']['seconds']:.1f} s; float32 losses auto {loss['auto']:.4g}, "
                f"fp32 {loss['fp32']:.4g}, tutorial {loss['tutorial']:.4g} (ratios "
                f"{r['final_ratio_fp32']:.4f}, {r['final_ratio_tutorial']:.4f}); cost/eval "
                f"{_num(a['cost_ratio'], '.3f')} ({a['precision']}), "
                f"{_num(f['cost_ratio'], '.3f')} (fp32); {r['size']} px",
            )
        )
    return rows


# ---------------------------------------------------------------- machine, table, main


def machine(device) -> dict:
    """Where and with what the numbers were taken."""
    device = torch.device(device)
    return dict(
        date=datetime.date.today().isoformat(),
        platform=platform.platform(),
        python=platform.python_version(),
        cpu=cpu_model(),
        cpu_count=os.cpu_count(),
        threads=DEFAULT_THREADS,
        torch=torch.__version__,
        torchvision=_version("torchvision"),
        nst_teach=nt.__version__,
        device=str(device),
        device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
        load_average=_load(),
        commit=_commit(),
        fast_mode=nt.fast_mode(),
        cpu_bf16=cpu_features(),
    )


def _version(package: str) -> str | None:
    """An installed package's version, None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _load() -> list[float] | None:
    """1-, 5- and 15-minute load averages (other work on the machine makes timings noisy)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _commit() -> str | None:
    """The repository's commit, with '+' when the working tree has changes."""
    try:

        def run(*a):
            where = Path(__file__).parent
            done = subprocess.run(
                ["git", *a], capture_output=True, text=True, timeout=10, cwd=where
            )
            return done.stdout.strip()

        return (
            run("rev-parse", "--short", "HEAD")
            + ("+" if run("status", "--porcelain", "-uno") else "")
        ) or None
    except (OSError, subprocess.SubprocessError):
        return None


def _num(x, fmt: str = ".3g") -> str:
    """x formatted, or 'not reached' for None, 'inf' for infinity."""
    return "not reached" if x is None else "inf" if x == math.inf else format(x, fmt)


def median_rows(q: dict) -> list[tuple]:
    """Table rows: time to quality, medians over pairs and the worst pair."""
    m, t = q["medians"], TARGETS
    size = q["pairs"][0]["size"]
    rows = [
        (
            f"time to the tutorial's loss / the tutorial's time, median of {m['pairs']} pairs, "
            f"{size} px",
            _num(m["time_ratio"], ".2f"),
            f"<= {t['time_ratio']}",
            f"stylize {_num(m['stylize_time_to_loss'], '.1f')} s vs tutorial "
            f"{m['tutorial_seconds']:.1f} s ({q['tutorial_evals']} evals; medians); reached on "
            f"{m['reached']}/{m['pairs']} pairs; "
            f"{q['threads']} threads",
        ),
        (
            "final loss, stylize / tutorial: worst pair",
            _num(m["final_ratio_worst"], ".3f"),
            f"<= {t['final_ratio']} each",
            f"median {m['final_ratio']:.3f}",
        ),
        (
            "spike: largest loss / first loss, stylize (worst pair)",
            _num(m["stylize_spike_worst"], ".3g"),
            f"<= {t['spike']:g}",
            f"tutorial loop {_num(m['tutorial_spike_worst'])}",
        ),
        (
            "stylize's reported final loss vs recomputed from its image",
            _num(m["final_loss_rel_diff_worst"], ".1e"),
            "0",
            f"worst pair; first evaluation: {m['first_eval_rel_diff_worst']:.1e}",
        ),
    ]
    return rows


def pair_rows(q: dict) -> list[tuple]:
    """Table rows: time to quality, one per pair."""
    rows, t = [], TARGETS
    for r in q["pairs"]:
        st, tu = r["stylize"], r["tutorial"]
        reached = (
            f"stylize {st['time_to_loss']:.1f} s ({st['evals_to_loss']} evals; runs "
            f"{', '.join(f'{x:.1f}' for x in st['time_to_loss_each'])})"
            if st["time_to_loss"] is not None
            else f"stylize not there in {st['evals']} evals ({max(st['seconds_each']):.1f} s)"
        )
        rows.append(
            (
                f"{r['pair']}: time ratio",
                _num(r["time_ratio"], ".2f"),
                f"<= {t['time_ratio']}",
                f"{reached} vs tutorial {tu['seconds']:.1f} s ({tu['evals']} evals); "
                f"final loss ratio "
                f"{r['final_ratio']:.3f}; spikes {_num(st['spike'])} / {_num(tu['spike'])}; "
                f"{r['image_hw'][0]}x{r['image_hw'][1]}",
            )
        )
    return rows


def overhead_rows(o: dict) -> list[tuple]:
    """One row per thread setting and phase."""
    rows = []
    for r in o["rows"]:
        default = " (default)" if r["threads_asked"] == "default" else ""
        for phase, what in (("early", "history filling"), ("late", "history full")):
            p = r[phase]
            detail = (
                "no evaluations"
                if not p["n"]
                else (
                    f"stylize {p['stylize_s'] * 1e3:.1f} ms / torchvision bare fwd+bwd "
                    f"{p['bare_s'] * 1e3:.1f} ms "
                    f"(medians of {p['n']}; paired {p['paired_ratio']:.3f}); {o['pair']}"
                )
            )
            rows.append(
                (
                    f"overhead per evaluation, {r['size']} px, {r['threads']} threads{default}, "
                    f"{what}",
                    _num(p["ratio"], ".3f"),
                    f"<= {o['target']}" if default else "",
                    detail,
                )
            )
    return rows


def other_rows(res: dict) -> list[tuple]:
    """evals/s and memory per size; whole default runs."""
    rows = []
    for r in res.get("speed", []):
        mem = (
            f"peak RSS {r['peak_rss_mb']:.0f} MiB ({r['projected_peak_rss_mb']:.0f} with a full "
            "history)" + (f"; GPU peak {r['cuda_peak_mb']:.0f} MiB" if "cuda_peak_mb" in r else "")
        )
        rows.append(
            (
                f"evals/s, {r['size']} px ({'x'.join(map(str, r['image_hw']))}), "
                f"{r['threads']} threads",
                f"{r['evals_per_s']:.2f}",
                "",
                f"median of {r['evals_timed']}; {mem}",
            )
        )
    for p in res.get("full", {}).get("runs", []):
        for name, v in p["variants"].items():
            last = v["runs"][-1]
            rows.append(
                (
                    f"whole default run, {p['pair']}, {last['size']} px, {last['evals']} evals: "
                    f"{name}",
                    f"{v['seconds']:.2f} s",
                    "",
                    f"runs {', '.join(format(x['seconds'], '.2f') for x in v['runs'])} s; "
                    f"final loss {last['final_loss']:.4g} (variants differ by "
                    f"{p['final_loss_rel_diff']:.1e}); "
                    f"spike {_num(last['spike'])}; {last['stop_reason']}",
                )
            )
    return rows


def table(res: dict) -> str:
    """The results as Markdown: a header line, then one table, medians before pairs."""
    m = res["machine"]
    load = m["load_average"], m.get("load_average_end")
    head = (
        f"{m['date']}, {m['device_name']} ({m['device']}), CPU {m['cpu']} x{m['cpu_count']}, "
        f"default threads {m['threads']}, bf16 units {m.get('cpu_bf16')}, torch {m['torch']}, "
        f"commit {m['commit']}, load average "
        f"{' -> '.join('/'.join(f'{x:.1f}' for x in a) for a in load if a)}"
    )
    rows = median_rows(res["quality"]) if "quality" in res else []
    rows += overhead_rows(res["overhead"]) if "overhead" in res else []
    rows += pair_rows(res["quality"]) if "quality" in res else []
    rows += other_rows(res)
    rows += precision_rows(res["precision"]) if "precision" in res else []
    lines = [head, "", "| measurement | value | target | detail |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(map(str, row))} |" for row in rows]
    return "\n".join(lines + [f"\nnote: {n}" for n in res["notes"]])


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options; those left out come from DEFAULTS."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes and budgets (seconds; for tests)"
    )
    p.add_argument("--device", default="auto", help="cpu, cuda, mps or auto (the best present)")
    p.add_argument(
        "--pairs",
        type=parse_pair,
        nargs="+",
        metavar="CONTENT/STYLE",
        help="image pairs: bundled names content/style, or CONTENT:STYLE paths, or a number N "
        f"(the first N default pairs; default: {' '.join(PAIRS)})",
    )
    p.add_argument(
        "--weights",
        default=Settings().weights,
        choices=WEIGHTS,
        help="VGG19 weights (default: stylize's)",
    )
    p.add_argument("--sizes", type=int, nargs="+", help="longest sides for evals/s and memory")
    p.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="run only these sections (default: overhead quality speed on a CPU, full quality "
        "speed on a GPU)",
    )
    p.add_argument(
        "--json",
        type=Path,
        help="where to write the JSON (default benchmarks/results/DATE-DEVICE.json)",
    )
    p.add_argument("--size", type=int, help="stylize's size and the tutorial's (default: preset)")
    p.add_argument(
        "--evals",
        type=int,
        help="stylize's max_evals and the tutorial's budget (default: preset, 150 on a CPU)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def options(args: argparse.Namespace) -> dict:
    """The benchmark's options as a dict: device resolved, DEFAULTS filled in, sections chosen."""
    s = {k: v for k, v in vars(args).items() if k not in ("json", "worker")}
    s["device"] = str(nt.pick_device(args.device))
    gpu = torch.device(s["device"]).type != "cpu"
    for key, value in DEFAULTS[("gpu" if gpu else "cpu", args.quick)].items():
        s[key] = value if s.get(key) is None else s[key]
    given = args.pairs or []
    if any(isinstance(x, int) for x in given) and len(given) > 1:
        raise SystemExit("--pairs: give a number N alone (the first N default pairs), or pairs")
    n = given[0] if given and isinstance(given[0], int) else None
    chosen = None if n is not None or not given else given
    defaults = (s["pairs"] or PAIRS) if args.pairs is None else PAIRS  # --quick's, or all
    s["pairs"] = chosen or [parse_pair(x) if isinstance(x, str) else x for x in defaults[:n]]
    s["precision_pairs"] = chosen or [parse_pair(x) for x in s["precision_pairs"][:n]]
    if args.size is not None or args.evals is not None:
        size, evals = args.size, args.evals
        s["stylize"] = {
            **s["stylize"],
            **({"size": size} if size else {}),
            **({"max_evals": evals} if evals else {}),
        }
        s["tutorial_evals"] = evals or s["tutorial_evals"]
    s["only"] = s["only"] or (
        ("full", "quality", "speed") if gpu else ("overhead", "quality", "speed")
    )
    if nt.fast_mode() and not args.quick:
        raise SystemExit(
            "NST_TEACH_FAST is set, which shrinks stylize's defaults: unset it, or use --quick"
        )
    return s


def run(s: dict, save, log=print) -> dict:
    """The asked-for sections; the JSON is saved after each (a run cut short keeps what it had)."""
    res = dict(
        machine=machine(s["device"]),
        options=s,
        stylize_defaults=Settings().manifest(),
        preset=vars(nt.preset(s["device"])),
        notes=[],
    )
    needs_model = {"quality", "full", "precision"} & set(s["only"])
    model = load_model(s["weights"], s["device"]) if needs_model else None
    measure = dict(
        overhead=lambda: measure_overhead(s, log),
        full=lambda: measure_full(model, s, log),
        quality=lambda: measure_quality(model, s, log),
        speed=lambda: measure_speed(s, log),
        precision=lambda: measure_precision(model, s, log),
    )
    for section in [
        x for x in ("overhead", "full", "quality", "precision", "speed") if x in s["only"]
    ]:
        res[section] = measure[section]()
        res["machine"]["load_average_end"] = _load()
        save(res)
    res["notes"] = notes(res, s)
    save(res)
    return res


def notes(res: dict, s: dict) -> list[str]:
    """What a reader of the table should know about this run."""
    out = []
    if s["quick"]:
        out.append(
            f"--quick: stylize given {s['stylize']} (overhead: {s['overhead_options']}); "
            "these numbers "
            "only show that the benchmark runs"
        )
    if (
        "overhead" in res
        and len(res["overhead"]["rows"]) < 3
        and torch.device(s["device"]).type == "cpu"
    ):
        out.append(f"all cores ({os.cpu_count()}) = the default thread count: one row for both")
    sized = [
        r["pair"] for r in res.get("quality", {}).get("pairs", []) if "curve_sizes" in r["stylize"]
    ]
    if sized:
        out.append(
            "stylize ran at several sizes: only evaluations at the final size count toward the "
            "tutorial's loss"
        )
    return out


def clean(x):
    """x with NaN and inf replaced by None, so that the JSON is standard."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    return x


def main(argv=None) -> dict | None:
    """Run the benchmark, print the table, write the JSON; returns the JSON's content."""
    args = parse_args(argv)
    if args.worker:
        job = json.loads(args.worker)
        print(
            json.dumps(clean((overhead_worker if job["kind"] == "overhead" else speed_worker)(job)))
        )
        return None
    s = options(args)
    path = (
        args.json
        or RESULTS
        / f"{datetime.date.today()}-{torch.device(s['device']).type}{'-quick' * s['quick']}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    res = run(s, lambda r: path.write_text(json.dumps(clean(r), indent=1) + "\n"), log)
    print(table(res))
    print(f"\n{time.perf_counter() - started:.0f} s; JSON: {path}")
    return clean(res)


if __name__ == "__main__":
    main()
