"""Batch lookups shared by the backfill handlers: one query per chunk, never one per record."""

from collections.abc import Iterable, Iterator

from django.db.models import Q

from runs.models import CL

__all__ = ["LOOKUP_CHUNK", "chunks", "cls_by_key"]

# Bound on parameters per query (SQLite's limit is 32,766; plans stay simple too).
LOOKUP_CHUNK = 500


def chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def cls_by_key(keys: Iterable[tuple[str, int]], *fields: str, annotate=None) -> Iterator[tuple]:
    """Rows (host, change, *fields) of the CLs among `keys` ((host, change) pairs)."""
    for chunk in chunks(sorted(set(keys))):
        by_host: dict[str, list[int]] = {}
        for host, change in chunk:
            by_host.setdefault(host, []).append(change)
        condition = Q()
        for host, changes in by_host.items():
            condition |= Q(host=host, change__in=changes)
        queryset = CL.objects.filter(condition)
        if annotate:
            queryset = queryset.annotate(**annotate)
        yield from queryset.values_list("host", "change", *fields)
