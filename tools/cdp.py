"""A minimal Chrome DevTools Protocol client: open a local page in headless Chromium and watch it.

Used by the report's browser tests and by ``tools/screenshot_report.py``. It
launches Debian's ``chromium`` with networking features off and a throwaway
profile, connects to the page target over a websocket (``websocket-client``),
and records every network request, console message, uncaught exception and
JavaScript dialog while the page loads.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    # WebGL (plotly's parallel coordinates and 3D) through the software rasterizer, as on a machine without a GPU
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
)


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLog:
    """What happened while the page was open."""

    requests: list[str] = field(default_factory=list)  # every URL the page requested
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    exceptions: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions."""
        return [t for lvl, t in self.console if lvl in ("error", "assert")] + self.exceptions


class Browser:
    """Headless Chromium with one page, driven over CDP. Use as a context manager."""

    def __init__(self, *, width: int = 1400, height: int = 1000, binary: str | None = None) -> None:
        import websocket  # websocket-client (the dev extra)

        self.binary = binary or find_chromium()
        if not self.binary:
            raise RuntimeError("chromium not found")
        self.profile = tempfile.mkdtemp(prefix="hpt-chromium-")
        self.proc = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port = self._port()
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self._id = 0
        self.log = PageLog()
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.proc.returncode}")
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port")

    def _event(self, msg: dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.log.requests.append(p["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.log.console.append((p.get("type", ""), text))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.log.exceptions.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif method == "Log.entryAdded":
            entry = p.get("entry", {})
            self.log.console.append((entry.get("level", ""), f"[{entry.get('source')}] {entry.get('text', '')}"))
        elif method == "Page.javascriptDialogOpening":
            self.log.dialogs.append(p.get("message", ""))
            self._send("Page.handleJavaScriptDialog", accept=True)

    def _send(self, method: str, **params: Any) -> int:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        return self._id

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result, recording the events that arrive meanwhile."""
        want = self._send(method, **params)
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self._event(msg)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value")

    def reset(self) -> None:
        """Forget what was recorded so far (before opening the next page)."""
        self.log = PageLog()

    def open(self, path: str | os.PathLike[str], *, ready: str = "document.body && document.body.dataset.ready === '1'",
             timeout: float = 120.0) -> None:
        """Navigate to a local file and wait until ``ready`` (a JS expression) is true."""
        self.call("Page.navigate", url=Path(path).resolve().as_uri())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!({ready})"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"the page did not become ready within {timeout:.0f} s")

    def settle(self, seconds: float = 1.0) -> None:
        """Keep receiving events for a while (late requests, console messages)."""
        self.ws.settimeout(0.2)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                try:
                    msg = json.loads(self.ws.recv())
                except Exception:  # websocket timeout: nothing arrived
                    continue
                if "method" in msg:
                    self._event(msg)
        finally:
            self.ws.settimeout(30)

    def screenshot(self, out: str | os.PathLike[str], *, full_page: bool = False, fmt: str = "png", quality: int = 80) -> Path:
        """Save a screenshot of the viewport (or the whole page)."""
        params: dict[str, Any] = {"format": fmt, "captureBeyondViewport": full_page}
        if fmt == "jpeg":
            params["quality"] = quality
        if full_page:
            h = self.evaluate("document.documentElement.scrollHeight")
            w = self.evaluate("document.documentElement.scrollWidth")
            params["clip"] = {"x": 0, "y": 0, "width": w, "height": min(h, 16000), "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        out = Path(out)
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        """Stop Chromium and remove its throwaway profile."""
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
