"""The Requirement computation's core over Chromium's config (2 groups, 595 builders) for
1,000 generated runs, against choosing the config group of the same runs alone.

Both sides start from the config compiled once (as the service keeps it per version): the
core is `requirement_for_run` (group choice, footers, the seeded draws, every builder's
procedure), the baseline `Matcher.group_for_run`. ratio = core / match; the goal is <= 5.
A second line compares with a match that also builds its matcher from the Config message
every time, as a service without a compiled-config cache would.

Times are this thread's CPU time (best of REPEAT): on a machine shared with other work, wall
time swings with the neighbours' load between the two measurements, CPU time does not.
"""

import random
import time
from datetime import UTC, datetime, timedelta

from projectconfig.actions import parse_config
from projectconfig.compiled import CompiledConfig, requirement_for_run
from projectconfig.matcher import Matcher
from projectconfig.requirement import ChangeList, Identities, RunInput
from projectconfig.tests.support import DATA

RUNS = 1000
REPEAT = 5
GOAL = 5.0
PATHS = [
    "chrome/browser/ui/views/frame/browser_view.cc",
    "content/browser/renderer_host/render_frame_host_impl.cc",
    "third_party/blink/renderer/core/dom/element.cc",
    "base/strings/string_util.h",
    "docs/testing/README.md",
    "infra/config/subprojects/chromium/try.star",
    "ios/chrome/browser/tabs/tab.mm",
    "tools/metrics/histograms/enums.xml",
    "components/sync/engine/syncer.cc",
    "chromeos/ash/components/network/network_state.cc",
]
FOOTERS = ["", "", "", "No-Try: true", "Cq-Include-Trybots: luci.chromium.try:linux-afl-asan-rel"]


def generated_runs() -> list[RunInput]:
    rng = random.Random(4242)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = []
    for i in range(RUNS):
        cls = tuple(
            ChangeList(
                id=rng.getrandbits(62),
                host="chromium-review.googlesource.com",
                project="chromium/src",
                ref="refs/heads/main",
                owner=f"dev{rng.randrange(50)}@example.com",
                trigger_time=start + timedelta(seconds=rng.randrange(10**8)),
                files=tuple(rng.sample(PATHS, rng.randint(1, 4))),
                commit_message=f"Change {i}\n\nBody\n\n{rng.choice(FOOTERS)}\n",
            )
            for _ in range(rng.choice([1, 1, 1, 2]))
        )
        mode = rng.choice(["DRY_RUN", "DRY_RUN", "FULL_RUN", "NEW_PATCHSET_RUN"])
        groups = {"dev1@example.com": frozenset({"googlers"})}
        runs.append(RunInput(mode, cls, Identities(groups=groups)))
    return runs


def _timed(call) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.thread_time()
        call()
        best = min(best, time.thread_time() - start)
    return best


def run() -> None:
    config = parse_config((DATA / "chromium-commit-queue.cfg").read_text(), "chromium")
    compiled = CompiledConfig(config)
    runs = generated_runs()
    locations = [[(cl.host, cl.project, cl.ref) for cl in r.cls] for r in runs]
    for r in runs[:10]:  # compile the group's patterns outside the timing, as a warm service
        requirement_for_run(compiled, r)

    core = _timed(lambda: [requirement_for_run(compiled, r) for r in runs])
    match = _timed(lambda: [compiled.matcher.group_for_run(cls) for cls in locations])
    uncached = _timed(lambda: [Matcher(config).group_for_run(cls) for cls in locations])
    ratio = core / match
    verdict = "meets" if ratio <= GOAL else "misses"
    print(
        f"requirement: Chromium config, {RUNS} generated runs: core {core * 1e3:.0f} ms "
        f"({core / RUNS * 1e3:.2f} ms/run), group match {match * 1e3:.1f} ms; "
        f"ratio {ratio:.1f} ({verdict} goal <= {GOAL})"
    )
    print(
        f"requirement: against a match that builds its matcher each time "
        f"({uncached * 1e3:.0f} ms): ratio {core / uncached:.1f}"
    )
