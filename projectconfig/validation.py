"""Validation of a ``cv.config.Config`` (cv_config.md §1 per-field rules and §4 cross-field).

``validate(config) -> list[str]`` returns every error, each naming where it is, e.g.
``config_groups[0] "cq": verifiers.tryjob.builders[3] "chromium/try/x": experiment_percentage:
must be within [0, 100], not 120``. An empty list means the config is valid.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cvproto.cv.config import config_pb2
from cvproto.cv.v1 import run_pb2
from projectconfig.footers import normalize_footer_key
from projectconfig.regexps import RegexpError, compile_re2
from projectconfig.requirement import DRY_RUN, FULL_RUN, NEW_PATCHSET_RUN

STANDARD_MODES = (DRY_RUN, FULL_RUN, NEW_PATCHSET_RUN)
CQ_STATUS_HOSTS = ("", "chromium-cq-status.appspot.com", "internal-cq-status.appspot.com")
GROUP_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,39}")
MODE_NAME = re.compile(r"[A-Z][A-Z_]{0,39}")
USER_LIMIT_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-@_+]{0,511}")
LUCI_PROJECT = re.compile(r"[a-z0-9\-_]{1,100}")
# A bucket written the legacy way ("luci.project.bucket") has no place in a builder name.
LEGACY_BUCKET = re.compile(r"luci\.[^.]+\..+")
# Buildbucket's experiment names: dotted lower-case identifiers.
EXPERIMENT_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
TERMINAL_STATUSES = (run_pb2.Run.SUCCEEDED, run_pb2.Run.FAILED, run_pb2.Run.CANCELLED)
MIN_STABILIZATION_DELAY_SECONDS = 10
# Upstream accepts Gerrit hosts of googlesource.com only. A caller may add others: the demo adds
# its reserved *.demo.invalid hosts (importers.demo), which nothing can ever reach.
GERRIT_HOST_SUFFIXES = (".googlesource.com",)

Tryjob = config_pb2.Verifiers.Tryjob


@dataclass
class Errors:
    """Collects errors, each prefixed with the path of the value it is about."""

    messages: list[str] = field(default_factory=list)

    def add(self, where: str, problem: str) -> None:
        self.messages.append(f"{where}: {problem}")

    def regexp(self, where: str, pattern: str) -> None:
        try:
            compile_re2(pattern)
        except RegexpError as e:
            self.add(where, str(e))


def _named(path: str, name: str) -> str:
    return f'{path} "{name}"' if name else path


def _duplicates(values: Sequence[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def _non_empty_entries(errors: Errors, where: str, values: Sequence[str]) -> None:
    for i, value in enumerate(values):
        if not value:
            errors.add(f"{where}[{i}]", "must not be empty")


def _non_negative_duration(errors: Errors, where: str, duration) -> None:
    if duration.seconds < 0 or duration.nanos < 0:
        errors.add(where, "must not be negative")


def validate(
    config: config_pb2.Config, gerrit_host_suffixes: Sequence[str] = GERRIT_HOST_SUFFIXES
) -> list[str]:
    errors = Errors()
    if config.draining_start_time:
        errors.add("draining_start_time", "is deprecated and must not be set")
    if config.cq_status_host not in CQ_STATUS_HOSTS:
        errors.add(
            "cq_status_host",
            f"must be one of {', '.join(h for h in CQ_STATUS_HOSTS if h)} or empty, "
            f"not {config.cq_status_host!r}",
        )
    if config.submit_options.max_burst < 0:
        errors.add("submit_options.max_burst", "must not be negative")
    _non_negative_duration(errors, "submit_options.burst_delay", config.submit_options.burst_delay)
    if config.project_scoped_account != config_pb2.UNSET:
        errors.add("project_scoped_account", "is deprecated and must be UNSET")
    if not config.config_groups:
        errors.add("config_groups", "at least one config group is required")
    names = [group.name for group in config.config_groups]
    for name in _duplicates(names):
        errors.add("config_groups", f'name "{name}" is used by more than one group')
    fallbacks = [g.name for g in config.config_groups if g.fallback == config_pb2.YES]
    if len(fallbacks) > 1:
        errors.add(
            "config_groups",
            f"at most one group may have fallback: YES, not {len(fallbacks)} "
            f"({', '.join(repr(n) for n in fallbacks)})",
        )
    for i, group in enumerate(config.config_groups):
        _validate_group(
            errors, _named(f"config_groups[{i}]", group.name), group, tuple(gerrit_host_suffixes)
        )
    return errors.messages


def _validate_group(
    errors: Errors, where: str, group: config_pb2.ConfigGroup, host_suffixes: tuple[str, ...]
) -> None:
    if not GROUP_NAME.fullmatch(group.name):
        errors.add(
            f"{where}: name",
            "must start with a letter and hold at most 40 letters, digits, '_' or '-'",
        )
    if not group.gerrit:
        errors.add(f"{where}: gerrit", "at least one Gerrit host is required")
    for url in _duplicates([g.url for g in group.gerrit]):
        errors.add(f"{where}: gerrit", f"url {url!r} is listed more than once")
    for i, gerrit in enumerate(group.gerrit):
        _validate_gerrit(errors, f"{where}: gerrit[{i}]", gerrit, host_suffixes)
    if not group.HasField("verifiers"):
        errors.add(f"{where}: verifiers", "required")
    ability = group.verifiers.gerrit_cq_ability
    if group.HasField("combine_cls"):
        delay = group.combine_cls.stabilization_delay
        if not group.combine_cls.HasField("stabilization_delay"):
            errors.add(f"{where}: combine_cls.stabilization_delay", "required")
        elif delay.seconds < MIN_STABILIZATION_DELAY_SECONDS:
            errors.add(
                f"{where}: combine_cls.stabilization_delay",
                f"must be at least {MIN_STABILIZATION_DELAY_SECONDS}s",
            )
        if ability.allow_submit_with_open_deps:
            errors.add(
                f"{where}: combine_cls",
                "cannot be combined with verifiers.gerrit_cq_ability.allow_submit_with_open_deps",
            )
    modes = _validate_modes(errors, where, group.additional_modes)
    _validate_verifiers(errors, f"{where}: verifiers", group.verifiers, modes)
    _validate_user_limits(errors, where, group)
    _validate_post_actions(errors, where, group.post_actions, modes)
    _validate_experiments(errors, where, group.tryjob_experiments)


def _validate_gerrit(errors: Errors, where: str, gerrit, host_suffixes: tuple[str, ...]) -> None:
    url = urlsplit(gerrit.url)
    if url.scheme != "https":
        errors.add(f"{where}.url", f"must be an https URL, not {gerrit.url!r}")
    elif url.path not in ("", "/") or url.query or url.fragment:
        errors.add(f"{where}.url", f"must have no path, query or fragment: {gerrit.url!r}")
    elif not (url.hostname or "").endswith(host_suffixes):
        errors.add(
            f"{where}.url", f"host must end with {' or '.join(host_suffixes)}: {gerrit.url!r}"
        )
    if not gerrit.projects:
        errors.add(f"{where}.projects", "at least one project is required")
    for name in _duplicates([p.name for p in gerrit.projects]):
        errors.add(f"{where}.projects", f"project {name!r} is listed more than once")
    for i, project in enumerate(gerrit.projects):
        at = _named(f"{where}.projects[{i}]", project.name)
        name = project.name
        if not name:
            errors.add(f"{at}.name", "required")
        elif name.startswith(("/", "a/")) or name.endswith(("/", ".git")):
            errors.add(f"{at}.name", "must not start with '/' or 'a/' nor end with '/' or '.git'")
        for field_name in ("ref_regexp", "ref_regexp_exclude"):
            for j, pattern in enumerate(getattr(project, field_name)):
                errors.regexp(f"{at}.{field_name}[{j}]", pattern)
        for pattern in sorted(set(project.ref_regexp) & set(project.ref_regexp_exclude)):
            errors.add(
                f"{at}",
                f"{pattern!r} is in both ref_regexp and ref_regexp_exclude",
            )


def _validate_modes(errors: Errors, where: str, modes) -> set[str]:
    for name in _duplicates([m.name for m in modes]):
        errors.add(f"{where}: additional_modes", f"mode {name!r} is defined more than once")
    for i, mode in enumerate(modes):
        at = _named(f"{where}: additional_modes[{i}]", mode.name)
        if mode.name in STANDARD_MODES:
            errors.add(f"{at}.name", f"{mode.name} is a standard mode and cannot be redefined")
        elif not MODE_NAME.fullmatch(mode.name):
            errors.add(f"{at}.name", "must be 1 to 40 capital letters or '_', starting a letter")
        if mode.cq_label_value not in (1, 2):
            errors.add(f"{at}.cq_label_value", f"must be 1 or 2, not {mode.cq_label_value}")
        if not mode.triggering_label:
            errors.add(f"{at}.triggering_label", "required")
        elif mode.triggering_label == "Commit-Queue":
            errors.add(f"{at}.triggering_label", "must not be Commit-Queue")
        if mode.triggering_value <= 0:
            errors.add(f"{at}.triggering_value", f"must be positive, not {mode.triggering_value}")
    return {m.name for m in modes}


def _validate_verifiers(errors: Errors, where: str, verifiers, modes: set[str]) -> None:
    ability = verifiers.gerrit_cq_ability
    if not verifiers.HasField("gerrit_cq_ability"):
        errors.add(f"{where}.gerrit_cq_ability", "required")
    elif not ability.committer_list:
        errors.add(f"{where}.gerrit_cq_ability.committer_list", "at least one group is required")
    for field_name in ("committer_list", "dry_run_access_list", "new_patchset_run_access_list"):
        _non_empty_entries(
            errors, f"{where}.gerrit_cq_ability.{field_name}", getattr(ability, field_name)
        )
    if verifiers.HasField("tree_status"):
        tree = verifiers.tree_status
        if not tree.url and not tree.tree_name:
            errors.add(f"{where}.tree_status", "url or tree_name is required")
        elif tree.url and not tree.url.startswith("https://"):
            errors.add(f"{where}.tree_status.url", f"must be an https URL, not {tree.url!r}")
    if verifiers.HasField("cqlinter"):
        errors.add(f"{where}.cqlinter", "is internal to CV and must not be set")
    if verifiers.HasField("fake"):
        errors.add(f"{where}.fake", "is internal to CV and must not be set")
    tryjob = verifiers.tryjob
    if tryjob.cancel_stale_tryjobs != config_pb2.UNSET:
        errors.add(
            f"{where}.tryjob.cancel_stale_tryjobs",
            "is deprecated and must be UNSET; set cancel_stale on each builder",
        )
    retry = tryjob.retry_config
    for field_name in (
        "single_quota",
        "global_quota",
        "failure_weight",
        "transient_failure_weight",
        "timeout_weight",
    ):
        if getattr(retry, field_name) < 0:
            errors.add(f"{where}.tryjob.retry_config.{field_name}", "must not be negative")
    if tryjob.builders:
        _validate_builders(errors, f"{where}.tryjob", tryjob.builders, modes)
        uses_npr = any(NEW_PATCHSET_RUN in b.mode_allowlist for b in tryjob.builders)
        if uses_npr and not ability.new_patchset_run_access_list:
            errors.add(
                f"{where}.gerrit_cq_ability.new_patchset_run_access_list",
                "required because a builder lists NEW_PATCHSET_RUN in mode_allowlist",
            )


def _builder_name_problem(name: str) -> str | None:
    parts = name.split("/")
    if len(parts) != 3 or not all(parts):
        return f"{name!r} must be project/bucket/builder (3 non-empty parts)"
    if any(LEGACY_BUCKET.fullmatch(part) for part in parts):
        return f"{name!r} must not use the legacy luci.project.bucket form"
    if not LUCI_PROJECT.fullmatch(parts[0]):
        return f"{name!r}: {parts[0]!r} is not a valid LUCI project name"
    return None


def _validate_builders(errors: Errors, where: str, builders, modes: set[str]) -> None:
    main_names = {b.name for b in builders}
    for name in _duplicates([b.name for b in builders]):
        errors.add(f"{where}.builders", f"builder {name!r} is listed more than once")
    equivalents = [b.equivalent_to.name for b in builders if b.HasField("equivalent_to")]
    for name in _duplicates(equivalents):
        errors.add(f"{where}.builders", f"equivalent builder {name!r} is used more than once")
    allowed_modes = {*STANDARD_MODES, *modes}
    for i, builder in enumerate(builders):
        at = _named(f"{where}.builders[{i}]", builder.name)
        _validate_builder(errors, at, builder, main_names, allowed_modes)


def _validate_percentage(errors: Errors, where: str, value: float) -> None:
    if not 0 <= value <= 100:
        errors.add(where, f"must be within [0, 100], not {value:g}")


def _validate_builder(
    errors: Errors, at: str, builder: Tryjob.Builder, main_names: set[str], modes: set[str]
) -> None:
    problem = _builder_name_problem(builder.name)
    if problem is not None:
        errors.add(f"{at}: name", problem)
    _validate_percentage(errors, f"{at}: experiment_percentage", builder.experiment_percentage)
    has_equivalent = builder.HasField("equivalent_to")
    if has_equivalent:
        equivalent = builder.equivalent_to
        problem = _builder_name_problem(equivalent.name)
        if problem is not None:
            errors.add(f"{at}: equivalent_to.name", problem)
        elif equivalent.name in main_names:
            errors.add(
                f"{at}: equivalent_to.name",
                f"{equivalent.name!r} is also a main builder of this group",
            )
        _validate_percentage(errors, f"{at}: equivalent_to.percentage", equivalent.percentage)
    experimental = builder.experiment_percentage != 0
    includable = builder.includable_only
    banned = [
        ("experiment_percentage", experimental, "equivalent_to", has_equivalent),
        ("includable_only", includable, "experiment_percentage", experimental),
        ("includable_only", includable, "location_filters", bool(builder.location_filters)),
        ("includable_only", includable, "mode_allowlist", bool(builder.mode_allowlist)),
    ]
    for first, first_set, second, second_set in banned:
        if first_set and second_set:
            errors.add(at, f"{first} cannot be combined with {second}")
    for j, location in enumerate(builder.location_filters):
        here = f"{at}: location_filters[{j}]"
        if location.gerrit_host_regexp.startswith("http"):
            errors.add(
                f"{here}.gerrit_host_regexp", "is a host name only, without http:// or https://"
            )
        for field_name in (
            "gerrit_host_regexp",
            "gerrit_project_regexp",
            "gerrit_ref_regexp",
            "path_regexp",
        ):
            pattern = getattr(location, field_name)
            if pattern:
                errors.regexp(f"{here}.{field_name}", pattern)
    _non_empty_entries(errors, f"{at}: owner_whitelist_group", builder.owner_whitelist_group)
    for j, mode in enumerate(builder.mode_allowlist):
        if mode not in modes:
            errors.add(
                f"{at}: mode_allowlist[{j}]",
                f"{mode!r} is neither a standard mode nor one of the group's additional_modes",
            )
    for j, skip in enumerate(builder.skip_footers):
        if not skip.key:
            errors.add(f"{at}: skip_footers[{j}].key", "required")
        elif skip.key != normalize_footer_key(skip.key):
            errors.add(
                f"{at}: skip_footers[{j}].key",
                f"must be a normalized footer key ({normalize_footer_key(skip.key)!r})",
            )
        errors.regexp(f"{at}: skip_footers[{j}].value_regexp", skip.value_regexp)
    for j, key in enumerate(builder.disable_reuse_footers):
        if not key or key != normalize_footer_key(key):
            errors.add(
                f"{at}: disable_reuse_footers[{j}]",
                f"{key!r} must be a normalized footer key such as 'Include-Ci-Only-Tests'",
            )
    if builder.HasField("reuse_window") and builder.reuse_window.max_commit_distance <= 0:
        errors.add(f"{at}: reuse_window.max_commit_distance", "must be positive")


def _validate_limit(errors: Errors, where: str, limit) -> None:
    kind = limit.WhichOneof("limit")
    if kind is None:
        errors.add(where, "value or unlimited must be set")
    elif kind == "value" and limit.value <= 0:
        errors.add(f"{where}.value", f"must be positive, not {limit.value}")
    elif kind == "unlimited" and not limit.unlimited:
        errors.add(f"{where}.unlimited", "must be true when set")


def _validate_user_limits(errors: Errors, where: str, group: config_pb2.ConfigGroup) -> None:
    limits = [(f"user_limits[{i}]", limit) for i, limit in enumerate(group.user_limits)]
    if group.HasField("user_limit_default"):
        limits.append(("user_limit_default", group.user_limit_default))
    for name in _duplicates([limit.name for _, limit in limits]):
        errors.add(f"{where}: user_limits", f"name {name!r} is used more than once")
    for path, limit in limits:
        at = _named(f"{where}: {path}", limit.name)
        if not USER_LIMIT_NAME.fullmatch(limit.name):
            errors.add(f"{at}.name", "must be letters, digits or .-@_+ (at most 512)")
        if path == "user_limit_default":
            if limit.principals:
                errors.add(f"{at}.principals", "must be empty in the default limit")
        elif not limit.principals:
            errors.add(f"{at}.principals", "at least one principal is required")
        for j, principal in enumerate(limit.principals):
            kind, _, name = principal.partition(":")
            if kind not in ("user", "group") or not name:
                errors.add(
                    f"{at}.principals[{j}]",
                    f"must be user:<email> or group:<name>, not {principal!r}",
                )
        if not limit.HasField("run"):
            errors.add(f"{at}.run", "required")
        elif not limit.run.HasField("max_active"):
            errors.add(f"{at}.run.max_active", "required")
        else:
            _validate_limit(errors, f"{at}.run.max_active", limit.run.max_active)


def _status_name(status: int) -> str:
    # An open enum keeps numbers it has no name for.
    return run_pb2.Run.Status.Name(status) if status in run_pb2.Run.Status.values() else str(status)


def _validate_post_actions(errors: Errors, where: str, actions, modes: set[str]) -> None:
    for name in _duplicates([a.name for a in actions]):
        errors.add(f"{where}: post_actions", f"name {name!r} is used more than once")
    allowed_modes = {*STANDARD_MODES, *modes}
    for i, action in enumerate(actions):
        at = _named(f"{where}: post_actions[{i}]", action.name)
        if not action.name:
            errors.add(f"{at}.name", "required")
        if not action.conditions:
            errors.add(f"{at}.conditions", "at least one condition is required")
        for j, condition in enumerate(action.conditions):
            here = f"{at}.conditions[{j}]"
            if condition.mode not in allowed_modes:
                errors.add(
                    f"{here}.mode",
                    f"{condition.mode!r} is neither a standard mode nor an additional mode",
                )
            if not condition.statuses:
                errors.add(f"{here}.statuses", "at least one status is required")
            for status in condition.statuses:
                if status not in TERMINAL_STATUSES:
                    errors.add(
                        f"{here}.statuses",
                        f"{_status_name(status)} is not terminal (SUCCEEDED, FAILED or CANCELLED)",
                    )
            for status in _duplicates(list(condition.statuses)):
                errors.add(f"{here}.statuses", f"{_status_name(status)} is repeated")
        if action.WhichOneof("action") is None:
            errors.add(f"{at}", "an action (vote_gerrit_labels) is required")
            continue
        votes = action.vote_gerrit_labels.votes
        if not votes:
            errors.add(f"{at}.vote_gerrit_labels.votes", "at least one vote is required")
        for j, vote in enumerate(votes):
            if not vote.name:
                errors.add(f"{at}.vote_gerrit_labels.votes[{j}].name", "required")
        for name in _duplicates([v.name for v in votes if v.name]):
            errors.add(f"{at}.vote_gerrit_labels.votes", f"label {name!r} is voted more than once")


def _validate_experiments(errors: Errors, where: str, experiments) -> None:
    for name in _duplicates([e.name for e in experiments]):
        errors.add(f"{where}: tryjob_experiments", f"name {name!r} is used more than once")
    for i, experiment in enumerate(experiments):
        at = _named(f"{where}: tryjob_experiments[{i}]", experiment.name)
        if not experiment.name:
            errors.add(f"{at}.name", "required")
        elif not EXPERIMENT_NAME.fullmatch(experiment.name):
            errors.add(
                f"{at}.name",
                f"{experiment.name!r} is not a Buildbucket experiment name (e.g. luci.use_x)",
            )
        _non_empty_entries(
            errors,
            f"{at}.condition.owner_group_allowlist",
            experiment.condition.owner_group_allowlist,
        )
