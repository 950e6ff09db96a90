"""The report in a real browser (headless Chromium over the DevTools protocol).

Checks that every section rendered, every plotly figure drew its SVG when
scrolled into view (and not before: figures are drawn lazily), every image
decoded, the leaderboard sorts, the page made no network request and logged
no console error, that markup from event files stays text, and, at 1280 and
1920 px, that no title is clipped or under plotly's toolbar, no figure spills
out of its box or overlaps another, and nothing scrolls sideways.
"""

from __future__ import annotations

import shutil
import time
from urllib.parse import urlparse

import pytest

from hparams_tools.report import write_report
from hparams_tools.testing import XSS_IMG, XSS_SCRIPT
from tools.cdp import Browser

pytestmark = pytest.mark.slow

OFFLINE_SCHEMES = {"file", "data", "about"}
WIDTHS = (1280, 1920)
DRAWN = "document.querySelectorAll('div.plotly-box[data-drawn=\"1\"]').length"

# Bounding boxes in page coordinates: titles (figure, axis, subplot) inside their figure and, for the
# figure title, clear of plotly's toolbar; every drawn part (SVG, WebGL canvas) inside its <figure>;
# no two figures / tables / leaderboards intersecting.
LAYOUT_JS = r"""
(() => {
  const rect = el => { const r = el.getBoundingClientRect();
    return {l: r.left + scrollX, t: r.top + scrollY, r: r.right + scrollX, b: r.bottom + scrollY}; };
  const inside = (a, b) => a.l >= b.l - 1 && a.t >= b.t - 1 && a.r <= b.r + 1 && a.b <= b.b + 1;
  const meet = (a, b) => a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1;
  const out = {clipped: [], under_toolbar: [], spill: [], overlap: [], titles: 0, figures: 0};
  for (const div of document.querySelectorAll('div.plotly-box[data-drawn="1"]')) {
    const id = div.dataset.fig, box = rect(div), bar = div.querySelector('.modebar');
    out.figures++;
    for (const t of div.querySelectorAll('.g-gtitle text, .g-xtitle text, .g-ytitle text, .annotation-text')) {
      if (!t.textContent) continue;
      out.titles++;
      const r = rect(t);
      if (!inside(r, box)) out.clipped.push([id, t.textContent]);
      if (bar && t.closest('.g-gtitle') && meet(r, rect(bar))) out.under_toolbar.push([id, t.textContent]);
    }
    for (const part of div.querySelectorAll('.svg-container, canvas')) {
      const r = rect(part);
      if (r.r > r.l && !inside(r, rect(div.closest('figure')))) out.spill.push([id, part.tagName]);
    }
  }
  const boxes = Array.from(document.querySelectorAll('main figure, main .tables > div, main .leaderboard-box'));
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    if (boxes[i].contains(boxes[j]) || boxes[j].contains(boxes[i])) continue;
    if (meet(rect(boxes[i]), rect(boxes[j])))
      out.overlap.push([boxes[i].querySelector('[data-fig], img')?.outerHTML.slice(0, 80),
                        boxes[j].querySelector('[data-fig], img')?.outerHTML.slice(0, 80)]);
  }
  out.sideways = document.documentElement.scrollWidth - innerWidth;
  return out;
})()
"""


def _open(browser, path):
    browser.reset()
    browser.open(path, ready="document.body && document.body.dataset.firstScreen")
    browser.settle(1.5)  # late requests / console messages
    return browser.log


def _draw_every_figure(browser, timeout: float = 120.0) -> list[str]:
    """Scroll each plotly figure into view in turn and wait until it is drawn; the ids of those that never were."""
    ids = browser.evaluate("Array.from(document.querySelectorAll('div.plotly-box')).map(d => d.dataset.fig)")
    for fid in ids:
        browser.evaluate(f"document.querySelector('[data-fig=\"{fid}\"]').scrollIntoView()")
        deadline = time.monotonic() + timeout  # a hang guard, not a speed test
        while time.monotonic() < deadline and browser.evaluate(
                f"document.querySelector('[data-fig=\"{fid}\"]').dataset.drawn") != "1":
            time.sleep(0.1)
    browser.settle(0.5)
    return browser.evaluate("Array.from(document.querySelectorAll('div.plotly-box:not([data-drawn=\"1\"])'))"
                            ".map(d => d.dataset.fig)")


def _assert_clean(log):
    external = [u for u in log.requests if urlparse(u).scheme not in OFFLINE_SCHEMES]
    assert external == [], f"the page requested {external}"
    assert log.errors == [], f"console errors: {log.errors}"
    assert log.dialogs == []


def test_report_renders_offline_with_every_section(browser, sweep_dir, other_sweep_dir, tmp_path, artifacts):
    empty = tmp_path / "empty-logdir"
    empty.mkdir()
    out = write_report([sweep_dir, other_sweep_dir, empty], tmp_path / "report.html")
    log = _open(browser, out)
    _assert_clean(log)
    assert urlparse(log.requests[0]).scheme == "file"

    # every section of each logdir with sessions, side by side overview of all three
    sections = browser.evaluate(
        "Array.from(document.querySelectorAll('section.experiment')).map(s => "
        "Array.from(s.querySelectorAll('[data-section]')).map(x => x.dataset.section))")
    expected = ["leaderboard", "findings", "importance", "plots", "next-space", "data-quality"]
    assert sections[0] == expected and sections[1] == expected
    assert sections[2] == ["empty", "data-quality"]
    assert browser.evaluate("document.querySelectorAll('#overview table.compare thead th').length") == 4
    assert "No sessions" in browser.evaluate("document.querySelector('#e3').innerText")

    # plots: drawn lazily; every plotly box draws an SVG (WebGL ones too) once scrolled into view
    assert browser.evaluate(DRAWN) == 0  # nothing plotly is on the first screen
    assert _draw_every_figure(browser) == []
    boxes = browser.evaluate(
        "Array.from(document.querySelectorAll('div.plotly-box')).map(d => "
        "[d.dataset.fig, d.querySelectorAll('svg.main-svg').length, d.querySelectorAll('g.trace, g.trace3d, canvas').length])")
    figs = {fid for fid, _, _ in boxes}
    for n in (1, 2):
        for kind in ("parallel", "contour", "surface", "scatter3d", "curves"):
            assert f"fig-{n}-{kind}" in figs
    assert all(svgs >= 1 for _, svgs, _ in boxes), boxes
    assert all(traces >= 1 for _, _, traces in boxes), boxes
    images = browser.evaluate("Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    assert images and all(ok for _, ok in images), images
    assert {"target against each hyperparameter", "scatter matrix", "group means",
            "best so far against trials and epochs"} <= {alt for alt, _ in images}
    _assert_clean(browser.log)

    # the leaderboard: best first, then sortable by clicking a header
    first = browser.evaluate("Array.from(document.querySelectorAll('#e1-leaderboard tbody tr')[0].cells).map(c => c.textContent)")
    assert first[0] == "1" and browser.evaluate("document.querySelector('#e1-leaderboard tbody tr').className") == "best"
    browser.evaluate("document.querySelectorAll('#e1-leaderboard thead th')[1].click()")  # session name, ascending
    names = browser.evaluate("Array.from(document.querySelectorAll('#e1-leaderboard tbody tr')).map(r => r.cells[1].textContent)")
    assert names == sorted(names) and len(names) == 36
    browser.evaluate("document.querySelectorAll('#e1-leaderboard thead th')[1].click()")  # descending
    names = browser.evaluate("Array.from(document.querySelectorAll('#e1-leaderboard tbody tr')).map(r => r.cells[1].textContent)")
    assert names == sorted(names, reverse=True)

    browser.screenshot(artifacts / "report.png", full_page=True)
    shutil.copy(out, artifacts / "report.html")


def test_markup_from_event_files_stays_text(browser, xss_dir, tmp_path, artifacts):
    out = write_report(xss_dir, tmp_path / "xss.html")
    log = _open(browser, out)
    _assert_clean(log)  # includes: no alert() dialog opened
    text = browser.evaluate("document.body.innerText")
    assert XSS_SCRIPT in text and XSS_IMG in text
    assert "<script>alert(1)<" + "/script>" in browser.evaluate(
        "Array.from(document.querySelectorAll('#e1-leaderboard tbody td')).map(t => t.textContent).join('|')")
    # only our scripts run: the page script and plotly.js (inert text until the page script runs it once);
    # no injected element exists
    assert _draw_every_figure(browser) == []
    runnable = "script:not([type=\"application/json\"]):not([type=\"text/plain\"])"
    assert browser.evaluate(f"document.querySelectorAll('{runnable}').length") == 2
    assert browser.evaluate("document.querySelectorAll('script[type=\"text/plain\"]').length") == 1
    assert browser.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    headers = browser.evaluate("Array.from(document.querySelectorAll('#e1-leaderboard thead th')).map(t => t.textContent)")
    assert XSS_SCRIPT in headers and XSS_IMG in headers
    # plotly drew the names as text too (parallel coordinates axis titles)
    svg_text = browser.evaluate("Array.from(document.querySelectorAll('.plotly-box text')).map(t => t.textContent).join('|')")
    assert XSS_IMG in svg_text or XSS_SCRIPT in svg_text
    browser.screenshot(artifacts / "report-xss.png")


@pytest.fixture(scope="module")
def default_like_report(sweep_dir, tmp_path_factory):
    """The report of one sweep, as the sweep writes it at its end."""
    return write_report(sweep_dir, tmp_path_factory.mktemp("layout") / "report.html", write_space=False)


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_at_common_window_widths(default_like_report, width, artifacts):
    with Browser(width=width, height=1000) as browser:
        browser.open(default_like_report, ready="document.body && document.body.dataset.firstScreen")
        browser.screenshot(artifacts / f"report-top-{width}.png")
        assert _draw_every_figure(browser) == []
        layout = browser.evaluate(LAYOUT_JS)
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(artifacts / f"report-{width}.png", full_page=True)
        _assert_clean(browser.log)
    assert layout["figures"] == 5 and layout["titles"] >= 9, layout  # 5 figure titles, axis titles
    assert layout["clipped"] == [], f"titles cut off at {width} px: {layout['clipped']}"
    assert layout["under_toolbar"] == [], f"titles under plotly's toolbar at {width} px: {layout['under_toolbar']}"
    assert layout["spill"] == [], f"figures drawn outside their box at {width} px: {layout['spill']}"
    assert layout["overlap"] == [], f"boxes overlapping at {width} px: {layout['overlap']}"
    assert layout["sideways"] <= 0, f"the page scrolls sideways by {layout['sideways']} px at {width} px"


def test_figures_are_drawn_only_near_the_viewport(default_like_report):
    with Browser(width=1280, height=800) as browser:
        browser.open(default_like_report, ready="document.body && document.body.dataset.firstScreen")
        browser.settle(1.0)
        assert browser.evaluate(DRAWN) == 0
        browser.evaluate("document.querySelector('[data-fig=\"fig-1-contour\"]').scrollIntoView()")
        deadline = time.monotonic() + 120  # a hang guard
        while time.monotonic() < deadline and browser.evaluate(
                "document.querySelector('[data-fig=\"fig-1-contour\"]').dataset.drawn") != "1":
            time.sleep(0.1)
        drawn = set(browser.evaluate("Array.from(document.querySelectorAll('div.plotly-box[data-drawn=\"1\"]'))"
                                     ".map(d => d.dataset.fig)"))
        assert "fig-1-contour" in drawn
        assert "fig-1-curves" not in drawn  # far below: not drawn yet
        _assert_clean(browser.log)
