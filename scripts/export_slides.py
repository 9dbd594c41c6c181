"""Export every notebook as a reveal.js deck that works offline: `make slides` (writes slides/).

Usage: python scripts/export_slides.py [--out slides] [notebooks/01_covariance.ipynb ...]

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
shows each exercise cell as a student sees it (scripts/editions.py's stub) and its checker without
output; the solution and the checker's verdict go into the speaker notes (press S).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REVEAL_DIR = "reveal.js"
MATHJAX_DIR = "mathjax"
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"

TEMPLATE = r"""
{%- extends 'index.html.j2' -%}

{%- block html_head_js -%}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
{%- endblock html_head_js -%}

{% block jupyter_widgets %}{% endblock jupyter_widgets %}

{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
// The local MathJax ships the STIX-Web fonts only (no TeX fonts, no image fonts).
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
{%- endblock html_head_js_mathjax -%}

{%- block data_widget_view scoped -%}
{%- if 'image/png' in output.data -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] }}" alt="a picture of the widget (run the notebook to use it)">
</div>
{%- endif -%}
{%- endblock data_widget_view -%}

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
    // What nbconvert does with jQuery when reveal_scroll is on: a slide taller than the screen scrolls.
    var limit = document.querySelector(".reveal").offsetHeight * 0.95;
    document.querySelectorAll("section.present section, .reveal .slides > section.present").forEach(function (s) {
        if (s.scrollHeight > limit) {
            s.style.height = "calc(95vh)";
            s.style.overflowY = "scroll";
            s.style.marginTop = "20px";
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
"""


def load_editions():
    """scripts/editions.py: the exercise format and the student's stub, as in `make student`."""
    path = Path(__file__).with_name("editions.py")
    spec = importlib.util.spec_from_file_location("editions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


editions = load_editions()


def lecture_deck(nb, name: str = "notebook"):
    """The notebook as presented: each exercise as a student sees it, its solution in the notes."""
    deck = copy.deepcopy(nb)
    exercises = editions.exercise_indices(deck, name)
    for cell in deck.cells:
        if cell.cell_type == "code":
            cell.source = editions.NBVAL_COMMENT.sub("", cell.source)  # test markers are no lesson
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
    config.SlidesExporter.reveal_scroll = True
    config.HTMLExporter.mathjax_url = MATHJAX_URL
    config.TemplateExporter.exclude_input_prompt = True  # like `--no-prompt`
    config.TemplateExporter.exclude_output_prompt = True
    return SlidesExporter(config=config, raw_template=TEMPLATE)


def export(notebooks, out: Path) -> list[Path]:
    """Write ``<name>.slides.html`` for each notebook into ``out``, plus the local assets; return the decks."""
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook in notebooks/")
    parser.add_argument("--out", default=str(ROOT / "slides"), help="output folder (default: slides/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        decks = export(notebooks, Path(args.out))
    except AssetsMissing as err:
        print(f"export_slides: {err}", file=sys.stderr)
        return 2
    for deck in decks:
        print(deck)
    print(f"open one in a browser; press S for the speaker notes, Esc for the overview ({len(decks)} decks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
