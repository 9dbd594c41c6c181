"""`make slides`: every notebook becomes a reveal.js deck that needs no internet in the lecture
room.

The decks are exported as committed (no execution) by scripts/export_slides.py; these tests read
the HTML: no script, style sheet or picture comes from another host, every local file that a
deck names exists beside it, and each exercise's slide shows the student's stub while its
solution is in the speaker notes.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REMOTE = re.compile(r"^(https?:)?//", re.I)
CDN_WORDS = ("//cdn", "unpkg.com", "cdnjs", "jsdelivr", "googleapis", "mathjax.org")


from nst_teach.course import slides as export_slides  # noqa: E402


class References(HTMLParser):
    """Every URL the browser would load: script src, link href (style sheets),
    img/iframe/source src."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.loaded: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
            self.loaded.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
            self.loaded.append(attrs["href"])
        elif tag in ("img", "iframe", "source", "embed") and attrs.get("src"):
            self.loaded.append(attrs["src"])


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


class SpeakerNotes(HTMLParser):
    """The text a deck shows on its slides, and the text of its speaker notes (aside.notes)."""

    def __init__(self):
        super().__init__()
        self.asides: list[bool] = []  # for each open <aside>: is it a notes aside?
        self.slides: list[str] = []
        self.notes: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "aside":
            self.asides.append("notes" in (dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "aside" and self.asides:
            self.asides.pop()

    def handle_data(self, data):
        (self.notes if any(self.asides) else self.slides).append(data)


def slide_and_notes_text(html: str) -> tuple[str, str]:
    parser = SpeakerNotes()
    parser.feed(html)
    return "".join(parser.slides), "".join(parser.notes)


def exercise_regions(cells) -> list[list[str]]:
    """The lines between '### BEGIN SOLUTION' and '### END SOLUTION' of each exercise cell."""
    regions = []
    for cell in cells:
        if "exercise" in cell.metadata.get("tags", []):
            lines = [line.strip() for line in cell.source.splitlines()]
            begin, end = lines.index("### BEGIN SOLUTION"), lines.index("### END SOLUTION")
            regions.append([line for line in lines[begin + 1:end] if line])
    return regions


@pytest.fixture(scope="module")
def decks(slide_decks):
    """(folder, {file name: path}): conftest's decks, exported once per session."""
    return slide_decks


def test_every_notebook_has_a_deck(decks):
    out, written = decks
    assert sorted(written) == sorted(f"{p.stem}.slides.html" for p in NOTEBOOKS)
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
class TestDeck:
    def test_loads_nothing_from_another_host(self, decks, notebook):
        out, written = decks
        html = written[f"{notebook.stem}.slides.html"].read_text(encoding="utf-8")
        refs = references(html)
        remote = [url for url in refs.loaded if REMOTE.match(url)]
        assert not remote, f"{notebook.name}: the deck loads {remote}"
        for tag in re.findall(r"<script\b[^>]*>|<link\b[^>]*>", html, flags=re.I):
            assert not any(word in tag.lower() for word in CDN_WORDS), f"{notebook.name}: {tag}"
        # nothing fetched by a script either: require.js, jQuery and the widget manager are gone
        assert "require(" not in html and "jquery" not in " ".join(refs.scripts).lower()
        assert "@import url(http" not in html and "import mermaid" not in html

    def test_every_local_file_it_names_exists(self, decks, notebook):
        out, written = decks
        refs = references(written[f"{notebook.stem}.slides.html"].read_text(encoding="utf-8"))
        local = [url for url in refs.loaded if not url.startswith("data:")]
        assert "reveal.js/dist/reveal.js" in refs.scripts
        assert "reveal.js/plugin/notes/notes.js" in refs.scripts
        assert any(url.startswith("mathjax/MathJax.js") for url in refs.scripts)
        for url in local:
            path = out / unquote(urlsplit(url).path)
            assert path.is_file(), f"{notebook.name} names {url}, but {path} is missing"

    def test_one_section_per_slide(self, decks, notebook):
        out, written = decks
        html = written[f"{notebook.stem}.slides.html"].read_text(encoding="utf-8")
        cells = nbformat.read(notebook, as_version=4).cells
        slides = sum(c.metadata.get("slideshow", {}).get("slide_type") == "slide" for c in cells)
        assert html.count('<section id=') + html.count("<section>") >= slides

    def test_exercises_show_the_stub_and_the_solution_in_the_notes(self, decks, notebook):
        out, written = decks
        slide_text, notes_text = slide_and_notes_text(
            written[f"{notebook.stem}.slides.html"].read_text(encoding="utf-8"))
        cells = nbformat.read(notebook, as_version=4).cells
        regions = exercise_regions(cells)
        assert regions, f"{notebook.name}: no exercise cell"
        # a solution line that the lesson also has outside the solutions may be on a slide
        elsewhere = {line.strip() for c in cells if "exercise" not in c.metadata.get("tags", [])
                     for line in c.source.splitlines()}
        slide_lines = {line.strip() for line in slide_text.splitlines()}
        for k, region in enumerate(regions, start=1):
            stub = f'raise NotImplementedError("Exercise {k}: replace this line with your code")'
            assert stub in slide_text, f"{notebook.name}: exercise {k}'s slide lacks the stub"
            for line in region:
                assert line in notes_text, f"{notebook.name}: exercise {k}'s notes lack {line!r}"
                assert line in elsewhere or line not in slide_lines, (
                    f"{notebook.name}: exercise {k}'s solution line {line!r} is on a slide")
        assert "BEGIN SOLUTION" not in slide_text + notes_text and "NBVAL" not in slide_text
        assert notes_text.count("solved:") >= len(regions)  # the checkers' verdicts, in the notes


def test_reveal_and_mathjax_copies_are_complete(decks):
    out, _ = decks
    reveal, mathjax = out / "reveal.js", out / "mathjax"
    head = (reveal / "dist" / "reveal.js").read_text(encoding="utf-8")[:300]
    assert re.search(r"reveal\.js [4-9]\.", head), (
        "reveal.js 4 or later (nbconvert's layout: dist/, plugin/)"
    )
    # UMD: works from <script>
    assert "define.amd" in (reveal / "dist" / "reveal.js").read_text(encoding="utf-8")[:2000]
    theme = (reveal / "dist" / "theme" / "white.css").read_text(encoding="utf-8")
    for font_css in re.findall(r"@import url\(\.?/?([^)]+)\)", theme):
        assert (reveal / "dist" / "theme" / font_css).is_file(), font_css
    assert (reveal / "LICENSE").is_file()
    assert (mathjax / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert (mathjax / "extensions" / "Safe.js").is_file()
    assert list((mathjax / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").glob("*.woff"))


def test_a_widget_output_shows_its_picture_and_no_widget_cdn(tmp_path):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really-").decode()
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    cell = nbformat.v4.new_code_cell(
        "stats_explorer()", metadata={"slideshow": {"slide_type": "slide"}})
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {
            "model_id": "abc", "version_major": 2, "version_minor": 0},
        "image/png": png, "text/plain": "VBox()"})]
    nb.cells = [cell]
    path = tmp_path / "99_widget.ipynb"
    nbformat.write(nb, path)
    (deck,) = export_slides.export([path], tmp_path / "out")
    html = deck.read_text(encoding="utf-8")
    assert f"data:image/png;base64,{png}" in html
    assert not [url for url in references(html).loaded if REMOTE.match(url)]
    assert "html-manager" not in html and "unpkg" not in html


def test_a_missing_assets_package_is_a_clear_message():
    with pytest.raises(export_slides.AssetsMissing, match=r"pip install -e '\.\[slides\]'"):
        export_slides.package_dir("no_such_package_for_slides", "static")


def test_make_slides_target_uses_the_script():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^slides:", makefile, flags=re.M)
    assert "scripts/export_slides.py" in makefile


class Pictures(HTMLParser):
    """The alt attribute of every <img>, in document order (None where it has none)."""

    def __init__(self):
        super().__init__()
        self.alts: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


def picture_alts(html: str) -> list[str | None]:
    parser = Pictures()
    parser.feed(html)
    return parser.alts


def figure_cell(source: str, pictures: int = 1, metadata=None, output_metadata=None):
    """A code cell with `pictures` PNG outputs (tiny, not real PNGs: only the markup is read)."""
    cell = nbformat.v4.new_code_cell(source, metadata={"slideshow": {"slide_type": "slide"},
                                                       **(metadata or {})})
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    data = {"image/png": png, "text/plain": "<Figure>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data,
                                           metadata=output_metadata or {})
                    for _ in range(pictures)]
    return cell


def alt_notebook(tmp_path):
    """Each way of giving alt text (docstring of scripts/export_slides.py), and none, in order."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        figure_cell("plt.plot(x)", metadata={"alt": 'Loss falling from 10^6 to 10^2 & "flat"'}),
        figure_cell("show(a)\nshow(b)", pictures=2, metadata={"alt": ["First: a", "Second: b"]}),
        figure_cell("# alt: Three heatmaps side by side\nshow(a)\nshow(b)", pictures=2),
        figure_cell("display(fig)",
                    output_metadata={"image/png": {"title": "Gram matrix of relu2_1"}}),
        figure_cell("plt.imshow(x)"),
    ]
    path = tmp_path / "98_alt.ipynb"
    nbformat.write(nb, path)
    return path


ALTS = ['Loss falling from 10^6 to 10^2 & "flat"', "First: a", "Second: b",
        "Three heatmaps side by side", "Three heatmaps side by side", "Gram matrix of relu2_1",
        export_slides.NO_ALT]


def test_slides_carry_each_pictures_alt_text(tmp_path):
    (deck,) = export_slides.export([alt_notebook(tmp_path)], tmp_path / "out")
    html = deck.read_text(encoding="utf-8")
    assert picture_alts(html) == ALTS  # quotes and & escaped, or the parser would see other text
    slide_text, _ = slide_and_notes_text(html)
    assert "# alt:" not in slide_text and "show(a)" in slide_text  # the comment takes no room


def test_html_pages_carry_each_pictures_alt_text(tmp_path):
    (page,) = export_slides.export_html([alt_notebook(tmp_path)], tmp_path / "out")
    html = page.read_text(encoding="utf-8")
    assert picture_alts(html) == ALTS
    assert not [url for url in references(html).loaded if REMOTE.match(url)]
    assert (tmp_path / "out" / "mathjax" / "MathJax.js").is_file()


def test_decks_are_1280_by_720(decks):
    out, written = decks
    html = next(iter(written.values())).read_text(encoding="utf-8")
    assert re.search(r"width:\s*1280,", html) and re.search(r"height:\s*720,", html)
    assert (export_slides.DECK_WIDTH, export_slides.DECK_HEIGHT) == (1280, 720)
