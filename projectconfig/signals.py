"""Signals of project configs, for the apps above that act on them (projectconfig knows none).

``config_imported(sender=ConfigVersion, version=ConfigVersion)`` is sent inside the transaction
that stores a new version: a receiver's durable task commits (or not) with it. tryjobs
recomputes the requirement of the project's running runs.
"""

from django.dispatch import Signal

config_imported = Signal()
