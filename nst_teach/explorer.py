"""The style-transfer explorer of notebook 07: a live, interruptible ``stylize`` run under widgets.

``explore()`` returns an ``Explorer``: pick content and style, the ratio beta/alpha, the layers,
size and budget, press Run; the run goes on in a background thread so the notebook stays
responsive, with a live preview, a progress bar and loss curves; Stop keeps the image reached so
far. It displays itself in a notebook and can be driven from code (``ex.run(); ex.wait();
ex.result``), which is how the tests use it. ipywidgets and matplotlib are imported inside the
functions, so ``import nst_teach`` stays light. Also importable as ``nst_teach.widgets.explore``.
"""

from __future__ import annotations

import io
import math
import os
import threading
import time
from functools import partial
from pathlib import Path

import torch

from . import data
from .images import load_image
from .plots import loss_curves_png, png_bytes
from .presets import pick_device, preset
from .settings import Settings
from .transfer import CONTENT_LAYERS, INITS, STYLE_LAYERS, stylize

# Checkboxes offered, by the paper's names; the defaults of ``stylize`` are ticked.
CONTENT_LAYER_CHOICES = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")
STYLE_LAYER_CHOICES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
PAPER_CONTENT = ("tubingen",)
PAPER_STYLE = ("starry_night", "the_scream", "shipwreck", "woman-with-hat-matisse")
RATIO_RANGE = (-2, 4)  # beta/alpha from 0.01 to 1e4, as powers of ten (stylize's default: 10)
PREVIEW_SECONDS = 0.25  # at most about four preview and curve redraws a second


def _error_html(message: str) -> str:
    """A message for the status line, in red."""
    return f"<span style='color:#b00'>{message}</span>"


class _Source:
    """One choice in an image dropdown: a label and how to get the image (path, PIL or tensor)."""

    def __init__(self, label: str, get, local: bool = True):
        self.label, self.get, self.local = label, get, local


def _image_sources(bundled: dict, paper: tuple[str, ...]) -> dict[str, _Source]:
    """Bundled images, then the paper's: cached ones always, others if downloads are allowed."""
    sources = {f"bundled:{name}": _Source(name, lambda p=path: p) for name, path in bundled.items()}
    offline = bool(os.environ.get("NST_TEACH_OFFLINE"))
    for name in paper:
        cached = (data.cache_dir() / data.REGISTRY[name].file).is_file()
        if cached or not offline:
            label = f"{name} (paper)" if cached else f"{name} (paper, downloads on Run)"
            sources[f"paper:{name}"] = _Source(label, partial(data.fetch, name, timeout=10), cached)
    return sources


def _layer_boxes(choices: tuple[str, ...], ticked) -> dict:
    """One Checkbox per layer name, the offered choices first; the ``ticked`` ones are on."""
    import ipywidgets as w

    return {name: w.Checkbox(value=name in ticked, description=name, indent=False,
                             layout=w.Layout(width="90px"))
            for name in dict.fromkeys(choices + tuple(ticked))}


class Explorer:
    """The style-transfer explorer of notebook 07: widgets, a background run, and its last Result.

    Attributes to read or drive: content, style (Dropdowns), content_upload, style_upload
    (FileUploads), ratio (FloatLogSlider, beta/alpha), content_layers, style_layers (dicts of
    Checkboxes by layer name), size, budget (IntSliders), init (Dropdown), run_button, stop_button,
    progress (IntProgress), status (HTML), preview, curves (Images holding PNG bytes), result (the
    last Result, or None), error (the last exception, or None), history (losses so far).
    """

    def __init__(self, content=None, style=None, model=None, *, weights: str = "caffe", device=None,
                 size: int | None = None, max_evals: int | None = None, preview_every: int = 5):
        self.model = model
        self.weights = weights
        self.device = pick_device(device if model is None else model.device)
        self.preview_every = max(1, int(preview_every))
        self.result = None
        self.error = None
        self.history: list[dict[str, float]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._uploads = 0
        self._content_sources = _image_sources(data.CONTENT_IMAGES, PAPER_CONTENT)
        self._style_sources = _image_sources(data.STYLE_IMAGES, PAPER_STYLE)
        defaults = preset(self.device)
        self._make_controls(size or defaults.size, max_evals or defaults.max_evals)
        self._choose_images(content, style)
        self._wire()
        self._show_inputs()
        self.widget = self._layout()

    # ------------------------------------------------------------------ construction
    def _make_controls(self, size: int, max_evals: int) -> None:
        """Create every widget (image choices, settings, buttons, outputs) with its start value."""
        import ipywidgets as w

        wide, initial = w.Layout(width="300px"), {"description_width": "initial"}
        self.content = w.Dropdown(description="content", layout=wide)
        self.style = w.Dropdown(description="style", layout=wide)
        self.content_upload = w.FileUpload(accept="image/*", multiple=False, description="upload",
                                           tooltip="use a picture of your own as the content")
        self.style_upload = w.FileUpload(accept="image/*", multiple=False, description="upload",
                                         tooltip="use a picture of your own as the style")
        self.ratio = w.FloatLogSlider(
            value=Settings().beta, base=10, min=RATIO_RANGE[0], max=RATIO_RANGE[1], step=0.25,
            description="β / α", readout_format=".0e", continuous_update=False,
            style=initial, layout=w.Layout(width="420px"),
        )
        self.content_layers = _layer_boxes(CONTENT_LAYER_CHOICES, CONTENT_LAYERS)
        self.style_layers = _layer_boxes(STYLE_LAYER_CHOICES, STYLE_LAYERS)
        self.size = w.IntSlider(value=size, min=32, max=1024, step=16, description="size (px)",
                                continuous_update=False, style=initial)
        self.budget = w.IntSlider(value=max_evals, min=1, max=1000, description="evaluations",
                                  continuous_update=False, style=initial)
        self.init = w.Dropdown(options=list(INITS), value="content", description="start from",
                               style=initial, layout=w.Layout(width="200px"))
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop",
                                    disabled=True)
        self.progress = w.IntProgress(value=0, min=0, max=max_evals, description=f"0 / {max_evals}",
                                      style=initial)
        self.status = w.HTML(value="Pick images and settings, then press Run.")
        # Fixed display widths, natural heights: a 64-pixel run is shown as large as a 256-pixel.
        self.style_thumb = w.Image(format="png", layout=w.Layout(width="160px", height="auto"))
        self.preview = w.Image(format="png", layout=w.Layout(width="320px", height="auto"))
        self.curves = w.Image(format="png", layout=w.Layout(width="336px", height="auto"))
        self.curves.value = loss_curves_png([])

    def _choose_images(self, content, style) -> None:
        """Fill the image dropdowns and select the given images (or the defaults)."""
        pairs = ((self.content, self._content_sources, content, "tubingen", "grace_hopper"),
                 (self.style, self._style_sources, style, "starry_night", "swirls"))
        for dropdown, sources, given, paper_default, bundled_default in pairs:
            key = self._pick(given, sources, paper_default, bundled_default)
            self._set_options(dropdown, sources, key)

    def _wire(self) -> None:
        """Connect the buttons, uploads, dropdowns and the budget slider to what they do."""
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.content_upload.observe(
            lambda ch: self._uploaded(ch, self.content, self._content_sources), "value")
        self.style_upload.observe(
            lambda ch: self._uploaded(ch, self.style, self._style_sources), "value")
        self.content.observe(lambda _: self._show_inputs(), "value")
        self.style.observe(lambda _: self._show_inputs(), "value")
        self.budget.observe(lambda _: self._reset_progress(), "value")

    def _layout(self):
        """The explorer's VBox, its parts tagged with CSS classes."""
        import ipywidgets as w

        def row_label(text):
            return w.HTML(f"<b>{text}</b>", layout=w.Layout(width="110px"))

        box = w.VBox([
            w.HBox([self.content, self.content_upload]),
            w.HBox([self.style, self.style_upload]),
            self.ratio,
            w.HBox([row_label("content layers"), *self.content_layers.values()]),
            w.HBox([row_label("style layers"), *self.style_layers.values()]),
            w.HBox([self.size, self.budget, self.init]),
            w.HBox([self.run_button, self.stop_button, self.progress]),
            self.status,
            w.HBox([self.style_thumb, self.preview, self.curves],
                   layout=w.Layout(align_items="flex-start")),
        ])
        # CSS classes name the parts for styling and for the browser test (tests/test_browser.py).
        for part, name in ((box, "explorer"), (self.run_button, "run"), (self.stop_button, "stop"),
                           (self.progress, "progress"), (self.status, "status"),
                           (self.preview, "preview"), (self.curves, "curves"),
                           (self.ratio, "ratio")):
            part.add_class(f"nst-{name}")
        return box

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return {**self.widget._repr_mimebundle_(**kwargs), "text/plain": repr(self)}

    def __repr__(self) -> str:
        state = ("running" if self.running else f"result: {self.result.stop_reason}" if self.result
                 else "not run yet")
        return f"<Explorer ({state}); display it in a notebook to use the widgets>"

    # ------------------------------------------------------------------ choices
    @staticmethod
    def _pick(given, sources: dict[str, _Source], paper_default: str, bundled_default: str) -> str:
        """The dropdown key for ``given``: a bundled or paper name, a path, PIL image or tensor."""
        if given is None:
            key = f"paper:{paper_default}"
            return key if key in sources and sources[key].local else f"bundled:{bundled_default}"
        if isinstance(given, str) and f"bundled:{given}" in sources:
            return f"bundled:{given}"
        if isinstance(given, str) and given in data.REGISTRY:
            fetch = partial(data.fetch, given, timeout=10)
            sources.setdefault(f"paper:{given}", _Source(f"{given} (paper)", fetch, False))
            return f"paper:{given}"
        if isinstance(given, (str, Path)):
            if not Path(given).is_file():
                names = ", ".join(k.split(":", 1)[1] for k in sources)
                raise ValueError(
                    f"no image named or at {str(given)!r}: give a file path or one of {names}")
            label = Path(given).name
        else:
            label = type(given).__name__
        key = f"given:{len(sources)}"
        sources[key] = _Source(f"given: {label}", lambda: given)
        return key

    @staticmethod
    def _set_options(dropdown, sources: dict[str, _Source], value: str) -> None:
        dropdown.options = [(s.label, k) for k, s in sources.items()]
        dropdown.value = value

    def _uploaded(self, change, dropdown, sources) -> None:
        """A FileUpload delivered a file: check that it reads as an image, add it and select it."""
        from PIL import Image

        files = change["new"]
        if not files:
            return
        upload = files[-1]
        try:
            picture = Image.open(io.BytesIO(bytes(upload["content"])))
            picture.load()
            load_image(picture, max_size=64)  # raises ImageError with a clear message
        except Exception as err:  # noqa: BLE001 - an unreadable upload is reported, never raised
            self.status.value = _error_html(f"cannot use {upload['name']}: {err}")
            return
        self._uploads += 1
        key = f"upload:{self._uploads}"
        sources[key] = _Source(f"upload: {upload['name']}", lambda p=picture: p)
        self._set_options(dropdown, sources, key)

    def _image(self, dropdown, sources):
        return sources[dropdown.value].get()

    def _show_inputs(self) -> None:
        """Show the chosen style as a thumbnail, the content in the preview (local images only)."""
        if self.running:
            return
        shown = ((self.content, self._content_sources, self.preview, 256),
                 (self.style, self._style_sources, self.style_thumb, 160))
        for dropdown, sources, target, size in shown:
            source = sources[dropdown.value]
            if source.local:
                try:
                    target.value = png_bytes(load_image(source.get(), max_size=size))
                except Exception as err:  # noqa: BLE001
                    self.status.value = _error_html(f"cannot show {source.label}: {err}")

    def _reset_progress(self) -> None:
        if not self.running:
            self.progress.max = self.budget.value
            self.progress.value = 0
            self.progress.description = f"0 / {self.budget.value}"

    # ------------------------------------------------------------------ the run
    @property
    def running(self) -> bool:
        """True while a run's background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def settings(self) -> dict:
        """The stylize keyword arguments the widgets describe now (alpha is 1, beta the ratio)."""
        return dict(
            alpha=1.0, beta=float(self.ratio.value),
            content_layers=[n for n, box in self.content_layers.items() if box.value],
            style_layers=[n for n, box in self.style_layers.items() if box.value],
            size=int(self.size.value), max_evals=int(self.budget.value), init=self.init.value,
        )

    def run(self) -> threading.Thread | None:
        """Start stylize in a background thread with the current settings (the Run button)."""
        if self.running:
            self.status.value = "Already running: press Stop first."
            return self._thread
        settings = self.settings()  # read on the caller's thread: later slider moves don't mix in
        missing = [kind for kind in ("content", "style") if not settings[f"{kind}_layers"]]
        if missing:
            self.status.value = _error_html(f"Tick at least one {' and one '.join(missing)} layer.")
            return None
        self._stop.clear()
        self.error = None
        self.history = []
        self.progress.max = settings["max_evals"]
        self.progress.value = 0
        self.progress.bar_style = ""
        self.run_button.disabled, self.stop_button.disabled = True, False
        content_source = self._content_sources[self.content.value]
        style_source = self._style_sources[self.style.value]
        self._thread = threading.Thread(target=self._work, name="nst-explorer", daemon=True,
                                        args=(content_source, style_source, settings))
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Ask the run to stop after the current evaluation; its best image so far is kept."""
        self._stop.set()
        if self.running:
            self.status.value = "Stopping after this evaluation ..."

    def wait(self, timeout: float | None = None):
        """Wait until the run ends (or ``timeout`` seconds pass); return the last Result or None."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    def _work(self, content_source, style_source, settings) -> None:
        """The background thread: load, run stylize with a progress callback, show the outcome."""
        try:
            self.status.value = "Loading the images and the network ..."
            content, style = content_source.get(), style_source.get()
            if self.model is None:
                from .vgg import load_vgg19

                self.model = load_vgg19(self.weights, device=self.device)
            if self._stop.is_set():
                self.status.value = "Stopped before the run began."
                return
            self.status.value = "Running ..."
            callback = self._progress_callback(settings)
            result = stylize(content, style, model=self.model, callback=callback, progress=False,
                             **settings)
            self._show_result(result, settings)
        except Exception as err:  # noqa: BLE001 - shown in the widget, kept on .error
            self.error = err
            self.progress.bar_style = "danger"
            self.status.value = _error_html(f"Error: {type(err).__name__}: {err}")
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True

    def _progress_callback(self, settings):
        """The stylize callback: keep the losses, move the bar, redraw now and then; True stops."""
        n, started, last_draw = settings["max_evals"], time.perf_counter(), [0.0]

        def callback(i, image, losses):
            self.history.append(losses)
            self.progress.value = i
            self.progress.description = f"{i} / {n}"
            now = time.perf_counter()
            if i == 1 or (i % self.preview_every == 0 and now - last_draw[0] >= PREVIEW_SECONDS):
                last_draw[0] = now
                self._draw(image, settings)
                self.status.value = (f"Running: evaluation {i} of {n}, loss {losses['total']:.3g}, "
                                     f"{now - started:.1f} s")
            return self._stop.is_set()

        return callback

    def _show_result(self, result, settings) -> None:
        """Keep a finished run's Result and show its image, curves, bar colour and a summary."""
        self.result = result
        self.history = list(result.history)
        self._draw(result.image, settings)
        self.progress.value = result.evals
        self.progress.bar_style = "success" if result.stop_reason == "completed" else "warning"
        # the loss of the image shown (its best evaluation), not of the last evaluation
        final = result.losses.get("total", math.nan)
        self.status.value = (f"Done ({result.stop_reason}): {result.evals} evaluations in "
                             f"{result.seconds:.1f} s, loss of this image {final:.3g}. "
                             "The image is in <code>explorer.result.image</code>.")

    def _draw(self, image: torch.Tensor, settings) -> None:
        self.preview.value = png_bytes(image)
        self.curves.value = loss_curves_png(self.history, settings["alpha"], settings["beta"])


def explore(content=None, style=None, model=None, **options) -> Explorer:
    """The style-transfer explorer of notebook 07 (display it, or drive it: ex.run(); ex.wait()).

    content, style: a bundled or paper image name, a path, a PIL image or a tensor (default: the
    paper's Tübingen and Starry Night when cached, else the bundled grace_hopper and swirls).
    model: a ``load_vgg19`` model to reuse (else loaded on the first Run, from ``weights``).
    options: weights ("caffe", "torchvision", "random"), device, size, max_evals (defaults from
    ``nt.preset()``), preview_every (redraw the preview every this many evaluations).
    """
    return Explorer(content, style, model, **options)
