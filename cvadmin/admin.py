"""The operators' admin: Django autodiscovers this module and so registers every page."""

from cvadmin import api, projectconfig, runs, tasks, tryjobs  # noqa: F401  (each module registers its pages)
