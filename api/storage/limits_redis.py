"""The rate limits' Redis storage: ``limits``' own, plus one call for a hit and its window.

Answering a counted request takes two things from the moving window: the hit
(refused past the limit) and the window's state after it, for the RateLimit
fields (remaining, reset). ``limits`` has a call for each
(:meth:`~limits.aio.strategies.MovingWindowRateLimiter.hit`, then
:meth:`~limits.aio.strategies.MovingWindowRateLimiter.get_window_stats`), so two
Redis round trips a request; profiled under load (docs/evaluation.md, "Service
load"), they were the largest cost of the API's own code in Redis mode.
:meth:`WindowedRedisStorage.acquire_with_window` does both in one Lua script: the
script is ``limits``' ``acquire_moving_window.lua`` followed by its
``moving_window.lua``, on the same keys and the same list of time stamps, so
every other call of ``limits`` (``test``, ``hit``, ``get_window_stats``, the
failed-authentication limits) reads and counts the same windows.

:class:`~api.storage.limits_memory.SpacedMemoryStorage` has the same method (two
calls in memory cost nothing): :class:`WindowStorage` is what the rate limiter
needs of either.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from limits.aio.storage import RedisStorage

_ACQUIRE_WITH_WINDOW = """
local timestamp = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])

-- limits' acquire_moving_window.lua
local acquired = 0
if amount <= limit then
    local entry = redis.call('lindex', KEYS[1], limit - amount)
    if not (entry and tonumber(entry) >= timestamp - expiry) then
        local entries = {}
        for i = 1, amount do
            entries[i] = timestamp
        end
        for i = 1, #entries, 5000 do
            redis.call('lpush', KEYS[1], unpack(entries, i, math.min(i + 4999, #entries)))
        end
        redis.call('ltrim', KEYS[1], 0, limit - 1)
        redis.call('expire', KEYS[1], expiry)
        acquired = 1
    end
end

-- limits' moving_window.lua: the oldest entry still inside the window
local target = timestamp - expiry
local low, high, result = 0, limit - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local val = tonumber(redis.call('lindex', KEYS[1], mid))
    if val and val >= target then
        result = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if result then
    return {acquired, tostring(redis.call('lindex', KEYS[1], result)), result + 1}
end
return {acquired}
"""


class WindowStorage(Protocol):
    """What :class:`api.auth.RateLimiter` needs of a moving-window storage."""

    async def acquire_with_window(self, key: str, limit: int, expiry: int,
                                  amount: int = 1) -> tuple[bool, float, int]:
        """Hit the window ``key`` ``amount`` times if that stays within ``limit`` per
        ``expiry`` seconds; answer (whether it did, the time stamp the window starts
        at, the hits inside it), as ``acquire_entry`` then ``get_moving_window``."""
        ...


class WindowedRedisStorage(RedisStorage):
    """``limits``' async Redis storage (redis-py) with :meth:`acquire_with_window`."""

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, **options)
        self._script: Any = None

    async def acquire_with_window(self, key: str, limit: int, expiry: int,
                                  amount: int = 1) -> tuple[bool, float, int]:
        """See :class:`WindowStorage`; one round trip (``EVALSHA``)."""
        if self._script is None:
            self._script = self.bridge.get_connection().register_script(  # type: ignore[attr-defined]
                _ACQUIRE_WITH_WINDOW)
        timestamp = time.time()
        reply = await self._script([self.bridge.prefixed_key(key)],
                                   [timestamp, limit, expiry, amount])
        if len(reply) == 3:
            return bool(reply[0]), float(reply[1]), int(reply[2])
        return bool(reply[0]), timestamp, 0
