"""List filters whose choices never come from a SELECT DISTINCT over a big table: projects from
the small Project table, enums from their choices, times as ranges of an indexed column."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone

from cvproto.codes import Code
from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiToken
from runs.models import Project, holds_nul


class ExactFilter(admin.SimpleListFilter):
    """`field = value` for a value from `choices(request)`; any other value (an old link)
    still filters exactly, and one no column can hold matches nothing."""

    field = ""

    def choices_of(self, request) -> list[tuple[str, str]]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return self.choices_of(request)

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if holds_nul(value):
            return queryset.none()
        return queryset.filter(**{self.field: value})


def project_filter(field: str) -> type[ExactFilter]:
    class ProjectFilter(ExactFilter):
        title = "project"
        parameter_name = field

        def choices_of(self, request):
            return [(name, name) for name in Project.objects.values_list("name", flat=True)]

    ProjectFilter.field = field
    return ProjectFilter


def choices_filter(field: str, title: str, choices: list[tuple[str, str]]) -> type[ExactFilter]:
    class ChoicesFilter(ExactFilter):
        parameter_name = field

        def choices_of(self, request):
            return choices

    ChoicesFilter.field = field
    ChoicesFilter.title = title
    return ChoicesFilter


MIGRATION_METHODS = sorted(
    m.name for m in migration_pb.DESCRIPTOR.services_by_name["Migration"].methods
)


def api_method_filter(field: str = "method") -> type[ExactFilter]:
    return choices_filter(field, "method", [(m, m) for m in MIGRATION_METHODS])


def api_code_filter(field: str = "code") -> type[ExactFilter]:
    return choices_filter(field, "code", [(c.name, c.name) for c in Code])


class CallerFilter(ExactFilter):
    """API callers are token names (a small table) or anonymous."""

    title = "caller"
    parameter_name = field = "caller"

    def choices_of(self, request):
        names = list(ApiToken.objects.order_by("name").values_list("name", flat=True))
        return [(name, name) for name in [*names, "anonymous"]]


class RecentFilter(admin.SimpleListFilter):
    """The last hour, day, week or 30 days: a range on an indexed time column, where Django's
    date hierarchy would read every distinct day of the table."""

    title = "time"
    field = ""
    WINDOWS = {
        "1h": ("last hour", timedelta(hours=1)),
        "24h": ("last 24 hours", timedelta(days=1)),
        "7d": ("last 7 days", timedelta(days=7)),
        "30d": ("last 30 days", timedelta(days=30)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.WINDOWS.items()]

    def queryset(self, request, queryset):
        window = self.WINDOWS.get(self.value() or "")
        if window is None:
            return queryset  # an unknown window: the choices above show none is selected
        return queryset.filter(**{f"{self.field}__gte": timezone.now() - window[1]})


def recent_filter(field: str) -> type[RecentFilter]:
    class TimeFilter(RecentFilter):
        parameter_name = f"{field}_within"

    TimeFilter.field = field
    return TimeFilter
