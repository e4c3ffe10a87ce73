"""The runs list's one search box: whatever an operator pastes, found by exact, indexed matches.

`resolve(text)` recognises the text's shape (runs.identifiers), looks it up (each lookup is an
exact, case-sensitive match on an indexed column, at most a few rows) and says where to go: the
one object that matches, or the runs list filtered to what matched, with a message.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from runs import identifiers
from runs.models import CL, Run, RunCL
from tryjobs.models import Tryjob

# Buildbucket hosts a bare build ID is looked up on (external IDs name their host).
BUILDBUCKET_HOSTS = [identifiers.DEFAULT_BUILDBUCKET_HOST]
MAX_LISTED = 10
NO_RUNS = Q(pk__in=[])


@dataclass(frozen=True)
class Outcome:
    runs: Q  # the runs the list shows
    redirect: str = ""  # the one object that matched
    message: str = ""
    level: int = messages.INFO


def run_url(run_id: str) -> str:
    return reverse("admin:runs_run_change", args=[run_id])


def cl_url(cl_id: int) -> str:
    return reverse("admin:runs_cl_change", args=[cl_id])


def tryjob_url(tryjob_id: int) -> str:
    return reverse("admin:tryjobs_tryjob_change", args=[tryjob_id])


def builder_url(builder: identifiers.BuilderIdentifier) -> str:
    query = urlencode(
        {
            "builder_project": builder.project,
            "builder_bucket": builder.bucket,
            "builder_name": builder.builder,
        }
    )
    return f"{reverse('admin:tryjobs_tryjob_changelist')}?{query}"


def resolve(text: str) -> Outcome:
    try:
        found = identifiers.parse(text)
    except identifiers.UnsearchableInput as e:
        return Outcome(NO_RUNS, message=str(e), level=messages.ERROR)
    match found:
        case identifiers.RunIdentifier():
            return _runs(found)
        case identifiers.CLIdentifier():
            return _cls(Q(host=found.host, change=found.change), f"CL {found.host}/{found.change}")
        case identifiers.NumberIdentifier():
            return _number(found.number)
        case identifiers.BuildIdentifier():
            return _tryjobs([found.external_id], f"build {found.build_id}")
        case identifiers.BuilderIdentifier():
            return Outcome(NO_RUNS, redirect=builder_url(found))
    return Outcome(
        Q(id__startswith=found.text),
        message=f"{found.text!r} has no shape cvsite knows (run ID, attempt key, CL or build "
        "URL, change number, build ID, builder); showing runs whose ID starts with it.",
    )


def _runs(found: identifiers.RunIdentifier) -> Outcome:
    if found.run_id:
        condition = Q(id=found.run_id)
    elif found.suffix:
        condition = Q(cqd_attempt_key=found.attempt_key, id__endswith=f"/{found.suffix}")
    else:
        condition = Q(cqd_attempt_key=found.attempt_key)
    run_ids = list(Run.objects.filter(condition).values_list("id", flat=True)[:2])
    if len(run_ids) == 1:
        return Outcome(condition, redirect=run_url(run_ids[0]))
    if not run_ids:
        what = found.run_id or found.suffix or f"attempt key {found.attempt_key}"
        return Outcome(condition, message=f"No run matches {what}.", level=messages.WARNING)
    return Outcome(condition)


def _cls(condition: Q, what: str) -> Outcome:
    cls = list(CL.objects.filter(condition).order_by("host")[:MAX_LISTED])
    if len(cls) == 1:
        return Outcome(NO_RUNS, redirect=cl_url(cls[0].pk))
    if not cls:
        return Outcome(NO_RUNS, message=f"No {what} is known to cvsite.", level=messages.WARNING)
    return Outcome(_runs_of_cls(cls), message=_listed(what, [(cl_url(c.pk), c) for c in cls]))


def _tryjobs(external_ids: list[str], what: str) -> Outcome:
    tryjobs = list(Tryjob.objects.filter(external_id__in=external_ids)[:MAX_LISTED])
    if len(tryjobs) == 1:
        return Outcome(NO_RUNS, redirect=tryjob_url(tryjobs[0].pk))
    return Outcome(NO_RUNS, message=f"No tryjob is {what}.", level=messages.WARNING)


def _number(number: int) -> Outcome:
    """A change number on any Gerrit host, or a build ID on a known Buildbucket host."""
    cls = list(CL.objects.filter(change=number).order_by("host")[:MAX_LISTED])
    tryjobs = list(
        Tryjob.objects.filter(
            external_id__in=[f"buildbucket/{host}/{number}" for host in BUILDBUCKET_HOSTS]
        )[:MAX_LISTED]
    )
    if len(cls) + len(tryjobs) == 1:
        return Outcome(NO_RUNS, redirect=cl_url(cls[0].pk) if cls else tryjob_url(tryjobs[0].pk))
    if not cls and not tryjobs:
        return Outcome(
            NO_RUNS,
            message=f"No change number or build ID {number} is known to cvsite.",
            level=messages.WARNING,
        )
    links = [(cl_url(c.pk), c) for c in cls] + [(tryjob_url(t.pk), t) for t in tryjobs]
    launched = Tryjob.objects.filter(pk__in=[t.pk for t in tryjobs]).values("launched_by_id")
    return Outcome(_runs_of_cls(cls) | Q(id__in=launched), message=_listed(str(number), links))


def _runs_of_cls(cls: list[CL]) -> Q:
    """A subquery, not a join: a run with two of the CLs is listed once, without DISTINCT."""
    return Q(id__in=RunCL.objects.filter(cl__in=cls).values("run_id"))


def _listed(what: str, links: list[tuple[str, object]]) -> str:
    return format_html(
        "{} matches several objects: {}. Their runs are listed below.",
        what,
        format_html_join(", ", '<a href="{}">{}</a>', links),
    )
