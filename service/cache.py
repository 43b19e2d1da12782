"""The response cache: in-process LRU by default, Redis when several API processes share it.

Keys hold everything that decides an answer (route, model, product or query, every parameter)
plus the catalogue version and the collection's build, so a write or a rebuild makes older
entries unreachable; a TTL bounds how long anything can outlive them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from core.settings import Settings
from service import metrics

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("lookalike.api")
HEADER = "X-Cache"  # hit | miss | off
TTL_S = 300
MAX_ENTRIES = 20_000
MAX_BYTES = 128 * 1024 * 1024
REDIS_TIMEOUT_S = 0.25
REDIS_RETRY_S = 2.0  # after a failure, Redis is left alone this long (requests go uncached)


def cache_key(*parts: object) -> str:
    """A short key from the repr of plain values (ints, floats, strings, sorted tuples)."""
    return "lookalike:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class ResponseCache(Protocol):
    """Where encoded responses are kept."""

    kind: str

    async def get(self, key: str) -> bytes | None:
        """The cached body, or None (also when the cache is unavailable)."""
        ...

    async def put(self, key: str, body: bytes) -> None:
        """Keep a body (best effort: an unavailable cache drops it)."""
        ...

    async def check(self) -> str:
        """'ok', or what is wrong, for /ready."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryCache:
    """A least-recently-used map bounded by entries and bytes, with a TTL (one event loop)."""

    kind = "memory"

    def __init__(
        self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, ttl_s: float = TTL_S
    ) -> None:
        self.max_entries, self.max_bytes, self.ttl_s = max_entries, max_bytes, ttl_s
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.bytes = 0

    async def get(self, key: str) -> bytes | None:
        """The body if present and fresh; marks it recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    async def put(self, key: str, body: bytes) -> None:
        """Keep a body, evicting the least recently used beyond the bounds."""
        if len(body) > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (time.monotonic() + self.ttl_s, body)
        self.bytes += len(body)
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self.bytes -= len(self._entries.pop(key)[1])

    def __len__(self) -> int:
        return len(self._entries)

    async def check(self) -> str:
        """Always available."""
        return "ok"

    async def close(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.bytes = 0


class RedisCache:
    """Entries in Redis, shared by every API process; a Redis outage means uncached answers,
    never failed ones (after a failure Redis is tried again every REDIS_RETRY_S)."""

    kind = "redis"

    def __init__(self, url: str, ttl_s: float = TTL_S) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url, self.ttl_s = url, ttl_s
        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),  # no waiting inside a request: `_call` retries once
        )
        self._down_until = 0.0
        self.problem: str | None = None

    async def get(self, key: str) -> bytes | None:
        """The body from Redis; None when absent or Redis is unavailable."""
        if self._resting():
            return None
        try:
            body = await self._call(lambda: self._redis.get(key))
        except Exception as exc:  # any client or connection failure: answer uncached
            self._failed(exc)
            return None
        self._recovered()
        return body if isinstance(body, bytes) else None

    async def put(self, key: str, body: bytes) -> None:
        """Store with the TTL; dropped when Redis is unavailable."""
        if self._resting():
            return
        try:
            await self._call(lambda: self._redis.set(key, body, ex=int(self.ttl_s)))
        except Exception as exc:
            self._failed(exc)
            return
        self._recovered()

    async def check(self) -> str:
        """Ping Redis now."""
        try:
            await self._call(self._redis.ping)
        except Exception as exc:
            self._failed(exc)
            return f"unavailable ({type(exc).__name__}: {exc}); answering uncached"
        self._recovered()
        return "ok"

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()

    async def _call(self, request: Callable[[], Awaitable[Any]]) -> Any:
        """One Redis call; a dropped connection (Redis restarted) is reopened and tried once more."""
        from redis.exceptions import ConnectionError as Dropped

        try:
            return await request()
        except Dropped:
            await self._redis.connection_pool.disconnect()
            return await request()

    @property
    def available(self) -> bool:
        """Whether the last contact with Redis worked."""
        return self.problem is None

    def _resting(self) -> bool:
        return self._down_until > time.monotonic()

    def _failed(self, exc: Exception) -> None:
        if self.problem is None:
            log.warning("redis cache at %s unavailable, answering uncached: %s", self.url, exc)
        self.problem = f"{type(exc).__name__}: {exc}"
        self._down_until = time.monotonic() + REDIS_RETRY_S
        metrics.CACHE_ERRORS.inc()
        metrics.REDIS_UP.set(0)

    def _recovered(self) -> None:
        if self.problem is not None:
            log.warning("redis cache at %s is back", self.url)
            self.problem = None
        metrics.REDIS_UP.set(1)


def open_cache(settings: Settings) -> ResponseCache | None:
    """The configured cache: None when LOOKALIKE_CACHE=off, Redis when LOOKALIKE_REDIS_URL."""
    if not settings.cache:
        return None
    if settings.redis_url:
        return RedisCache(settings.redis_url)
    return MemoryCache()
