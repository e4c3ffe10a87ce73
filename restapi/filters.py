"""The query parameters of the list endpoints, as django-filter FilterSets.

Enumerations are given by name (`status=RUNNING&status=FAILED`); times are ISO 8601 with a
zone; every invalid value is refused with a 400 that names its parameter.
"""

from datetime import UTC, datetime

from django import forms
from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from restapi.enums import member_names
from runs import identifiers
from runs.models import CL, ProjectVerifier, Run, RunCL, RunStatus, Verifier
from tryjobs.models import ResultStatus, Tryjob, TryjobStatus


class StrictFilterSet(filters.FilterSet):
    """A FilterSet for an API: a parameter sent empty is refused, not taken as absent (that
    convention of HTML forms would turn a client's bug into an unfiltered list)."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if "" in self.data.getlist(name):
                self.form.add_error(name, "must not be empty: leave the parameter out instead")
        return valid and not self.form.errors


def in_utc(value: datetime) -> datetime:
    """`value` in UTC: PostgreSQL refuses zone offsets beyond ±15:59 that ISO 8601 allows."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise forms.ValidationError("out of range once converted to UTC") from None


class UTCDateTimeField(IsoDateTimeField):
    def clean(self, value):
        value = super().clean(value)
        return None if value is None else in_utc(value)


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time with a zone (naive times are UTC)."""

    field_class = UTCDateTimeField


class EnumNamesFilter(filters.MultipleChoiceFilter):
    """Any of the named members of an integer enumeration: `?status=A&status=B`."""

    def __init__(self, enum, **kwargs):
        self.enum = enum
        super().__init__(choices=[(name, name) for name in member_names(enum)], **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__in": [self.enum[name] for name in value]})


class CLReferenceField(forms.Field):
    """A CL as the operator UI's search box takes it (runs.identifiers): a Gerrit URL in any
    of its forms, or a change number. The text goes to the parser as sent, so blanks and NUL
    characters are refused with the search box's words."""

    def clean(self, value) -> identifiers.CLIdentifier | identifiers.NumberIdentifier | None:
        if value in self.empty_values:  # absent; sent empty is StrictFilterSet's to refuse
            return None
        # The messages quote the input, which may hold "%": it goes in as a parameter.
        try:
            found = identifiers.parse(value)
        except identifiers.UnsearchableInput as e:
            raise forms.ValidationError("%(reason)s", params={"reason": str(e)}) from None
        if not isinstance(found, identifiers.CLIdentifier | identifiers.NumberIdentifier):
            raise forms.ValidationError(
                "%(value)r names no CL: expected a change number, a Gerrit change URL "
                "(https://<host>/c/<project>/+/<change>[/<patchset>], https://<host>/<change>, "
                "<host>/<change>) or crrev.com/c/<change>.",
                params={"value": value},
            )
        return found


class CLReferenceFilter(filters.CharFilter):
    """Objects of a CL: a change number or a Gerrit URL in any form the search box takes.

    `keys_of_cls` maps a queryset of CLs to the primary keys of the filtered objects.
    """

    field_class = CLReferenceField

    def __init__(self, *, keys_of_cls, **kwargs):
        self.keys_of_cls = keys_of_cls
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        if isinstance(value, identifiers.NumberIdentifier):
            cls = CL.objects.filter(change=value.number)  # on any host
        else:
            cls = CL.objects.filter(host=value.host, change=value.change)
        # A subquery, not a join: a run is listed once even if two of its CLs match.
        return queryset.filter(pk__in=self.keys_of_cls(cls))


class RunFilter(StrictFilterSet):
    project = filters.CharFilter(help_text="LUCI project.")
    status = EnumNamesFilter(RunStatus, help_text="Run status; repeat for any of several.")
    mode = filters.CharFilter(
        help_text="Run mode: DRY_RUN, FULL_RUN, QUICK_DRY_RUN, NEW_PATCHSET_RUN, or one a "
        "project defines."
    )
    created_after = UTCDateTimeFilter(
        field_name="create_time", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UTCDateTimeFilter(
        field_name="create_time", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )
    ended_after = UTCDateTimeFilter(
        field_name="end_time", lookup_expr="gte", help_text="Ended at or after (ISO 8601)."
    )
    ended_before = UTCDateTimeFilter(
        field_name="end_time", lookup_expr="lt", help_text="Ended before (ISO 8601)."
    )
    cl = CLReferenceFilter(
        keys_of_cls=lambda cls: RunCL.objects.filter(cl__in=cls).values("run_id"),
        help_text="Runs of a CL: a change number (any host), <host>/<change>, "
        "https://<host>/<change>, https://<host>/c/<project>/+/<change>[/<patchset>][/<path>] "
        "or crrev.com/c/<change>.",
    )
    attempt_key = filters.CharFilter(
        field_name="cqd_attempt_key", help_text="CQDaemon attempt key."
    )
    owner = filters.CharFilter(help_text="Owner email of the run's CLs.")
    verifier = filters.ChoiceFilter(
        method="filter_verifier",
        choices=Verifier.choices,
        help_text="Runs of projects that this verifier verifies now (the admin's Project "
        "verifiers page): cqdaemon or cvsite.",
    )

    class Meta:
        model = Run
        fields = []

    def filter_verifier(self, queryset, name, value):
        cvsite_projects = ProjectVerifier.objects.filter(verifier=Verifier.CVSITE).values("project")
        if value == Verifier.CVSITE:
            return queryset.filter(project__in=cvsite_projects)
        return queryset.exclude(project__in=cvsite_projects)


@extend_schema_field(
    {
        "type": "integer",
        "minimum": 1,
        "maximum": identifiers.MAX_INT64,
        "description": "Change number.",
    }
)
class ChangeNumberFilter(filters.NumberFilter):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=identifiers.MAX_INT64, **kwargs)


class TryjobFilter(StrictFilterSet):
    builder_project = filters.CharFilter(help_text="Buildbucket project of the builder.")
    builder_bucket = filters.CharFilter(help_text="Bucket of the builder.")
    builder_name = filters.CharFilter(help_text="Name of the builder.")
    status = EnumNamesFilter(TryjobStatus, help_text="Tryjob status; repeat for any of several.")
    result = EnumNamesFilter(
        ResultStatus, field_name="result_status", help_text="Result status; repeat for several."
    )
    external_id = filters.CharFilter(help_text="buildbucket/<host>/<build id>.")
    run = filters.CharFilter(
        method="filter_run", help_text="Tryjobs a run launched or reused (run ID)."
    )
    created_after = UTCDateTimeFilter(
        field_name="create_time", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UTCDateTimeFilter(
        field_name="create_time", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )

    class Meta:
        model = Tryjob
        fields = []

    def filter_run(self, queryset, name, value):
        reused = Tryjob.reused_by.through.objects.filter(tryjob_id=OuterRef("pk"), run_id=value)
        return queryset.filter(Q(launched_by_id=value) | Exists(reused))


class CLFilter(StrictFilterSet):
    host = filters.CharFilter(help_text="Gerrit host.")
    change = ChangeNumberFilter()
    cl = CLReferenceFilter(
        keys_of_cls=lambda cls: cls.values("id"),
        help_text="A change number or a Gerrit URL in any form the runs' `cl` filter takes.",
    )

    class Meta:
        model = CL
        fields = []
