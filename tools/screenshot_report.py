"""Screenshot an HTML report in headless Chromium, for the README (docs/report.png).

    python tools/screenshot_report.py report.html docs/report.png [--width 1400] [--height 1500]

Takes the top of the page (overview, best so far, the start of the leaderboard
and plots) at the given viewport size, scrolled to --scroll-to (a CSS selector)
if given, and stores it as an adaptive-palette PNG to keep it small (~400 KB).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.cdp import Browser  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the HTML report")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--scroll-to", metavar="SELECTOR", help="scroll this element to the top first, e.g. '#e1-plots'")
    parser.add_argument("--colors", type=int, default=192, help="palette size of the PNG (default: 192)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"screenshot_report: error: {args.report} is not a file", file=sys.stderr)
        return 2
    from PIL import Image

    with Browser(width=args.width, height=args.height) as browser:
        browser.open(args.report)
        browser.settle(1.5)
        if args.scroll_to:
            browser.evaluate(f"document.querySelector({args.scroll_to!r}).scrollIntoView()")
            browser.settle(0.5)
        with tempfile.TemporaryDirectory() as tmp:
            raw = browser.screenshot(Path(tmp) / "raw.png")
            image = Image.open(raw).convert("RGB")
            image.quantize(colors=args.colors, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
        if browser.log.errors:
            print(f"screenshot_report: warning: the page logged errors: {browser.log.errors}", file=sys.stderr)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
