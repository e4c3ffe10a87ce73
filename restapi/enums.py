"""The enumerations the API shows by member name, named once for the OpenAPI schema."""

from runs.models import GerritChangeStatus, RunStatus
from tryjobs.models import ResultStatus, TryjobStatus


def member_names(enum) -> list[str]:
    return [member.name for member in enum]


RUN_STATUS = member_names(RunStatus)
TRYJOB_STATUS = member_names(TryjobStatus)
RESULT_STATUS = member_names(ResultStatus)
CHANGE_STATUS = member_names(GerritChangeStatus)
