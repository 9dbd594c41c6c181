"""Slides that fit (#14 part 3): every slide of every deck fits a 1280 x 720 screen in Chromium.

`make slides` writes one reveal.js deck per notebook (scripts/export_slides.py). Here each deck is
exported to a temporary folder, opened in Debian's Chromium at a 1280 x 720 viewport, and every
slide and subslide is visited (Reveal.slide(h, v)); once its math is typeset and its pictures
decoded, the slide is measured in reveal.js's own coordinates. reveal.js lays a slide out at the
deck's configured size (export_slides.DECK_WIDTH x DECK_HEIGHT, 1280 x 720) and then scales the
whole slide to the window (a CSS transform), so layout sizes (scrollHeight, scrollWidth) are
already in slide px and on-screen boxes are divided by Reveal.getScale(). A slide fits when:
- its content (every visible element, every fragment included: fragments take their room while
  hidden) lies within the deck's width and height;
- nothing inside it scrolls or clips: no element whose content is wider or taller than its box
  (a wide code line in a <pre>, a long output, a table).
Each offence is reported as an author needs it, e.g.
  04_feature_maps.ipynb: slide 1.1 (cell id nb04-05, first words "The paper's layer names ..."):
  content 1746 px tall, 720 available
where "slide h.v" is the deck's URL fragment #/h/v (counted from 0) and the cell is the first
notebook cell on that slide. Splitting a cell, a subslide or moving detail to the speaker notes
(slide type "notes") makes the slide fit.

Also checked, without a browser: each exercise (a code cell tagged "exercise") starts a slide or
a subslide, either itself or the markdown cell just before it (its statement).
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

# Chromium or nbgrader end to end: make test runs it, make unit leaves it out
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
SCREEN = {"width": 1280, "height": 720}
STARTS = ("slide", "subslide")
TOLERANCE_PX = 1  # sub-pixel rounding of fonts and borders

# Runs in the page: the slide shown now, measured in slide px. Returns the first cell's id, the
# content's height and width, the deck's size, and every element that scrolls or clips.
MEASURE = """
(tolerance) => {
  const longestLine = (text) =>
    text.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
  const section = Reveal.getCurrentSlide();
  const scale = Reveal.getScale();
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const config = Reveal.getConfig();
  let bottom = -Infinity, right = -Infinity, top = Infinity, left = Infinity;
  const clipped = [];
  for (const el of [section, ...section.querySelectorAll('*')]) {
    if (el.closest('aside.notes')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    bottom = Math.max(bottom, (box.bottom - frame.top) / scale);
    right = Math.max(right, (box.right - frame.left) / scale);
    top = Math.min(top, (box.top - frame.top) / scale);
    left = Math.min(left, (box.left - frame.left) / scale);
    const style = getComputedStyle(el);
    const wide = el.scrollWidth - el.clientWidth > tolerance && style.overflowX !== 'visible';
    const tall = el.scrollHeight - el.clientHeight > tolerance && style.overflowY !== 'visible';
    // MathJax clips its own inner spans on purpose; its outer box counts above like any other
    const math = el.closest('[class^="MathJax"], [id^="MathJax"]');
    if ((wide || tall) && el !== section && !math) {
      const cut = (wide ? style.overflowX : style.overflowY) === 'hidden';
      clipped.push({tag: el.tagName.toLowerCase(), wide: wide, tall: tall, cut: cut,
                    scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                    scrollHeight: el.scrollHeight, clientHeight: el.clientHeight,
                    line: longestLine(el.textContent || '')});
    }
  }
  const first = section.querySelector('[id^="cell-id="]');
  // a slide taller than the screen scrolls (nbconvert's reveal_scroll): its full height counts
  const height = Math.max(bottom - top, section.scrollHeight);
  const width = Math.max(right - left, section.scrollWidth);
  return {cell: first ? first.id.slice('cell-id='.length) : null, height: Math.ceil(height),
          width: Math.ceil(width), deckWidth: config.width, deckHeight: config.height,
          top: Math.floor(top), left: Math.floor(left), bottom: Math.ceil(bottom),
          right: Math.ceil(right), clipped: clipped};
}
"""
READY = """
() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running
  && Array.from(Reveal.getCurrentSlide().querySelectorAll('img')).every(i => i.complete)
"""

# MathJax 2 waits 50-250 ms between the steps of each re-typesetting (a pause meant for a person
# watching); without the pauses a deck is measured 3-4x sooner and every measurement is the same
# (checked on the eleven decks, 2026-12-07).
NO_MATH_DELAYS = """
() => { MathJax.Hub.processSectionDelay = 0; MathJax.Hub.processUpdateDelay = 0;
        MathJax.Hub.processUpdateTime = 10000; }
"""


def load_export_slides():
    """nst_teach.course.slides, which `make slides` runs (scripts/export_slides.py)."""
    from nst_teach.course import slides

    return slides


def why_no_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run `bash scripts/install_chromium.sh` as root"
    return None


needs_browser = pytest.mark.skipif(why_no_browser() is not None, reason=str(why_no_browser()))


def slide_type(cell) -> str:
    """The cell's reveal.js slide type ('-' when it has none)."""
    return cell.metadata.get("slideshow", {}).get("slide_type") or "-"


def first_words(source: str, count: int = 6) -> str:
    """The first words of a cell, markdown marks and code punctuation aside."""
    words = re.sub(r"[#*`_>|]+", " ", source).split()
    return " ".join(words[:count]) + (" ..." if len(words) > count else "")


def offences(measured: dict) -> list[str]:
    """What does not fit on one measured slide, in words (empty: it fits)."""
    found = []
    if measured["height"] > measured["deckHeight"] + TOLERANCE_PX:
        found.append(f"content {measured['height']} px tall, {measured['deckHeight']} available")
    if measured["width"] > measured["deckWidth"] + TOLERANCE_PX:
        found.append(f"content {measured['width']} px wide, {measured['deckWidth']} available")
    if not found:  # the right size, but placed partly off the slide
        edges = {"top": -measured["top"], "left": -measured["left"],
                 "bottom": measured["bottom"] - measured["deckHeight"],
                 "right": measured["right"] - measured["deckWidth"]}
        found += [f"content {by} px beyond the slide's {edge} edge" for edge, by in edges.items()
                  if by > TOLERANCE_PX]
    for box in measured["clipped"]:
        size = (f"{box['scrollWidth']} px wide in a {box['clientWidth']} px box" if box["wide"]
                else f"{box['scrollHeight']} px tall in a {box['clientHeight']} px box")
        verb = "cuts off its content" if box["cut"] else "scrolls"
        line = box["line"].rstrip()
        found.append(f"a <{box['tag']}> {verb}, {size} (its longest line, {len(line)} characters: "
                     f"{line[:50]!r}{' ...' if len(line) > 50 else ''})")
    return found


def describe(notebook: Path, where: dict, measured: dict, sources: dict[str, str]) -> str:
    """One line: notebook, slide h.v, first cell on it, and what does not fit."""
    cell = measured["cell"] or "?"
    words = first_words(sources.get(cell, ""))
    return (f"{notebook.name}: slide {where['h']}.{where['v']} (cell id {cell}, "
            f'first words "{words}"): ' + "; ".join(offences(measured)))


def visit_every_slide(page) -> list[tuple[dict, dict]]:
    """(indices, measurements) for each slide and subslide of the deck open in the page."""
    page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
    indices = page.evaluate(
        "() => Reveal.getSlides().map(s => { const i = Reveal.getIndices(s); "
        "return {h: i.h, v: i.v || 0}; })")
    results = []
    for where in indices:
        page.evaluate("([h, v]) => Reveal.slide(h, v)", [where["h"], where["v"]])
        page.wait_for_function(READY, timeout=30_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        page.wait_for_function(READY, timeout=30_000)  # a re-render queued by the slide change
        results.append((where, page.evaluate(MEASURE, TOLERANCE_PX)))
    return results


@pytest.fixture(scope="module")
def decks(slide_decks):
    """Every notebook's deck, exported as `make slides` does (conftest's, once per session)."""
    return slide_decks[1]


@pytest.fixture(scope="module")
def browser(chromium):
    """Chromium, launched once per session by conftest (shared with test_browser.py)."""
    return chromium


def measure_deck(browser, deck: Path) -> list[tuple[dict, dict]]:
    """Open a deck at 1280 x 720 and measure each of its slides."""
    page = browser.new_page(viewport=SCREEN)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.evaluate(NO_MATH_DELAYS)
        results = visit_every_slide(page)
    finally:
        with contextlib.suppress(Exception):
            page.close()
    assert not errors, f"{deck.name}: errors in the page: {errors}"
    return results


@needs_browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_slide_fits_1280x720(browser, decks, notebook):
    results = measure_deck(browser, decks[f"{notebook.stem}.slides.html"])
    assert len(results) >= 2, f"{notebook.name}: the deck has {len(results)} slides"
    for _, measured in results:  # the deck is the size the test assumes
        assert (measured["deckWidth"], measured["deckHeight"]) == tuple(SCREEN.values())
    sources = {cell.get("id"): cell.source for cell in nbformat.read(notebook, as_version=4).cells}
    bad = [describe(notebook, where, m, sources) for where, m in results if offences(m)]
    assert not bad, f"{len(bad)} of {len(results)} slides do not fit:\n" + "\n".join(bad)


def exercises_without_a_slide(cells) -> list[str]:
    """Exercise cells that neither start a (sub)slide nor follow a markdown cell that does."""
    missing = []
    for i, cell in enumerate(cells):
        if "exercise" not in cell.metadata.get("tags", []):
            continue
        before = cells[i - 1] if i else None
        statement_starts = (before is not None and before.cell_type == "markdown"
                            and slide_type(before) in STARTS)
        if slide_type(cell) not in STARTS and not statement_starts:
            missing.append(f"cell {i} (id {cell.get('id')}, \"{first_words(cell.source)}\")")
    return missing


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_exercise_starts_a_slide(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    missing = exercises_without_a_slide(cells)
    assert not missing, (
        f"{notebook.name}: give these exercises a slide or subslide of their own (the exercise "
        f"cell or the markdown cell just before it): {missing}")


def test_the_exercise_rule_sees_a_missing_slide():
    """The rule itself, on a hand-made notebook: a statement that starts a subslide, and not."""
    code = nbformat.v4.new_code_cell
    markdown = nbformat.v4.new_markdown_cell
    cells = [markdown("## Exercises", metadata={"slideshow": {"slide_type": "slide"}}),
             markdown("### Exercise 1"), code("pass", metadata={"tags": ["exercise"]}),
             markdown("### Exercise 2", metadata={"slideshow": {"slide_type": "subslide"}}),
             code("pass", metadata={"tags": ["exercise"]}),
             code("pass", metadata={"tags": ["exercise"], "slideshow": {"slide_type": "slide"}})]
    assert [m.split(" (")[0] for m in exercises_without_a_slide(cells)] == ["cell 2"]


def synthetic_deck(tmp_path: Path) -> Path:
    """A notebook with one slide that fits, one too tall, one with a code line too wide."""
    cells = [nbformat.v4.new_markdown_cell("# Fits\n\nOne short line.", id="fits-1",
                                           metadata={"slideshow": {"slide_type": "slide"}}),
             nbformat.v4.new_markdown_cell("## Too tall\n\n" + "\n\n".join(map(str, range(40))),
                                           id="tall-1",
                                           metadata={"slideshow": {"slide_type": "slide"}}),
             nbformat.v4.new_code_cell("wide = '" + "x" * 180 + "'", id="wide-1",
                                       metadata={"slideshow": {"slide_type": "subslide"}})]
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "99_synthetic.ipynb"
    nbformat.write(nb, path)
    (deck,) = load_export_slides().export([path], tmp_path / "out")
    return deck


@needs_browser
def test_the_measurement_sees_tall_and_wide_slides(browser, tmp_path):
    """The measurement itself: a short slide fits; 40 paragraphs do not, nor a 187-character line"""
    results = measure_deck(browser, synthetic_deck(tmp_path))
    by_cell = {m["cell"]: (where, m) for where, m in results}
    assert set(by_cell) == {"fits-1", "tall-1", "wide-1"}
    assert not offences(by_cell["fits-1"][1])
    tall = offences(by_cell["tall-1"][1])
    assert len(tall) == 1 and re.fullmatch(r"content \d+ px tall, 720 available", tall[0])
    assert int(tall[0].split()[1]) > 1500  # 40 paragraphs at reveal's font size
    where, wide = by_cell["wide-1"]
    assert (where["h"], where["v"]) == (1, 1)
    assert any("cuts off" in o or "scrolls" in o for o in offences(wide)), wide
    wide_content = re.compile(r"content \d+ px wide, 1280 available")
    assert any(wide_content.fullmatch(o) for o in offences(wide)), wide
