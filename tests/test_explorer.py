"""The explorer of notebook 07 driven headlessly, as a person would: set widgets, click, look."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import nst_teach as nt
from nst_teach import explorer, plots, widgets
from nst_teach.settings import Settings


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    """No paper image is cached, downloads are off: the choices are the bundled images."""
    monkeypatch.setenv("NST_TEACH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NST_TEACH_OFFLINE", "1")


def small(ex, size=32, evals=6):
    ex.size.value, ex.budget.value = size, evals
    return ex


def upload(name: str, payload: bytes) -> tuple[dict, ...]:
    """What a FileUpload's value holds after the browser sent one file."""
    stamp = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return ({"name": name, "type": "image/png", "size": len(payload),
             "content": memoryview(payload), "last_modified": stamp},)


def png(colour, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_import_nst_teach_does_not_import_ipywidgets():
    code = ("import sys, nst_teach, nst_teach.widgets; "
            "print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


def test_run_button_runs_in_the_background_and_shows_the_result(random_vgg):
    ex = small(explorer.explore(model=random_vgg))
    assert ex.content.value == "bundled:grace_hopper" and ex.style.value == "bundled:swirls"
    before = ex.preview.value
    curves_before = ex.curves.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"  # the content is shown before any run
    ex.run_button.click()
    assert ex.running or ex.result is not None  # click returns at once; the work is on a thread
    result = ex.wait(60)
    assert not ex.running and ex.error is None
    assert isinstance(result, nt.Result) and result.stop_reason == "completed" and result.evals == 6
    assert ex.preview.value != before and ex.curves.value != curves_before
    assert ex.preview.value == plots.png_bytes(result.image)  # the final image is what is shown
    assert ex.progress.value == 6 and ex.progress.max == 6 and ex.progress.bar_style == "success"
    assert "Done (completed)" in ex.status.value
    assert not ex.run_button.disabled and ex.stop_button.disabled
    assert len(ex.history) == 6
    assert ex.model is random_vgg


def test_stop_button_ends_a_long_run_early_and_keeps_its_image(random_vgg):
    ex = small(explorer.explore(model=random_vgg, preview_every=1), size=48, evals=1000)
    ex.run_button.click()
    assert not ex.stop_button.disabled and ex.run_button.disabled
    deadline = time.monotonic() + 30
    while ex.progress.value < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ex.progress.value >= 3, "the run made no progress"
    ex.stop_button.click()
    result = ex.wait(30)
    assert result.stop_reason == "stopped by callback"
    assert 3 <= result.evals < 1000
    assert max(result.image.shape[-2:]) == 48
    assert ex.preview.value == plots.png_bytes(result.image)
    assert ex.progress.bar_style == "warning" and not ex.running


def test_settings_follow_the_widgets(random_vgg):
    ex = explorer.explore(model=random_vgg, size=40, max_evals=7)
    ex.ratio.value = 100.0
    ex.content_layers["relu4_2"].value = False
    ex.content_layers["relu2_2"].value = True
    ex.style_layers["relu5_1"].value = False
    ex.init.value = "noise"
    settings = ex.settings()
    assert settings == dict(alpha=1.0, beta=pytest.approx(100.0), content_layers=["relu2_2"],
                            style_layers=["relu1_1", "relu2_1", "relu3_1", "relu4_1"], size=40,
                            max_evals=7, init="noise")
    ex.run()
    result = ex.wait(60)
    assert list(result.settings.content_layers) == ["relu2_2"]
    assert result.settings.beta == pytest.approx(100.0)
    assert result.settings.init == "noise" and max(result.image.shape[-2:]) == 40


def test_defaults_come_from_the_preset(random_vgg):
    ex = explorer.explore(model=random_vgg)
    p = nt.preset("cpu")
    assert (ex.size.value, ex.budget.value) == (p.size, p.max_evals)
    assert [n for n, box in ex.style_layers.items() if box.value] == list(nt.transfer.STYLE_LAYERS)
    ticked = [n for n, box in ex.content_layers.items() if box.value]
    assert ticked == list(nt.transfer.CONTENT_LAYERS)
    # the ratio slider starts at stylize's everyday beta/alpha (1 and 10, as the README says)
    everyday = Settings()
    assert ex.ratio.value == pytest.approx(everyday.beta / everyday.alpha) == 10.0
    assert 10**ex.ratio.min < 1 < 100 < 10**ex.ratio.max, "the slider reaches either side of it"


def test_no_layer_ticked_is_a_message_not_a_run(random_vgg):
    ex = explorer.explore(model=random_vgg)
    for box in ex.style_layers.values():
        box.value = False
    assert ex.run() is None and not ex.running and ex.result is None
    assert "at least one style layer" in ex.status.value


def test_uploaded_images_are_added_and_selected(random_vgg):
    ex = small(explorer.explore(model=random_vgg))
    ex.content_upload.value = upload("red.png", png("red"))
    ex.style_upload.value = upload("blue.png", png("blue"))
    assert ex.content.label == "upload: red.png" and ex.style.label == "upload: blue.png"
    preview = np.asarray(Image.open(io.BytesIO(ex.preview.value)))
    assert preview[..., 0].min() > 200 and preview[..., 2].max() < 50  # the red upload is shown
    ex.run()
    result = ex.wait(60)
    assert result.image.shape[-2:] == (24, 32)  # the upload's 40 x 30 at size 32


def test_a_broken_upload_is_reported_and_ignored(random_vgg):
    ex = explorer.explore(model=random_vgg)
    options = ex.content.options
    ex.content_upload.value = upload("notes.png", b"this is not a picture")
    assert ex.content.options == options and ex.content.value == "bundled:grace_hopper"
    assert "cannot use notes.png" in ex.status.value


def test_given_images_paths_and_tensors_become_choices(random_vgg, tmp_path):
    path = tmp_path / "mine.png"
    path.write_bytes(png("green"))
    ex = small(explorer.explore(path, torch.rand(1, 3, 20, 20), model=random_vgg))
    assert ex.content.label == "given: mine.png" and ex.style.label == "given: Tensor"
    with pytest.raises(ValueError, match="no image named or at 'nope'"):
        explorer.explore("nope", model=random_vgg)
    assert explorer.explore("landscape", "mosaic", model=random_vgg).style.value == "bundled:mosaic"


def test_paper_images_are_offered_only_when_they_can_be_had(random_vgg, monkeypatch):
    ex = explorer.explore(model=random_vgg)
    assert not [k for k in ex.style.options if "paper" in k[0]]  # offline, nothing cached
    monkeypatch.delenv("NST_TEACH_OFFLINE")
    ex = explorer.explore(model=random_vgg)
    labels = [label for label, _ in ex.style.options]
    assert "starry_night (paper, downloads on Run)" in labels
    assert ex.style.value == "bundled:swirls"  # never a download by default


def test_a_paper_image_that_cannot_be_had_is_an_error_in_the_widget(random_vgg):
    ex = small(explorer.explore("tubingen", model=random_vgg))
    ex.run()
    assert ex.wait(30) is None
    assert isinstance(ex.error, nt.data.DownloadError)
    assert "NST_TEACH_OFFLINE is set" in ex.status.value and ex.progress.bar_style == "danger"
    assert not ex.run_button.disabled


def test_a_second_run_while_running_is_refused(random_vgg):
    ex = small(explorer.explore(model=random_vgg), evals=1000)
    thread = ex.run()
    assert ex.run() is thread and "Already running" in ex.status.value
    ex.stop()
    assert ex.wait(30).stop_reason == "stopped by callback"


def test_explorer_displays_as_a_widget(random_vgg):
    bundle = explorer.explore(model=random_vgg)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_the_old_import_path_still_gives_both_explorers():
    from nst_teach import stats_explorer

    assert widgets.explore is explorer.explore and widgets.Explorer is explorer.Explorer
    assert widgets.stats_explorer is stats_explorer.stats_explorer
    assert widgets.stats_data is stats_explorer.stats_data and widgets.png_bytes is plots.png_bytes


def test_the_reported_loss_is_the_shown_image_s_not_the_last_evaluation_s(random_vgg, monkeypatch):
    """A run whose last evaluation is not its best: the status gives the best one's loss."""
    totals = [7.77, 1.23, 4.56]  # the best (lowest) is the second; the run ended on the third
    history = [{"content": t / 2, "style": t / 2, "total": t} for t in totals]

    def fake_stylize(content, style, *, callback=None, **kwargs):
        return nt.Result(image=torch.full((1, 3, 8, 8), 0.5), history=history,
                         stop_reason="completed", seconds=0.5, losses=dict(history[1]))

    monkeypatch.setattr(explorer, "stylize", fake_stylize)
    ex = small(explorer.explore(model=random_vgg))
    ex.run()
    assert ex.wait(60) is not None and ex.error is None
    best = min(h["total"] for h in history)
    assert f"{best:.3g}" in ex.status.value and f"{history[-1]['total']:.3g}" not in ex.status.value
