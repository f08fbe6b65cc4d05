"""A real headless Chromium driven over the DevTools protocol (a websocket, no extra package):
open a page at a window size, read what it shows, type into its form, screenshot it.

Used by the browser tests of the Prefect UI (``tests/e2e/test_prefect_stack.py``); Chromium is
``chromium`` on the PATH (``apt-get install -y chromium``), the tests skip without it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page; ``with Browser(folder, 1440, 1000) as b: …``."""

    def __init__(self, folder: Path, width: int, height: int, *, mobile: bool = False) -> None:
        assert CHROMIUM is not None
        self.folder = folder
        self.width, self.height, self.mobile = width, height, mobile
        self._id = 0
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={folder}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        port_file = self.folder / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:  # noqa: S310
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width, height=self.height, deviceScaleFactor=1, mobile=self.mobile,
        )  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def send(self, method: str, **params: Any) -> Any:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str) -> Any:
        r = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def open(self, url: str, *, until: str | None = None, timeout: float = 60) -> None:
        """Go to ``url``; wait until the page's text contains ``until`` (the UI renders late)."""
        self.send("Page.navigate", url=url)
        if until:
            self.wait_text(until, timeout)

    def text(self) -> str:
        return str(self.js("document.body ? document.body.innerText : ''"))

    def wait_text(self, needle: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{needle!r} not on the page after {timeout:.0f}s:\n{text[:3000]}"
                )
            time.sleep(0.5)

    def visible_text(self) -> str:
        """The text of the elements whose box is (at least partly) in the first screen."""
        return str(
            self.js(
                """(() => {
                const out = [];
                const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                while (walker.nextNode()) {
                  const n = walker.currentNode;
                  if (!n.textContent.trim()) continue;
                  const range = document.createRange(); range.selectNodeContents(n);
                  const r = range.getBoundingClientRect();
                  if (r.width > 0 && r.bottom > 0 && r.top < window.innerHeight
                      && r.left < window.innerWidth && r.right > 0) out.push(n.textContent.trim());
                }
                return out.join('\\n');
              })()"""
            )
        )

    def in_first_screen(self, selector: str) -> bool:
        """Is an element matching ``selector`` (its whole box) in the first screen?"""
        return bool(
            self.js(
                f"""(() => [...document.querySelectorAll({json.dumps(selector)})].some(e => {{
                  const r = e.getBoundingClientRect();
                  return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1
                    && r.right <= window.innerWidth + 1; }}))()"""
            )
        )

    def screenshot(self, path: Path, *, full: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full:
            h = int(self.js("document.documentElement.scrollHeight"))
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": h, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
