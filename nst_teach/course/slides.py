"""Export every notebook as a reveal.js deck that works offline: `make slides` (writes slides/).

Usage: python scripts/export_slides.py [--out slides] [--html] [notebooks/01_covariance.ipynb ..]
(a thin entry point to this module, nst_teach.course.slides).

nbconvert's slides exporter loads reveal.js, require.js, jQuery, mermaid and MathJax from CDNs.
A lecture room may have no internet, so here every script comes from a local copy beside the decks:
- reveal.js 5 from the ``sphinx-revealjs`` wheel (``sphinx_revealjs/_static/revealjs``, MIT), in
  the layout nbconvert's template expects (dist/reveal.js, dist/theme/*.css, plugin/notes), copied
  to ``slides/reveal.js`` and used with ``SlidesExporter.reveal_url_prefix = "reveal.js"``;
- MathJax 2.7 from the ``jupyter-server-mathjax`` wheel (BSD), copied to ``slides/mathjax`` and
  used with ``HTMLExporter.mathjax_url``;
- require.js, jQuery and mermaid are dropped: the template below loads reveal.js with plain
  script tags (its dist file is UMD), does the scrolling without jQuery, and no notebook here
  uses mermaid diagrams. Widget outputs show their static picture (image/png) where they have one,
  instead of pulling the widget manager from a CDN.
Both packages are in the ``slides`` extra: ``pip install -e '.[slides]'``. Notebooks are exported
as they are committed (with outputs), without executing them, except for the exercises: the slide
shows each exercise cell as a student sees it (nst_teach.course.editions's stub) and its checker
without output; the solution and the checker's verdict go into the speaker notes (press S).

The decks are 1280 x 720 (16:9), the size of a common projector; reveal.js scales each slide to
the screen. tests/test_slides_fit.py checks in Chromium that every slide fits that size.

Alt text (issue #14 part 6). Every picture a code cell outputs (image/png or image/jpeg) gets
``<img alt="...">`` in the decks and in the HTML pages (``--html``). The k-th picture of a cell
takes, first found:
1. the cell's metadata ``"alt"``: a string (for every picture of the cell) or a list of strings
   (one per picture, in output order), e.g. ``"alt": "Heatmap of the 3 x 3 covariance table"``;
2. else the cell's ``# alt: <text>`` comment lines, one per picture in order (they are left out of
   the slides, where they would only take room);
3. else the output's own metadata, ``"alt"`` then ``"title"`` (under ``"image/png"`` or at the top),
   as ``IPython.display.display(fig, metadata={"image/png": {"alt": "..."}})`` writes it.
When a cell gives fewer texts than it has pictures, the last text describes the rest. A picture
without any gets NO_ALT here, and fails tests/test_notebook_style.py.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import re
import shutil
import sys
from pathlib import Path

from . import editions

ROOT = Path(__file__).resolve().parents[2]  # the checkout's root
REVEAL_DIR = "reveal.js"
MATHJAX_DIR = "mathjax"
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
DECK_WIDTH, DECK_HEIGHT = 1280, 720  # reveal.js's own size of a slide, in CSS px
IMAGE_TYPES = ("image/png", "image/jpeg")
NO_ALT = "A figure without a description yet (give its cell an alt text)"
ALT_COMMENT = re.compile(r"^[ \t]*#[ \t]*alt:[ \t]*(.*?)[ \t]*$", re.MULTILINE | re.IGNORECASE)
ALT_COMMENT_LINE = re.compile(r"^[ \t]*#[ \t]*alt:.*(\n|$)", re.MULTILINE | re.IGNORECASE)

# Pictures with their alt text; nbconvert's lab template writes <img> without one.
IMAGE_BLOCKS = r"""
{%- macro picture(output, mime, extra_class) -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:{{ mime }};base64,{{ output.data[mime] | escape_html }}"
alt="{{ output | get_metadata('alt', mime) | default(NO_ALT, true) | escape_html }}"
{%- set width = output | get_metadata('width', mime) %}
{%- if width is not none %} width="{{ width | escape_html }}"{% endif %}
{%- set height = output | get_metadata('height', mime) %}
{%- if height is not none %} height="{{ height | escape_html }}"{% endif %}
{%- if output | get_metadata('needs_background', mime) == 'light' %}
 class="jp-needs-light-background"
{%- elif output | get_metadata('needs_background', mime) == 'dark' %}
 class="jp-needs-dark-background"
{%- endif %}>
</div>
{%- endmacro -%}

{% block data_png scoped %}{{ picture(output, 'image/png', extra_class) }}{% endblock data_png %}
{% block data_jpg scoped %}{{ picture(output, 'image/jpeg', extra_class) }}{% endblock data_jpg %}

{%- block data_widget_view scoped -%}
{%- if 'image/png' in output.data -%}{{ picture(output, 'image/png', extra_class) }}{%- endif -%}
{%- endblock data_widget_view -%}
""".replace("NO_ALT", repr(NO_ALT))

TEMPLATE = r"""
{%- extends 'index.html.j2' -%}

{%- block html_head_js -%}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
{%- endblock html_head_js -%}

{% block jupyter_widgets %}{% endblock jupyter_widgets %}

{%- block html_head_css -%}
<style type="text/css">
/* nbconvert's reveal CSS gives a <pre> its parent's width plus padding, so every code cell was
   15 px wider than its (overflow: hidden) box and lost its right edge. */
.reveal .jp-InputArea-editor pre, .reveal .jp-OutputArea-output pre { box-sizing: border-box; }
</style>
{%- endblock html_head_css -%}

{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
// The local MathJax ships the STIX-Web fonts only (no TeX fonts, no image fonts).
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                                  imageFont: null}});
</script>
{%- endblock html_head_js_mathjax -%}

{% block footer_js %}
<script>
Reveal.initialize({
    controls: true,
    progress: true,
    history: true,
    transition: "{{ resources.reveal.transition | default('slide', true) }}",
    slideNumber: "{{ resources.reveal.number | default('', true) }}",
    plugins: [RevealNotes],
    width: {{ resources.reveal.width | default('960', true) }},
    height: {{ resources.reveal.height | default('700', true) }},
});
function typesetAgain(event) {
    // Math in a hidden slide is measured wrong; queued, so it never races the first typesetting.
    if (window.MathJax && MathJax.Hub) {
        MathJax.Hub.Queue(["Rerender", MathJax.Hub, event.currentSlide]);
    }
}
function scrollTallSlides() {
    // nbconvert's reveal_scroll: a slide taller than the deck scrolls instead of being cut off.
    // Compared in slide px (reveal scales the deck), so a slide that fits is left alone.
    var height = Reveal.getConfig().height;
    document.querySelectorAll(".reveal .slides section.present:not(.stack)").forEach(function (s) {
        if (s.scrollHeight > height) {
            s.style.height = height + "px";
            s.style.overflowY = "auto";
        }
    });
}
Reveal.on("slidechanged", typesetAgain);
{%- if resources.reveal.scroll %}
Reveal.on("ready", scrollTallSlides);
Reveal.on("slidechanged", scrollTallSlides);
{%- endif %}
</script>
{% endblock footer_js %}
""" + IMAGE_BLOCKS

# A plain page per notebook (`--html`): the same pictures and alt texts, the same local MathJax,
# and no script from another host (require.js is only needed by live widgets).
HTML_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                                  imageFont: null}});
</script>
{%- endblock html_head_js_mathjax -%}
""" + IMAGE_BLOCKS



def image_outputs(cell) -> list:
    """The outputs of a code cell that show a picture (image/png or image/jpeg), in order."""
    if cell.cell_type != "code":
        return []
    outputs = cell.get("outputs", [])
    return [out for out in outputs if any(mime in out.get("data", {}) for mime in IMAGE_TYPES)]


def given_alt_texts(cell) -> list[str]:
    """The alt texts an author gave: metadata "alt" (a string or a list), else '# alt:' lines."""
    given = cell.metadata.get("alt")
    if isinstance(given, str):
        given = [given]
    elif not isinstance(given, list):
        given = ALT_COMMENT.findall(cell.source) if cell.cell_type == "code" else []
    return [str(text).strip() for text in given if str(text).strip()]


def output_alt_text(output) -> str | None:
    """The alt text an output carries in its own metadata ("alt", else "title"), or None."""
    metadata = output.get("metadata", {})
    places = [metadata.get(mime, {}) for mime in IMAGE_TYPES] + [metadata]
    for key in ("alt", "title"):
        for place in places:
            if isinstance(place, dict) and str(place.get(key) or "").strip():
                return str(place[key]).strip()
    return None


def alt_texts(cell) -> list[str | None]:
    """One alt text per picture of a code cell, by the docstring's rule (None: none found)."""
    given = given_alt_texts(cell)
    return [given[min(k, len(given) - 1)] if given else output_alt_text(output)
            for k, output in enumerate(image_outputs(cell))]


def with_alt_texts(nb):
    """A copy of the notebook whose picture outputs carry their alt text (metadata[mime]["alt"])."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for output, text in zip(image_outputs(cell), alt_texts(cell), strict=True):
            output.setdefault("metadata", {})
            for mime in IMAGE_TYPES:
                if mime in output.data and text:
                    output.metadata.setdefault(mime, {})["alt"] = text
    return nb


def lecture_deck(nb, name: str = "notebook"):
    """The notebook as presented: each exercise as a student sees it, its solution in the notes."""
    deck = with_alt_texts(nb)
    exercises = editions.exercise_indices(deck, name)
    for cell in deck.cells:
        if cell.cell_type == "code":
            cell.source = editions.NBVAL_COMMENT.sub("", cell.source)  # test markers are no lesson
            cell.source = ALT_COMMENT_LINE.sub("", cell.source)  # the alt text is in the <img> now
            if cell.metadata.get("jupyter", {}).get("source_hidden"):  # collapsed in JupyterLab:
                cell.metadata["transient"] = {"remove_source": True}  # the slide shows the output
    for k, i in reversed(list(enumerate(exercises, start=1))):
        exercise, checker = deck.cells[i], deck.cells[i + 1]
        notes = copy.deepcopy(exercise)
        notes.id = f"{exercise.id}-solution"[:64]
        notes.source = editions.solution_source(exercise.source, f"{name} cell {i}")
        notes.outputs = exercise.outputs + checker.outputs  # the checker's verdict on the solution
        notes.metadata["slideshow"] = {"slide_type": "notes"}
        notes.metadata["tags"] = ["solution"]
        exercise.source = editions.student_source(exercise.source, k, f"{name} cell {i}")
        exercise.outputs, checker.outputs = [], []
        deck.cells.insert(i + 2, notes)
    return deck


class AssetsMissing(RuntimeError):
    """A package that ships reveal.js or MathJax is not installed."""


def package_dir(module: str, inner: str) -> Path:
    """The folder ``inner`` inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AssetsMissing(
            f"{module} is not installed; it ships the offline copy the slides need: "
            "run `pip install -e '.[slides]'` (or `make slides`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    if not path.is_dir():
        raise AssetsMissing(f"{path} is missing: reinstall {module}")
    return path


def copy_assets(out: Path) -> None:
    """Copy reveal.js (dist, the notes plugin, its licence) and MathJax next to the decks."""
    reveal = package_dir("sphinx_revealjs", "_static/revealjs")
    mathjax = package_dir("jupyter_server_mathjax", "static")
    target = out / REVEAL_DIR
    for part in ("dist", "plugin/notes"):
        shutil.copytree(reveal / part, target / part, dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", target / "LICENSE")
    shutil.copytree(mathjax, out / MATHJAX_DIR, dirs_exist_ok=True)


def exporter():
    """nbconvert's SlidesExporter with local reveal.js and MathJax, and no remote script."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.reveal_url_prefix = REVEAL_DIR
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_width = str(DECK_WIDTH)
    config.SlidesExporter.reveal_height = str(DECK_HEIGHT)
    # A slide that is still too tall scrolls instead of being cut off; the fit test reports it.
    config.SlidesExporter.reveal_scroll = True
    config.HTMLExporter.mathjax_url = MATHJAX_URL
    config.TemplateExporter.exclude_input_prompt = True  # like `--no-prompt`
    config.TemplateExporter.exclude_output_prompt = True
    return SlidesExporter(config=config, raw_template=TEMPLATE)


def html_exporter():
    """nbconvert's HTMLExporter (lab template) with alt texts and the local MathJax."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.mathjax_url = MATHJAX_URL
    return HTMLExporter(config=config, raw_template=HTML_TEMPLATE)


def export(notebooks, out: Path) -> list[Path]:
    """Write ``<name>.slides.html`` per notebook into ``out``, plus the assets; return the decks."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    slides = exporter()
    written = []
    for path in map(Path, notebooks):
        nb = lecture_deck(nbformat.read(path, as_version=4), path.name)
        html, _ = slides.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(html, encoding="utf-8")
        written.append(deck)
    return written


def export_html(notebooks, out: Path) -> list[Path]:
    """Write ``<name>.html`` for each notebook as committed (solutions included) into ``out``."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package_dir("jupyter_server_mathjax", "static"), out / MATHJAX_DIR,
                    dirs_exist_ok=True)
    pages = html_exporter()
    written = []
    for path in map(Path, notebooks):
        nb = with_alt_texts(nbformat.read(path, as_version=4))
        html, _ = pages.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        page = out / f"{path.stem}.html"
        page.write_text(html, encoding="utf-8")
        written.append(page)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook in notebooks/")
    parser.add_argument("--out", default=str(ROOT / "slides"),
                        help="output folder (default: slides/)")
    parser.add_argument("--html", action="store_true",
                        help="also write a plain HTML page per notebook (alt texts) into --out")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        decks = export(notebooks, Path(args.out))
        pages = export_html(notebooks, Path(args.out)) if args.html else []
    except AssetsMissing as err:
        print(f"export_slides: {err}", file=sys.stderr)
        return 2
    for written in decks + pages:
        print(written)
    print(f"open one in a browser; press S for the speaker notes, Esc for the overview "
          f"({len(decks)} decks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
