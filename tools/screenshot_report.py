"""Screenshot an HTML report in headless Chromium, for the README (docs/report.png).

    python tools/screenshot_report.py report.html docs/report.png [--width 1400] [--height 1500]

Captures the viewport at the top of the page, or scrolled to each --scroll-to
element in turn (stacked), and stores it as an adaptive-palette PNG to keep it
small (well under 400 KB). For the README:

    python tools/screenshot_report.py logs/flowers/default/report.html docs/report.png \
        --height 760 --scroll-to top --scroll-to '#e1-plots'

"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.cdp import Browser  # noqa: E402


VISIBLE_UNDRAWN = ("Array.from(document.querySelectorAll('div.plotly-box')).filter(d => { const r = d.getBoundingClientRect(); "
                   "return r.bottom > 0 && r.top < innerHeight && d.dataset.drawn !== '1'; }).length")


def _wait_for_visible_figures(browser: Browser, timeout: float = 120.0) -> None:
    """The report draws figures lazily: wait until those in the viewport are drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and browser.evaluate(VISIBLE_UNDRAWN):
        time.sleep(0.2)
    browser.settle(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the HTML report")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--scroll-to", metavar="SELECTOR", action="append",
                        help="capture the viewport with this element scrolled to the top, e.g. '#e1-plots' ('top': the page's top); "
                             "repeat to stack several captures (default: the top of the page)")
    parser.add_argument("--colors", type=int, default=192, help="palette size of the PNG (default: 192)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"screenshot_report: error: {args.report} is not a file", file=sys.stderr)
        return 2
    from PIL import Image

    with Browser(width=args.width, height=args.height) as browser:
        browser.open(args.report, ready="document.body && document.body.dataset.firstScreen")
        browser.settle(1.5)
        shots = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, selector in enumerate(args.scroll_to or [None]):
                if selector == "top":
                    browser.evaluate("window.scrollTo(0, 0)")
                    browser.settle(0.3)
                elif selector:
                    browser.evaluate(f"document.querySelector({selector!r}).scrollIntoView()")
                    _wait_for_visible_figures(browser)
                raw = browser.screenshot(Path(tmp) / f"raw{i}.png")
                shots.append(Image.open(raw).convert("RGB"))
        image = Image.new("RGB", (max(s.width for s in shots), sum(s.height for s in shots)), "white")
        y = 0
        for shot in shots:
            image.paste(shot, (0, y))
            y += shot.height
        image.quantize(colors=args.colors, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
        if browser.log.errors:
            print(f"screenshot_report: warning: the page logged errors: {browser.log.errors}", file=sys.stderr)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
