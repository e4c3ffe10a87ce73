"""Backfills: moving years of commit-queue history into cvsite, safely and resumably.

One mechanism, used by every backfill command:

  core.run_backfill(handler, source, options, progress_stream=...) -> core.Summary
      streams records from a Source, parses them with a Handler, writes them in batches of
      one transaction each together with a checkpoint (runs.models.BackfillCheckpoint), and
      reports progress, rejects (rejects.RejectFile) and a summary. See core's docstring.
  core.Handler    parse(record) / projects(item) / prepare(records) / write(records) ->
                  [Outcome | Reject] / counters() / finish(): what a command plugs in.
  core.Source     records(after_position, offset) / fraction_done(n) / fingerprint() / ...;
                  source.FileSource reads a file, `-` (stdin) or a .gz as a stream.
  command.BackfillCommand   the management command around it: the shared options
                  (--batch-size --dry-run --resume --limit --project --rejects
                  --allow-rejects --checkpoint --progress-interval) and the exit status.

Helpers the handlers share: jsonpb.parse_message (proto3 JSON in either name style and
BigQuery-export JSON -> messages), writer.insert / update_rows / allocate_ids (bulk writes by
executemany or COPY), lookups.cls_by_key (batch lookups), progress.Progress.

The commands and their handlers:

  import_attempts         attempts.AttemptHandler   CQDaemon attempts -> runs, CLs, tryjobs
  import_builds           builds.BuildHandler       Buildbucket builds -> tryjob status, result
  refresh_cls             cls.RefreshHandler        Gerrit ChangeInfo snapshots of known CLs
                          (over cls.CLSource, which reads the CLs from the database)
  generate_backfill_data  generate.generate         realistic input for the two imports
"""
