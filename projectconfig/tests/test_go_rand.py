"""The Go math/rand port and the §8.4 seed: the test vectors of cv_config.md §8.4."""

from datetime import UTC, datetime

from projectconfig.go_rand import (
    LENGTH,
    MASK63,
    MASK64,
    MODULUS,
    MULTIPLIER,
    TAP,
    ZERO_SEED_REPLACEMENT,
    GoRand,
    percent_draw,
)
from projectconfig.go_rand_cooked import COOKED
from projectconfig.requirement import ChangeList, selection_seed, selection_streams

CL_ID = 65566771212885957
TRIGGER = datetime.fromtimestamp(1645080386, UTC)


def cl(offset: int = 0) -> ChangeList:
    return ChangeList(
        id=CL_ID + offset,
        host="h",
        project="p",
        ref="refs/heads/main",
        owner="o",
        trigger_time=datetime.fromtimestamp(1645080386 + offset, UTC),
    )


def test_go_well_known_outputs_for_seed_1():
    rand = GoRand(1)
    assert [rand.int63() for _ in range(3)] == [
        5577006791947779410,
        8674665223082153551,
        6129484611666145821,
    ]


def test_seed_and_child_seeds_of_one_cl():
    assert selection_seed([cl()]) == 2551609297354986293
    base = GoRand(2551609297354986293)
    assert (base.int63(), base.int63()) == (6272545220530880587, 2891191243058445419)


def test_first_draws_of_both_streams():
    optional, equivalent = selection_streams([cl()])
    assert [f"{percent_draw(optional):.6f}" for _ in range(5)] == [
        "7.744070", "74.464706", "31.148794", "42.315777", "60.081947",
    ]  # fmt: skip
    assert [f"{percent_draw(equivalent):.6f}" for _ in range(5)] == [
        "95.700188", "59.234409", "50.076588", "59.338005", "40.891956",
    ]  # fmt: skip


def test_two_cls_seed_and_first_draws():
    cls = [cl(1), cl(0)]  # sorted by ID before hashing
    assert selection_seed(cls) == -967954948574104479
    optional, equivalent = selection_streams(cls)
    assert f"{percent_draw(optional):.6f}" == "3.604456"
    assert f"{percent_draw(equivalent):.6f}" == "92.096359"


def test_a_cl_without_trigger_hashes_its_id_only():
    untriggered = ChangeList(id=CL_ID, host="h", project="p", ref="r", owner="o")
    assert selection_seed([untriggered]) != selection_seed([cl()])


def test_negative_and_zero_seeds_are_folded_as_go_does():
    # Go maps seed mod 2^31-1 into [0, 2^31-1) and replaces 0 with a fixed seed.
    assert GoRand(-1).int63() == GoRand((1 << 31) - 2).int63()
    assert GoRand(0).int63() == GoRand((1 << 31) - 1).int63()


def eager_state(seed: int) -> list[int]:
    """Go's seeding as written: 20 warm-up steps, then three steps per word."""
    x = seed % MODULUS or ZERO_SEED_REPLACEMENT
    state = []
    for i in range(-20, LENGTH):
        x = MULTIPLIER * x % MODULUS
        if i >= 0:
            word = x << 40
            x = MULTIPLIER * x % MODULUS
            word ^= x << 20
            x = MULTIPLIER * x % MODULUS
            state.append((word ^ x ^ COOKED[i]) & MASK64)
    return state


def test_lazily_computed_words_equal_go_seeding_beyond_a_full_cycle():
    for seed in (1, 2551609297354986293, -5):
        rand = GoRand(seed)
        draws = [rand.int63() for _ in range(2 * LENGTH)]
        state, tap, feed, expected = eager_state(seed), 0, LENGTH - TAP, []
        for _ in range(2 * LENGTH):
            tap, feed = (tap - 1) % LENGTH, (feed - 1) % LENGTH
            state[feed] = (state[feed] + state[tap]) & MASK64
            expected.append(state[feed] & MASK63)
        assert draws == expected
