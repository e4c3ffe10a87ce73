"""The committed *_pb2.py / *_pb2.pyi files must be exactly what protoc makes now."""

from __future__ import annotations

import pathlib

import pytest

from cvproto import build

STALE_HINT = "run `make protos` (python -m cvproto.build) and commit the result"


def _generated(root: pathlib.Path) -> dict[str, bytes]:
    base = root / "cvproto"
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for pattern in ("*_pb2.py", "*_pb2.pyi")
        for p in base.rglob(pattern)
        if "tests" not in p.relative_to(base).parts
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("protos")
    build.generate(out)
    return _generated(out)


def test_every_source_generates_both_outputs(fresh):
    expected = set()
    for src in build.proto_sources():
        stem = src.with_name(src.stem + "_pb2").as_posix()
        expected |= {stem + ".py", stem + ".pyi"}
    assert set(fresh) == expected


def test_committed_files_match_fresh_output(fresh):
    committed = _generated(build.REPO_ROOT)
    missing = sorted(set(fresh) - set(committed))
    assert not missing, f"generated files missing from the tree: {missing}; {STALE_HINT}"
    stale = sorted(name for name in fresh if committed[name] != fresh[name])
    assert not stale, f"generated files out of date: {stale}; {STALE_HINT}"


def test_no_orphan_generated_files(fresh):
    orphans = sorted(set(_generated(build.REPO_ROOT)) - set(fresh))
    assert not orphans, (
        f"generated files without a .proto source: {orphans}; delete them or restore the "
        f"source, then {STALE_HINT}"
    )


def test_every_generated_package_is_importable(fresh):
    for name in fresh:
        package = (build.REPO_ROOT / name).parent
        while package != build.REPO_ROOT:
            assert (package / "__init__.py").is_file(), f"missing {package}/__init__.py"
            package = package.parent


def test_generate_creates_package_inits(tmp_path):
    build.generate(tmp_path)
    assert (tmp_path / "cvproto" / "__init__.py").is_file()
    assert (tmp_path / "cvproto" / "cv" / "internal" / "tryjob" / "__init__.py").is_file()
    assert (tmp_path / "cvproto" / "cv" / "internal" / "tryjob" / "storage_pb2.py").is_file()


def test_protoc_failure_raises_with_protoc_message(tmp_path):
    root = tmp_path / "src"
    (root / "cvproto").mkdir(parents=True)
    (root / "cvproto" / "broken.proto").write_text(
        'syntax = "proto3";\npackage broken;\nmessage M { strin name = 1; }\n'
    )
    with pytest.raises(build.ProtocError) as excinfo:
        build.run_protoc(root, [pathlib.Path("cvproto/broken.proto")], tmp_path / "out")
    text = str(excinfo.value)
    assert "broken.proto" in text
    assert "strin" in text
