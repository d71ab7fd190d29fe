"""Figures (bot/render/figures.py and the Figure requests of bot/answers/), opened and checked.

Every kind of figure the bot can send, for every preset, scenario and ion it can be drawn
for (and a few extreme inputs), is rendered once per module and opened with Pillow: a
valid PNG, 800 px wide at the expected height, opaque (the light card, in Discord's dark
and light themes alike), well under Discord's upload limit, with alt text of at most 1,024
characters that states the numbers the picture shows, checked against values computed here
independently (math.log, not the engine). The service draws off the event loop with a
time box, caches by the request and counts hits; matplotlib is imported only when a figure
is drawn (MPLBACKEND=Agg, from conftest.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, cli_env, nernst_mv, run_cli
from PIL import Image

from bot.answers import EQUATIONS_PER_ANSWER, FIGURE_KINDS, Answer, Figure, answer, millivolts
from bot.commands import COMMANDS, Request
from bot.physiology import IONS, PRESETS, scenarios
from bot.physiology.notation import format_number
from bot.render.figures import (
    FigureError,
    FigureService,
    MemoryFigureCache,
    render_png,
)
from bot.render.terminal import render_text

# design.md: Discord's limits; the sizes this issue asks for.
ALT_TEXT = 1024
UPLOAD = 10 * 1024 * 1024
WIDTH = 800
HEIGHTS = {"vm-vs-k-out": 600, "nernst-vs-ratio": 600, "potential-line": 340, "whatif-line": 620}
EQUATION_HEIGHTS = range(60, 401)
PNG = b"\x89PNG\r\n\x1a\n"
CARD = (244, 244, 244)  # the opaque light-grey card
OKABE_ITO_BLUE = (0, 114, 178)
R = 8.314462618
F = 96485.33212


def _requests() -> Iterator[Request]:
    for preset in PRESETS:
        yield Request("restpot", {"preset": preset, "detail": "plot"})
        yield Request("restpot", {"preset": preset, "detail": "steps"})
        yield Request("nernst", {"ion": "K", "preset": preset, "detail": "plot"})
        for scenario in scenarios():
            yield Request("whatif", {"scenario": scenario, "preset": preset})  # clinical × squid: an error
    for ion in IONS:
        yield Request("nernst", {"ion": ion, "inside": 2.0, "outside": 20.0, "detail": "plot"})
    for valence in (-3, -2, 2, 3):
        yield Request("nernst", {"ion": "custom", "valence": valence, "inside": 1.0, "outside": 10.0, "detail": "plot"})
    yield Request("nernst", {"ion": "Cl", "detail": "plot"})  # a falling line
    yield Request("nernst", {"ion": "Ca", "inside": 1e-4, "outside": 2.0, "detail": "steps"})
    yield Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "temperature": 20.0, "detail": "steps"})
    # the edges of what a student may type
    yield Request("restpot", {"detail": "plot", "k_in": 1e-6, "k_out": 1000.0, "na_in": 1000.0, "na_out": 1e-6})
    yield Request("restpot", {"detail": "plot", "p_k": 0.0, "p_na": 1.0})  # V_m does not follow [K⁺]o at all
    yield Request("restpot", {"detail": "plot", "k_out": 200.0, "temperature": 0.0})
    yield Request("restpot", {"detail": "plot", "p_k": 1e-320})  # a subnormal permeability
    yield Request("nernst", {"ion": "custom", "valence": -2, "inside": 1e-6, "outside": 1000.0, "detail": "plot"})
    yield Request("nernst", {"ion": "K", "inside": 5.0, "outside": 5.0, "detail": "plot"})  # 0 mV
    yield Request(
        "restpot",
        {
            "detail": "steps",
            **{name: 123.457 for name in ("k_in", "k_out", "na_in", "na_out", "cl_in", "cl_out")},
            "p_cl": 0.123457,
            "temperature": 36.6,
        },
    )


@pytest.fixture(scope="module")
def catalogue() -> list[tuple[Answer, Figure]]:
    """Every (answer, figure) pair of the requests above, each figure once."""
    seen: set[str] = set()
    pairs = []
    for request in _requests():
        result = answer(request)
        for figure in result.figures:
            if figure.cache_key() not in seen:
                seen.add(figure.cache_key())
                pairs.append((result, figure))
    return pairs


@pytest.fixture(scope="module")
def drawn(catalogue: list[tuple[Answer, Figure]]) -> dict[str, tuple[bytes, float]]:
    """PNG bytes and seconds to draw, by cache key."""
    out = {}
    for _, figure in catalogue:
        start = time.perf_counter()
        png = render_png(figure)
        out[figure.cache_key()] = (png, time.perf_counter() - start)
    return out


# --- the requests: which answers carry which figures --------------------------------------------


def test_detail_offers_plot_beside_summary_and_steps() -> None:
    for name in ("restpot", "nernst"):
        option = COMMANDS[name].option("detail")
        assert option is not None
        assert [choice.value for choice in option.choices] == ["summary", "steps", "plot"]


def test_the_catalogue_covers_every_kind_and_every_scenario(catalogue: list[tuple[Answer, Figure]]) -> None:
    assert {figure.kind for _, figure in catalogue} == set(FIGURE_KINDS)
    whatifs = {figure.filename for _, figure in catalogue if figure.kind == "whatif-line"}
    assert whatifs == {f"whatif-{slug}.png" for slug in scenarios()}
    assert len(catalogue) >= 40


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        ({"command": "restpot", "detail": "plot"}, ["vm-vs-k-out", "potential-line"]),
        ({"command": "nernst", "ion": "K", "detail": "plot"}, ["nernst-vs-ratio"]),
        ({"command": "whatif", "scenario": "hyperkalemia"}, ["whatif-line"]),
        ({"command": "restpot"}, []),
        ({"command": "restpot", "detail": "summary"}, []),
        ({"command": "nernst", "ion": "Na"}, []),
        ({"command": "explain", "topic": "leak-channels"}, []),
        ({"command": "help"}, []),
        ({"command": "nernst", "ion": "K", "inside": 0.0, "detail": "plot"}, []),  # an error answer
    ],
)
def test_which_answers_carry_figures(options: dict[str, Any], kinds: list[str]) -> None:
    command = options.pop("command")
    result = answer(Request(command, options))
    assert [figure.kind for figure in result.figures] == kinds
    assert len({figure.filename for figure in result.figures}) == len(result.figures)


@pytest.mark.parametrize(
    "request_",
    [
        Request("restpot", {"detail": "steps"}),
        Request("restpot", {"detail": "steps", "p_na": 0.0}),  # five steps, four with fractions
        Request("nernst", {"ion": "Ca", "detail": "steps"}),
        Request("nernst", {"ion": "K", "detail": "steps", "temperature": 20.0}),
    ],
    ids=["ghk", "ghk-one-ion", "nernst-37", "nernst-20"],
)
def test_steps_attach_the_fraction_steps_as_equation_images(request_: Request) -> None:
    result = answer(request_)
    fractions = [(n, step) for n, step in enumerate(result.steps, start=1) if r"\frac" in step.latex]
    assert fractions, "every derivation has a fraction"
    assert len(result.figures) == min(len(fractions), EQUATIONS_PER_ANSWER) <= 4
    stem = "restpot" if request_.command == "restpot" else f"nernst-{request_.options['ion'].lower()}"
    for figure, (number, step) in zip(result.figures, fractions, strict=False):
        assert figure.kind == "equation"
        assert re.fullmatch(rf"{stem}-[0-9a-f]{{8}}-step-{number}\.png", figure.filename), figure.filename
        assert figure.params() == {"latex": step.latex}  # the engine's LaTeX, never user text
        assert figure.alt_text == f"Step {number}: {step.unicode}"  # the Unicode form is the alt text


def test_a_figure_is_a_hashable_cache_key_without_its_numbers_in_json() -> None:
    first = answer(Request("restpot", {"detail": "plot"})).figures[0]
    again = answer(Request("restpot", {"detail": "plot"})).figures[0]
    other = answer(Request("restpot", {"detail": "plot", "k_out": 6.0})).figures[0]
    assert first == again and hash(first) == hash(again) and first.cache_key() == again.cache_key()
    assert first.cache_key() != other.cache_key()
    assert len({first, again, other}) == 2
    data = json.loads(json.dumps(answer(Request("restpot", {"detail": "plot"})).to_json()))
    assert [set(item) for item in data["figures"]] == [{"kind", "filename", "alt_text"}] * 2


# --- every figure, opened ------------------------------------------------------------------------


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_every_figure_is_a_valid_opaque_png_of_the_expected_size(
    catalogue: list[tuple[Answer, Figure]], drawn: dict[str, tuple[bytes, float]]
) -> None:
    for _, figure in catalogue:
        png, _ = drawn[figure.cache_key()]
        assert png.startswith(PNG), figure.filename
        assert len(png) < UPLOAD and len(png) < 512 * 1024, (figure.filename, len(png))
        image = _open(png)
        assert image.format == "PNG"
        width, height = image.size
        assert width == WIDTH, figure.filename
        if figure.kind == "equation":
            assert height in EQUATION_HEIGHTS, (figure.filename, height)
        else:
            assert height == HEIGHTS[figure.kind], figure.filename
        rgba = image.convert("RGBA")
        assert rgba.getextrema()[3] == (255, 255), f"{figure.filename} is not opaque"
        assert rgba.getpixel((2, 2))[:3] == CARD, "the card background reaches the corners"


def test_figures_render_quickly_and_identically(
    catalogue: list[tuple[Answer, Figure]], drawn: dict[str, tuple[bytes, float]]
) -> None:
    seconds = sorted(elapsed for _, elapsed in drawn.values())
    assert seconds[len(seconds) // 2] < 0.5, "the median figure takes well under a second"
    assert seconds[-1] < 3.0, "even the first (which imports matplotlib) is quick"
    _, figure = catalogue[0]
    assert render_png(figure) == drawn[figure.cache_key()][0], "same request, same bytes"


def test_the_plots_use_the_okabe_ito_palette(
    catalogue: list[tuple[Answer, Figure]], drawn: dict[str, tuple[bytes, float]]
) -> None:
    sweep = next(figure for _, figure in catalogue if figure.kind == "vm-vs-k-out")
    colours = {colour for _, colour in _open(drawn[sweep.cache_key()][0]).convert("RGB").getcolors(1 << 20)}
    assert OKABE_ITO_BLUE in colours  # E_K's dashed line
    assert (0, 0, 0) in colours  # V_m's solid line


def test_every_alt_text_fits_discord_and_has_one_line(catalogue: list[tuple[Answer, Figure]]) -> None:
    for _, figure in catalogue:
        assert 0 < len(figure.alt_text) <= ALT_TEXT, figure.filename
        assert "\n" not in figure.alt_text


def _ghk_mv(result: Any, k_out: float) -> float:
    """V_m from the GHK voltage equation, written out here with math.log."""
    top = bottom = 0.0
    for ion in result.ions:
        if ion.permeability is None:
            continue
        outside = k_out if ion.ion == "K" else ion.outside_mm
        inside = ion.inside_mm
        if ion.valence > 0:
            top, bottom = top + ion.permeability * outside, bottom + ion.permeability * inside
        else:
            top, bottom = top + ion.permeability * inside, bottom + ion.permeability * outside
    return 1000.0 * R * (273.15 + result.temperature_c) / F * math.log(top / bottom)


def _says(alt: str, value: float) -> None:
    assert millivolts(value) in alt, (millivolts(value), alt)


def test_alt_text_states_the_numbers_each_figure_shows(catalogue: list[tuple[Answer, Figure]]) -> None:
    for result, figure in catalogue:
        alt, p = figure.alt_text, figure.params()
        engine = result.result
        if figure.kind == "vm-vs-k-out":
            potassium = engine.ion("K")
            assert (p["vm_mv"], p["ek_mv"], p["k_out"]) == (
                engine.vm_mv,
                potassium.equilibrium_mv,
                potassium.outside_mm,
            )
            assert result.headline.removeprefix("V_m = ") in alt  # the answer's own number
            _says(alt, potassium.equilibrium_mv)
            assert f"[K⁺]o = {format_number(potassium.outside_mm)} mM" in alt
            low, high = p["k_out_range"]
            assert low <= potassium.outside_mm <= high
            for k_out in (low, high):  # the ends of both curves, computed independently
                _says(alt, _ghk_mv(engine, k_out))
                _says(alt, nernst_mv(1, potassium.inside_mm, k_out, engine.temperature_c))
        elif figure.kind == "potential-line":
            for ion in engine.ions:
                _says(alt, nernst_mv(ion.valence, ion.inside_mm, ion.outside_mm, engine.temperature_c))
            _says(alt, engine.vm_mv)
            assert result.headline.removeprefix("V_m = ") in alt
        elif figure.kind == "nernst-vs-ratio":
            ion = engine.ion
            assert result.headline.split(" = ")[1] in alt
            _says(alt, nernst_mv(ion.valence, ion.inside_mm, ion.outside_mm, engine.temperature_c))
            low, high = p["ratio_range"]
            assert low <= ion.outside_mm / ion.inside_mm <= high
            for ratio in (low, high):
                _says(alt, nernst_mv(ion.valence, 1.0, ratio, engine.temperature_c))
            assert f"{format_number(abs(engine.slope_mv_per_decade), 4)} mV per tenfold" in alt
        elif figure.kind == "whatif-line":
            _says(alt, engine.before_mv)
            _says(alt, engine.after_mv)
            assert engine.direction in alt
            preset = PRESETS[engine.preset]
            after = {change.option: change.after for change in engine.changes}
            for key, prefix in (("K", "k"), ("Na", "na"), ("Cl", "cl")):
                values = preset.concentration(key)
                if values is None:
                    continue
                inside = after.get(f"{prefix}_in", values.inside)
                outside = after.get(f"{prefix}_out", values.outside)
                _says(alt, nernst_mv(IONS[key].valence, inside, outside, preset.temperature_c))
        else:
            step = next(step for step in result.steps if step.latex == p["latex"])
            assert step.unicode in alt


def test_a_hyperkalemia_alt_text_reads_like_the_answer() -> None:
    result = answer(Request("whatif", {"scenario": "hyperkalemia"}))
    (figure,) = result.figures
    # Sherwood's neuron (K⁺ 150/5 → 150/7, Na⁺ 15/150, P_Na/P_K 1/25), by hand: GHK −69.9 → −65.5 mV,
    # E_K = 61.54 log₁₀(5/150) = −90.9 → 61.54 log₁₀(7/150) = −81.9 mV.
    assert "V_m −69.9 mV → −65.5 mV: depolarizes by 4.5 mV" in figure.alt_text
    assert "E_K −90.9 mV → −81.9 mV" in figure.alt_text
    assert "Unchanged: E_Na +61.5 mV" in figure.alt_text
    # The magnified panel: the change is 55 % of its width, centred: 4.46 / 0.55 = 8.1 mV around −67.7.
    assert "Bottom, V_m magnified from −71.8 mV to −63.6 mV: an arrow from −69.9 mV to −65.5 mV, labelled +4.5 mV." in (
        figure.alt_text
    )


def _longest_black_run(png: bytes, top: float, bottom: float) -> int:
    """The longest horizontal run of pure black pixels between two heights (fractions of the
    image): in a /whatif figure only the V_m arrow and the before mark's ring are pure black."""
    image = _open(png).convert("RGB")
    width, height = image.size
    pixels = image.load()
    longest = 0
    for y in range(int(top * height), int(bottom * height)):
        run = 0
        for x in range(width):
            run = run + 1 if pixels[x, y] == (0, 0, 0) else 0
            longest = max(longest, run)
    return longest


PHONE_PX = 360
"""How wide Discord shows the 800 px figure on a phone."""


def test_a_whatif_change_is_a_long_arrow_at_phone_width(
    catalogue: list[tuple[Answer, Figure]], drawn: dict[str, tuple[bytes, float]]
) -> None:
    """On one −100…+70 mV line a 3 mV change was two overlapping marks at phone width. The
    lower panel magnifies it: for every scenario and cell (the smallest change is 0.5 mV)
    the V_m arrow is at least 120 px long at 360 px wide, and the window it is drawn in holds
    before and after and is stated in the alt text."""
    whatifs = [(result, figure) for result, figure in catalogue if figure.kind == "whatif-line"]
    assert min(abs(result.result.change_mv) for result, _ in whatifs) < 1.0  # type: ignore[union-attr]
    for result, figure in whatifs:
        engine = result.result
        low, high = figure.params()["zoom_mv"]
        assert low < min(engine.before_mv, engine.after_mv) < max(engine.before_mv, engine.after_mv) < high
        assert f"magnified from {millivolts(low)} to {millivolts(high)}" in figure.alt_text
        arrow = _longest_black_run(drawn[figure.cache_key()][0], 0.55, 0.9) * PHONE_PX / WIDTH
        assert arrow >= 120, (figure.alt_text, arrow)
        assert _longest_black_run(drawn[figure.cache_key()][0], 0.0, 0.5) == 0  # no V_m marks crowd the top


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown figure kind"):
        render_png(Figure("pie-chart", "pie.png", "a pie"))


# --- the service: pool, time box, cache, counters --------------------------------------------------


def _figure(n: int = 0) -> Figure:
    return Figure("equation", f"step-{n}.png", f"Step {n}", (("latex", f"x_{{{n}}} = \\frac{{1}}{{{n + 2}}}"),))


class CountingRenderer:
    def __init__(self, *, fail: bool = False, hang: threading.Event | None = None, delay: float = 0.0) -> None:
        self.calls = 0
        self.fail = fail
        self.hang = hang
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, figure: Figure) -> bytes:
        with self.lock:
            self.calls += 1
        if self.hang is not None:
            self.hang.wait(30)
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the renderer broke")
        return PNG + figure.filename.encode()


async def test_the_second_render_of_the_same_figure_comes_from_the_cache() -> None:
    service = FigureService()
    figure = answer(Request("nernst", {"ion": "K", "detail": "plot"})).figures[0]
    try:
        first = await service.render(figure)
        assert (service.stats.hits, service.stats.misses, service.stats.rendered) == (0, 1, 1)
        second = await service.render(figure)
        assert (service.stats.hits, service.stats.misses, service.stats.rendered) == (1, 1, 1)
        assert second == first and first.startswith(PNG)
        again = answer(Request("nernst", {"ion": "K", "detail": "plot"})).figures[0]  # a new, equal request
        assert await service.render(again) == first and service.stats.hits == 2
    finally:
        service.close()


async def test_equal_requests_at_the_same_time_share_one_drawing() -> None:
    renderer = CountingRenderer(delay=0.05)
    service = FigureService(renderer=renderer)
    try:
        results = await asyncio.gather(*(service.render(_figure()) for _ in range(5)))
        assert len(set(results)) == 1 and renderer.calls == 1
        assert service.stats.misses == 5 and service.stats.rendered == 1
    finally:
        service.close()


async def test_rendering_runs_off_the_event_loop() -> None:
    threads: list[str] = []

    def renderer(figure: Figure) -> bytes:
        threads.append(threading.current_thread().name)
        return PNG

    service = FigureService(renderer=renderer)
    try:
        await service.render(_figure())
        assert threads and threads[0].startswith("figure") and threads[0] != threading.current_thread().name
    finally:
        service.close()


async def test_a_renderer_that_raises_gives_a_figure_error_and_nothing_is_cached() -> None:
    renderer = CountingRenderer(fail=True)
    service = FigureService(renderer=renderer)
    try:
        for attempt in (1, 2):
            with pytest.raises(FigureError) as caught:
                await service.render(_figure())
            assert caught.value.reason == "failed" and renderer.calls == attempt
        assert service.stats.failures == 2 and service.stats.hits == 0
    finally:
        service.close()


async def test_a_renderer_that_returns_no_png_counts_as_failed() -> None:
    service = FigureService(renderer=lambda figure: b"GIF89a")
    try:
        with pytest.raises(FigureError, match="failed"):
            await service.render(_figure())
    finally:
        service.close()


async def test_a_renderer_that_hangs_is_cut_off_by_the_time_box() -> None:
    release = threading.Event()
    renderer = CountingRenderer(hang=release)
    service = FigureService(renderer=renderer, timeout=0.2, max_pending=2)
    try:
        start = time.perf_counter()
        with pytest.raises(FigureError) as caught:
            await service.render(_figure(1))
        assert caught.value.reason == "timed out" and time.perf_counter() - start < 2.0
        assert service.stats.timeouts == 1 and service.pending == 1  # the worker is still busy
        with pytest.raises(FigureError, match="timed out"):
            await service.render(_figure(2))
        with pytest.raises(FigureError) as busy:  # both slots are taken: refuse at once, do not queue
            await service.render(_figure(3))
        assert busy.value.reason == "busy" and service.stats.rejected == 1
        release.set()  # the drawings finish late and fill the cache for next time
        for _ in range(100):
            if service.pending == 0 and service.stats.rendered == 2:
                break
            await asyncio.sleep(0.02)
        assert service.pending == 0
        assert await service.render(_figure(1)) == PNG + b"step-1.png" and service.stats.hits == 1
    finally:
        release.set()
        service.close()


async def test_render_all_keeps_what_was_drawn_and_leaves_out_what_failed() -> None:
    def renderer(figure: Figure) -> bytes:
        if figure.filename == "step-1.png":
            raise RuntimeError("no")
        return PNG

    service = FigureService(renderer=renderer)
    try:
        drawn = await service.render_all([_figure(0), _figure(1), _figure(2)])
        assert set(drawn) == {_figure(0), _figure(2)}
    finally:
        service.close()


def test_the_memory_cache_is_lru_bounded_by_count_and_bytes() -> None:
    cache = MemoryFigureCache(max_items=2, max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"12")
    assert cache.get("b") is None and len(cache) == 2
    cache.put("d", b"123456789")  # 4 + 9 > 10 bytes: the oldest go
    assert cache.get("a") is None and cache.get("c") is None and cache.get("d") == b"123456789"
    cache.put("e", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("e") is None
    assert len(MemoryFigureCache(max_items=0)) == 0


def test_the_service_is_configurable_and_starts_no_threads_until_needed() -> None:
    service = FigureService(workers=1, timeout=1.5, cache_size=3)
    assert service.timeout == 1.5 and service.workers == 1
    assert FigureService().timeout == 5.0
    assert service._pool is None
    service.close()


# --- matplotlib stays out of text answers; the terminal writes PNGs ---------------------------------


def _modules_after(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_matplotlib_is_imported_only_when_a_figure_is_drawn() -> None:
    code = """
import io, sys, contextlib
import bot.answers, bot.render.figures, bot.render.terminal
assert "matplotlib" not in sys.modules, "import"
from bot.__main__ import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["ask", "/restpot"]) == 0
    assert main(["ask", "/whatif scenario:hyperkalemia"]) == 0  # has a figure, but nobody asked to draw it
    assert main(["ask", "--json", "/restpot detail:plot"]) == 0
assert "matplotlib" not in sys.modules, "text answers"
from bot.render.figures import render_png
from bot.answers import answer
from bot.commands import Request
render_png(answer(Request("whatif", {"scenario": "hyperkalemia"})).figures[0])
assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules, "drawing"
print("ok")
"""
    done = _modules_after(code)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_ask_with_out_writes_the_pngs_and_prints_their_paths(tmp_path: Path) -> None:
    out = tmp_path / "figures"
    done = run_cli("ask", "/restpot detail:plot", "--out", str(out))
    assert done.returncode == 0, done.stderr
    paths = [Path(line) for line in done.stdout.splitlines() if line.endswith(".png")]
    assert [path.name for path in paths] == ["restpot-vm-vs-k-out.png", "restpot-potentials.png"]
    for path in paths:
        assert path.parent == out and _open(path.read_bytes()).size[0] == WIDTH
    assert "V_m = −69.9 mV" in done.stdout and done.stderr == ""


def test_equation_images_of_two_commands_in_one_folder_keep_apart_and_keep_their_names(tmp_path: Path) -> None:
    """Each command's equation images are named after it and its inputs: a second `ask --out`
    into the same folder adds its own files, and the same command names them the same way in
    every run (a digest of the derivation, not of the process)."""
    commands = [
        "/nernst ion:K detail:steps",
        "/nernst ion:K inside:140 outside:5 detail:steps",
        "/restpot detail:steps",
        "/nernst ion:K detail:steps",  # again, in a new process
    ]
    runs = []
    for command in commands:
        done = run_cli("ask", command, "--out", str(tmp_path))
        assert done.returncode == 0, done.stderr
        runs.append([Path(line).name for line in done.stdout.splitlines() if line.endswith(".png")])
    assert all(runs) and runs[3] == runs[0]
    first, second, third = (set(names) for names in runs[:3])
    assert not first & second and not first & third and not second & third
    assert {path.name for path in tmp_path.iterdir()} == first | second | third  # nothing overwritten
    for name in first | second | third:
        assert re.fullmatch(r"[a-z0-9-]+\.png", name), name
        assert name.startswith(("nernst-k-", "restpot-"))
    in_process = {figure.filename for figure in answer(Request("nernst", {"ion": "K", "detail": "steps"})).figures}
    assert in_process == first


def test_ask_json_with_out_keeps_standard_output_json(tmp_path: Path) -> None:
    done = run_cli("ask", "--json", "/whatif scenario:hypokalemia", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [figure["filename"] for figure in data["figures"]] == ["whatif-hypokalemia.png"]
    assert done.stderr.strip() == str(tmp_path / "whatif-hypokalemia.png")
    assert (tmp_path / "whatif-hypokalemia.png").read_bytes().startswith(PNG)


def test_ask_without_out_says_how_to_get_the_figure_and_an_unwritable_dir_is_one_line(tmp_path: Path) -> None:
    done = run_cli("ask", "/nernst ion:K detail:plot")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("Add --out DIR to save the figure as PNG.")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    failed = run_cli("ask", "/nernst ion:K detail:plot", "--out", str(blocker))
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: cannot write the figures to") and failed.stderr.count("\n") == 1
    assert "Traceback" not in failed.stderr


def test_the_terminal_describes_each_figure_with_its_alt_text() -> None:
    result = answer(Request("restpot", {"detail": "plot"}))
    text = render_text(result)
    assert "Figures (described; the terminal cannot show them):" in text
    for figure in result.figures:
        assert figure.filename in text
    steps = render_text(answer(Request("restpot", {"detail": "steps"})))
    assert "Figures" not in steps  # equation images repeat the derivation printed above


def test_warm_up_draws_once_in_a_worker_without_caching() -> None:
    renderer = CountingRenderer()
    service = FigureService(renderer=renderer)
    service.warm_up()
    service.close()  # lets the submitted warm-up finish
    assert service._pool is None
    for _ in range(100):
        if renderer.calls:
            break
        time.sleep(0.01)
    assert renderer.calls == 1 and service.stats.rendered == 0
    FigureService(renderer=lambda figure: 1 / 0).warm_up()  # type: ignore[arg-type,return-value]  # only logged
