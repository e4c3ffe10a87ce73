"""CQDaemon's view beside cvsite's: a project's latest ReportRuns snapshot against the runs
cvsite has active, in four queries whatever their number."""

from dataclasses import dataclass, field

from runs.models import AttemptStatus, ReportedRun, ReportedRunsSnapshot, Run

# CQDaemon is done with an attempt in these states; cvsite's run should have ended too.
FINAL_ATTEMPT_STATUSES = {
    AttemptStatus.SUCCESS,
    AttemptStatus.ABORTED,
    AttemptStatus.FAILURE,
    AttemptStatus.INFRA_FAILURE,
}


@dataclass
class Disagreement:
    run: Run
    reported: ReportedRun

    @property
    def words(self) -> str:
        cqd = AttemptStatus(self.reported.attempt_status).label
        return f"CQDaemon says {cqd}, cvsite says {self.run.get_status_display()}"


@dataclass
class Comparison:
    only_cqdaemon: list[ReportedRun] = field(default_factory=list)
    only_cvsite: list[Run] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    agreeing: int = 0


def compare(snapshot: ReportedRunsSnapshot) -> Comparison:
    reported = list(ReportedRun.objects.filter(snapshot=snapshot).order_by("position"))
    active = list(Run.objects.filter(project=snapshot.project).active().order_by("id"))
    reported_keys = {r.attempt_key for r in reported}
    active_keys = {run.cqd_attempt_key for run in active}
    # The runs CQDaemon reports that cvsite no longer has active: they may have ended.
    ended = {
        run.cqd_attempt_key: run
        for run in Run.objects.filter(
            project=snapshot.project, cqd_attempt_key__in=reported_keys - active_keys
        )
    }
    by_key = {run.cqd_attempt_key: run for run in active} | ended
    comparison = Comparison(
        only_cvsite=[r for r in active if r.cqd_attempt_key not in reported_keys]
    )
    for row in reported:
        run = by_key.get(row.attempt_key)
        if run is None:
            comparison.only_cqdaemon.append(row)
        elif run.is_ended != (row.attempt_status in FINAL_ATTEMPT_STATUSES):
            comparison.disagreements.append(Disagreement(run, row))
        else:
            comparison.agreeing += 1
    return comparison
