"""Fixtures for the Gerrit client tests; `fake_gerrit` lives in gerrit.fake for reuse."""

from gerrit.fake import fake_gerrit  # noqa: F401
