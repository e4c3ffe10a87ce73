"""Go's math/rand generator (``rand.New(rand.NewSource(seed))``), draw for draw.

Upstream picks experimental and equivalent builders with it (cv_config.md §8.4); the same run
must pick the same builders here, so this is a port of its additive lagged Fibonacci source
(607 words, tap 273, seeded by 48271·x mod 2³¹−1 mixed with Go's cooked constants) and of the
``Int63``/``Float64``/``Float32`` methods the computation calls.
"""

from __future__ import annotations

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


def as_float32(value: float) -> float:
    """Rounds a Python float to the nearest float32, as Go's float32() conversion does."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


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
            x1, x2, x3 = (
                self._seed * pow(MULTIPLIER, step + k, MODULUS) % MODULUS for k in (1, 2, 3)
            )
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
