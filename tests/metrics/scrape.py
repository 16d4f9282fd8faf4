"""Scrape a real /metrics endpoint and read series from it, as Prometheus would."""
import asyncio
import ssl
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Page:
    def __init__(self, text: str):
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, series: str, /, **labels) -> float:
        """The sum of the series' samples whose labels include `labels` (0 when none)."""
        return sum(s.value for s in self.samples
                   if s.name == series and all(s.labels.get(k) == v for k, v in labels.items()))


def _get(url: str, token: str, ca: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    context = ssl.create_default_context(cadata=ca) if ca else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


async def fetch(url: str, *, token: str = "", ca: str = "") -> tuple[int, str]:
    return await asyncio.to_thread(_get, url, token, ca)


async def scrape(url: str, *, token: str = "", ca: str = "") -> Page:
    code, body = await fetch(url, token=token, ca=ca)
    assert code == 200, f"GET {url}: {code} {body[:300]}"
    return Page(body)
