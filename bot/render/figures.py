"""Figures: a :class:`~bot.answers.Figure` request → PNG bytes, and the service that draws them.

:func:`render_png` is pure and synchronous: the terminal calls it directly. It imports
matplotlib on first use (Agg backend, object-oriented API, no pyplot and no global
``rcParams`` changes), so neither ``import bot.answers`` nor a text answer pays for it.
Every picture is 800 px wide with large type, an opaque light card that reads the same
in Discord's dark and light themes, and the Okabe–Ito colour-blind-safe palette; colour
is never the only cue (line styles and marker shapes differ too).

:class:`FigureService` is design.md's one ``submit(job)`` interface for heavy work: it
draws in a small, bounded thread pool off the event loop, with a time box, and keeps the
bytes in a cache behind a two-method interface (memory now, a shared store later). A
multi-process or remote version only has to offer the same ``render`` coroutine.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import Future as ConcurrentFuture
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final, Protocol

import numpy as np

from bot.answers import (
    EQUATION,
    NERNST_VERSUS_RATIO,
    POTENTIAL_LINE,
    VM_VERSUS_K_OUT,
    WHATIF_LINE,
    Figure,
    millivolts,
)
from bot.physiology import nernst_potential
from bot.physiology.formatting import format_number
from bot.physiology.sweeps import nernst_versus_ratio, vm_versus_k_out

log = logging.getLogger(__name__)

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
STYLE_VERSION: Final = "2"
"""Part of every cache key: bump it when the drawings change, so no old picture is served."""

WIDTH_PX: Final = 800
DPI: Final = 100
HEIGHT_PX: Final = {VM_VERSUS_K_OUT: 600, NERNST_VERSUS_RATIO: 600, POTENTIAL_LINE: 340, WHATIF_LINE: 620}
"""Heights of the fixed-size kinds; an equation image is as tall as its equation needs."""

# Okabe M, Ito K. Color Universal Design (2008): distinguishable with every common colour-vision deficiency.
BLACK: Final = "#000000"
ORANGE: Final = "#E69F00"
SKY_BLUE: Final = "#56B4E9"
GREEN: Final = "#009E73"
BLUE: Final = "#0072B2"
VERMILLION: Final = "#D55E00"
PURPLE: Final = "#CC79A7"

CARD: Final = "#F4F4F4"
"""Opaque light-grey card: dark text on it reads in Discord's dark and light themes alike."""
PLOT: Final = "#FFFFFF"
INK: Final = "#1A1A1A"
MUTED: Final = "#555555"
GRID: Final = "#CFCFCF"

TITLE_PT: Final = 20
TEXT_PT: Final = 17
TICK_PT: Final = 16
EQUATION_PT: Final = 26
MIN_PT: Final = 14
"""No text is drawn smaller than this (at 100 dpi: 19 px, legible on a phone at 800 px wide)."""

ION_STYLE: Final[dict[str, tuple[str, str]]] = {
    "K": (BLUE, "s"),
    "Na": (VERMILLION, "^"),
    "Cl": (GREEN, "D"),
    "Ca": (PURPLE, "o"),
    "Mg": (ORANGE, "P"),
    "H": (SKY_BLUE, "X"),
    "custom": (BLUE, "o"),
    "Vm": (BLACK, "v"),
}

_LOCK = threading.RLock()
"""matplotlib's mathtext parser and font cache are shared by every figure in the process;
``Figure.draw`` takes its own lock, but measuring text outside a draw does not. One lock
around each drawing keeps renders in different worker threads from meeting there."""


@cache
def _mpl() -> SimpleNamespace:
    """matplotlib, imported on the first figure only, with the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    return SimpleNamespace(Figure=MplFigure, Canvas=FigureCanvasAgg, ticker=ticker, Line2D=Line2D, Rectangle=Rectangle)


def render_png(figure: Figure) -> bytes:
    """Draw ``figure`` and return the PNG bytes. Pure: the same request gives the same bytes."""
    draw = _DRAWERS.get(figure.kind)
    if draw is None:
        raise ValueError(f"unknown figure kind {figure.kind!r}")
    with _LOCK:
        mpl = _mpl()
        height = HEIGHT_PX.get(figure.kind, 200)
        canvas_figure = mpl.Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor=CARD)
        canvas = mpl.Canvas(canvas_figure)
        draw(canvas_figure, figure.params())
        buffer = io.BytesIO()
        canvas.print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def save_figures(figures: Iterable[Figure], directory: Path) -> list[Path]:
    """Render each figure synchronously into ``directory`` (created if missing); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in figures:
        path = directory / figure.filename
        path.write_bytes(render_png(figure))
        written.append(path)
    return written


# --- drawing helpers -----------------------------------------------------------------------


def _math(name: str) -> str:
    """The engine's own names (E_K, V_m, E_Cl) as mathtext with an upright subscript."""
    symbol, _, subscript = name.partition("_")
    return f"${symbol}_{{\\mathrm{{{subscript}}}}}$" if subscript else name


def _ion_math(symbol: str) -> str:
    """K⁺, Cl⁻, Ca²⁺, X²⁻ as mathtext."""
    element = symbol.rstrip("⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    charge = symbol[len(element) :].translate(str.maketrans("⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "+-0123456789"))
    return f"\\mathrm{{{element}^{{{charge}}}}}"


def _minus(text: str) -> str:
    return text.replace("-", "−")


def _header(fig: Any, title: str, subtitle: str) -> None:
    """Title and subtitle in the card's top band, left-aligned, where a phone shows them first."""
    height, room = fig.bbox.height, 0.96 * fig.bbox.width
    title_pt = max(MIN_PT, min(TITLE_PT, TITLE_PT * room / _text_px(fig, title, TITLE_PT, "bold")))
    subtitle_pt = max(MIN_PT - 2, min(MIN_PT + 1, (MIN_PT + 1) * room / _text_px(fig, subtitle, MIN_PT + 1)))
    fig.text(0.02, 1 - 12 / height, title, fontsize=title_pt, fontweight="bold", color=INK, ha="left", va="top")
    fig.text(0.02, 1 - 48 / height, subtitle, fontsize=subtitle_pt, color=MUTED, ha="left", va="top")


def _legend(fig: Any, ax: Any) -> None:
    """The legend in one row under the subtitle: it never covers a curve or a label."""
    height = fig.bbox.height
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="upper left",
        bbox_to_anchor=(0.01, 1 - 76 / height),
        ncol=3,
        fontsize=MIN_PT + 1,
        frameon=False,
        handlelength=2.4,
        columnspacing=1.4,
        labelcolor=INK,
    )


def _style(ax: Any) -> None:
    ax.set_facecolor(PLOT)
    ax.tick_params(labelsize=TICK_PT, colors=INK, length=6, width=1.2)
    for spine in ax.spines.values():
        spine.set_color(INK)
        spine.set_linewidth(1.2)
    ax.grid(True, which="major", color=GRID, linewidth=1.0, linestyle="-")


def _log_axis(ax: Any, low: float, high: float) -> None:
    mpl = _mpl()
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    decades = round(math.log10(high) - math.log10(low))
    step = max(1, math.ceil(decades / 7))
    ax.xaxis.set_major_locator(mpl.ticker.LogLocator(base=10.0**step, numticks=decades + 2))
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(_decade))


def _decade(value: float, _: Any = None) -> str:
    """A log-axis tick: 0.001 … 1000 as written, beyond that as a power of ten."""
    if 1e-3 <= value <= 1e3:
        return format_number(value, 3)
    return f"$10^{{{round(math.log10(value))}}}$"


def _y_limits(ax: Any, values: Sequence[float]) -> None:
    low, high = min(values), max(values)
    pad = max(8.0, 0.16 * (high - low))
    ax.set_ylim(low - pad, high + pad)


def _text_px(fig: Any, text: str, size: float, weight: str = "normal") -> float:
    """The drawn width of ``text`` in pixels (measured, not guessed)."""
    probe = fig.text(0, 0, text, fontsize=size, fontweight=weight)
    width = probe.get_window_extent(fig.canvas.get_renderer()).width
    probe.remove()
    return float(width)


def _label_point(
    fig: Any,
    ax: Any,
    x: float,
    y: float,
    text: str,
    *,
    rising: bool,
    above: bool,
    fraction: float,
    colour: str,
    may_flip: bool = False,
) -> None:
    """Label a marked point on a side of its line where nothing else is drawn.

    Above-left and below-right of a rising line are free (above-right and below-left of a
    falling one). The label goes ``above`` or below as asked, on the free side if the
    axes have room there; with ``may_flip`` it takes the other free corner instead, and
    otherwise it moves further off the line on the side that has room.
    """
    axis_px = ax.get_position().width * fig.bbox.width
    need = _text_px(fig, text, TEXT_PT, "bold") + 34
    room = {True: fraction * axis_px, False: (1 - fraction) * axis_px}  # True: room on the left

    def free_left(up: bool) -> bool:
        return up == rising

    left, lift = free_left(above), 14
    if room[left] < need:
        if may_flip and room[free_left(not above)] >= need:
            above = not above
            left = free_left(above)
        else:
            left, lift = not left, 30
    ax.annotate(
        text,
        (x, y),
        xytext=(-14 if left else 14, lift if above else -lift),
        textcoords="offset points",
        ha="right" if left else "left",
        va="bottom" if above else "top",
        fontsize=TEXT_PT,
        color=INK,
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.25", "facecolor": PLOT, "edgecolor": colour, "linewidth": 1.6},
        zorder=6,
    )


def _x_fraction(value: float, low: float, high: float) -> float:
    return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))


# --- the kinds -------------------------------------------------------------------------------

_PLOT_AXES: Final = (0.14, 0.13, 0.81, 0.64)


def _draw_vm_versus_k_out(fig: Any, p: dict[str, Any]) -> None:
    low, high = p["k_out_range"]
    temperature, k_in, k_out = p["temperature_c"], p["k_in"], p["k_out"]
    k = np.logspace(math.log10(low), math.log10(high), 241)
    vm = np.asarray(vm_versus_k_out(temperature, p["ions"], k), dtype=float)
    ek = np.asarray(nernst_potential(1, k_in, k, temperature), dtype=float)
    _header(
        fig,
        "Resting potential as outside K⁺ changes",
        f"{p['preset_name']} · [K⁺]i {format_number(k_in)} mM · {format_number(temperature)} °C",
    )
    ax = fig.add_axes(_PLOT_AXES)
    _style(ax)
    ax.axhline(0.0, color=MUTED, linewidth=1.0)
    ax.plot(k, vm, color=BLACK, linewidth=3.4, label=f"{_math('V_m')} (GHK)")
    ax.plot(k, ek, color=BLUE, linewidth=3.0, linestyle=(0, (5, 2.5)), label=f"{_math('E_K')} (Nernst)")
    ax.axvline(k_out, color=MUTED, linewidth=1.8, linestyle=":", label=f"[K⁺]o {format_number(k_out)} mM")
    ax.plot([k_out], [p["ek_mv"]], marker="s", markersize=12, color=BLUE, markeredgecolor=INK, clip_on=False, zorder=5)
    ax.plot(
        [k_out],
        [p["vm_mv"]],
        marker="o",
        markersize=15,
        color=ORANGE,
        markeredgecolor=INK,
        mew=2,
        clip_on=False,
        zorder=5,
    )
    _log_axis(ax, low, high)
    _y_limits(ax, [*vm, *ek])
    fraction = _x_fraction(k_out, low, high)
    vm_above = p["vm_mv"] >= p["ek_mv"]
    for value, text, colour, above in (
        (p["vm_mv"], f"{_math('V_m')} {millivolts(p['vm_mv'])}", INK, vm_above),
        (p["ek_mv"], f"{_math('E_K')} {millivolts(p['ek_mv'])}", BLUE, not vm_above),
    ):
        _label_point(fig, ax, k_out, value, text, rising=True, above=above, fraction=fraction, colour=colour)
    ax.set_xlabel(r"$[\mathrm{K^{+}}]_{\mathrm{o}}$, outside (mM, log scale)", fontsize=TEXT_PT, color=INK)
    ax.set_ylabel("Potential (mV)", fontsize=TEXT_PT, color=INK)
    _legend(fig, ax)


def _draw_nernst_versus_ratio(fig: Any, p: dict[str, Any]) -> None:
    low, high = p["ratio_range"]
    valence, temperature = p["valence"], p["temperature_c"]
    ratio = p["outside_mm"] / p["inside_mm"]
    colour, marker = ION_STYLE.get(p["ion"], ION_STYLE["custom"])
    r = np.logspace(math.log10(low), math.log10(high), 121)
    e = np.asarray(nernst_versus_ratio(valence, r, temperature), dtype=float)
    slope = abs(float(nernst_versus_ratio(valence, 10.0, temperature)))
    ion = _ion_math(p["symbol"])
    name = _math(p["name"])
    _header(
        fig,
        f"Nernst potential of {p['symbol']} against its gradient",
        _minus(
            f"z = {valence:+d} · {format_number(temperature)} °C · {format_number(slope, 4)} mV per tenfold ratio"
            f" · {format_number(p['outside_mm'])} mM out, {format_number(p['inside_mm'])} mM in"
        ),
    )
    ax = fig.add_axes(_PLOT_AXES)
    _style(ax)
    ax.axhline(0.0, color=MUTED, linewidth=1.0)
    ax.plot(r, e, color=colour, linewidth=3.4, label=f"{name} (Nernst)")
    ax.axvline(1.0, color=MUTED, linewidth=1.8, linestyle=":", label="equal: 0 mV")
    ax.plot(
        [ratio],
        [p["e_mv"]],
        marker=marker,
        markersize=16,
        color=colour,
        markeredgecolor=INK,
        markeredgewidth=2,
        linestyle="none",
        clip_on=False,
        zorder=5,
        label=f"ratio {_minus(format_number(ratio, 3))}",
    )
    _log_axis(ax, low, high)
    _y_limits(ax, [*e, 0.0])
    _label_point(
        fig,
        ax,
        ratio,
        p["e_mv"],
        f"{name} {millivolts(p['e_mv'])}",
        rising=valence > 0,
        above=True,
        fraction=_x_fraction(ratio, low, high),
        colour=colour,
        may_flip=True,
    )
    ax.set_xlabel(
        f"$[{ion}]_{{\\mathrm{{o}}}}\\,/\\,[{ion}]_{{\\mathrm{{i}}}}$, outside / inside (log scale)",
        fontsize=TEXT_PT,
        color=INK,
    )
    ax.set_ylabel(f"{name} (mV)", fontsize=TEXT_PT, color=INK)
    _legend(fig, ax)


@dataclass(frozen=True, slots=True)
class _Label:
    anchor: float
    text: str
    colour: str
    bold: bool = False


def _place(fig: Any, ax: Any, labels: Sequence[_Label], rows: int) -> list[tuple[str, int]]:
    """Alignment and row for each label so that none runs off the axis or over another.

    A label is centred on its mark unless that would cross an edge; then it starts or
    ends at the mark. Labels go into the first row with room, at most ``rows`` rows.
    """
    low, high = ax.get_xlim()
    per_px = (high - low) / (ax.get_position().width * fig.bbox.width)
    gap = 10 * per_px
    ends: list[float] = []
    placed: list[tuple[str, int]] = []
    for label in labels:
        size = TEXT_PT if label.bold else MIN_PT + 1  # as drawn: a bold label is the larger one
        width = (_text_px(fig, label.text, size, "bold" if label.bold else "normal") + 12) * per_px
        if label.anchor - width / 2 < low:
            ha, start = "left", label.anchor - 6 * per_px
        elif label.anchor + width / 2 > high:
            ha, start = "right", label.anchor - width + 6 * per_px
        else:
            ha, start = "center", label.anchor - width / 2
        row = next((i for i, end in enumerate(ends) if start >= end + gap), None)
        if row is None:
            if len(ends) < rows:
                row = len(ends)
                ends.append(start + width)
            else:
                row = min(range(len(ends)), key=lambda i: ends[i])
        ends[row] = start + width
        placed.append((ha, row))
    return placed


def _number_line(ax: Any, low: float, high: float) -> None:
    ax.set_facecolor(PLOT)
    ax.set_xlim(low, high)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(INK)
    ax.tick_params(axis="x", labelsize=TICK_PT, colors=INK, length=6, width=1.2)
    ax.grid(True, axis="x", color=GRID, linewidth=1.0)
    ax.axhline(0.0, color=INK, linewidth=2.4, zorder=1)
    ax.set_xlabel("Membrane potential (mV)", fontsize=TEXT_PT, color=INK)


def _span(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(*values, 0.0), max(*values, 0.0)
    pad = max(10.0, 0.06 * (high - low))
    return low - pad, high + pad


_ROW: Final = 0.62
"""Height of one row of labels on a number line, in the line's own units."""


def _marks_below(fig: Any, ax: Any, labels: Sequence[_Label], rows: int) -> None:
    """Labels under the line, in rows, each joined to its mark by a thin stem."""
    for label, (ha, row) in zip(labels, _place(fig, ax, labels, rows), strict=True):
        top = -0.42 - _ROW * row
        ax.plot([label.anchor, label.anchor], [0.0, top], color=label.colour, linewidth=1.6, zorder=2)
        ax.text(
            label.anchor,
            top - 0.06,
            label.text,
            ha=ha,
            va="top",
            fontsize=MIN_PT + 1,
            fontweight="bold" if label.bold else "normal",
            color=INK,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": PLOT, "edgecolor": label.colour, "linewidth": 1.4},
            zorder=4,
        )


def _marks_above(fig: Any, ax: Any, labels: Sequence[_Label], base: float) -> None:
    for label, (ha, row) in zip(labels, _place(fig, ax, labels, 2), strict=True):
        ax.text(
            label.anchor,
            base + 0.5 * row,
            label.text,
            ha=ha,
            va="bottom",
            fontsize=TEXT_PT if label.bold else MIN_PT + 1,
            fontweight="bold" if label.bold else "normal",
            color=INK,
            zorder=5,
        )


def _draw_potential_line(fig: Any, p: dict[str, Any]) -> None:
    marks = p["marks"]
    low, high = _span([value for _, _, value in marks])
    vm = next(value for name, _, value in marks if name == "V_m")
    _header(
        fig,
        f"Equilibrium potentials and {_math('V_m')}",
        f"{p['preset_name']} · {format_number(p['temperature_c'])} °C",
    )
    ax = fig.add_axes((0.03, 0.2, 0.94, 0.6))
    _number_line(ax, low, high)
    ax.set_ylim(-2.25, 1.3)
    ions = [(name, key, value) for name, key, value in marks if key != "Vm"]
    for _, key, value in ions:
        colour, marker = ION_STYLE.get(key, ION_STYLE["custom"])
        ax.plot([value], [0.0], marker=marker, markersize=15, color=colour, markeredgecolor=INK, zorder=3)
    labels = [
        _Label(value, f"{_math(name)} {millivolts(value)}", ION_STYLE.get(key, ION_STYLE["custom"])[0])
        for name, key, value in ions
    ]
    _marks_below(fig, ax, labels, 3)
    ax.plot([vm], [0.4], marker="v", markersize=22, color=BLACK, zorder=5)
    _marks_above(fig, ax, [_Label(vm, f"{_math('V_m')} {millivolts(vm)}", INK, bold=True)], 0.72)


ZOOM_MARK_PX: Final = 18
"""The narrowest the magnified window is drawn on the context line, so it can be found there."""
ZOOM_FILL: Final = "#FCEBD0"
"""The magnified window's colour, the same in both panels: a light tint of the orange V_m mark."""


def _draw_whatif_line(fig: Any, p: dict[str, Any]) -> None:
    """Two panels. Above, the context: every equilibrium potential on one number line, each
    one that moves with an arrow, and a tinted window where V_m moves. Below, that window
    magnified so that a change of a few mV is a long arrow at phone width, with the Δ in mV
    written on it and before and after labelled at its ends."""
    before, after = p["vm_mv"]
    potentials = p["potentials"]
    low, high = _span([before, after, *(v for _, _, old, new in potentials for v in (old, new))])
    zoom_low, zoom_high = p["zoom_mv"]  # chosen beside the alt text, which states it
    _header(fig, f"What if: {p['title']}", f"{p['preset_name']} · open marks: before · filled: after")
    height = fig.bbox.height

    ax = fig.add_axes((0.03, 1 - 300 / height, 0.94, 212 / height))
    _number_line(ax, low, high)
    ax.set_xlabel("")
    ax.set_ylim(-2.25, 1.5)
    per_px = (high - low) / (ax.get_position().width * fig.bbox.width)
    shown = max(zoom_high - zoom_low, ZOOM_MARK_PX * per_px)  # a window too narrow to see is drawn wider
    centre = (before + after) / 2
    ax.add_patch(
        _mpl().Rectangle(
            (centre - shown / 2, 0.3), shown, 0.5, facecolor=ZOOM_FILL, edgecolor=ORANGE, linewidth=2.0, zorder=4
        )
    )
    _marks_above(fig, ax, [_Label(centre, f"{_math('V_m')}, magnified below", INK, bold=True)], 0.88)
    labels = []
    for name, key, old, new in sorted(potentials, key=lambda row: row[3]):
        colour, marker = ION_STYLE.get(key, ION_STYLE["custom"])
        if abs(new - old) >= 0.05:
            ax.plot([old], [0.0], marker=marker, markersize=15, color=PLOT, markeredgecolor=colour, mew=2.5, zorder=3)
            ax.annotate(
                "",
                (new, 0.0),
                xytext=(old, 0.0),
                arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 2.6, "shrinkA": 8, "shrinkB": 8},
                zorder=3,
            )
            text = f"{_math(name)} {millivolts(old)} → {millivolts(new)}"
        else:
            text = f"{_math(name)} {millivolts(old)}"
        ax.plot([new], [0.0], marker=marker, markersize=15, color=colour, markeredgecolor=INK, zorder=3)
        labels.append(_Label(new, text, colour))
    _marks_below(fig, ax, labels, 3)

    zoom = fig.add_axes((0.03, 1 - 525 / height, 0.94, 170 / height))
    _number_line(zoom, zoom_low, zoom_high)
    zoom.set_facecolor(ZOOM_FILL)
    for spine in zoom.spines.values():
        spine.set_visible(True)
        spine.set_color(ORANGE)
        spine.set_linewidth(2.0)
    zoom.set_xlabel(f"{_math('V_m')}, magnified (mV)", fontsize=TEXT_PT, color=INK)
    inside = [row for row in potentials if zoom_low <= row[3] <= zoom_high]  # an E that V_m nears
    zoom.set_ylim(-1.9, 1.45)
    for _, key, _, new in inside:
        colour, marker = ION_STYLE.get(key, ION_STYLE["custom"])
        zoom.plot([new], [0.0], marker=marker, markersize=13, color=colour, markeredgecolor=INK, zorder=4)
    zoom.plot([before], [0.0], marker="o", markersize=15, color=PLOT, markeredgecolor=BLACK, mew=2.5, zorder=5)
    zoom.plot([after], [0.0], marker="o", markersize=15, color=ORANGE, markeredgecolor=INK, mew=2, zorder=5)
    change = after - before
    if abs(change) >= 0.05:
        zoom.annotate(
            "",
            (after, 0.45),
            xytext=(before, 0.45),
            arrowprops={"arrowstyle": "-|>,head_length=0.9,head_width=0.5", "color": BLACK, "linewidth": 4.5},
            zorder=5,
        )
        verb = "depolarizes" if change > 0 else "hyperpolarizes"
        delta = f"Δ{_math('V_m')} = {_minus(f'{change:+.1f}')} mV: {verb}"
    else:
        delta = f"{_math('V_m')} barely changes"
    zoom.text(centre, 0.72, delta, ha="center", va="bottom", fontsize=TITLE_PT, fontweight="bold", color=INK)
    ends = sorted(
        [
            _Label(before, f"before {millivolts(before)}", BLACK),
            _Label(after, f"after {millivolts(after)}", ORANGE, bold=True),
            *(
                _Label(new, f"{_math(name)} {millivolts(new)}", ION_STYLE.get(key, ION_STYLE["custom"])[0])
                for name, key, _, new in inside
            ),
        ],
        key=lambda label: label.anchor,
    )
    _marks_below(fig, zoom, ends, 2)


def _draw_equation(fig: Any, p: dict[str, Any]) -> None:
    """The engine's LaTeX in mathtext, 800 px wide and as tall as it needs.

    Fractions are drawn display-size (``\\dfrac``: numerator and denominator at full size,
    where a phone needs them); an equation too wide for 800 px is shrunk until it fits
    (only long user-typed numbers make it so), never cut off.
    """
    pad = 24
    available = WIDTH_PX - 2 * pad
    text = "$" + p["latex"].replace(r"\frac", r"\dfrac") + "$"
    artist = fig.text(0.5, 0.5, text, fontsize=EQUATION_PT, color=INK, ha="center", va="center")
    renderer = fig.canvas.get_renderer()
    box = artist.get_window_extent(renderer)
    size = float(EQUATION_PT)
    while box.width > available:
        size *= min(0.97, available / box.width)
        artist.set_fontsize(size)
        box = artist.get_window_extent(renderer)
    fig.set_size_inches(WIDTH_PX / DPI, math.ceil(box.height + 2 * pad) / DPI)


PROGRESS_BARS: Final = "progress-bars"  # bot.answers.progress.PROGRESS_BARS (that module loads the scheduler)
_LEVEL_NAMES: Final = ("new", "learning", "familiar", "mastered")


def _draw_progress_bars(fig: Any, p: dict[str, Any]) -> None:
    """/progress show: one bar per topic, its length the level (0 new … 3 mastered), the share
    of right answers written beside it. As tall as the topics need."""
    bars = list(p["bars"])
    rows = max(1, len(bars))
    height = 110 + 46 * rows
    fig.set_size_inches(WIDTH_PX / DPI, height / DPI)
    _header(fig, "Your mastery by topic", "new · learning · familiar · mastered (FSRS)")
    ax = fig.add_axes((0.34, 36 / height, 0.52, (height - 110) / height))
    _style(ax)
    colours = (MUTED, ORANGE, BLUE, BLACK)
    for row, (slug, level, attempts, correct) in enumerate(bars):
        y = rows - 1 - row
        ax.barh(y, max(level, 0.06), height=0.62, color=colours[level], edgecolor=INK, linewidth=1.0)
        ax.text(-0.08, y, slug, ha="right", va="center", fontsize=TEXT_PT, color=INK)
        share = f"{correct}/{attempts} right" if attempts else _LEVEL_NAMES[level]
        ax.text(max(level, 0.06) + 0.06, y, share, ha="left", va="center", fontsize=TEXT_PT - 2, color=INK)
    ax.set_xlim(0, 3.9)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_xticks(range(4), list(_LEVEL_NAMES), fontsize=TEXT_PT - 3, color=INK)
    ax.set_yticks([])


_DRAWERS: Final[dict[str, Callable[[Any, dict[str, Any]], None]]] = {
    PROGRESS_BARS: _draw_progress_bars,
    VM_VERSUS_K_OUT: _draw_vm_versus_k_out,
    NERNST_VERSUS_RATIO: _draw_nernst_versus_ratio,
    POTENTIAL_LINE: _draw_potential_line,
    WHATIF_LINE: _draw_whatif_line,
    EQUATION: _draw_equation,
}


# --- the service -----------------------------------------------------------------------------


class FigureError(Exception):
    """A figure that could not be drawn; ``reason`` is short enough to show a user."""

    def __init__(self, figure: Figure, reason: str) -> None:
        super().__init__(f"{figure.filename}: {reason}")
        self.figure = figure
        self.reason = reason


class FigureCache(Protocol):
    """Where drawn figures are kept, by key: process memory now, a shared store later."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, png: bytes) -> None: ...


class MemoryFigureCache:
    """A least-recently-used cache of PNG bytes, bounded by count and by total size."""

    def __init__(self, max_items: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, key: str) -> bytes | None:
        png = self._items.get(key)
        if png is not None:
            self._items.move_to_end(key)
        return png

    def put(self, key: str, png: bytes) -> None:
        if key in self._items:
            self._bytes -= len(self._items.pop(key))
        if self.max_items <= 0 or len(png) > self.max_bytes:
            return
        self._items[key] = png
        self._bytes += len(png)
        while len(self._items) > self.max_items or self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class FigureStats:
    """Counters: cache ``hits`` and ``misses``; of the misses, ``rendered`` drawings, ``failures``,
    ``timeouts``, and ``rejected`` ones (too many already waiting)."""

    hits: int = 0
    misses: int = 0
    rendered: int = 0
    failures: int = 0
    timeouts: int = 0
    rejected: int = 0


Renderer = Callable[[Figure], bytes]


class FigureService:
    """Draws figures off the event loop: a bounded pool, a time box, a cache, counters.

    ``render`` is the one entry point (design.md's ``submit(job)``). Equal requests that
    arrive while one is being drawn share that drawing. A drawing that outlives its time
    box still finishes in its worker and fills the cache for next time; jobs still queued
    or running are bounded by ``max_pending``, beyond which a request fails at once
    rather than wait. ``renderer`` is the test hook (one that raises or hangs).
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        timeout: float = 5.0,
        max_pending: int = 16,
        cache: FigureCache | None = None,
        cache_size: int = 256,
        renderer: Renderer = render_png,
        processes: bool = False,
    ) -> None:
        self.workers = workers
        self.processes = processes
        self.timeout = timeout
        self.max_pending = max_pending
        self.cache: FigureCache = cache if cache is not None else MemoryFigureCache(cache_size)
        self.renderer = renderer
        self.stats = FigureStats()
        self._pool: Executor | None = None
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._drawing: dict[str, asyncio.Future[bytes]] = {}

    @staticmethod
    def key(figure: Figure) -> str:
        return f"{STYLE_VERSION}:{figure.cache_key()}"

    async def render(self, figure: Figure) -> bytes:
        """The figure's PNG bytes, from the cache or drawn now; :class:`FigureError` if not."""
        key = self.key(figure)
        png = self.cache.get(key)
        if png is not None:
            self.stats.hits += 1
            return png
        self.stats.misses += 1
        job = self._drawing.get(key) or self._submit(figure, key)
        try:
            return await asyncio.wait_for(asyncio.shield(job), self.timeout)
        except TimeoutError:
            self.stats.timeouts += 1
            log.warning("figure %s took longer than %.1f s", figure.filename, self.timeout)
            raise FigureError(figure, "timed out") from None
        except FigureError:
            raise
        except Exception as error:
            self.stats.failures += 1
            log.error("figure %s failed", figure.filename, exc_info=error)
            raise FigureError(figure, "failed") from error

    async def render_all(self, figures: Sequence[Figure]) -> dict[Figure, bytes]:
        """Every figure that could be drawn (concurrently); the others are logged and left out."""
        results = await asyncio.gather(*(self.render(figure) for figure in figures), return_exceptions=True)
        drawn: dict[Figure, bytes] = {}
        for figure, result in zip(figures, results, strict=True):
            if isinstance(result, bytes):
                drawn[figure] = result
            elif not isinstance(result, FigureError):  # pragma: no cover - render turns errors into FigureError
                raise result
        return drawn

    def _submit(self, figure: Figure, key: str) -> asyncio.Future[bytes]:
        with self._pending_lock:
            if self._pending >= self.max_pending:
                self.stats.rejected += 1
                raise FigureError(figure, "busy")
            self._pending += 1
        work: ConcurrentFuture[bytes] = self._executor().submit(_checked, self.renderer, figure)
        work.add_done_callback(self._finished)
        job = asyncio.wrap_future(work)
        self._drawing[key] = job
        job.add_done_callback(partial(self._settle, key))
        return job

    def _finished(self, _: ConcurrentFuture[bytes]) -> None:  # in the worker thread
        with self._pending_lock:
            self._pending -= 1

    def _settle(self, key: str, job: asyncio.Future[bytes]) -> None:
        self._drawing.pop(key, None)
        if job.cancelled() or job.exception() is not None:  # exception() also marks it retrieved
            return
        self.stats.rendered += 1
        self.cache.put(key, job.result())

    def _executor(self) -> Executor:
        """Threads for tests and the terminal; processes for the bot (``processes=True``).

        Drawing is Python work that holds the GIL: in threads it stalled the event loop by
        up to a switch interval (5 ms) per answer while figures drew (bench/bench_figures.py).
        Worker processes have their own interpreter, so text answers never wait for a figure.
        """
        if self._pool is None:
            if self.processes:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),  # never fork a process with threads
                    initializer=_prepare_worker,
                    initargs=(self.renderer, os.getpid()),
                )
            else:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="figure")
        return self._pool

    def warm_up(self) -> None:
        """Start drawing a small equation in a worker now (matplotlib's import, its font cache,
        mathtext), so the first student's figure does not pay for them inside its time box.
        Returns at once; nothing is cached and a failure is only logged. Worker processes
        each warm up as they start."""
        pool = self._executor()
        pool.submit(int if self.processes else partial(_warm_up, self.renderer))  # int(): starts the workers

    @property
    def pending(self) -> int:
        """Jobs queued or running in the pool (including ones past their time box)."""
        return self._pending

    def close(self) -> None:
        """Stop taking work; queued jobs are dropped, running ones finish on their own."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


WARM_UP: Final = Figure(EQUATION, "warm-up.png", "warm-up", (("latex", r"V_{m} = \frac{R T}{F}"),))


WORKER_NICENESS: Final = 10
"""Figures are background work: when a core is contested, the event loop answering text wins."""


PARENT_CHECK_SECONDS: Final = 1.0


def _prepare_worker(renderer: Renderer, parent: int) -> None:
    """In each new worker process: follow the bot out if it dies, step back in the
    scheduler's queue, then load matplotlib."""
    _exit_with_parent(parent)
    os.nice(WORKER_NICENESS)
    _warm_up(renderer)


def _exit_with_parent(parent: int) -> None:
    """A worker holds both ends of its task queue, so it never sees the queue close when
    the bot is killed (kill -9, the OOM killer) and would wait forever, 100+ MB each, for
    work that cannot come. A daemon thread notices the bot is gone and ends the worker."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm_up(renderer: Renderer) -> None:
    try:
        renderer(WARM_UP)
    except Exception:  # the real request will fail, and say so; this one only prepares
        log.warning("figure warm-up failed", exc_info=True)


def _checked(renderer: Renderer, figure: Figure) -> bytes:
    """Run the renderer and insist on PNG bytes, so nothing else is ever cached or sent."""
    png = renderer(figure)
    if not isinstance(png, bytes) or not png.startswith(PNG_SIGNATURE):
        raise TypeError(f"the renderer returned {type(png).__name__}, not PNG bytes")
    return png
