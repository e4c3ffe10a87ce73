"""Go's math/rand generator (``rand.New(rand.NewSource(seed))``), draw for draw.

Upstream picks experimental and equivalent builders with it (cv_config.md §8.4); the same run
must pick the same builders here, so this is a port of its additive lagged Fibonacci source
(607 words, tap 273, seeded by 48271·x mod 2³¹−1 mixed with Go's cooked constants) and of the
``Int63``/``Float64``/``Float32`` methods the computation calls.
"""

from __future__ import annotations

import functools
import struct

from projectconfig.go_rand_cooked import COOKED

LENGTH = 607
TAP = 273
MASK63 = (1 << 63) - 1
MASK64 = (1 << 64) - 1
MODULUS = (1 << 31) - 1
MULTIPLIER = 48271
# Go substitutes this seed for 0 (mod 2³¹−1): a zero state would stay zero.
ZERO_SEED_REPLACEMENT = 89482311
# Seeding steps the generator this many times before it fills the first word.
WARM_UP_STEPS = 20


# 48271^k mod 2³¹−1 for every step seeding takes: a word costs three products, no powers.
_POWERS = [1]
for _ in range(WARM_UP_STEPS + 3 * LENGTH + 3):
    _POWERS.append(_POWERS[-1] * MULTIPLIER % MODULUS)
_FLOAT32 = struct.Struct("<f")


def as_float32(value: float) -> float:
    """Rounds a Python float to the nearest float32, as Go's float32() conversion does."""
    return _FLOAT32.unpack(_FLOAT32.pack(value))[0]


class GoRand:
    """``rand.New(rand.NewSource(seed))`` of Go's math/rand.

    Go fills all 607 state words when seeded, stepping x -> 48271·x mod 2³¹−1 three times per
    word after 20 warm-up steps. A run draws a handful of values, so each word is computed
    only when first read, jumping straight to its steps (x·48271^k mod 2³¹−1): same words,
    a fraction of the work.
    """

    def __init__(self, seed: int) -> None:
        seed %= MODULUS  # Python's % is already non-negative, as Go's seed fix-up makes it
        if seed == 0:
            seed = ZERO_SEED_REPLACEMENT
        self._seed = seed
        self._state: list[int | None] = [None] * LENGTH
        self._tap = 0
        self._feed = LENGTH - TAP

    def _word(self, i: int) -> int:
        word = self._state[i]
        if word is None:
            step = WARM_UP_STEPS + 3 * i
            seed = self._seed
            x1 = seed * _POWERS[step + 1] % MODULUS
            x2 = seed * _POWERS[step + 2] % MODULUS
            x3 = seed * _POWERS[step + 3] % MODULUS
            word = self._state[i] = ((x1 << 40) ^ (x2 << 20) ^ x3 ^ COOKED[i]) & MASK64
        return word

    def int63(self) -> int:
        self._tap = (self._tap - 1) % LENGTH
        self._feed = (self._feed - 1) % LENGTH
        value = (self._word(self._feed) + self._word(self._tap)) & MASK64
        self._state[self._feed] = value
        return value & MASK63

    def float64(self) -> float:
        while True:
            value = self.int63() / (1 << 63)
            if value != 1.0:  # a 63-bit value can round up to exactly 2⁶³
                return value

    def float32(self) -> float:
        while True:
            value = as_float32(self.float64())
            if value != 1.0:
                return value


def percent_draw(rand: GoRand) -> float:
    """``float32(rand.Float32() * 100)``: what upstream compares with a float32 percentage."""
    return as_float32(rand.float32() * 100)


def draw_of(value: int) -> float | None:
    """The percent draw Go makes of one ``Int63`` value, None when it draws again instead
    (the value rounds to 1.0 in ``Float64`` or ``Float32``)."""
    fraction = value / (1 << 63)
    if fraction == 1.0:
        return None
    single = as_float32(fraction)
    if single == 1.0:
        return None
    return as_float32(single * 100)


def _first_value(accepts) -> int:
    """The least ``Int63`` value `accepts` (monotonic: false, then true) holds for."""
    low, high = 0, 1 << 63  # accepts(high) is taken to hold
    while low < high:
        middle = (low + high) // 2
        if accepts(middle):
            high = middle
        else:
            low = middle + 1
    return low


# ``draw_of`` never decreases with the value, so the values Go draws again from are the
# ones from here up, and "draw <= percentage" holds exactly for values up to a threshold.
REDRAW_FROM = _first_value(lambda value: draw_of(value) is None)
# A threshold selecting every value Go keeps (100% does): such a draw need not be made.
EVERY_DRAW = REDRAW_FROM - 1


def selection_threshold(percentage: float) -> int:
    """The greatest value whose draw is <= `percentage` (a float32), -1 when none is:
    ``percent_draw(rand) <= percentage`` is ``draw value <= selection_threshold(percentage)``.
    """
    return _first_value(lambda value: value >= REDRAW_FROM or draw_of(value) > percentage) - 1


# Value n of a fresh generator adds seeded words LENGTH - TAP - 1 - n and LENGTH - 1 - n,
# neither overwritten before value TAP: the first TAP values come straight from the seed.
# Per value, the powers and cooked constants of its two words.
_FRESH_VALUE_TERMS = [
    tuple(
        term
        for i in (LENGTH - TAP - 1 - n, LENGTH - 1 - n)
        for term in (
            _POWERS[WARM_UP_STEPS + 3 * i + 1],
            _POWERS[WARM_UP_STEPS + 3 * i + 2],
            _POWERS[WARM_UP_STEPS + 3 * i + 3],
            COOKED[i],
        )
    )
    for n in range(TAP)
]


def fresh_values(seed: int, start: int, stop: int) -> list[int]:
    """``GoRand(seed).int63()`` values start..stop-1, for stop <= TAP: straight from the
    seed, without the generator's state. Both words are summed unmasked: the low 63 bits
    of a sum (and of a XOR) depend only on the low 63 bits of its terms."""
    seed %= MODULUS
    seed = seed or ZERO_SEED_REPLACEMENT
    m = MODULUS
    return [
        ((seed * a1 % m) << 40 ^ (seed * a2 % m) << 20 ^ seed * a3 % m ^ ca)
        + ((seed * b1 % m) << 40 ^ (seed * b2 % m) << 20 ^ seed * b3 % m ^ cb)
        & MASK63
        for a1, a2, a3, ca, b1, b2, b3, cb in _FRESH_VALUE_TERMS[start:stop]
    ]


def fresh_value(seed: int, n: int) -> int:
    """``fresh_values(seed, n, n + 1)[0]``, without the list."""
    seed %= MODULUS
    seed = seed or ZERO_SEED_REPLACEMENT
    m = MODULUS
    a1, a2, a3, ca, b1, b2, b3, cb = _FRESH_VALUE_TERMS[n]
    first = (seed * a1 % m) << 40 ^ (seed * a2 % m) << 20 ^ seed * a3 % m ^ ca
    second = (seed * b1 % m) << 40 ^ (seed * b2 % m) << 20 ^ seed * b3 % m ^ cb
    return (first + second) & MASK63


# Bits 51..62 of a fresh word come from its first product and cooked constant alone: the
# other two products reach bit 50 at most. So value n's top 12 bits, summed from both words'
# (mod 2^12), bound it: top << 51 <= value <= (top << 51) + _REST (the two remainders), unless
# the top bits are all ones and the sum may wrap. A draw far from a threshold needs no more.
_TOP_TERMS = [(a1, ca >> 51, b1, cb >> 51) for a1, _, _, ca, b1, _, _, cb in _FRESH_VALUE_TERMS]
_REST = (1 << 52) - 2
_TOP_MASK = (1 << 12) - 1
# Values whose top bits are at least this may reach REDRAW_FROM (or wrap): judged exactly.
_TOP_NEAR_REDRAW = (REDRAW_FROM >> 51) - 1


class _Lanes:
    """Values start..stop-1's lower bounds (`lows`), made all at once: their terms packed one
    per 64-bit lane of a long int, so each step of the arithmetic is one operation for every
    value (a long int step costs about what a small one does, and a run wants several)."""

    __slots__ = (
        "_shift",
        "_multipliers",
        "_first_cooked",
        "_second_cooked",
        "_ones",
        "_low31",
        "_low20",
        "_first_half",
        "_top_mask",
        "_unpack",
    )

    def __init__(self, start: int, stop: int) -> None:
        terms = _TOP_TERMS[start:stop]
        count = len(terms)
        self._shift = 64 * count  # from the first words' lanes to the second words'
        self._multipliers = _packed([a1 for a1, _, _, _ in terms] + [b1 for _, _, b1, _ in terms])
        self._first_cooked = _packed([ca for _, ca, _, _ in terms])
        self._second_cooked = _packed([cb for _, _, _, cb in terms])
        self._ones = _packed([1] * 2 * count)
        self._low31 = self._ones * MODULUS
        self._low20 = self._ones * ((1 << 20) - 1)
        self._first_half = (1 << self._shift) - 1
        self._top_mask = _packed([_TOP_MASK] * count)
        self._unpack = struct.Struct(f"<{count}Q").unpack

    def lows(self, seed: int) -> list[int]:
        """For a `seed` reduced mod m = MODULUS: each value needs two products x < 2^62 mod
        m; x folds to (x & m) + (x >> 31) < 2^32 (as 2^31 = 1 mod m), then to at most m + 1,
        then loses m where it reached m: exactly x mod m."""
        ones, low31 = self._ones, self._low31
        products = seed * self._multipliers
        x = (products & low31) + (products >> 31 & low31)
        x = (x & low31) + (x >> 31 & ones)
        x -= (x + ones >> 31 & ones) * MODULUS
        words = x >> 11 & self._low20  # each product's bits 11..30: its word's bits 51..62
        tops = (words & self._first_half ^ self._first_cooked) + (
            words >> self._shift ^ self._second_cooked
        ) & self._top_mask
        lows = tops << 51  # each lane's top bits to its bits 51..62: still in the lane
        return list(self._unpack(lows.to_bytes(self._shift // 8, "little")))


def _packed(values: list[int]) -> int:
    return sum(value << 64 * lane for lane, value in enumerate(values))


# By (start, stop): a few per config, each made once.
_lanes = functools.lru_cache(maxsize=1024)(_Lanes)


def _fresh_lows(seed: int, start: int, stop: int) -> list[int]:
    """Values start..stop-1's lower bounds: their top 12 bits in place, the rest zero, for a
    `seed` already reduced mod MODULUS."""
    return _lanes(start, stop).lows(seed)


# Lower bounds from here up may belong to values Go draws again from (or to a wrapped sum).
_LOW_NEAR_REDRAW = _TOP_NEAR_REDRAW << 51


class Draws:
    """The percent draws of ``GoRand(seed)`` by position: ``selected(position, threshold)``
    is ``draw <= percentage`` for ``threshold = selection_threshold(percentage)``.

    Computed only as far as read, and each value only as exactly as a threshold needs:
    bounds from its top bits first, the whole value when a threshold falls within them.
    """

    __slots__ = ("_seed", "_expected", "_looked_at", "_lows", "_spans", "_indices", "_rand")

    def __init__(self, seed: int, expected: int = 1) -> None:
        seed %= MODULUS
        self._seed = seed = seed or ZERO_SEED_REPLACEMENT
        # How many draws a reader will likely want, made at once (a few dozen at most).
        self._expected = expected = min(expected, 64)
        self._rand: GoRand | None = None  # for values past TAP, read in order
        # By kept draw (flat lists: a run makes a few, each read once or twice): a lower
        # bound of its value, how far above it the value may be (0 once exact), and the
        # value's index in the generator's sequence. The expected ones are made now: a
        # reader is about to read them, and nearly always every value is a draw.
        lows = _fresh_lows(seed, 0, expected)
        if lows and max(lows) < _LOW_NEAR_REDRAW:
            self._lows = lows
            self._spans = [_REST] * expected
            self._indices = list(range(expected))
            self._looked_at = expected  # Int63 values looked at so far
        else:  # left to _extend, which judges each value
            self._lows: list[int] = []
            self._spans: list[int] = []
            self._indices: list[int] = []
            self._looked_at = 0

    def _exact(self, n: int) -> int:
        if n < TAP:
            return fresh_value(self._seed, n)
        if self._rand is None:
            self._rand = GoRand(self._seed)
            for _ in range(n):
                self._rand.int63()
        return self._rand.int63()

    def _keep(self, index: int, value: int) -> None:
        if value < REDRAW_FROM:  # otherwise Go draws again: not a draw
            self._lows.append(value)
            self._spans.append(0)
            self._indices.append(index)

    def _extend(self, position: int) -> None:
        lows = self._lows
        while len(lows) <= position:
            n = self._looked_at
            wanted = max(position + 1, self._expected) - len(lows)
            if n + wanted > TAP:
                self._keep(n, self._exact(n))
                self._looked_at = n + 1
                continue
            bounds = _fresh_lows(self._seed, n, n + wanted)
            self._looked_at = n + wanted
            if max(bounds) < _LOW_NEAR_REDRAW:  # nearly always: every value is a draw
                lows += bounds
                self._spans += [_REST] * wanted
                self._indices += range(n, n + wanted)
                continue
            for index, low in enumerate(bounds, n):
                if low >= _LOW_NEAR_REDRAW:
                    self._keep(index, self._exact(index))
                else:
                    lows.append(low)
                    self._spans.append(_REST)
                    self._indices.append(index)

    def selected(self, position: int, threshold: int) -> bool:
        lows = self._lows
        if position >= len(lows):
            self._extend(position)
        low = lows[position]
        if low > threshold:
            return False
        if low + self._spans[position] <= threshold:
            return True
        value = lows[position] = self._exact(self._indices[position])
        self._spans[position] = 0
        return value <= threshold
