"""Helpers for tests proving that the database, not Python, enforces an invariant."""

from contextlib import contextmanager

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction


@contextmanager
def db_rejects(*names: str):
    """The database rejects the block's writes, naming one of `names` (constraint or columns)."""
    with pytest.raises(IntegrityError) as excinfo:
        with transaction.atomic():
            yield
    assert any(name in str(excinfo.value) for name in names), str(excinfo.value)


def constraint_messages(instance) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        instance.validate_constraints()
    return excinfo.value.message_dict[NON_FIELD_ERRORS]


def default_message(constraint: str) -> str:
    return f"Constraint “{constraint}” is violated."


def apply(instance, changes: dict):
    for name, value in changes.items():
        setattr(instance, name, value)
    return instance
