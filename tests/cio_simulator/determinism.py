"""Deterministic randomness and lazily built record lists.

Large resources (messages, people, activities, suppressions) reach hundreds of thousands of records at the
benchmark scales, so they are never held as dicts: each record is rebuilt on access from its index and the
seed, and only small integer arrays (sorted timestamps) plus the handful of records `mutate()` touched live
in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

Record = dict[str, Any]


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap per-record decisions without building an RNG."""
    value = _GOLDEN
    for part in parts:
        value = (value ^ (part & _MASK)) + _GOLDEN & _MASK
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB & _MASK
        value ^= value >> 31
    return value


def salt(name: str) -> int:
    """A stable integer for a name (Python's `hash()` of str is randomised per process, so it cannot be used)."""
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "big") ^ len(name)


class SplitMix:
    """A small random stream (splitmix64) with the `random.Random` methods the builders use.

    Hand-written because seeding `random.Random` costs ~30 µs (it fills 624 words of Mersenne state), which
    dominated building a page of 1000 messages; this one seeds for free and draws in ~1 µs.
    """

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def _next(self) -> int:
        self._state = (self._state + _GOLDEN) & _MASK
        value = self._state
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB & _MASK
        return value ^ (value >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / (1 << 53))

    def randrange(self, stop: int) -> int:
        return self._next() % stop

    def randint(self, low: int, high: int) -> int:
        return low + self._next() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, items: Sequence[Any]) -> Any:
        return items[self._next() % len(items)]

    def sample(self, items: Any, count: int) -> list[Any]:
        pool = list(items)
        for i in range(count):
            j = i + self._next() % (len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:count]


def rng_for(seed: int, kind: str, *parts: int) -> SplitMix:
    """The random stream of one record: the same (seed, kind, index) always yields the same values."""
    return SplitMix(mix(seed, salt(kind), *parts))


class LazyRecords(Sequence[Record]):
    """A read-only list whose items are built on access by `build(index)`; its length may grow (mutations)."""

    def __init__(self, size: Callable[[], int], build: Callable[[int], Record]) -> None:
        self._size = size
        self._build = build

    def __len__(self) -> int:
        return self._size()

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        size = self._size()
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(size))]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._build(index)

    def __iter__(self) -> Iterator[Record]:
        return (self._build(i) for i in range(self._size()))

    def __repr__(self) -> str:
        return f"<LazyRecords of {len(self)}>"


class MappedRecords(Sequence[Record]):
    """A lazy view over selected positions of another lazy list (e.g. only the records the API shows)."""

    def __init__(self, positions: Callable[[], Sequence[int]], build: Callable[[int], Record]) -> None:
        self._positions = positions
        self._build = build

    def __len__(self) -> int:
        return len(self._positions())

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        positions = self._positions()
        if isinstance(index, slice):
            return [self._build(positions[i]) for i in range(*index.indices(len(positions)))]
        return self._build(positions[index])

    def __iter__(self) -> Iterator[Record]:
        return (self._build(p) for p in self._positions())

    def __repr__(self) -> str:
        return f"<MappedRecords of {len(self)}>"
