"""`manage.py import_config` of golang/build's commit-queue.cfg (3.5 MB, 164 groups, 24,047
builders), as a real command on the throwaway SQLite database, against parsing the same file
with `text_format.Parse` alone.

ratio = import time / parse time; the goal is <= 3. Each repetition imports into a new
project, so every one validates, encodes, hashes and stores a whole new version.
"""

import io
import time

from django.core.management import call_command
from google.protobuf import text_format

from cvproto.cv.config import config_pb2
from projectconfig.tests.support import DATA

CONFIG = DATA / "golang-build-commit-queue.cfg"
REPEAT = 3
GOAL = 3.0


def run() -> None:
    text = CONFIG.read_text()
    imports, parses = [], []
    for i in range(REPEAT):
        start = time.perf_counter()
        text_format.Parse(text, config_pb2.Config())
        parses.append(time.perf_counter() - start)
        out = io.StringIO()
        start = time.perf_counter()
        call_command("import_config", f"golang-bench-{i}", str(CONFIG), stdout=out)
        imports.append(time.perf_counter() - start)
        assert "imported version 1 (164 groups, 24047 builders" in out.getvalue(), out.getvalue()
    imported, parsed = min(imports), min(parses)
    ratio = imported / parsed
    verdict = "meets" if ratio <= GOAL else "misses"
    print(
        f"import_config: golang/build commit-queue.cfg ({len(text) / 1e6:.1f} MB): "
        f"import {imported:.2f} s, text_format.Parse {parsed:.2f} s; "
        f"ratio {ratio:.2f} ({verdict} goal <= {GOAL})"
    )
