"""Where work runs: the one model thread, worker threads, or inline on the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


class Execution:
    """Every model (torch) call runs on one thread: torch's OpenMP pool is per calling thread,
    and several pools spinning on two cores made each write several times slower. `blocking`:
    the backend's store calls wait (I/O, or released GIL), so they belong in a worker thread."""

    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking
        self._model_ident: int | None = None
        self._models = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="models", initializer=self._remember_thread
        )

    def _remember_thread(self) -> None:
        self._model_ident = threading.get_ident()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Queue model work on the model thread."""
        return self._models.submit(function, *args)

    def model_work(self, function: Callable[..., T], *args: Any) -> T:
        """Run model work on the model thread and wait for it (from blocking code; on the model
        thread itself it simply runs)."""
        if threading.get_ident() == self._model_ident:
            return function(*args)
        return self._models.submit(function, *args).result()

    async def on_model_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run model work on the model thread, off the event loop."""
        return await asyncio.wrap_future(self._models.submit(function, *args))

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work in a worker thread, keeping the event loop free."""
        return await anyio.to_thread.run_sync(function, *args)

    def close(self) -> None:
        """Finish the model work in progress; drop what is queued."""
        self._models.shutdown(wait=True, cancel_futures=True)
