"""generate_backfill_data: realistic, deterministic input in every flavour the imports read."""

import gzip
import io
import json
from collections import Counter

from importers.backfill.attempts import parse_attempt
from importers.backfill.builds import parse_build
from importers.backfill.generate import generate
from importers.tests.backfill.conftest import run


def generated_lines(count: int, **kwargs) -> tuple[list[bytes], list[bytes]]:
    attempts, builds = io.BytesIO(), io.BytesIO()
    generate(attempts, count=count, builds_out=builds, **kwargs)
    return attempts.getvalue().splitlines(), builds.getvalue().splitlines()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones():
    assert generated_lines(200, seed=7) == generated_lines(200, seed=7)
    assert generated_lines(200, seed=7) != generated_lines(200, seed=8)


def test_the_sample_has_every_status_mode_flavour_retries_and_reuse():
    attempts, builds = generated_lines(1500, builds_per_attempt=3)

    assert len(attempts) == 1500
    parsed = [parse_attempt(line) for line in attempts]  # every line is valid
    names = {1: "STARTED", 2: "SUCCESS", 3: "ABORTED", 4: "FAILURE", 5: "INFRA_FAILURE"}
    statuses = Counter(
        names.get(status, status) for status in (json.loads(line)["status"] for line in attempts)
    )
    assert set(statuses) == set(names.values())
    assert {p.mode for p in parsed} == {"DRY_RUN", "FULL_RUN", "QUICK_DRY_RUN"}
    assert max(len(p.changes) for p in parsed) >= 2
    keys = Counter(p.key for p in parsed)
    twice = [k for k, n in keys.items() if n == 2]
    assert twice  # a STARTED record, then the final one
    assert all([p.ended for p in parsed if p.key == key] == [False, True] for key in twice[:20])
    flavours = Counter(
        "bigquery" if " UTC" in line.decode() else "camel" if b'"luciProject"' in line else "snake"
        for line in attempts
    )
    assert set(flavours) == {"bigquery", "camel", "snake"}
    reused = [b for p in parsed for b in p.builds if b.reused]
    assert reused
    build_ids = {parse_build(line, "cr-buildbucket.appspot.com").external_id for line in builds}
    assert {b.external_id for b in reused} <= build_ids  # reused builds ran in another attempt
    per_attempt = Counter(len(p.builds) for p in parsed if p.ended)
    assert max(per_attempt) > 3  # retried builds come on top of the three


def test_the_command_writes_gzip_and_plain_files(tmp_path):
    result = run(
        "generate_backfill_data",
        tmp_path / "a.jsonl.gz",
        attempts=50,
        builds_per_attempt=2,
        builds=tmp_path / "b.jsonl",
        format="bigquery",
    )

    assert result.status == 0, result.err
    assert "50 lines" in result.out
    lines = gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()).splitlines()
    assert len(lines) == 50 and all(b" UTC" in line for line in lines)
    assert (tmp_path / "b.jsonl").read_bytes().count(b"\n") > 50
