"""Settings is the one list of options: stylize's signature, its checks, the manifest and the CLI
come from it; the loss options are written once, for stylize and train (LossOptions)."""

import argparse
import dataclasses
import inspect
import json
from dataclasses import fields

import pytest
import torch

import nst_teach as nt
from nst_teach import cli
from nst_teach.feedforward import TrainSettings
from nst_teach.settings import MODE_DEFAULTS, LossOptions, Settings, option

# Every option of stylize as the README and the deck promise it: its default, and a value other
# than the default. Written out here, not read from Settings (stylize's signature is generated
# from Settings, so comparing the two would compare the code with itself): changing a default in
# settings.py, or adding an option without a line here, fails the two tests below.
OPTIONS = {  # name: (default, another value)
    "alpha": (None, 2.0), "beta": (None, 3.0), "tv_weight": (0.0, 0.5),
    "content_layers": (("relu4_2",), ("relu3_2",)),
    "style_layers": (("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                     ("relu1_1", "relu2_1")),
    "style_layer_weights": (None, (0.25, 0.75)), "seed": (0, 3), "device": (None, "cpu"),
    "weights": ("caffe", "random"), "pooling": (None, "avg"), "normalize": (None, True),
    "paper": (False, True), "precision": ("auto", "fp32"), "style_weights": (None, (1.0,)),
    "size": (None, 20), "style_scale": (1.0, 0.5), "max_evals": (None, 3),
    "optimizer": ("lbfgs", "adam"), "lr": (None, 0.05), "init": (None, "noise"),
    "preserve_color": (None, "luminance"), "levels": (1, 2), "lbfgs_history": (20, 5),
}


def test_stylize_takes_every_option_by_keyword_with_its_documented_default():
    params = inspect.signature(nt.stylize).parameters
    assert list(params)[:2] == ["content", "style"]
    assert {"model", "callback", "progress"} <= set(params)
    options = {n: p for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert set(options) - {"model", "callback", "progress"} == set(OPTIONS), (
        "an option without a line in OPTIONS (or a line for an option that is gone)")
    for name, (default, _) in OPTIONS.items():
        assert options[name].default == default, name


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_each_option_given_to_stylize_reaches_the_run(name, random_vgg):
    """The value a caller passes is the one the run used and recorded, for every option."""
    value = OPTIONS[name][1]
    base = {"size": 16, "max_evals": 2, "progress": False}
    if name in ("weights", "pooling", "normalize", "paper"):  # these choose the network
        model = nt.load_vgg19("caffe", pooling="avg", normalize=True) if name == "paper" else None
        base["weights"] = "caffe" if name in ("normalize", "paper") else "random"
    else:
        model = random_vgg
    if name == "lr":
        base["optimizer"] = "adam"
    if name == "style_layer_weights":
        base["style_layers"] = OPTIONS["style_layers"][1]
    r = nt.stylize(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), model=model,
                   **{**base, name: value})
    recorded = getattr(r.settings, name)
    assert recorded == value or str(recorded) == value, (name, recorded)  # str: the device
    if name == "size":
        assert max(r.image.shape[-2:]) == value
    if name == "max_evals":
        assert r.evals <= value and r.settings.max_evals == value
    if name == "style_layer_weights":  # one weight per style layer, in the order given
        assert r.details["style_layer_weights"] == {"relu1_1": 0.25, "relu2_1": 0.75}
    if name in ("weights", "pooling", "normalize"):  # the network built from it
        built = {"weights": r.details["weights"], "pooling": r.details["pooling"],
                 "normalize": r.details["normalize"]}[name]
        assert built == value, (name, built)


def test_every_option_with_a_flag_is_on_the_command_line_and_round_trips():
    parser = cli.build_parser()
    stylize = next(a for a in parser._actions if a.dest == "command").choices["stylize"]
    flags = {a.dest: a for a in stylize._actions}
    for f in fields(Settings):
        if f.metadata["flag"] is None:
            assert f.name not in flags
            continue
        assert f.name in flags, f"--{f.name.replace('_', '-')} is missing"
        assert flags[f.name].help.startswith(f.metadata["help"])
    args = parser.parse_args(
        [
            "stylize",
            "--alpha",
            "2",
            "--style-layers",
            "relu1_1,relu3_1",
            "--levels",
            "3",
            "--style-weights",
            "1",
            "2",
            "--init",
            "noise",
            "--lbfgs-history",
            "7",
        ]
    )
    given = {
        f.name: getattr(args, f.name)
        for f in fields(Settings)
        if getattr(args, f.name, None) is not None
    }
    s = Settings(**given)
    assert (s.alpha, s.style_layers, s.levels, s.style_weights, s.init, s.lbfgs_history) == (
        2.0,
        ("relu1_1", "relu3_1"),
        3,
        (1.0, 2.0),
        "noise",
        7,
    )
    assert s.beta == 10.0  # not given: the everyday default


def test_unknown_option_names_the_nearest_one():
    with pytest.raises(TypeError, match="unknown option 'alhpa'; did you mean 'alpha'"):
        nt.stylize(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), alhpa=1.0)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"levels": 1.5}, "levels must be a whole number"),
        ({"style_scale": 0}, "style_scale must be a finite number >= 0.001"),
        ({"preserve_color": "sepia"}, "unknown preserve_color"),
        ({"pooling": "min"}, "unknown pooling"),
        ({"weights": "imagenet"}, "unknown weights"),
        ({"style_weights": [0, 0]}, "must not all be zero"),
        ({"style_layer_weights": [1, 2]}, "2 layer weights given for 5 layers"),
        ({"content_layers": ["conv4-2"]}, "did you mean 'conv4_2'"),
    ],
)
def test_bad_values_are_refused_when_the_settings_are_made(kw, message):
    with pytest.raises(ValueError, match=message):
        Settings(**kw)


def test_settings_are_frozen_and_replace_checks_again():
    s = Settings()
    with pytest.raises(AttributeError):
        s.alpha = 2.0
    assert s.replace(alpha=2).alpha == 2.0 and s.alpha == 1.0
    with pytest.raises(ValueError):
        s.replace(beta=-1)


def test_manifest_is_plain_json_and_names_every_option():
    s = Settings(init=torch.rand(1, 3, 4, 4), device=torch.device("cpu"), style_layers=["relu2_1"])
    record = json.loads(json.dumps(s.manifest()))
    assert set(record) == {f.name for f in fields(Settings)}
    assert (
        record["init"] == "image"
        and record["device"] == "cpu"
        and record["style_layers"] == ["relu2_1"]
    )


def test_the_result_manifest_holds_every_option(tmp_path):
    model = nt.load_vgg19("random")
    r = nt.stylize(
        torch.rand(1, 3, 24, 24),
        torch.rand(1, 3, 24, 24),
        model=model,
        size=24,
        max_evals=2,
        progress=False,
        tv_weight=0.5,
    )
    assert {f.name for f in fields(Settings)} <= set(r.manifest()["settings"])
    assert r.settings.tv_weight == 0.5 and r.settings.max_evals == 2


def _flags(command: str) -> dict:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {a.dest: a for a in sub._actions}


def test_stylize_and_train_share_one_definition_of_the_loss_options():
    shared = {f.name: f for f in fields(LossOptions)}
    assert {
        "alpha",
        "beta",
        "tv_weight",
        "content_layers",
        "style_layers",
        "weights",
        "pooling",
        "normalize",
        "paper",
        "seed",
        "device",
        "precision",
    } <= set(shared)
    for cls in (Settings, TrainSettings):
        assert issubclass(cls, LossOptions)
        mine = {f.name: f for f in fields(cls)}
        for name, f in shared.items():  # the very same field: one default, one help, one check
            assert mine[name].metadata is f.metadata and mine[name].default == f.default, name

    # a field added to the base appears in both classes and on both command lines
    @dataclasses.dataclass(frozen=True)
    class Base(LossOptions):
        sharpness: float = option(2.0, "a new loss option", kind="weight")

    for name in ("Settings", "TrainSettings"):
        cls = {"Settings": Settings, "TrainSettings": TrainSettings}[name]
        extended = dataclasses.make_dataclass(name, [], bases=(cls, Base), frozen=True)
        assert extended().sharpness == 2.0
        with pytest.raises(ValueError, match="sharpness must be a finite number >= 0"):
            extended(sharpness=-1)
        parser = argparse.ArgumentParser()
        cli.add_settings_flags(parser, extended)
        assert parser.parse_args(["--sharpness", "3"]).sharpness == 3.0
    for command in ("stylize", "train"):
        flags = _flags(command)
        for name, f in shared.items():
            assert (name in flags) == (f.metadata["flag"] is not None), (command, name)


def test_both_take_the_same_mode_defaults():
    for paper in (False, True):
        s, t = Settings(paper=paper), TrainSettings(paper=paper)
        for name, (everyday, with_paper) in MODE_DEFAULTS.items():
            if name == "init":
                assert s.init == (with_paper if paper else everyday)
                continue
            assert getattr(s, name) == getattr(t, name), (paper, name)
    assert Settings(weights="random").normalize is False and Settings(paper=True).normalize is True
    assert (Settings().alpha, Settings().beta, Settings(paper=True).alpha) == (1.0, 10.0, 1e-3)


def test_help_texts_take_their_defaults_from_the_mode_table():
    for command in ("stylize", "train"):
        flags = _flags(command)
        assert "(default: 1; with paper, 0.001)" in flags["alpha"].help
        assert "(default: 10; with paper, 1)" in flags["beta"].help
        assert "(default: max; with paper, avg)" in flags["pooling"].help
    assert "(default: content; with paper, noise)" in _flags("stylize")["init"].help


def test_lr_zero_is_refused_with_a_clear_error_and_none_means_adams_default():
    for cls in (Settings, TrainSettings):
        with pytest.raises(ValueError, match="lr must be greater than 0, got 0"):
            cls(lr=0)
    from nst_teach.optimize import make_optimizer

    target = torch.zeros(1, 3, 8, 8, requires_grad=True)
    assert make_optimizer(target, "adam", None, 20).param_groups[0]["lr"] == 0.02
    assert make_optimizer(target, "adam", 1e-4, 20).param_groups[0]["lr"] == 1e-4


def test_limits_live_in_the_fields_metadata():
    by_name = {f.name: f for f in fields(Settings)}
    assert by_name["style_scale"].metadata["minimum"] == 1e-3
    Settings(style_scale=1e-3)
    with pytest.raises(ValueError, match="size must be a whole number >= 1, got 0"):
        Settings(size=0)
    with pytest.raises(ValueError, match="precision"):
        Settings(precision="fp8")
