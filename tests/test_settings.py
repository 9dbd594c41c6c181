"""Settings is the one list of options: stylize's signature, its checks, the manifest and the CLI come from it."""

import inspect
import json
from dataclasses import fields

import pytest
import torch

import nst_teach as nt
from nst_teach import cli
from nst_teach.settings import Settings


def test_stylize_signature_lists_every_option_with_its_default():
    params = inspect.signature(nt.stylize).parameters
    for f in fields(Settings):
        assert params[f.name].default == f.default and params[f.name].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(params)[:2] == ["content", "style"]
    assert {"model", "callback", "progress"} <= set(params)


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
    args = parser.parse_args(["stylize", "--alpha", "2", "--style-layers", "relu1_1,relu3_1", "--levels", "3",
                              "--style-weights", "1", "2", "--init", "noise", "--lbfgs-history", "7"])
    given = {f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name, None) is not None}
    s = Settings(**given)
    assert (s.alpha, s.style_layers, s.levels, s.style_weights, s.init, s.lbfgs_history) == (
        2.0, ("relu1_1", "relu3_1"), 3, (1.0, 2.0), "noise", 7)
    assert s.beta == 10.0  # not given: the everyday default


def test_unknown_option_names_the_nearest_one():
    with pytest.raises(TypeError, match="unknown option 'alhpa'; did you mean 'alpha'"):
        nt.stylize(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), alhpa=1.0)


@pytest.mark.parametrize("kw, message", [
    ({"levels": 1.5}, "levels must be a whole number"),
    ({"style_scale": 0}, "style_scale must be a finite number >= 0.001"),
    ({"preserve_color": "sepia"}, "unknown preserve_color"),
    ({"pooling": "min"}, "unknown pooling"),
    ({"weights": "imagenet"}, "unknown weights"),
    ({"style_weights": [0, 0]}, "must not all be zero"),
    ({"style_layer_weights": [1, 2]}, "2 layer weights given for 5 layers"),
    ({"content_layers": ["conv4-2"]}, "did you mean 'conv4_2'"),
])
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
    assert record["init"] == "image" and record["device"] == "cpu" and record["style_layers"] == ["relu2_1"]


def test_the_result_manifest_holds_every_option(tmp_path):
    model = nt.load_vgg19("random")
    r = nt.stylize(torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24), model=model, size=24, max_evals=2,
                   progress=False, tv_weight=0.5)
    assert {f.name for f in fields(Settings)} <= set(r.manifest()["settings"])
    assert r.settings["tv_weight"] == 0.5 and r.settings["max_evals"] == 2
