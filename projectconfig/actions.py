"""Every change to stored project configs, and reading the one in force.

``import_config(project, text, source)`` parses and validates a commit-queue.cfg and stores it
as the project's next version (nothing when it equals the current one); a config with any
error is refused whole (``ConfigRejected`` lists them all) and the current version stays;
a new version sends ``projectconfig.signals.config_imported`` in the storing transaction.
``current_config(project)`` loads the version in force, compiled once per process.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from google.protobuf import text_format

from cvproto.cv.config import config_pb2
from projectconfig.compiled import CompiledConfig
from projectconfig.models import ConfigVersion
from projectconfig.signals import config_imported
from projectconfig.validation import GERRIT_HOST_SUFFIXES, validate


class ConfigRejected(Exception):
    """The config cannot be used; ``errors`` holds one line per problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(self.message)

    @property
    def message(self) -> str:
        count = f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}"
        return f"{self.source}: config refused ({count}):\n" + "\n".join(
            f"  {error}" for error in self.errors
        )


def parse_config(
    text: str, source: str, gerrit_host_suffixes: Sequence[str] = GERRIT_HOST_SUFFIXES
) -> config_pb2.Config:
    """A cv.config.Config from its text format; refuses a parse error or an invalid config
    (`gerrit_host_suffixes`: the Gerrit hosts it may name, validation.GERRIT_HOST_SUFFIXES)."""
    config = config_pb2.Config()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        # ParseError's text starts with "line:column", which follows the file name well.
        raise ConfigRejected(source, [f"{source}:{e}"]) from None
    errors = validate(config, gerrit_host_suffixes)
    if errors:
        raise ConfigRejected(source, errors)
    return config


@dataclass(frozen=True)
class ImportResult:
    version: ConfigVersion
    created: bool

    def summary(self) -> str:
        version = self.version
        if not self.created:
            return f"{version.project}: unchanged, version {version.version} stays in force"
        return (
            f"{version.project}: imported version {version.version} "
            f"({len(version.group_names)} groups, {version.builder_count} builders, "
            f"sha256 {version.sha256[:12]})"
        )


def current_version(project: str) -> ConfigVersion | None:
    return ConfigVersion.objects.filter(project=project).order_by("-version").first()


def import_config(
    project: str,
    text: str,
    source: str,
    *,
    gerrit_host_suffixes: Sequence[str] = GERRIT_HOST_SUFFIXES,
    imported_at: datetime | None = None,
) -> ImportResult:
    """Stores `text` as the project's next version unless it is the current one's content.
    `imported_at` (default now) is for a caller replaying history, as the demo does."""
    config = parse_config(text, source, gerrit_host_suffixes)
    content = config.SerializeToString(deterministic=True)
    sha256 = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        current = (
            ConfigVersion.objects.select_for_update()
            .filter(project=project)
            .order_by("-version")
            .defer("text", "content")
            .first()
        )
        if current is not None and current.sha256 == sha256:
            return ImportResult(current, created=False)
        try:
            with transaction.atomic():
                version = ConfigVersion.objects.create(
                    project=project,
                    version=(current.version if current else 0) + 1,
                    sha256=sha256,
                    text=text,
                    content=content,
                    source=source,
                    group_names=[group.name for group in config.config_groups],
                    builder_count=sum(
                        len(group.verifiers.tryjob.builders) for group in config.config_groups
                    ),
                    imported_at=imported_at or timezone.now(),
                )
        except IntegrityError:
            # Two first imports of a project raced (no row to lock): the other one won.
            raise ConfigRejected(
                source, [f"{project}: another import stored a version meanwhile; import again"]
            ) from None
        # Running runs follow the new version: receivers enqueue durable work in this
        # transaction, so it is stored exactly when the version is.
        config_imported.send(sender=ConfigVersion, version=version)
    return ImportResult(version, created=True)


# Compiled configs by content hash: a version never changes, so an entry never goes stale.
_COMPILED: OrderedDict[str, CompiledConfig] = OrderedDict()
COMPILED_CACHE_SIZE = 32


def compiled_config(version: ConfigVersion) -> CompiledConfig:
    """The version's config with its matcher and groups, compiled once per process."""
    compiled = _COMPILED.get(version.sha256)
    if compiled is None:
        compiled = CompiledConfig(config_pb2.Config.FromString(bytes(version.content)))
        _COMPILED[version.sha256] = compiled
        if len(_COMPILED) > COMPILED_CACHE_SIZE:
            _COMPILED.popitem(last=False)
    _COMPILED.move_to_end(version.sha256)
    return compiled


def current_config(project: str) -> tuple[ConfigVersion, CompiledConfig] | None:
    version = current_version(project)
    if version is None:
        return None
    return version, compiled_config(version)
