"""Regenerate the bundled images in data/ and the tables in data/README.md (deterministic, offline).

Run from anywhere: `python scripts/make_data.py [--paper-source DIR] [--paper-only]
[--photos-only] [--skimage-source DIR] [--sklearn-source DIR]`. Uses numpy, Pillow, matplotlib
and nst_teach.data (its sha256 and REGISTRY): the style images and the landscape are drawn from
fixed seeds; the photograph is the public domain portrait of Grace Hopper that matplotlib ships
in mpl-data/sample_data. The paper's images are reduced from the originals in DIR (default
../shared/data beside the repository), each checked by sha256 first; without DIR the committed
copies are kept and only the tables are rewritten. The photographs of notebook 11's feed-forward
network are read as files from an installed scikit-image's skimage/data and scikit-learn's
sklearn/datasets/images folders (found without importing either, which nothing else here needs),
checked by sha256 and reduced the same way; without the package its committed copies are kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import NamedTuple

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, Polygon, Rectangle
from PIL import Image

from nst_teach.data import REGISTRY, sha256

DATA = Path(__file__).resolve().parent.parent / "data"
PAPER_SOURCE = DATA.parent.parent / "shared" / "data"  # ../shared/data beside the repository
MAX_SIDE = 512
JPEG_QUALITY = 92
PAPER_QUALITY = 89  # keeps every copy under 100 KB (The Starry Night is 102 KB at 90)


# ---------------------------------------------------------------- drawing helpers


def _axes(width: int, height: int):
    """A matplotlib Agg canvas in pixel coordinates (origin top left, 1 pt = 1 px)."""
    fig = Figure(figsize=(width / 72, height / 72), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    return fig, ax


def _to_array(fig) -> np.ndarray:
    """Render a figure to a float RGB array in [0, 1], shape (H, W, 3)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32) / 255


def _to_image(rgb: np.ndarray, size: tuple[int, int] | None = None) -> Image.Image:
    """Float RGB array in [0, 1] -> PIL image, optionally downsampled (supersampling)."""
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
    return image.resize(size, Image.LANCZOS) if size else image


def _noise(rng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    """Smooth value noise in about [-1, 1]: a random grid `cells` across, upsampled bicubically."""
    grid_h = max(2, round(cells * height / width))
    grid = rng.uniform(-1, 1, (grid_h, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, mode="F").resize((width, height), Image.BICUBIC))


def _fractal(rng, width, height, octaves=(4, 8, 16, 32, 64), gain=0.6) -> np.ndarray:
    """Sum of noise octaves, normalised to [-1, 1]: texture at several scales at once."""
    total = sum(gain**i * _noise(rng, width, height, c) for i, c in enumerate(octaves))
    return total / np.abs(total).max()


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], np.float32) / 255


# ---------------------------------------------------------------- content images


def grace_hopper() -> Image.Image:
    """The portrait matplotlib ships (US Navy photo, public domain), at most 512 px."""
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    image = Image.open(path).convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    return image


def _sky(ax, rng, w: int, h: int, s: int) -> None:
    """The landscape's sky: blue to cream, a glowing low sun, three translucent clouds."""
    yy, xx = np.mgrid[0:h, 0:w] / h
    sun_x, sun_y = 0.74 * w, 0.30 * h
    glow = np.exp(-((xx - sun_x / h) ** 2 + (yy - sun_y / h) ** 2) / 0.03)[..., None]
    sky = (1 - yy[..., None]) * _hex("#3a6fb0") + yy[..., None] * _hex("#f6d7a7")
    sky = sky * (1 - 0.8 * glow) + 0.8 * glow * _hex("#fff0c8")
    ax.imshow(np.clip(sky, 0, 1), extent=(0, w, h, 0), zorder=0)
    ax.add_patch(Circle((sun_x, sun_y), 30 * s, color="#fff8e4", lw=0, zorder=1))
    for cx, cy, cw in [(110, 70, 120), (300, 50, 90), (420, 110, 70)]:
        for _ in range(5):  # a cloud is a few overlapping translucent ellipses
            centre = ((cx + rng.uniform(-0.4, 0.4) * cw) * s, (cy + rng.uniform(-6, 6)) * s)
            ax.add_patch(Ellipse(centre, rng.uniform(0.4, 0.8) * cw * s, rng.uniform(14, 24) * s,
                                 color="white", alpha=0.55, lw=0, zorder=2))


def _ridge(rng, x: np.ndarray, w: int, h: int, base, amp, waves, rough) -> np.ndarray:
    """A hill's skyline over x: a few sines of random phase plus a random walk."""
    phase = rng.uniform(0, 2 * np.pi, len(waves))
    yy = base * h + sum(
        amp * h * a * np.sin(2 * np.pi * f * x / w + p)
        for (f, a), p in zip(waves, phase, strict=True)
    )
    return yy + rough * h * np.cumsum(rng.normal(0, 1, x.size)) / np.sqrt(x.size)


def _hill(ax, rng, x: np.ndarray, w: int, h: int, yy, top, bottom, z, texture=0.08) -> None:
    """Everything below the skyline yy: a top-to-bottom gradient with fractal texture."""
    poly = Polygon(np.c_[np.r_[x, w, 0], np.r_[yy, h, h]], closed=True, lw=0)
    ax.add_patch(poly)
    poly.set_visible(False)
    t = np.linspace(0, 1, h)[:, None, None] ** 0.7
    img = (1 - t) * _hex(top) + t * _hex(bottom)
    grain = _fractal(rng, w // 4, h // 4, (8, 16, 32))[..., None].repeat(4, 0).repeat(4, 1)
    img = img * (1 + texture * grain)
    im = ax.imshow(np.clip(img, 0, 1), extent=(0, w, h, 0), zorder=z)
    im.set_clip_path(poly)


def _houses(ax, rng, x: np.ndarray, near: np.ndarray, s: int) -> None:
    """Houses on the near hill; shaded side walls face away from the sun."""
    for hx, hw, hh in [(70, 46, 34), (128, 38, 30), (182, 52, 38), (250, 40, 28)]:
        base = np.interp(hx * s + hw * s / 2, x, near) + 10 * s
        x0, y0, ww, hh = hx * s, base - hh * s, hw * s, hh * s
        wall = rng.choice(["#efe3c8", "#e8d2b0", "#f3ead9", "#dcc7a4"])
        ax.add_patch(Rectangle((x0, y0), ww, hh, color=wall, lw=0, zorder=7))
        ax.add_patch(Rectangle((x0, y0), ww * 0.28, hh, color="#000", alpha=0.18, lw=0, zorder=7))
        roof = rng.choice(["#a8432f", "#8a3a2a", "#b5582f"])
        eaves = (x0 - 5 * s, y0), (x0 + ww / 2, y0 - 0.55 * ww)
        ax.add_patch(Polygon([*eaves, (x0 + ww + 5 * s, y0)], color=roof, lw=0, zorder=8))
        ax.add_patch(Polygon([*eaves, (x0 + ww / 2, y0)], color="#000", alpha=0.2, lw=0,
                             zorder=8))
        ax.add_patch(Rectangle((x0 + 0.42 * ww, y0 + 0.5 * hh), 0.18 * ww, 0.5 * hh,
                               color="#5a3b28", lw=0, zorder=8))
        for wx in (0.12, 0.7):
            ax.add_patch(Rectangle((x0 + wx * ww, y0 + 0.25 * hh), 0.16 * ww, 0.22 * hh,
                                   color="#3b4a66", lw=0, zorder=8))


def _trees(ax, rng, x: np.ndarray, near: np.ndarray, s: int) -> None:
    """Round deciduous trees and pointed conifers on the near hill, lit from the upper right."""
    trees = [(30, "round"), (112, "cone"), (235, "round"), (300, "cone"), (330, "round"),
             (370, "cone"), (400, "cone"), (450, "round"), (490, "cone")]
    for tx, kind in trees:
        tx = (tx + rng.uniform(-6, 6)) * s
        base = np.interp(tx, x, near) + 14 * s
        size = rng.uniform(0.85, 1.25) * s
        ax.add_patch(Rectangle((tx - 3 * size, base - 26 * size), 6 * size, 26 * size,
                               color="#4a3222", lw=0, zorder=9))
        if kind == "round":
            for dx, dy, r, c in [(0, -40, 22, "#2f5a2a"), (6, -46, 14, "#4f8a3a"),
                                 (9, -50, 7, "#7fb04f")]:
                ax.add_patch(Circle((tx + dx * size, base + dy * size), r * size, color=c, lw=0,
                                    zorder=9))
            continue
        for k, c in enumerate(["#1f4a2c", "#2c6239", "#3c7a45"]):
            top = base - (70 - 8 * k) * size
            foot = base - (12 + 14 * k) * size
            ax.add_patch(Polygon([(tx - (18 - 5 * k) * size, foot), (tx, top),
                                  (tx + (18 - 5 * k) * size, foot)], color=c, lw=0, zorder=9))


def _path_and_grass(ax, rng, w: int, h: int, s: int) -> None:
    """A winding path in the foreground, drawn in perspective, and grass tufts."""
    t = np.linspace(0, 1, 60)
    px = (0.55 + 0.12 * np.sin(3 * t)) * w + (1 - t) * 60 * s
    py = (0.78 + 0.22 * t) * h
    half = (4 + 40 * t**1.5) * s
    outline = np.c_[np.r_[px - half, (px + half)[::-1]], np.r_[py, py[::-1]]]
    ax.add_patch(Polygon(outline, color="#cdb48a", lw=0, zorder=10))
    gx = rng.uniform(0, w, 900)
    gy = rng.uniform(0.8 * h, h, 900)
    glen = (4 + 10 * (gy / h - 0.8) / 0.2) * s
    ang = rng.normal(-np.pi / 2, 0.3, 900)
    segs = np.stack([np.c_[gx, gy], np.c_[gx + glen * np.cos(ang), gy + glen * np.sin(ang)]], 1)
    cols = rng.choice([_hex("#2f5a23"), _hex("#5c8f36"), _hex("#a3c468")], 900)
    ax.add_collection(LineCollection(segs, colors=cols, linewidths=1.5 * s, zorder=11))


def landscape(seed: int = 1) -> Image.Image:
    """A village under a low sun: sky, hazy mountains, layered hills, houses, trees, a path."""
    rng = np.random.default_rng(seed)
    s = 2  # drawn at twice the size, then downsampled for clean edges
    w, h = 512 * s, 384 * s
    fig, ax = _axes(w, h)
    _sky(ax, rng, w, h, s)
    x = np.linspace(0, w, 400)
    far = _ridge(rng, x, w, h, 0.50, 0.06, [(1.3, 1), (3.1, 0.4)], 0.02)
    _hill(ax, rng, x, w, h, far, "#8d9fc2", "#b7b8c8", 3, 0.03)
    middle = _ridge(rng, x, w, h, 0.60, 0.04, [(0.8, 1), (2.2, 0.5)], 0.01)
    _hill(ax, rng, x, w, h, middle, "#6f9a63", "#4d7a4a", 4)
    near = _ridge(rng, x, w, h, 0.72, 0.03, [(0.6, 1), (1.7, 0.4)], 0.004)
    _hill(ax, rng, x, w, h, near, "#8fb55a", "#3f6b2f", 6, 0.12)
    _houses(ax, rng, x, near, s)
    _trees(ax, rng, x, near, s)
    _path_and_grass(ax, rng, w, h, s)
    return _to_image(_to_array(fig), (512, 384))


# ---------------------------------------------------------------- style images


def _finger(x0: float, y0: float, length: float, width: float, turn: float) -> np.ndarray:
    """Outline of a tapered stroke that heads left and curls down and back: a foam claw."""
    t = np.linspace(0, 1, 32)
    phi = np.pi - turn * t**1.5  # heading: left, then down, then right (y points down)
    xs = x0 + np.cumsum(np.cos(phi)) * length / t.size
    ys = y0 + np.cumsum(np.sin(phi)) * length / t.size
    half = width * (1 - t) ** 0.7 + 0.02 * width
    nx, ny = -np.sin(phi) * half, np.cos(phi) * half
    return np.r_[np.c_[xs + nx, ys + ny], np.c_[xs - nx, ys - ny][::-1]]


def _fuji(ax, w: int, h: int, s: int, deep, foam) -> None:
    """Mount Fuji on the horizon (its snow cap in foam colour), and two bands of cloud."""
    fx, fy = 0.62 * w, 0.30 * h
    peak = [(fx - 20 * s, fy - 75 * s), (fx + 22 * s, fy - 75 * s)]
    mountain = [(fx - 150 * s, fy + 10 * s), *peak, (fx + 150 * s, fy + 10 * s)]
    ax.add_patch(Polygon(mountain, color=deep, lw=0, zorder=1))
    cap = [(fx - 58 * s, fy - 38 * s), *peak, (fx + 58 * s, fy - 38 * s),
           (fx + 30 * s, fy - 44 * s), (fx + 12 * s, fy - 34 * s), (fx - 8 * s, fy - 46 * s),
           (fx - 30 * s, fy - 36 * s)]
    ax.add_patch(Polygon(cap, color=foam, lw=0, zorder=1))
    for cy in (0.08, 0.17):
        xs = np.linspace(0, w, 200)
        ys = cy * h + 8 * s * np.sin(xs / (40 * s) + 10 * cy)
        ax.fill_between(xs, ys - 9 * s, ys + 9 * s, color="#d9cfb4", lw=0, zorder=1)


def _claws(ax, rng, wave: dict, c: int, s: int, colours: dict) -> None:
    """Foam claws at the crest at index c (curling fingers), and spray flung ahead of it."""
    x, y, x0, scale, z = wave["x"], wave["y"], wave["x0"], wave["scale"], wave["z"]
    cx, cy, a = x[c], y[c], wave["swell"][c]
    for finger in range(int(rng.integers(4, 7))):
        # start a little behind the crest, each finger a bit shorter than the last
        i = min(c + int(finger * 0.12 * a / (x0[1] - x0[0])), len(x) - 1)
        outline = _finger(x[i], y[i], (1.3 - 0.12 * finger) * a, rng.uniform(0.1, 0.14) * a,
                          rng.uniform(2.8, 3.6))
        ax.add_patch(Polygon(outline, facecolor=colours["foam"], edgecolor=colours["deep"],
                             lw=max(0.6, 1.2 * scale) * s, zorder=z + 0.3))
    n = 18  # spray flung ahead of the crest
    sx = cx - np.abs(rng.normal(0.2, 0.3, n)) * a
    sy = cy - rng.normal(0.1, 0.2, n) * a
    sr = rng.uniform(0.01, 0.025, n) * a + 0.6 * s
    spray = [Circle((a, b), q) for a, b, q in zip(sx, sy, sr, strict=True)]
    ax.add_collection(PatchCollection(spray, facecolor=colours["foam"],
                                      edgecolor=colours["mid"], lw=0.6 * s, zorder=z + 0.3))


def _wave_shape(rng, row: int, n_rows: int, w: int, h: int) -> dict:
    """One row of waves: its surface (x, y) over phase theta, crests leaning forward."""
    depth = row / (n_rows - 1)  # 0 far away ... 1 in front
    scale = 0.3 + 0.9 * depth**1.5
    base = (0.33 + 0.72 * depth**1.2) * h
    k = 2 * np.pi / (rng.uniform(0.9, 1.1) * 0.34 * w * scale)
    r = 0.8 / k * rng.uniform(0.9, 1.05)  # kr close to 1 gives sharp crests
    phase = rng.uniform(0, 2 * np.pi)
    x0 = np.linspace(-0.3 * w, 1.3 * w, 2000)
    theta = k * x0 + phase
    crest = ((1 + np.cos(theta)) / 2) ** 3  # 1 at the crest, 0 in the trough
    x = x0 - r * np.sin(theta) - 0.35 * r * crest  # crests lean forward (to the left)
    swell = 1.8 * r * (0.8 + 0.3 * np.sin(0.37 * theta + rng.uniform(0, 6)))
    y = base - swell * np.cos(theta) - 0.4 * swell * crest
    return dict(scale=scale, base=base, r=r, x0=x0, theta=theta, x=x, y=y, swell=swell,
                z=10 + 3 * row)


def _wave_row(ax, rng, row: int, n_rows: int, w: int, h: int, s: int, colours: dict) -> None:
    """One row of waves: a shaded body, striations along its surface, a crest line, foam."""
    wave = _wave_shape(rng, row, n_rows, w, h)
    x, y, r, z, scale = wave["x"], wave["y"], wave["r"], wave["z"], wave["scale"]
    poly = Polygon(np.c_[np.r_[x, x[-1], x[0]], np.r_[y, h + 10, h + 10]], lw=0)
    ax.add_patch(poly)
    poly.set_visible(False)
    t = np.clip((np.arange(h)[:, None, None] - (wave["base"] - 2 * r)) / (5 * r), 0, 1)
    mid, deep = colours["mid"], colours["deep"]
    fill = np.where(t < 0.6, (1 - t / 0.6) * mid + t / 0.6 * deep, deep)
    grain = _fractal(rng, w // 2, h // 2, (8, 32)).repeat(2, 0).repeat(2, 1)[..., None]
    body = np.clip(np.broadcast_to(fill, (h, w, 3)) * (1 + 0.07 * grain), 0, 1)
    ax.imshow(body, extent=(0, w, h, 0), zorder=z).set_clip_path(poly)
    # striations: lines that follow the wave's surface, thinner with depth below it
    for j in range(1, 14):
        off = j * 0.25 * r * (1 + 0.02 * j)
        ax.plot(x + 0.1 * off, y + off, color=colours["light"],
                lw=max(0.6, 3 * scale - 0.15 * j) * s, alpha=0.9 - 0.05 * j, zorder=z + 0.1)
    ax.plot(x, y, color=colours["foam"], lw=max(2, 5 * scale) * s, zorder=z + 0.2,
            solid_capstyle="round")
    # foam claws at each crest: curling fingers made of shrinking overlapping circles
    for c in np.nonzero(np.diff(np.floor(wave["theta"] / (2 * np.pi))) > 0)[0]:
        if -0.1 * w < x[c] < 1.1 * w:
            _claws(ax, rng, wave, c, s, colours)


def waves(seed: int = 2) -> Image.Image:
    """Hokusai-like: rows of Prussian-blue waves, small far off and big in front, foam claws."""
    rng = np.random.default_rng(seed)
    s = 2
    w = h = 512 * s
    fig, ax = _axes(w, h)
    y = np.linspace(0, 1, h)[:, None, None]
    sky = (1 - y) * _hex("#cbbd9c") + y * _hex("#f1e6c8")
    grain = _fractal(rng, w, h, (8, 32, 128))[..., None]
    sky = np.broadcast_to(sky, (h, w, 3)) * (1 + 0.05 * grain)
    ax.imshow(np.clip(sky, 0, 1), extent=(0, w, h, 0), zorder=0)
    colours = dict(deep=_hex("#11295a"), mid=_hex("#2a5b94"), light=_hex("#8fb4d6"),
                   foam="#fbf6ea")
    _fuji(ax, w, h, s, colours["deep"], colours["foam"])
    n_rows = 7
    for row in range(n_rows):
        _wave_row(ax, rng, row, n_rows, w, h, s, colours)
    return _to_image(_to_array(fig), (512, 512))


# swirls' vortices (x, y, radius, spin) and stars (x, y, radius), in unit coordinates
VORTICES = [(0.35, 0.38, 0.16, 1.0), (0.62, 0.30, 0.11, -1.0), (0.15, 0.15, 0.09, 1.0),
            (0.80, 0.55, 0.12, 1.0)]
STARS = [(0.82, 0.14, 0.075), (0.12, 0.46, 0.05), (0.50, 0.10, 0.04), (0.30, 0.12, 0.035),
         (0.92, 0.36, 0.04), (0.60, 0.55, 0.035)]


def _hills_y(u):
    """The skyline of swirls' hills at horizontal position u (unit coordinates)."""
    return 0.74 + 0.06 * np.sin(5.0 * u + 0.7) + 0.03 * np.sin(13 * u)


def _in_cypress(u, v):
    """Inside the flame-shaped tree on the left, pointed at the top."""
    half = 0.075 * np.clip((v - 0.22) / 0.78, 0, 1) ** 0.7
    return np.abs(u - 0.13 - 0.015 * np.sin(20 * v)) < half


def _flow(u, v, flow_noise):
    """Unit direction of the brush strokes at (u, v): vortices, rings round stars, hills, tree."""
    vx = 1.0 + 0.0 * u
    vy = 0.25 * np.sin(6 * u + 1.5)
    for cx, cy, r, spin in VORTICES:
        dx, dy = u - cx, v - cy
        d2 = dx * dx + dy * dy
        g = spin * 3.0 * np.exp(-d2 / (2 * r * r)) / np.sqrt(d2 + 1e-4) * r
        vx, vy = vx - g * dy / np.sqrt(d2 + 1e-4), vy + g * dx / np.sqrt(d2 + 1e-4)
    for cx, cy, r in STARS:  # concentric rings around each star
        dx, dy = u - cx, v - cy
        d = np.sqrt(dx * dx + dy * dy) + 1e-4
        g = 4 * np.exp(-((d / (2.6 * r)) ** 2))
        vx, vy = vx * (1 - g / 4) - g * dy / d, vy * (1 - g / 4) + g * dx / d
    iu = np.clip((u * 127).astype(int), 0, 127)
    iv = np.clip((v * 127).astype(int), 0, 127)
    vx = vx + 0.5 * flow_noise[0][iv, iu]
    vy = vy + 0.5 * flow_noise[1][iv, iu]
    below = v > _hills_y(u)  # strokes follow the slope of the hills
    vx = np.where(below, 1.0, vx)
    vy = np.where(below, 0.3 * np.cos(5.0 * u + 0.7) + 0.39 * np.cos(13 * u), vy)
    tree = _in_cypress(u, v)  # and lick upwards like flames in the cypress
    vx = np.where(tree, 0.7 * np.sin(40 * v + 25 * u), vx)
    vy = np.where(tree, -1.0, vy)
    norm = np.sqrt(vx * vx + vy * vy) + 1e-6
    return vx / norm, vy / norm


def _swirl_palettes() -> dict:
    """swirls' colours: night sky, pale band, gold stars, land, cypress."""
    def hexes(*colours):
        return [_hex(c) for c in colours]

    return dict(sky=hexes("#142a6e", "#1f3f8f", "#2d5fae", "#3f78c0", "#16307a", "#6c93c9"),
                pale=hexes("#a9c4d8", "#d7dfb6", "#8fb1d6", "#e8e2a6", "#c4d6e0"),
                gold=hexes("#f4d23c", "#f7e06a", "#e9b526", "#fff1a8", "#d8a520"),
                land=hexes("#1c3350", "#284a5e", "#3d5f52", "#182640", "#4d6e78"),
                tree=hexes("#15200f", "#2b4522", "#45552a", "#1a2236", "#6b5a2a", "#223a1c"))


def _swirl_colour(rng, u, v, palettes: dict):
    """A stroke's colour at (u, v): tree, land, star (in rings), the bright band, or night sky."""
    def pick(name):
        return palettes[name][rng.integers(len(palettes[name]))]

    if _in_cypress(u, v):
        return pick("tree")
    if v > _hills_y(u):
        return pick("land")
    for cx, cy, r in STARS:
        d = np.hypot(u - cx, v - cy)
        if d < r:
            return pick("gold")
        if d < 2.6 * r:
            ring = int(d / r * 3) % 2
            return palettes["gold" if ring else "pale"][rng.integers(5)]
    # a bright band that follows the big spiral: pale greens and creams
    band = abs(v - (0.42 + 0.1 * np.sin(7 * u + 0.3)))
    if band < 0.05 and rng.random() < 0.8:
        return pick("pale")
    if rng.random() < 0.04:
        return pick("gold")
    return pick("sky")


def _stroke_pass(ax, rng, w: int, h: int, s: int, stroke: tuple, flow_noise) -> None:
    """One pass of strokes on a jittered grid, each following the flow, outlined darker."""
    spacing, length, width, steps = stroke
    gx, gy = np.meshgrid(np.arange(0, w + 1, spacing * s), np.arange(0, h + 1, spacing * s))
    px = (gx + rng.uniform(-0.5, 0.5, gx.shape) * spacing * s).ravel()
    py = (gy + rng.uniform(-0.5, 0.5, gy.shape) * spacing * s).ravel()
    if width < 5:  # the finest pass only highlights part of the picture
        keep = rng.random(px.size) < 0.55
        px, py = px[keep], py[keep]
    pts = [np.c_[px, py]]
    step = length * s / steps * rng.uniform(0.7, 1.3, px.size)
    for _ in range(steps):
        vx, vy = _flow(pts[-1][:, 0] / w, pts[-1][:, 1] / h, flow_noise)
        pts.append(pts[-1] + np.c_[vx, vy] * step[:, None])
    segs = np.stack(pts, 1)
    palettes = _swirl_palettes()
    cols = np.array([_swirl_colour(rng, a / w, b / h, palettes)
                     for a, b in zip(px, py, strict=True)])
    cols = np.clip(cols * rng.uniform(0.9, 1.1, (len(cols), 1)), 0, 1)
    order = rng.permutation(len(segs))
    for colours, lw in ((cols[order] * 0.55, (width + 2) * s), (cols[order], width * s)):
        ax.add_collection(LineCollection(segs[order], colors=colours, linewidths=lw,
                                         capstyle="round", joinstyle="round"))


def swirls(seed: int = 3) -> Image.Image:
    """Van Gogh-like: thick short strokes following a swirling flow, deep blues and yellows."""
    rng = np.random.default_rng(seed)
    s = 2
    w = h = 512 * s
    fig, ax = _axes(w, h)
    ax.imshow(np.broadcast_to(_hex("#1b2f6b"), (h, w, 3)), extent=(0, w, h, 0), zorder=0)
    flow_noise = [_noise(rng, 128, 128, 6) for _ in range(2)]
    # three passes, coarse to fine, so there is texture at several scales
    for stroke in [(18, 34, 11, 6), (11, 22, 7, 6), (7, 13, 4, 5)]:
        _stroke_pass(ax, rng, w, h, s, stroke, flow_noise)
    return _to_image(_to_array(fig), (512, 512))


def _rose_window(rng, palette: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The mosaic's cell centres and colours: rings of a rose window, random cells outside."""
    centre = np.array([256.0, 256.0])
    pts, cols = [centre], [_hex("#f2d04b")]
    # rings of the rose window: symmetric points, one colour per ring (alternating in pairs)
    rings = [(22, 6), (48, 12), (80, 12), (112, 24), (150, 24), (190, 36), (235, 40)]
    for ring, (radius, count) in enumerate(rings):
        twist = (ring % 2) * np.pi / count
        ang = twist + 2 * np.pi * np.arange(count) / count
        pts += list(centre + radius * np.c_[np.cos(ang), np.sin(ang)])
        a, b = rng.choice(len(palette), 2, replace=False)
        cols += [palette[a] if i % 2 == 0 else palette[b] for i in range(count)]
    # the corners outside the window: random cells, larger further out
    for _ in range(4000):  # dart throwing: keep a point only if it is far enough from the rest
        p = rng.uniform(-20, n + 20, 2)
        r = np.linalg.norm(p - centre)
        if r < 255 or min(np.linalg.norm(np.asarray(pts) - p, axis=1)) < 0.11 * r:
            continue
        pts.append(p)
        cols.append(palette[rng.integers(len(palette))])
    return np.asarray(pts), np.asarray(cols)


def _two_nearest(xy: np.ndarray, pts: np.ndarray):
    """For each point of xy: the nearest of pts, its distance, and the second-nearest distance."""
    nearest = np.empty(len(xy), int)
    d1 = np.empty(len(xy), np.float32)
    d2 = np.empty(len(xy), np.float32)
    for i in range(0, len(xy), 16384):
        d = np.linalg.norm(xy[i : i + 16384, None, :] - pts[None], axis=2)
        two = np.argpartition(d, 1, axis=1)[:, :2]
        dd = np.take_along_axis(d, two, 1)
        swap = dd[:, 0] > dd[:, 1]
        two[swap] = two[swap][:, ::-1]
        dd[swap] = dd[swap][:, ::-1]
        nearest[i : i + 16384], d1[i : i + 16384], d2[i : i + 16384] = two[:, 0], dd[:, 0], dd[:, 1]
    return nearest, d1, d2


def mosaic(seed: int = 4) -> Image.Image:
    """Stained glass: a Voronoi rose window with dark leading and saturated, mottled glass."""
    rng = np.random.default_rng(seed)
    n = 512
    palette = [_hex(c) for c in ["#b3122e", "#1b3fa6", "#0f7a4a", "#e3a21a", "#6a1f8c",
                                 "#138a9e", "#d9541e", "#2b6fd6", "#f2d04b", "#8c1a4b"]]
    pts, cols = _rose_window(rng, palette, n)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    nearest, d1, d2 = _two_nearest(np.c_[xx.ravel(), yy.ravel()], pts)
    # distance to the cell border is (d2^2 - d1^2) / (2 |p2 - p1|); approximate with d2 - d1
    edge = ((d2 - d1) / 2).reshape(n, n)
    rgb = cols[nearest].reshape(n, n, 3)
    # glass: bright in the middle of each cell, mottled at two scales, lit from the upper left
    inner = np.clip(edge / 14, 0, 1)[..., None]
    light = 1.15 - 0.35 * ((xx + yy) / (2 * n))[..., None]
    mottle = 1 + 0.12 * _fractal(rng, n, n, (16, 48, 128))[..., None]
    streak = 1 + 0.06 * np.sin((xx * 0.7 + yy * 0.3) / 3 + 4 * _noise(rng, n, n, 8))[..., None]
    rgb = rgb * (0.55 + 0.55 * inner) * light * mottle * streak
    rgb = rgb + 0.25 * np.clip(inner - 0.6, 0, 1) * (rgb.mean(2, keepdims=True) > 0.4)
    # leading: dark lines where two cells meet, plus the circular frame of the window
    radius = np.hypot(xx - 256, yy - 256)
    lead = np.clip((3.2 - edge) / 1.2, 0, 1)
    lead = np.maximum(lead, np.clip((4.5 - np.abs(radius - 212)) / 1.2, 0, 1))
    leading = _hex("#1d1a1c") * (1 + 0.3 * _noise(rng, n, n, 64))[..., None]
    rgb = rgb * (1 - lead[..., None]) + leading * lead[..., None]
    return _to_image(rgb)


def _kandinsky_circles(ax, rng, w: int, h: int, s: int, palette: list) -> None:
    """Haloed circles of many sizes; the big ones get an inner circle and a ring."""
    sizes = np.r_[rng.uniform(70, 120, 3), rng.uniform(25, 60, 14), rng.uniform(5, 20, 40)]
    for i, r in enumerate(sizes):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = r * s
        halo, core, ring = rng.choice(palette, 3, replace=False)
        z = 10 + i
        ax.add_patch(Circle((cx, cy), r * 1.45, color=halo, alpha=0.35, lw=0, zorder=z))
        ax.add_patch(Circle((cx, cy), r * 1.15, color=halo, alpha=0.6, lw=0, zorder=z))
        ax.add_patch(Circle((cx, cy), r, color=core, alpha=0.88, lw=0, zorder=z))
        if r > 40 * s:
            ax.add_patch(Circle((cx + 0.2 * r, cy - 0.15 * r), 0.45 * r, color=ring, alpha=0.9,
                                lw=0, zorder=z))
            ax.add_patch(Circle((cx, cy), r * 0.8, fill=False, ec="#111111", lw=2 * s, zorder=z))


def _shapes(ax, rng, w: int, s: int, palette: list) -> None:
    """A few triangles and a checkerboard, as in Composition VIII."""
    for _ in range(5):
        c = rng.uniform(0, w, 2)
        tri = c + rng.uniform(-90, 90, (3, 2)) * s
        ax.add_patch(Polygon(tri, color=rng.choice(palette), alpha=0.8, lw=0, zorder=40))
    bx, by = rng.uniform(0.1, 0.7, 2) * w
    for i in range(5):
        for j in range(5):
            col = "#111111" if (i + j) % 2 else rng.choice(palette)
            ax.add_patch(Rectangle((bx + 16 * s * i, by + 16 * s * j), 16 * s, 16 * s, color=col,
                                   lw=0, zorder=45))


def circles(seed: int = 5) -> Image.Image:
    """Kandinsky-like: haloed circles of many sizes, thin lines and a few sharp shapes on dark."""
    rng = np.random.default_rng(seed)
    s = 2
    w = h = 512 * s
    fig, ax = _axes(w, h)
    y = np.linspace(0, 1, h)[:, None, None]
    bg = (1 - y) * _hex("#1a1c2c") + y * _hex("#2b2440")
    bg = bg * (1 + 0.25 * _fractal(rng, w, h, (4, 12, 40, 120))[..., None])
    ax.imshow(np.clip(np.broadcast_to(bg, (h, w, 3)), 0, 1), extent=(0, w, h, 0), zorder=0)
    palette = ["#e63b2e", "#f2b134", "#2f7bd9", "#3bb273", "#c13dd1", "#f7f0dc", "#f26d21",
               "#1e2a8c", "#8fd0e8", "#ea4f88"]
    # thin straight lines behind and in front of the circles
    for z in (1, 50):
        for _ in range(10):
            x0, y0 = rng.uniform(0, w, 2)
            ang = rng.uniform(0, np.pi)
            ln = rng.uniform(150, 600) * s
            ax.plot([x0, x0 + ln * np.cos(ang)], [y0, y0 + ln * np.sin(ang)],
                    color=rng.choice(["#f7f0dc", "#111111", "#f2b134"]),
                    lw=rng.uniform(1, 4) * s, zorder=z)
    _kandinsky_circles(ax, rng, w, h, s, palette)
    _shapes(ax, rng, w, s, palette)
    rgb = _to_array(fig)
    rgb = rgb * (1 + 0.06 * _fractal(rng, w, h, (64, 256))[..., None])  # canvas grain
    return _to_image(rgb, (512, 512))


# ---------------------------------------------------------------- what each drawn image is

IMAGES = {
    "content/grace_hopper.jpg": (
        grace_hopper,
        "Photograph: Grace Hopper in uniform",
        "resized from matplotlib `mpl-data/sample_data/grace_hopper.jpg`",
        "public domain (US Navy photo)",
    ),
    "content/landscape.jpg": (
        landscape,
        "Drawn scene: village, hills, trees, low sun, path",
        "`landscape()`",
        "CC0",
    ),
    "style/swirls.jpg": (
        swirls,
        "Van Gogh-like swirling brush strokes, blues and yellows",
        "`swirls()`",
        "CC0",
    ),
    "style/waves.jpg": (
        waves,
        "Hokusai-like bands of blue waves, white crests, foam claws",
        "`waves()`",
        "CC0",
    ),
    "style/mosaic.jpg": (
        mosaic,
        "Stained-glass rose window: Voronoi cells, dark leading",
        "`mosaic()`",
        "CC0",
    ),
    "style/circles.jpg": (
        circles,
        "Kandinsky-like haloed circles, lines, triangles on dark",
        "`circles()`",
        "CC0",
    ),
}


# ---------------------------------------------------------------- the paper's images


class Paper(NamedTuple):
    """One of the paper's images: where its copy goes, the original's size and sha256, credits."""

    file: str  # in data/
    size: tuple[int, int]  # of the original
    source_sha256: str
    title: str
    author: str
    licence: str
    source: str


NEURAL_STYLE = "[jcjohnson/neural-style](https://github.com/jcjohnson/neural-style)"
PAPER = {
    "tubingen": Paper(
        "content/tubingen.jpg",
        (1024, 768),
        REGISTRY["tubingen"].sha256,
        "Neckarfront in Tübingen",
        "Andreas Praefcke (photograph)",
        "CC BY-SA 3.0; this reduced copy is a derivative under the same licence",
        f"`examples/inputs/tubingen.jpg` of {NEURAL_STYLE}",
    ),
    "starry_night": Paper(
        "style/starry_night.jpg",
        (1024, 640),
        REGISTRY["starry_night"].sha256,
        "The Starry Night, 1889",
        "Vincent van Gogh",
        "public domain (painter died 1890)",
        f"`examples/inputs/starry_night.jpg` of {NEURAL_STYLE}",
    ),
    "the_scream": Paper(
        "style/the_scream.jpg",
        (1200, 1528),
        REGISTRY["the_scream"].sha256,
        "The Scream, 1893",
        "Edvard Munch",
        "public domain (painter died 1944)",
        f"`examples/inputs/the_scream.jpg` of {NEURAL_STYLE}",
    ),
    "shipwreck": Paper(
        "style/shipwreck.jpg",
        (960, 662),
        REGISTRY["shipwreck"].sha256,
        "The Shipwreck of the Minotaur, c. 1810",
        "J. M. W. Turner",
        "public domain (painter died 1851)",
        f"`examples/inputs/shipwreck.jpg` of {NEURAL_STYLE}",
    ),
    "composition_vii": Paper(
        "style/composition_vii.jpg",
        (1071, 712),
        "8f992ed4aecd6dd56972d7bc8166761de7c94e670ee6effa8fd05f3daeb33409",  # not in REGISTRY
        "Composition VII, 1913",
        "Wassily Kandinsky",
        "public domain (painter died 1944)",
        "`styles/composition_vii.jpg` of Stanford CS231n's 2020 assignment 3",
    ),
}


def reduce(path: Path, enlarge: bool = True) -> Image.Image:
    """An original, longest side resized to MAX_SIDE with a Lanczos filter on the sRGB values
    (with enlarge=False, one already at most MAX_SIDE is kept as it is)."""
    # Plain sRGB rather than linear light on purpose: nst_teach resizes sRGB values too
    # (transfer._resize_longest), so the bundled copy is what a full-size download becomes at
    # 512 px. Linear light would make The Starry Night 7/255 brighter on average than that.
    with Image.open(path) as original:
        image = original.convert("RGB")
    scale = MAX_SIDE / max(image.size)
    if scale >= 1 and not enlarge:
        return image
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)


def check_original(original: Path, expected: str, missing: str, whose: str, use: str) -> None:
    """Stop with one line saying what to do unless `original` is a file with sha256 `expected`.

    `missing`: what to pass when it is not there; `whose` file has `expected`; `use`: what to do
    when the file differs."""
    if not original.is_file():
        raise SystemExit(f"{original} is missing: {missing}")
    got = sha256(original)
    if got != expected:
        raise SystemExit(f"{original} has sha256 {got[:12]}... but {whose} has {expected[:12]}...: "
                         f"{use}")


def _check_originals(source: Path) -> None:
    """Stop, before anything is written, unless `source` holds each original with its sha256."""
    if not source.is_dir():
        raise SystemExit(
            f"{source} is not a folder: pass --paper-source DIR, the originals' folder"
        )
    for name, paper in PAPER.items():
        check_original(source / f"{name}.jpg", paper.source_sha256,
                       "pass --paper-source DIR, a folder with it", "the paper's file",
                       "use the original (see data/README.md)")


def make_paper(source: Path) -> None:
    """Check the originals in `source` against their sha256, reduce each, save it in data/."""
    _check_originals(source)
    for name, paper in PAPER.items():
        original = source / f"{name}.jpg"
        with Image.open(original) as full:
            assert full.size == paper.size, (name, full.size)  # the README states it
        image = reduce(original)
        (DATA / paper.file).parent.mkdir(parents=True, exist_ok=True)
        image.save(DATA / paper.file, quality=PAPER_QUALITY, optimize=True)
        _report(paper.file, image)


# ---------------------------------------------------------------- scikit-image's photographs


class Photo(NamedTuple):
    """A photograph shipped in a package's wheel: where its copy goes, the original, credits."""

    file: str  # in data/
    package: str  # "skimage" (files in skimage/data) or "sklearn" (sklearn/datasets/images)
    source_file: str  # in the package's data folder
    size: tuple[int, int]  # of the original
    source_sha256: str  # skimage/data/_registry.py's, or of scikit-learn 1.9.1's file
    title: str
    author: str
    licence: str  # as the package states it (skimage.data docstrings, sklearn's README.txt)


SKIMAGE_VERSION = "0.26.0"  # the wheels the originals were checked in; the sha256 pins each file
SKLEARN_VERSION = "1.9.1"
DATA_FOLDERS = {"skimage": ("data",), "sklearn": ("datasets", "images")}
PACKAGE_NAMES = {"skimage": "scikit-image", "sklearn": "scikit-learn"}
VERSIONS = {"skimage": SKIMAGE_VERSION, "sklearn": SKLEARN_VERSION}
PHOTOS = {
    "astronaut": Photo(
        "photos/astronaut.jpg", "skimage", "astronaut.png", (512, 512),
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        "Astronaut Eileen Collins", "NASA (NASA Great Images, https://flic.kr/p/r9qvLn)",
        "public domain (no known copyright restrictions)",
    ),
    "chelsea": Photo(
        "photos/chelsea.jpg", "skimage", "chelsea.png", (451, 300),
        "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
        "Chelsea the cat", "Stefan van der Walt", "CC0 (dedicated by the photographer)",
    ),
    "coffee": Photo(
        "photos/coffee.jpg", "skimage", "coffee.png", (600, 400),
        "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
        "A cup of coffee, courtesy of Pikolo Espresso Bar", "Rachel Michetti",
        "CC0 (dedicated by the photographer)",
    ),
    "rocket": Photo(
        "photos/rocket.jpg", "skimage", "rocket.jpg", (640, 427),
        "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
        "Falcon 9 launching DSCOVR, Cape Canaveral, 2015", "SpaceX",
        "public domain (released by SpaceX)",
    ),
    "camera": Photo(
        "photos/camera.jpg", "skimage", "camera.png", (512, 512),
        "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
        "Man with a camera (greyscale)", "Lav Varshney",
        "CC0 (no copyright restrictions, by the photographer)",
    ),
    "coins": Photo(
        "photos/coins.jpg", "skimage", "coins.png", (384, 303),
        "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba",
        "Greek coins from Pompeii (greyscale)", "Brooklyn Museum, open collection",
        "public domain (no known copyright restrictions)",
    ),
    "brick": Photo(
        "photos/brick.jpg", "skimage", "brick.png", (512, 512),
        "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
        "A brick wall (greyscale)", "CC0Textures (Bricks25)", "CC0",
    ),
    "grass": Photo(
        "photos/grass.jpg", "skimage", "grass.png", (512, 512),
        "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
        "Grass (greyscale)", "linolafett (DeviantArt)", "CC0",
    ),
    "gravel": Photo(
        "photos/gravel.jpg", "skimage", "gravel.png", (512, 512),
        "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
        "Gravel (greyscale)", "CC0Textures (Gravel04)", "CC0",
    ),
    "hubble": Photo(
        "photos/hubble.jpg", "skimage", "hubble_deep_field.jpg", (1000, 872),
        "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
        "Hubble eXtreme Deep Field", "NASA (HubbleSite, 2012)", "public domain (NASA)",
    ),
    "retina": Photo(
        "photos/retina.jpg", "skimage", "retina.jpg", (1411, 1411),
        "38a07f36f27f095e818aea7b96d34202c05176d30253c66733f2e00379e9e0e6",
        "Fundus photograph of a normal left eye", "Mikael Häggström (Wikimedia Commons)",
        "CC0 (public domain dedication)",
    ),
    "ihc": Photo(
        "photos/ihc.jpg", "skimage", "ihc.png", (512, 512),
        "f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef",
        "Colonic glands, immunohistochemical staining",
        "Center for Microscopy And Molecular Imaging (CMMI)",
        "public domain (no known copyright restrictions)",
    ),
    "flower": Photo(
        "photos/flower.jpg", "sklearn", "flower.jpg", (640, 427),
        "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638",
        "A flower (Flickr photo 6056698931)", "vultilion (https://www.flickr.com/photos/vultilion/)",
        "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)",
    ),
    "china": Photo(
        "photos/china.jpg", "sklearn", "china.jpg", (640, 427),
        "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29",
        "A temple in China (Flickr photo 6061409035)",
        "danielbuechele (https://www.flickr.com/photos/danielbuechele/)",
        "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)",
    ),
}


def package_data_dir(package: str) -> Path | None:
    """The photos' folder of an installed package (DATA_FOLDERS), found without importing it."""
    spec = importlib.util.find_spec(package)  # a top-level package: located, not executed
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*DATA_FOLDERS[package])


def make_photos(package: str, source: Path) -> None:
    """Check a package's photographs in `source` by sha256, reduce each into data/photos."""
    photos = [p for p in PHOTOS.values() if p.package == package]
    version = VERSIONS[package]
    for photo in photos:  # all checked before anything is written
        check_original(source / photo.source_file, photo.source_sha256,
                       f"pass --{package}-source DIR, its {'/'.join(DATA_FOLDERS[package])}",
                       f"{PACKAGE_NAMES[package]} {version}'s",
                       "use that file (see data/README.md)")
    for photo in photos:
        original = source / photo.source_file
        with Image.open(original) as full:
            assert full.size == photo.size, (photo.file, full.size)  # the README states it
        image = reduce(original, enlarge=False)
        (DATA / photo.file).parent.mkdir(parents=True, exist_ok=True)
        image.save(DATA / photo.file, quality=PAPER_QUALITY, optimize=True)
        _report(photo.file, image)


def _photos(package: str, source: Path | None) -> None:
    """A package's photographs from `source` or the installed package, else the committed ones."""
    source = source or package_data_dir(package)
    if source is not None:
        make_photos(package, source)
        return
    missing = [p.file for p in PHOTOS.values() if p.package == package
               and not (DATA / p.file).is_file()]
    if missing:
        raise SystemExit(f"{PACKAGE_NAMES[package]} not found and {missing} not made: install "
                         f"it or pass --{package}-source DIR (its photos' folder)")
    print(f"{PACKAGE_NAMES[package]} not found: kept the committed photographs")


def _report(rel: str, image: Image.Image) -> None:
    size = f"{image.size[0]}x{image.size[1]}"
    kib = (DATA / rel).stat().st_size / 1024
    print(f"{rel:26s} {size:8s} {kib:6.1f} KiB  {sha256(DATA / rel)[:12]}")


# ---------------------------------------------------------------- README tables

README = """# Bundled images

Small images that ship with the repository, so that every notebook and test runs offline.
All are at most 512 px on the longest side. Get their paths by name with
`nst_teach.data.content_path("tubingen")`, `style_path("starry_night")` or
`bundled("composition_vii")`; `nst_teach.data.list_images()` lists every name.

## Drawn and photographed for this project

| file | what | made by | licence | sha256 |
|---|---|---|---|---|
{rows}

"made by" names a function in `scripts/make_data.py` unless it says otherwise. The drawn
images are dedicated to the public domain (CC0); the script that draws them is MIT licensed,
like the rest of the project.

## The paper's images

The photograph and four of the paintings of Gatys, Ecker & Bethge (2015), Figures 2 and 3
(Picasso's *Femme nue assise*, Figure 2E, is not public domain and is not here). Each is
reduced from the original by `reduce()` in `scripts/make_data.py`: longest side to 512 px with
a Lanczos filter applied to the sRGB values (not in linear light: `nst_teach` resizes sRGB
values too, so a copy is what a full-size download becomes at 512 px), JPEG quality {quality},
no metadata. The script checks each original's sha256 (given in "source") first.
Full-size copies of all but Composition VII download on first use with
`nst_teach.data.fetch("starry_night")` when you are online (see `nst_teach.data.REGISTRY`);
`content_or_paper()` and `style_or_paper()` prefer such a download when it is cached.

| file | title | painter or photographer | licence | source | sha256 |
|---|---|---|---|---|---|
{paper_rows}

**Tübingen.** The photograph "Neckarfront in Tübingen" is by Andreas Praefcke and licensed
under [CC BY-SA 3.0](https://creativecommons.org/licenses/by-sa/3.0/). `content/tubingen.jpg`
is a derivative of it (reduced from 1024x768 to 512x384 and re-encoded) and is licensed under
CC BY-SA 3.0 as well; the project's MIT licence does not apply to it. The painters of
the four paintings died more than 70 years ago; the paintings are in the public domain.

## Photographs from scikit-image and scikit-learn

Twelve photographs that scikit-image ships in its wheel (`skimage/data/`) and two that
scikit-learn ships in its (`sklearn/datasets/images/`): what notebook 11's feed-forward network
trains on (all but `china`, kept out with Tübingen and Grace Hopper to judge it on photographs it
never saw; `nst_teach.feedforward.TRAINING_PHOTOS` and `HELD_OUT`). Eight show scenes and things;
the other six (a brick wall, grass, gravel, the Hubble deep field, a retina, a stained
microscope slide) add textures and colours the scenes lack. They are in
`nst_teach.data.PHOTO_IMAGES`, by name with `content_path("astronaut")`. Each is read as a file
from an installed scikit-image {skimage_version} or scikit-learn {sklearn_version} (neither is
imported), checked against its sha256 (scikit-image's `skimage/data/_registry.py`; for
scikit-learn, of the file in that wheel; given in "source"), reduced by `reduce()` as the paper's
images are (those at most 512 px keep their size; the greyscale ones become RGB) and saved as
JPEG quality {quality}. The licences are those stated in the docstrings of `skimage.data`'s
functions and in `sklearn/datasets/images/README.txt`.

**CC BY 2.0.** `photos/flower.jpg` and `photos/china.jpg` are reduced copies of photographs
licensed under [CC BY 2.0](https://creativecommons.org/licenses/by/2.0/) by their Flickr
authors (credited in the table); the copies are under the same licence, not the project's MIT
licence.

| file | title | photographer | licence | source | sha256 |
|---|---|---|---|---|---|
{photo_rows}

## Making them again

    python scripts/make_data.py                              # everything
    python scripts/make_data.py --paper-only --paper-source DIR
    python scripts/make_data.py --photos-only [--skimage-source DIR] [--sklearn-source DIR]

The drawn images need nothing but the project's environment. The paper's copies are made from
the originals in `--paper-source` (default `../shared/data` beside the repository; the four in
`REGISTRY` are the files `fetch()` saves in `nst_teach.data.cache_dir()`); when that folder is
missing, the committed copies are kept; so are the photographs when scikit-image or
scikit-learn is not installed (nothing else needs them). The drawing is deterministic (fixed
seeds), but JPEG bytes can differ between Pillow / libjpeg versions, so a regenerated file may
have a different sha256; the script rewrites the tables, and `tests/test_data.py` checks the
committed files against them.
"""


def _rows() -> tuple[list[str], list[str], list[str]]:
    """The three tables' rows, each with the sha256 of the file now in data/."""
    rows = [
        f"| `{rel}` | {what} | {how} | {licence} | `{sha256(DATA / rel)}` |"
        for rel, (_, what, how, licence) in IMAGES.items()
    ]
    paper_rows = [
        f"| `{p.file}` | {p.title} | {p.author} | {p.licence} | {p.source}, "
        f"{p.size[0]}x{p.size[1]}, sha256 `{p.source_sha256[:12]}...` | `{sha256(DATA / p.file)}` |"
        for p in PAPER.values()
    ]
    photo_rows = [
        f"| `{p.file}` | {p.title} | {p.author} | {p.licence} | "
        f"`{'/'.join((p.package, *DATA_FOLDERS[p.package], p.source_file))}` of "
        f"{PACKAGE_NAMES[p.package]} {VERSIONS[p.package]}, {p.size[0]}x{p.size[1]}, "
        f"sha256 `{p.source_sha256[:12]}...` | "
        f"`{sha256(DATA / p.file)}` |"
        for p in PHOTOS.values()
    ]
    return rows, paper_rows, photo_rows


def make_drawn() -> None:
    """Draw (or resize) the project's own images into data/."""
    for rel, (make, *_) in IMAGES.items():
        path = DATA / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image = make()
        assert max(image.size) <= MAX_SIDE, (rel, image.size)
        image.save(path, quality=JPEG_QUALITY, optimize=True)
        _report(rel, image)


def _paper(paper_source: Path | None) -> None:
    """The paper's copies from `paper_source` (or PAPER_SOURCE when it exists), else kept."""
    source = paper_source or PAPER_SOURCE
    if source.is_dir() or paper_source:
        make_paper(source)
        return
    missing = [p.file for p in PAPER.values() if not (DATA / p.file).is_file()]
    if missing:
        raise SystemExit(f"{source} not found and {missing} not made: pass --paper-source DIR")
    print(f"{source} not found: kept the committed copies of the paper's images")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper-source", type=Path, help="folder with the paper's originals")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--paper-only", action="store_true", help="only the paper's images")
    only.add_argument("--photos-only", action="store_true",
                      help="only the photographs of scikit-image and scikit-learn")
    parser.add_argument("--skimage-source", type=Path, help="skimage/data of scikit-image")
    parser.add_argument("--sklearn-source", type=Path,
                        help="sklearn/datasets/images of scikit-learn")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if not (args.paper_only or args.photos_only):
        make_drawn()
    if not args.photos_only:
        _paper(args.paper_source)
    if not args.paper_only:
        _photos("skimage", args.skimage_source)
        _photos("sklearn", args.sklearn_source)
    rows, paper_rows, photo_rows = _rows()
    text = README.format(
        rows="\n".join(rows),
        paper_rows="\n".join(paper_rows),
        photo_rows="\n".join(photo_rows),
        quality=PAPER_QUALITY,
        skimage_version=SKIMAGE_VERSION,
        sklearn_version=SKLEARN_VERSION,
    )
    (DATA / "README.md").write_text(text, encoding="utf-8")
    print(f"wrote data/README.md in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
