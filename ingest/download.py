"""Product photos linked by URL: fetched concurrently into a cache keyed by URL, with a timeout,
retries and a size cap; a failed download becomes a reason, like a missing file."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

MAX_DOWNLOAD = 20 * 1024 * 1024  # bytes; a product photo larger than this is refused
URL_PREFIXES = ("http://", "https://")


def is_url(reference: str) -> bool:
    """Whether an image value is a link rather than a path."""
    return reference.lower().startswith(URL_PREFIXES)


@dataclass(frozen=True)
class Downloader:
    """How photos are fetched: `cache` folder, per-request `timeout` (s), `retries` after a
    transport error or a 5xx, `workers` at once."""

    cache: Path
    timeout: float = 10.0
    retries: int = 2
    workers: int = 8
    max_bytes: int = MAX_DOWNLOAD

    def cached(self, url: str) -> Path:
        """Where a URL's bytes are kept (the name hides the URL; no extension, so the image
        check reads whatever format arrived)."""
        return self.cache / hashlib.sha256(url.encode()).hexdigest()

    def fetch_all(self, urls: Iterable[str]) -> dict[str, Path | str]:
        """Each distinct URL's cached file, or why it could not be fetched ("missing: ...");
        URLs already in the cache are not fetched again."""
        wanted = sorted(set(urls))
        todo = [u for u in wanted if not self.cached(u).is_file()]
        self.cache.mkdir(parents=True, exist_ok=True)
        results: dict[str, Path | str] = {u: self.cached(u) for u in wanted}
        if not todo:
            return results
        limits = httpx.Limits(max_connections=self.workers)
        with (
            httpx.Client(timeout=self.timeout, limits=limits, follow_redirects=True) as client,
            ThreadPoolExecutor(self.workers) as pool,
            tqdm(total=len(todo), desc="downloads", unit="img", mininterval=2) as bar,
        ):
            outcomes = pool.map(lambda url: self._fetch(client, url), todo)
            for url, outcome in zip(todo, outcomes, strict=True):
                results[url] = outcome
                bar.update()
        return results

    def _fetch(self, client: httpx.Client, url: str) -> Path | str:
        problem = "missing: download failed"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * attempt)
            try:
                return self._download(client, url)
            except _TooLarge:
                return f"too_large: download over {self.max_bytes:,} bytes"
            except httpx.HTTPStatusError as exc:
                problem = f"missing: download failed (HTTP {exc.response.status_code})"
                if exc.response.status_code < 500:
                    return problem
            except httpx.TimeoutException:
                problem = f"missing: download timed out after {self.timeout:g} s"
            except httpx.HTTPError as exc:
                problem = f"missing: download failed ({type(exc).__name__})"
        return problem

    def _download(self, client: httpx.Client, url: str) -> Path:
        target = self.cached(url)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            with client.stream("GET", url) as response, partial.open("wb") as file:
                response.raise_for_status()
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _TooLarge
                    file.write(chunk)
            os.replace(partial, target)  # the cache never holds half a file
        finally:
            partial.unlink(missing_ok=True)
        return target


class _TooLarge(Exception):
    """The response passed the size cap."""
