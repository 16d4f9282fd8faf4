"""Debian's headless Chromium, driven over the DevTools protocol (CDP) with aiohttp's WebSocket client.

Chromium is started with its own profile in a temporary directory, told to
trust exactly the API server's certificate (by its public key's hash, not by
turning certificate checks off), and kept off the network: every host name
fails to resolve and its background services (updates, sync, safe
browsing, metrics) are off, so it talks only to the loopback server it is
pointed at. It is stopped by PID.
"""
import asyncio
import base64
import hashlib
import itertools
import json
import os
import pathlib
import shutil
import signal
import subprocess

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import serialization

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_OFFLINE_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-breakpad", "--no-pings", "--metrics-recording-only", "--disable-features=Translate,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def spki_hash(cert_pem: bytes) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list pins."""
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class CdpError(RuntimeError):
    """A CDP command answered with an error, or a page script threw."""


class Page:
    """One page target's CDP session: commands by id, answers matched to them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id"), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._waiting.values():
            future.set_exception(CdpError("the DevTools connection closed"))

    async def send(self, method: str, **params) -> dict:
        number = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        await self._ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        return answer["result"]

    async def evaluate(self, expression: str):
        """The value of a script in the page (awaited if it is a promise)."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float, every: float = 0.1):
        """Poll a script until it gives something truthy; TimeoutError naming it otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                raise TimeoutError(f"{expression!r} still falsy after {timeout}s")
            await asyncio.sleep(every)

    async def screenshot(self, path: pathlib.Path) -> pathlib.Path:
        data = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()


class Chromium:
    """`async with Chromium(profile, trust=cert_pem) as browser: page = await browser.page()`."""

    def __init__(self, profile: pathlib.Path, *, trust: bytes, width: int = 1400, height: int = 1000):
        self._profile = profile
        self._args = [CHROMIUM, *_OFFLINE_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                      f"--ignore-certificate-errors-spki-list={spki_hash(trust)}",
                      f"--window-size={width},{height}", "about:blank"]
        self._process: subprocess.Popen | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    async def __aenter__(self) -> "Chromium":
        self._profile.mkdir(parents=True, exist_ok=True)
        self._log = open(self._profile.parent / f"{self._profile.name}-chromium.log", "wb")
        # A session of its own, so its renderer and GPU children go with it (killpg by its PID).
        self._process = subprocess.Popen(self._args, stdout=self._log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        active = self._profile / "DevToolsActivePort"   # Chromium writes its port here
        for _ in range(300):
            if active.exists() and active.read_text().strip():
                self._port = int(active.read_text().split()[0])
                break
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited {self._process.returncode}")
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError("chromium's DevTools port did not appear in 30s")
        self._session = aiohttp.ClientSession()
        return self

    async def page(self) -> Page:
        async with self._session.get(f"http://127.0.0.1:{self._port}/json/list") as response:
            targets = [t for t in await response.json() if t["type"] == "page"]
        ws = await self._session.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def __aexit__(self, *exc) -> None:
        if self._session:
            await self._session.close()
        if self._process:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self._process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self._process.wait(10)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()
