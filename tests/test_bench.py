"""benchmarks/bench.py: a tiny run end to end (random weights, 32 px) writes JSON of the documented shape."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_the_documented_json(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["--device", "cpu", "--weights", "random", "--threads", "1", "--sizes", "32", "--evals", "4",
            "--rounds", "1", "--overhead-size", "32", "--ttq-size", "32", "--ttq-evals", "3", "--json", str(out)]
    res = bench.main(argv)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(res))
    assert {"date", "platform", "cpu_count", "torch", "device_name", "threads"} <= set(saved["machine"])
    assert saved["machine"]["threads"] == 1

    o = saved["overhead"]
    assert o["size"] == 32 and o["deepest_layer"] == "relu5_1"
    assert o["stylize_eval_s"]["n"] == o["bare_fwd_bwd_s"]["n"] == 2  # 4 evaluations: 3 gaps, less 1 warm-up
    assert o["ratio"] == pytest.approx(o["stylize_eval_s"]["median"] / o["bare_fwd_bwd_s"]["median"])
    assert o["ratio_full_history"] > o["ratio"] > 0

    (row,) = saved["speed"]
    assert row["size"] == 32 and row["evals"] == 4 and row["evals_per_s"] > 0
    assert row["peak_rss_mb"] >= row["rss_after_load_mb"] > 0
    assert row["projected_peak_rss_mb"] > row["peak_rss_mb"]

    q = saved["quality"]
    assert q["fraction"] == 0.02 and q["first_loss_rel_diff"] < 1e-6  # both loops minimise the same loss
    for loop in (q["defaults"], q["baseline"]):
        assert loop["evals_run"] <= 3 and len(loop["loss_ratios"]) == loop["evals_run"]
        assert loop["loss_ratios"][0] == 1

    table = capsys.readouterr().out
    assert "| overhead per evaluation, 32 px |" in table and "| evals/s, 32 px" in table


def test_gpu_flags_are_noted_on_the_cpu(bench):
    s = bench.settings(bench.parse_args(["--device", "cpu", "--cudnn-benchmark", "--channels-last"]))
    assert s["sizes"] == [128, 256, 512] and s["overhead_size"] == 256
    notes = " ".join(bench.notes(s))
    assert "no effect on the CPU" in notes and "--channels-last" in notes


def test_tuned_model_gives_the_same_features(bench):
    import torch

    s = dict(weights="random", device="cpu", channels_last=True, autocast=None, compile=False)
    plain, tuned = bench.make_model(dict(s, channels_last=False)), bench.make_model(s)
    x = torch.rand(1, 3, 32, 32)
    a, b = plain.forward_net(x, ["relu3_1"])["relu3_1"], tuned.forward_net(x, ["relu3_1"])["relu3_1"]
    assert torch.allclose(a, b, atol=1e-5)
