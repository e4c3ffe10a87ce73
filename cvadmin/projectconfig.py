"""Read-only admin for project configs: the versions of each project, one version, and the
diff between two versions (operators import configs with `manage.py import_config`)."""

import difflib

from django.contrib import admin
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cvadmin.base import ReadOnlyAdmin
from projectconfig.models import ConfigVersion, GroupMembership

# Lines of unchanged text shown around each change.
DIFF_CONTEXT_LINES = 3


def diff_lines(old: ConfigVersion, new: ConfigVersion) -> list[tuple[str, str]]:
    """A unified diff of the two texts, each line with its kind (added, removed, hunk, context)."""
    lines = difflib.unified_diff(
        old.text.splitlines(),
        new.text.splitlines(),
        fromfile=f"{old.project} version {old.version}",
        tofile=f"{new.project} version {new.version}",
        n=DIFF_CONTEXT_LINES,
        lineterm="",
    )
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kinds.get(line[:1], "context"), line) for line in lines]


@admin.register(ConfigVersion)
class ConfigVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "project",
        "version",
        "imported_at",
        "group_count",
        "builder_count",
        "short_sha256",
        "source",
        "diff_link",
    ]
    list_filter = ["project"]
    search_fields = ["=project"]
    ordering = ["project", "-version"]
    fields = [
        "project",
        "version",
        "imported_at",
        "source",
        "sha256",
        "group_names",
        "builder_count",
        "diff_link",
        "config_text",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The list never shows the texts, which run to megabytes (golang/build: 3.5 MB).
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("text", "content")
        return queryset

    def get_urls(self):
        diff = self.admin_site.admin_view(self.diff_view)
        return [
            path("<int:pk>/diff/", diff, name="projectconfig_configversion_diff"),
            *super().get_urls(),
        ]

    @admin.display(description="groups")
    def group_count(self, obj):
        return len(obj.group_names)

    @admin.display(description="SHA-256")
    def short_sha256(self, obj):
        return obj.sha256[:12]

    @admin.display(description="changes")
    def diff_link(self, obj):
        if obj.version == 1:
            return "first version"
        url = reverse("admin:projectconfig_configversion_diff", args=[obj.pk])
        return format_html('<a href="{}">diff with version {}</a>', url, obj.version - 1)

    @admin.display(description="commit-queue.cfg")
    def config_text(self, obj):
        return format_html("<pre>{}</pre>", obj.text)

    def diff_view(self, request, pk: int):
        """Version `pk` against ?against=<version> (default: the version before it)."""
        new = get_object_or_404(ConfigVersion, pk=pk)
        against = request.GET.get("against", "")
        if against and not against.isdigit():
            raise Http404(f"against={against!r} is not a version number")
        old_version = int(against) if against else new.version - 1
        versions = ConfigVersion.objects.filter(
            Q(version=old_version) | Q(version=new.version), project=new.project
        )
        by_number = {v.version: v for v in versions}
        if old_version not in by_number:
            raise Http404(f"{new.project} has no version {old_version}")
        old = by_number[old_version]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{new.project}: version {old.version} → version {new.version}",
            "opts": self.model._meta,
            "old": old,
            "new": new,
            "lines": diff_lines(old, new),
            "versions": ConfigVersion.objects.filter(project=new.project)
            .exclude(pk=new.pk)
            .values_list("version", flat=True),
        }
        return TemplateResponse(request, "admin/projectconfig/configversion/diff.html", context)


@admin.register(GroupMembership)
class GroupMembershipAdmin(ReadOnlyAdmin):
    """Who is in which LUCI group, as `manage.py import_groups` loaded it: what owner
    allowlists of builders and tryjob experiments are checked against."""

    list_display = ["group", "email", "source", "imported_at"]
    list_filter = ["group", "source"]
    search_fields = ["=email", "=group"]
    ordering = ["group", "email"]
    fields = ["group", "email", "source", "imported_at"]
