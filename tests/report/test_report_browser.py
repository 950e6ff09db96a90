"""The report in a real browser (headless Chromium over the DevTools protocol).

Checks that every section rendered, every plotly figure drew its SVG, every
image decoded, the leaderboard sorts, the page made no network request and
logged no console error, and that markup from event files stays text.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest

from hparams_tools.report import write_report
from hparams_tools.testing import XSS_IMG, XSS_SCRIPT

pytestmark = pytest.mark.slow

OFFLINE_SCHEMES = {"file", "data", "about"}


def _open(browser, path):
    browser.reset()
    browser.open(path)
    browser.settle(1.5)  # late requests / console messages
    return browser.log


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

    # plots: every plotly box drew an SVG (WebGL ones too), every image decoded
    boxes = browser.evaluate(
        "Array.from(document.querySelectorAll('div.plotly-box')).map(d => "
        "[d.dataset.fig, d.querySelectorAll('svg.main-svg').length, d.querySelectorAll('g.trace, g.trace3d, canvas').length])")
    figs = {fid for fid, _, _ in boxes}
    for n in (1, 2):
        for kind in ("parallel", "contour", "surface", "scatter3d", "curves"):
            assert f"fig-{n}-{kind}" in figs
    assert "fig-history" in figs
    assert all(svgs >= 1 for _, svgs, _ in boxes), boxes
    assert all(traces >= 1 for _, _, traces in boxes), boxes
    images = browser.evaluate("Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    assert images and all(ok for _, ok in images), images
    assert {"target against each hyperparameter", "scatter matrix", "group means"} <= {alt for alt, _ in images}

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
    # only our two scripts (plotly.js, the page script) are executable; no injected element exists
    assert browser.evaluate("document.querySelectorAll('script:not([type=\"application/json\"])').length") == 2
    assert browser.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    headers = browser.evaluate("Array.from(document.querySelectorAll('#e1-leaderboard thead th')).map(t => t.textContent)")
    assert XSS_SCRIPT in headers and XSS_IMG in headers
    # plotly drew the names as text too (parallel coordinates axis titles)
    svg_text = browser.evaluate("Array.from(document.querySelectorAll('.plotly-box text')).map(t => t.textContent).join('|')")
    assert XSS_IMG in svg_text or XSS_SCRIPT in svg_text
    browser.screenshot(artifacts / "report-xss.png")
