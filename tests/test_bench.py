"""benchmarks/bench.py: a --quick run writes JSON of the documented shape; its tutorial loop minimises
stylize's own objective; its helpers against hand-computed values."""

import importlib.util
import json
import math
import os
from pathlib import Path

import pytest
import torch

import nst_teach as nt
from nst_teach.settings import Settings

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(bench, tmp_path_factory):
    """One --quick run of every section on the CPU: (returned results, saved JSON, printed table)."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    res = bench.main(["--quick", "--device", "cpu", "--only", *bench.SECTIONS, "--json", str(out)])
    return res, json.loads(out.read_text())


def test_quick_run_saves_what_it_returns(quick):
    res, saved = quick
    assert saved == json.loads(json.dumps(res))
    m = saved["machine"]
    assert {"date", "platform", "cpu", "cpu_count", "torch", "device_name", "load_average", "load_average_end"} <= set(m)
    assert m["threads"] == torch.get_num_threads() and m["device"] == "cpu"
    assert saved["stylize_defaults"] == json.loads(json.dumps(Settings().manifest()))  # read, not written in bench
    assert {"overhead", "quality", "speed", "full"} <= set(saved)


def test_tutorial_loop_minimises_stylizes_function(quick):
    pairs = quick[1]["quality"]["pairs"]
    assert len(pairs) == 2
    d = Settings()
    for p in pairs:
        st, tu = p["stylize"], p["tutorial"]
        # same start (the content image) when stylize starts there at one size: same first loss
        if d.init == "content" and d.levels == 1:
            assert p["first_loss_rel_diff"] < 1e-6
        # and stylize's own reported losses, recomputed by the tutorial's loss from its images
        assert st["first_eval_rel_diff"] < 1e-5 and st["final_loss_rel_diff"] < 1e-5
        assert tu["loss"] == pytest.approx(min(tu["curve"]) * tu["first_loss"], rel=1e-3)
        assert tu["evals"] == len(tu["curve"]) == 8 and tu["curve"][0] == 1
        assert len(st["curve"]) == st["evals"] and st["curve"][0] == 1
        assert p["final_ratio"] == pytest.approx(st["final_loss"] / tu["loss"])
        assert st["spike"] >= 1 and tu["spike"] >= 1


def test_quality_medians_are_over_pairs(quick, bench):
    q = quick[1]["quality"]
    pairs, m = q["pairs"], q["medians"]
    ratios = [math.inf if p["time_ratio"] is None else p["time_ratio"] for p in pairs]
    expected = (sorted(ratios)[0] + sorted(ratios)[1]) / 2
    assert (m["time_ratio"] is None) if math.isinf(expected) else m["time_ratio"] == pytest.approx(expected)
    assert m["final_ratio_worst"] == max(p["final_ratio"] for p in pairs)
    assert m["reached"] == sum(p["stylize"]["time_to_loss"] is not None for p in pairs)
    for p in pairs:
        st = p["stylize"]
        if st["time_to_loss"] is not None:  # its loss at that evaluation is at most the tutorial's
            assert st["curve"][st["evals_to_loss"] - 1] * p["tutorial"]["first_loss"] <= p["tutorial"]["loss"] * 1.001
            assert p["time_ratio"] == pytest.approx(st["time_to_loss"] / p["tutorial"]["seconds"])


def test_overhead_rows_per_thread_count(quick):
    o = quick[1]["overhead"]
    rows = {r["threads_asked"]: r for r in o["rows"]}
    assert rows["default"]["threads"] >= 1 and o["default_threads"] == torch.get_num_threads()
    if torch.get_num_threads() != 1:  # a row of its own, run with 1 thread
        assert rows[1]["threads"] == 1
    if "all" in rows:
        assert rows["all"]["threads"] == os.cpu_count()
    for r in o["rows"]:
        assert r["size"] == 32 and r["lbfgs_history"] == 4  # --quick's short history
        for phase in ("early", "late"):
            p = r[phase]
            assert p["n"] >= 1 and p["ratio"] == pytest.approx(p["stylize_s"] / p["bare_s"])


def test_speed_and_full_rows(quick):
    saved = quick[1]
    (row,) = saved["speed"]
    assert row["size"] == 32 and row["evals_per_s"] > 0 and row["peak_rss_mb"] >= row["rss_after_load_mb"] > 0
    assert row["projected_peak_rss_mb"] >= row["peak_rss_mb"]
    (pair,) = saved["full"]["runs"]
    (variant,) = pair["variants"].values()  # no CUDA graphs on the CPU
    (run,) = variant["runs"]
    assert run["evals"] == 10 and run["final_loss_rel_diff"] < 1e-5


def test_table_puts_medians_first(bench, quick):
    text = bench.table(quick[0])
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    assert "median of 2 pairs" in lines[1]
    assert lines.index(next(ln for ln in lines if "tubingen/starry_night: time ratio" in ln)) > 1
    assert any("1 threads" in ln for ln in lines) or torch.get_num_threads() == 1


def test_tutorial_loss_is_stylizes_objective(bench, random_vgg):
    """The tutorial's loss (public losses) against the package's LossTerms, on a random image."""
    from nst_teach.transfer import LossTerms, extract_targets

    pair = bench.parse_pair("grace_hopper/swirls")
    content, style = bench.pair_images(pair, 48, "cpu")
    settings = Settings(size=48, device=torch.device("cpu"))
    P, A = extract_targets(random_vgg, content, [style], [1.0], settings)
    image = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    theirs = LossTerms(random_vgg, P, A, settings)(image)[3]
    ours = bench.TutorialLoss(random_vgg, content, style, bench.objective_settings())(image)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


def test_helpers_against_hand_computed_values(bench):
    assert bench.spike([2.0, 8.0, 1.0]) == 4.0
    assert bench.spike([2.0, 3.0, 5.0, 50.0], sizes=[64, 64, 128, 128]) == 10.0  # per size
    assert bench.spike([1.0, math.nan]) == math.inf
    assert bench.curve([4.0, 2.0, 1.0]) == [1.0, 0.5, 0.25]
    assert bench.median_or_inf([0.2, None, 0.4]) == 0.4
    assert bench.rel_diff(1.1, 1.0) == pytest.approx(0.1)
    # marks: (enter, leave, shape, bare s); evaluation k takes enter[k] - leave[k-1]
    shape = (1, 3, 24, 32)
    marks = [(10.0 * k, 10.0 * k + 1, shape, 0.5) for k in range(7)]  # every evaluation 9 s, bare 0.5 s
    out = bench.phases(marks, size=32, history=2)  # j = 3 early, j >= 4 late
    assert out["early"]["n"] == 1 and out["late"]["n"] == 4 and out["late"]["ratio"] == 18.0
    assert bench.phases(marks, size=64, history=2)["early"] == dict(n=0, ratio=None)  # other sizes ignored


def test_pairs_by_name_or_path_and_clear_errors(bench, tmp_path):
    pair = bench.parse_pair("tubingen/the_scream")
    assert pair["name"] == "tubingen/the_scream" and Path(pair["content"]) == nt.data.content_path("tubingen")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(nt.data.content_path("landscape").read_bytes())
    assert bench.parse_pair(f"{photo}:waves")["name"] == "photo/waves"
    with pytest.raises(SystemExit):
        bench.parse_args(["--pairs", "tubingen"])
    with pytest.raises(Exception, match="not a file.*unknown image"):
        bench.parse_pair("tubingen/starry_nite")


def test_full_benchmark_refuses_fast_mode(bench, monkeypatch):
    monkeypatch.setenv("NST_TEACH_FAST", "1")
    with pytest.raises(SystemExit, match="NST_TEACH_FAST"):
        bench.options(bench.parse_args(["--device", "cpu"]))
    s = bench.options(bench.parse_args(["--device", "cpu", "--quick"]))
    assert s["only"] == ("overhead", "quality", "speed") and len(s["pairs"]) == 2
