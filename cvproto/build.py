"""Regenerate the Python protobuf modules of ``cvproto`` with grpc_tools' protoc.

Every ``cvproto/**/*.proto`` file is compiled with the repository root as the
import root (so ``cvproto/gerrit/gerrit.proto`` becomes the module
``cvproto.gerrit.gerrit_pb2``) plus the ``google/protobuf/*.proto`` files
bundled with grpc_tools. ``python -m cvproto.build`` writes the ``*_pb2.py`` and
``*_pb2.pyi`` files next to their sources.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import tempfile
from collections.abc import Iterator
from importlib import resources

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


class ProtocError(RuntimeError):
    """protoc rejected the sources; the message is protoc's own output."""


def proto_sources() -> list[pathlib.Path]:
    """All .proto files of the package, relative to the repo root, sorted."""
    return sorted(p.relative_to(REPO_ROOT) for p in PACKAGE_DIR.rglob("*.proto"))


def _bundled_include() -> pathlib.Path:
    return pathlib.Path(str(resources.files("grpc_tools") / "_proto"))


@contextlib.contextmanager
def _capture_stderr_fd() -> Iterator[list[str]]:
    """Capture writes to file descriptor 2 (protoc is C++ and bypasses sys.stderr)."""
    captured: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.append(tmp.read().decode("utf-8", "replace"))


def run_protoc(
    proto_root: pathlib.Path, sources: list[pathlib.Path], out_dir: pathlib.Path
) -> None:
    """Compile ``sources`` (paths relative to ``proto_root``) into ``out_dir``.

    Raises ProtocError carrying protoc's diagnostics when protoc fails.
    """
    from grpc_tools import protoc

    if not sources:
        raise ProtocError(f"no .proto files found under {proto_root}")
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",  # argv[0], ignored by protoc
        f"--proto_path={proto_root}",
        f"--proto_path={_bundled_include()}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        # Absolute paths; protoc maps them back to "cvproto/..." through the
        # first --proto_path, which fixes the generated module names.
        *(str(proto_root / src) for src in sources),
    ]
    with _capture_stderr_fd() as stderr:
        rc = protoc.main(args)
    message = "".join(stderr).strip()
    if rc != 0:
        raise ProtocError(f"protoc failed (exit code {rc}):\n{message}")
    if message:
        # Warnings (e.g. unused imports) are not fatal but should be seen.
        print(message, file=sys.stderr)


def generate(out_dir: pathlib.Path) -> None:
    """Compile every cvproto .proto into ``out_dir`` (mirroring cvproto/...).

    Writes ``*_pb2.py`` and ``*_pb2.pyi`` and makes sure each package directory
    under ``out_dir/cvproto`` has an ``__init__.py``. Raises ProtocError with
    protoc's diagnostics if compilation fails.
    """
    out_dir = pathlib.Path(out_dir)
    sources = proto_sources()
    run_protoc(REPO_ROOT, sources, out_dir)
    top = out_dir / "cvproto"
    for src in sources:
        package = out_dir / src.parent
        while True:
            init = package / "__init__.py"
            if not init.exists():
                init.touch()
            if package == top:
                break
            package = package.parent


def main() -> int:
    try:
        generate(REPO_ROOT)
    except ProtocError as exc:
        print(exc, file=sys.stderr)
        return 1
    for src in proto_sources():
        print(f"generated {src.with_name(src.stem + '_pb2.py')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
