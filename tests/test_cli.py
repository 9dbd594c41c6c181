"""The command line: one-line errors with exit code 2, outputs that never overwrite inputs,
manifests."""

import json
import subprocess
import sys

import pytest
import torch
from PIL import Image

import nst_teach as nt
from nst_teach import cli, loss_terms

FAST = ["--size", "24", "--max-evals", "3", "--weights", "random", "--quiet"]


@pytest.fixture
def images(tmp_path):
    content, style = tmp_path / "content.png", tmp_path / "style.jpg"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(content)
    Image.effect_noise((32, 32), 60).convert("RGB").save(style)
    return content, style


def run(args, capsys):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_stylize_writes_image_and_manifest(images, tmp_path, capsys):
    content, style = images
    out = tmp_path / "new" / "result.png"
    code, stdout, err = run(
        ["stylize", "--content", content, "--style", style, "--out", out, *FAST], capsys
    )
    assert code == 0, err
    assert nt.load_image(out).shape == (1, 3, 18, 24)
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["evaluations"] == 3
    assert manifest["settings"]["content"]["sha256"] and len(manifest["settings"]["style"]) == 1
    assert manifest["settings"]["weights"] == "random" and "seconds" in manifest
    assert "wrote" in stdout


def test_several_styles_with_weights(images, tmp_path, capsys):
    content, style = images
    out = tmp_path / "r.png"
    code, _, err = run(
        [
            "stylize",
            "--content",
            content,
            "--style",
            style,
            "--style",
            content,
            "--style-weights",
            "2",
            "1",
            "--out",
            out,
            *FAST,
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out.with_suffix(".json").read_text())["settings"][
        "style_weights"
    ] == pytest.approx([2 / 3, 1 / 3])


def test_controls_reach_the_manifest(images, tmp_path, capsys):
    content, style = images
    out = tmp_path / "c.png"
    args = [
        "stylize",
        "--content",
        content,
        "--style",
        style,
        "--out",
        out,
        "--preserve-color",
        "luminance",
        "--levels",
        "2",
        "--style-scale",
        "0.5",
        "--size",
        "64",
        "--max-evals",
        "4",
        "--weights",
        "random",
        "--quiet",
    ]
    code, _, err = run(args, capsys)
    assert code == 0, err
    settings = json.loads(out.with_suffix(".json").read_text())["settings"]
    assert (
        settings["preserve_color"] == "luminance"
        and settings["levels"] == 2
        and settings["style_scale"] == 0.5
    )
    assert settings["level_sizes"] == [32, 64]


def test_bundled_images_by_default(tmp_path, capsys):
    code, _, err = run(["stylize", "--out", tmp_path / "d.png", *FAST], capsys)
    assert code == 0, err
    assert (
        "grace_hopper"
        in json.loads((tmp_path / "d.json").read_text())["settings"]["content"]["path"]
    )


def broken_inputs(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "blue").save(good)
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:60])
    bomb = tmp_path / "bomb.png"
    Image.new("RGB", (1200, 1000)).save(bomb)  # over the pixel limit set below
    return {
        "text": text,
        "empty": empty,
        "truncated": truncated,
        "missing": tmp_path / "nope.png",
        "directory": tmp_path,
        "bomb": bomb,
    }


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "missing", "directory", "bomb"])
def test_broken_input_gives_one_line_and_exit_2(images, tmp_path, capsys, monkeypatch, kind):
    from nst_teach import images as images_module

    monkeypatch.setattr(images_module, "MAX_PIXELS", 1_000_000)
    bad = broken_inputs(tmp_path)[kind]
    code, _, err = run(
        ["stylize", "--content", bad, "--style", images[1], "--out", tmp_path / "o.png", *FAST],
        capsys,
    )
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nst_teach: error:") and bad.name in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--size", "-3"], "size must be a whole number >= 1, got -3"),
        (["--max-evals", "0"], "max_evals must be a whole number >= 1, got 0"),
        (["--style-scale", "0"], "style_scale must be a finite number >= 0.001"),
        (["--lr", "0"], "lr must be greater than 0"),
        (["--beta", "nan"], "finite number"),
        (["--alpha", "-1"], "finite number"),
        (["--style-layers", "relu1_1,relu6_1"], "did you mean"),
        (["--content-layers", "conv4-2"], "did you mean 'conv4_2'"),
    ],
)
def test_invalid_numbers_and_layers_are_refused_up_front(
    images, tmp_path, capsys, monkeypatch, extra, message
):
    # Settings checks them (the command line only converts text): the same rule and message.
    content, style = images
    monkeypatch.setattr(cli, "stylize", lambda *a, **k: pytest.fail("the run must not start"))
    code, _, err = run(
        ["stylize", "--content", content, "--style", style, "--out", tmp_path / "o.png", *extra],
        capsys,
    )
    assert code == 2 and message in err and err.count("\n") == 1


def test_text_that_is_no_number_is_refused_by_the_parser(images, tmp_path, capsys):
    content, style = images
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                "stylize",
                "--content",
                str(content),
                "--style",
                str(style),
                "--out",
                str(tmp_path / "o.png"),
                "--size",
                "big",
            ]
        )
    assert info.value.code == 2 and "expected a whole number, got 'big'" in capsys.readouterr().err


def test_output_equal_to_input_is_refused(images, capsys):
    content, style = images
    before = content.read_bytes()
    code, _, err = run(
        ["stylize", "--content", content, "--style", style, "--out", content, *FAST], capsys
    )
    assert code == 2 and "also an input" in err
    assert content.read_bytes() == before


def test_unwritable_output_is_refused_before_the_run(images, tmp_path, capsys, monkeypatch):
    content, style = images
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(cli, "stylize", lambda *a, **k: pytest.fail("the run must not start"))
    code, _, err = run(
        ["stylize", "--content", content, "--style", style, "--out", blocker / "o.png", *FAST],
        capsys,
    )
    assert code == 2 and "cannot create the output folder" in err
    code, _, err = run(
        ["stylize", "--content", content, "--style", style, "--out", tmp_path / "o.gif", *FAST],
        capsys,
    )
    assert code == 2 and ".png or .jpg" in err


def test_interrupt_writes_best_image_and_exits_130(images, tmp_path, capsys, monkeypatch):
    content, style = images
    real, count = loss_terms.style_loss, {"n": 0}

    def interrupted_at_third(*a, **k):
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(loss_terms, "style_loss", interrupted_at_third)
    out = tmp_path / "i.png"
    code, _, _ = run(
        [
            "stylize",
            "--content",
            content,
            "--style",
            style,
            "--out",
            out,
            "--size",
            "24",
            "--max-evals",
            "10",
            "--weights",
            "random",
            "--quiet",
        ],
        capsys,
    )
    assert code == 130
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["stop_reason"] == "interrupted" and manifest["evaluations"] == 2
    assert torch.isfinite(nt.load_image(out)).all()


def test_help_documents_every_option():
    text = subprocess.run(
        [sys.executable, "-m", "nst_teach", "stylize", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in [
        "--content",
        "--style",
        "--style-weights",
        "--out",
        "--size",
        "--max-evals",
        "--content-layers",
        "--style-layers",
        "--alpha",
        "--beta",
        "--tv-weight",
        "--preserve-color",
        "--levels",
        "--init",
        "--optimizer",
        "--weights",
        "--device",
        "--seed",
        "--style-scale",
    ]:
        assert option in text


# ---------------------------------------------------- train and stylize --model (notebook 11)

TRAIN_FAST = [
    "--size",
    "32",
    "--style-size",
    "32",
    "--steps",
    "2",
    "--batch-size",
    "1",
    "--weights",
    "random",
    "--quiet",
]


def test_train_then_stylize_with_the_model(images, tmp_path, capsys):
    content, style = images
    model = tmp_path / "models" / "m.pt"
    code, stdout, err = run(
        ["train", "--style", style, "--content", content, "--out", model, *TRAIN_FAST], capsys
    )
    assert code == 0, err
    assert "wrote" in stdout and "2 steps" in stdout
    manifest = json.loads(model.with_suffix(".json").read_text())
    assert (
        manifest["steps"] == 2
        and manifest["settings"]["size"] == 32
        and manifest["stop_reason"] == "completed"
    )
    assert manifest["settings"]["training_photos"][0]["name"] == "content"
    out = tmp_path / "painted.png"
    code, stdout, err = run(
        ["stylize", "--model", model, "--content", content, "--out", out, "--size", "20"], capsys
    )
    assert code == 0, err
    assert nt.load_image(out).shape == (1, 3, 15, 20)
    record = json.loads(out.with_suffix(".json").read_text())
    assert (
        record["training"]["steps"] == 2
        and record["model"]["sha256"]
        and record["content"]["sha256"]
    )


def test_train_records_every_step_the_command_and_stops_on_time(images, tmp_path, capsys):
    # what scripts/train_model.py did, now in the one training entry point
    content, style = images
    model = tmp_path / "m.pt"
    args = [
        "train",
        "--style",
        style,
        "--content",
        content,
        "--out",
        model,
        *TRAIN_FAST[:4],
        "--steps",
        "50",
        "--weights",
        "random",
        "--quiet",
        "--minutes",
        "1e-9",
        "--threads",
        "1",
        "--precision",
        "fp32",
    ]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    manifest = json.loads(model.with_suffix(".json").read_text())
    assert manifest["stop_reason"] == "stopped by callback" and manifest["steps"] == 1
    assert len(manifest["history"]) == 1 and set(manifest["history"][0]) >= {"total", "style"}
    assert manifest["made_by"] == "python -m nst_teach " + " ".join(map(str, args))
    assert manifest["settings"]["precision"] == "fp32"
    assert manifest["settings"]["precision_used"] == "fp32"
    assert nt.feedforward.load_model(model).manifest == manifest
    code, _, err = run([*args[:-6], "--minutes", "0"], capsys)
    assert code == 2 and "--minutes must be greater than 0" in err


def test_train_builds_the_network_asked_for_and_stores_it_in_half(images, tmp_path, capsys):
    content, style = images
    model = tmp_path / "wide.pt"
    args = ["train", "--style", style, "--content", content, "--out", model, *TRAIN_FAST,
            "--channels", "8", "12", "20", "--res-blocks", "2", "--half"]
    code, _, err = run(args, capsys)
    assert code == 0, err
    net = nt.feedforward.load_model(model)
    assert net.architecture()["channels"] == [8, 12, 20] and net.architecture()["res_blocks"] == 2
    blob = torch.load(model, weights_only=True)
    assert {v.dtype for v in blob["state_dict"].values() if v.is_floating_point()} == {
        torch.float16}
    manifest = json.loads(model.with_suffix(".json").read_text())
    assert manifest["settings"]["channels"] == [8, 12, 20] and manifest["parameters"] == sum(
        p.numel() for p in net.parameters())
    with pytest.raises(SystemExit) as exit_:  # argparse's own one-line usage error
        run([*args[:-7], "--channels", "8", "12"], capsys)
    assert exit_.value.code == 2 and "--channels: expected 3" in capsys.readouterr().err
    code, _, err = run([*args[:-7], "--channels", "8", "0", "20"], capsys)
    assert code == 2 and "channels" in err and len(err.strip().splitlines()) == 1


def test_help_documents_the_training_options():
    text = subprocess.run(
        [sys.executable, "-m", "nst_teach", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in [
        "--style",
        "--content",
        "--out",
        "--size",
        "--style-size",
        "--steps",
        "--max-steps",
        "--batch-size",
        "--alpha",
        "--beta",
        "--tv-weight",
        "--lr",
        "--seed",
        "--device",
        "--weights",
        "--quiet",
        "--channels",
        "--res-blocks",
        "--half",
    ]:
        assert option in text


def test_train_with_a_missing_style_gives_one_line_and_exit_2(tmp_path, capsys):
    code, _, err = run(
        ["train", "--style", tmp_path / "nope.jpg", "--out", tmp_path / "m.pt", *TRAIN_FAST], capsys
    )
    assert (
        code == 2
        and err.count("\n") == 1
        and err.startswith("nst_teach: error:")
        and "nope.jpg" in err
    )
    assert not (tmp_path / "m.pt").exists()


def test_train_refuses_a_bad_output_name(images, tmp_path, capsys):
    content, style = images
    code, _, err = run(
        ["train", "--style", style, "--out", tmp_path / "m.png", *TRAIN_FAST], capsys
    )
    assert code == 2 and "use a .pt file name" in err
    odd_style = tmp_path / "painting.pt"  # a picture under a model's name must not be overwritten
    odd_style.write_bytes(style.read_bytes())
    code, _, err = run(["train", "--style", odd_style, "--out", odd_style, *TRAIN_FAST], capsys)
    assert code == 2 and "also an input" in err and odd_style.read_bytes() == style.read_bytes()


@pytest.mark.parametrize("kind", ["text", "truncated", "missing", "foreign"])
def test_stylize_with_a_damaged_model_gives_one_line_and_exit_2(images, tmp_path, capsys, kind):
    content, _ = images
    model = tmp_path / "model.pt"
    if kind == "text":
        model.write_text("hello")
    elif kind == "truncated":
        path = nt.feedforward.save_model(nt.feedforward.TransformNet(), tmp_path / "whole.pt")
        model.write_bytes(path.read_bytes()[:1000])
    elif kind == "foreign":
        torch.save({"weights": torch.rand(3)}, model)
    code, _, err = run(
        ["stylize", "--model", model, "--content", content, "--out", tmp_path / "o.png"], capsys
    )
    assert (
        code == 2
        and err.count("\n") == 1
        and err.startswith("nst_teach: error:")
        and "model.pt" in err
    )
    assert not (tmp_path / "o.png").exists()


def test_optimisation_flags_are_refused_with_a_model(images, tmp_path, capsys):
    content, style = images
    model = nt.feedforward.save_model(nt.feedforward.TransformNet(), tmp_path / "m.pt")
    for extra, named in (
        (["--max-evals", "5"], "--max-evals"),
        (["--style", style], "--style"),
        (["--beta", "1"], "--beta"),
    ):
        code, _, err = run(
            [
                "stylize",
                "--model",
                model,
                "--content",
                content,
                "--out",
                tmp_path / "o.png",
                *extra,
            ],
            capsys,
        )
        assert (
            code == 2
            and named in err
            and "does not apply with --model" in err
            and err.count("\n") == 1
        )


def test_interrupted_training_writes_the_model_and_exits_130(images, tmp_path, capsys, monkeypatch):
    from nst_teach import feedforward
    from nst_teach.feedforward import training

    content, style = images
    real, count = training.loss_terms, {"n": 0}

    def interrupted_at_third(*a, **k):
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(training, "loss_terms", interrupted_at_third)
    model = tmp_path / "m.pt"
    code, stdout, _ = run(
        [
            "train",
            "--style",
            style,
            "--content",
            content,
            "--out",
            model,
            *TRAIN_FAST[:4],
            "--steps",
            "10",
            "--batch-size",
            "1",
            "--weights",
            "random",
            "--quiet",
        ],
        capsys,
    )
    assert code == 130 and "interrupted" in stdout
    net = feedforward.load_model(model)
    assert net.manifest["stop_reason"] == "interrupted" and net.manifest["steps"] == 2
