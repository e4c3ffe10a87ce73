"""Descriptor-level checks that cvproto matches the upstream wire shape.

The expectations are hard-coded here (transcribed from the wire fact sheet) so
the suite is self-contained. Each message listed in SHAPES is checked exactly:
same field names, numbers, types, labels and oneofs, nothing more or less.

Row syntax: ``name number type [oneof=NAME]`` where ``type`` is a scalar name,
a message/enum full name, ``repeated:<type>`` or ``map:<key>:<value>``.
"""

from __future__ import annotations

import importlib
import re

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor

from cvproto import build

MODULES = {
    "cvproto/migration/migration.proto": ("cvproto.migration.migration_pb2", "migration"),
    "cvproto/bigquery/attempt.proto": ("cvproto.bigquery.attempt_pb2", "bigquery"),
    "cvproto/gerrit/gerrit.proto": ("cvproto.gerrit.gerrit_pb2", "gerrit"),
    "cvproto/buildbucket/v2/builder_common.proto": (
        "cvproto.buildbucket.v2.builder_common_pb2",
        "buildbucket.v2",
    ),
    "cvproto/buildbucket/v2/common.proto": ("cvproto.buildbucket.v2.common_pb2", "buildbucket.v2"),
    "cvproto/buildbucket/v2/build.proto": ("cvproto.buildbucket.v2.build_pb2", "buildbucket.v2"),
    "cvproto/buildbucket/v2/step.proto": ("cvproto.buildbucket.v2.step_pb2", "buildbucket.v2"),
    "cvproto/buildbucket/v2/task.proto": ("cvproto.buildbucket.v2.task_pb2", "buildbucket.v2"),
    "cvproto/resultdb/v1/common.proto": ("cvproto.resultdb.v1.common_pb2", "luci.resultdb.v1"),
    "cvproto/resultdb/v1/predicate.proto": (
        "cvproto.resultdb.v1.predicate_pb2",
        "luci.resultdb.v1",
    ),
    "cvproto/resultdb/v1/invocation.proto": (
        "cvproto.resultdb.v1.invocation_pb2",
        "luci.resultdb.v1",
    ),
    "cvproto/buildbucket/v2/builds_service.proto": (
        "cvproto.buildbucket.v2.builds_service_pb2",
        "buildbucket.v2",
    ),
    "cvproto/buildbucket/v2/notification.proto": (
        "cvproto.buildbucket.v2.notification_pb2",
        "buildbucket.v2",
    ),
    "cvproto/rpc/status.proto": ("cvproto.rpc.status_pb2", "google.rpc"),
    "cvproto/structmask/structmask.proto": ("cvproto.structmask.structmask_pb2", "structmask"),
    "cvproto/cv/config/config.proto": ("cvproto.cv.config.config_pb2", "cv.config"),
    "cvproto/cv/v1/run.proto": ("cvproto.cv.v1.run_pb2", "cv.v1"),
    "cvproto/cq/recipe/cq.proto": ("cvproto.cq.recipe.cq_pb2", "cq.recipe"),
    "cvproto/cv/internal/tryjob/storage.proto": (
        "cvproto.cv.internal.tryjob.storage_pb2",
        "cv.internal.tryjob",
    ),
}

TS = "google.protobuf.Timestamp"
DUR = "google.protobuf.Duration"
STRUCT = "google.protobuf.Struct"
MASK = "google.protobuf.FieldMask"
BB = "buildbucket.v2"

SHAPES: dict[str, str] = {
    # ---------------------------------------------------------- migration (A)
    "migration.ReportRunsRequest": "runs 1 repeated:migration.ReportedRun",
    "migration.ReportFinishedRunRequest": "run 1 migration.ReportedRun",
    "migration.ReportVerifiedRunRequest": """
        run 1 migration.ReportedRun
        action 11 migration.ReportVerifiedRunRequest.Action
        final_message 12 string""",
    "migration.ReportedRun": """
        attempt 1 bigquery.Attempt
        id 2 string""",
    "migration.PostGerritMessageRequest": """
        run_id 1 string
        project 2 string
        attempt_key 3 string
        host 11 string
        change 12 int64
        comment 13 string
        send_email 14 bool
        revision 15 string""",
    "migration.PostGerritMessageResponse": "",
    "migration.ReportUsedNetrcRequest": """
        gerrit_host 1 string
        access_token 2 string""",
    "migration.FetchActiveRunsRequest": "luci_project 1 string",
    "migration.FetchActiveRunsResponse": "active_runs 2 repeated:migration.ActiveRun",
    "migration.ActiveRun": """
        id 1 string
        cls 2 repeated:migration.RunCL
        fyi_deps 3 repeated:migration.RunCL""",
    "migration.RunCL": """
        id 1 int64
        gc 2 bigquery.GerritChange
        info 3 gerrit.ChangeInfo
        files 4 repeated:string
        trigger 5 migration.RunCL.Trigger
        deps 6 repeated:migration.RunCL.Dep""",
    "migration.RunCL.Trigger": f"""
        time 1 {TS}
        account_id 3 int64
        email 4 string""",
    "migration.RunCL.Dep": """
        id 1 int64
        hard 2 bool""",
    "migration.FetchRunStatusRequest": """
        luci_project 1 string
        cv_id 2 string
        attempt_key 3 string""",
    "migration.FetchRunStatusResponse": """
        event 1 string
        extra 2 string""",
    "migration.FetchExcludedCLsRequest": "luci_project 1 string",
    "migration.FetchExcludedCLsResponse": "cls 1 repeated:bigquery.GerritChange",
    # ----------------------------------------------------------- bigquery (A)
    "bigquery.Attempt": f"""
        key 1 string
        luci_project 2 string
        cl_group_key 3 string
        equivalent_cl_group_key 4 string
        start_time 5 {TS}
        end_time 6 {TS}
        gerrit_changes 7 repeated:bigquery.GerritChange
        builds 8 repeated:bigquery.Build
        status 9 bigquery.AttemptStatus
        substatus 10 bigquery.AttemptSubstatus
        config_group 11 string
        has_custom_requirement 12 bool""",
    "bigquery.GerritChange": f"""
        host 1 string
        project 2 string
        change 3 int64
        patchset 4 int64
        earliest_equivalent_patchset 5 int64
        trigger_time 6 {TS}
        mode 7 bigquery.Mode
        submit_status 8 bigquery.GerritChange.SubmitStatus""",
    "bigquery.Build": """
        id 1 int64
        host 2 string
        origin 3 bigquery.Build.Origin
        critical 4 bool""",
    # ------------------------------------------------------------- gerrit (A)
    "gerrit.ChangeInfo": f"""
        number 1 int64
        owner 2 gerrit.AccountInfo
        project 3 string
        ref 4 string
        status 5 gerrit.ChangeStatus
        current_revision 6 string
        revisions 7 map:string:gerrit.RevisionInfo
        labels 8 map:string:gerrit.LabelInfo
        messages 9 repeated:gerrit.ChangeMessageInfo
        submittable 10 bool
        created 11 {TS}
        updated 12 {TS}
        is_private 13 bool
        requirements 14 repeated:gerrit.Requirement
        revert_of 15 int64
        cherry_pick_of_change 16 int64""",
    "gerrit.AccountInfo": """
        name 1 string
        email 2 string
        secondary_emails 3 repeated:string
        username 4 string
        account_id 5 int64""",
    "gerrit.RevisionInfo": f"""
        kind 1 gerrit.RevisionInfo.Kind
        number 2 int32
        uploader 3 gerrit.AccountInfo
        ref 4 string
        commit 5 gerrit.CommitInfo
        files 6 map:string:gerrit.FileInfo
        created 7 {TS}
        description 8 string""",
    "gerrit.CommitInfo": """
        id 1 string
        parents 2 repeated:gerrit.CommitInfo.Parent
        message 3 string""",
    "gerrit.CommitInfo.Parent": "id 1 string",
    "gerrit.LabelInfo": """
        optional 1 bool
        approved 2 gerrit.AccountInfo
        rejected 3 gerrit.AccountInfo
        recommended 4 gerrit.AccountInfo
        disliked 5 gerrit.AccountInfo
        blocking 6 bool
        value 7 int32
        default_value 8 int32
        all 9 repeated:gerrit.ApprovalInfo
        values 10 map:int32:string""",
    "gerrit.ApprovalInfo": f"""
        user 1 gerrit.AccountInfo
        value 2 int32
        permitted_voting_range 3 gerrit.VotingRangeInfo
        date 4 {TS}
        tag 5 string
        post_submit 6 bool""",
    "gerrit.VotingRangeInfo": """
        min 1 int32
        max 2 int32""",
    "gerrit.ChangeMessageInfo": f"""
        id 1 string
        author 2 gerrit.AccountInfo
        real_author 3 gerrit.AccountInfo
        date 4 {TS}
        message 5 string""",
    "gerrit.Requirement": """
        status 1 gerrit.Requirement.Status
        fallback_text 2 string
        type 3 string""",
    "gerrit.FileInfo": """
        status 1 gerrit.FileInfo.Status
        binary 2 bool
        old_path 3 string
        lines_inserted 4 int32
        lines_deleted 5 int32
        size_delta 6 int64
        size 7 int64""",
    # ------------------------------------------------- cv.internal.tryjob (B)
    "cv.internal.tryjob.Definition": """
        buildbucket 1 cv.internal.tryjob.Definition.Buildbucket oneof=backend
        equivalent_to 2 cv.internal.tryjob.Definition
        disable_reuse 3 bool
        skip_stale_check 4 bool
        critical 5 bool
        result_visibility 6 cv.config.CommentLevel
        optional 8 bool
        experiments 9 repeated:string
        disable_reuse_footers 10 repeated:string
        reuse_window 11 cv.config.Verifiers.Tryjob.Builder.ReuseWindow""",
    "cv.internal.tryjob.Definition.Buildbucket": """
        host 1 string
        builder 2 buildbucket.v2.BuilderID""",
    "cv.internal.tryjob.Requirement": """
        definitions 1 repeated:cv.internal.tryjob.Definition
        retry_config 2 cv.config.Verifiers.Tryjob.RetryConfig""",
    "cv.internal.tryjob.Result": f"""
        status 1 cv.internal.tryjob.Result.Status
        create_time 2 {TS}
        update_time 3 {TS}
        output 4 cq.recipe.Output
        buildbucket 5 cv.internal.tryjob.Result.Buildbucket oneof=backend""",
    "cv.internal.tryjob.Result.Buildbucket": """
        id 1 int64
        status 2 buildbucket.v2.Status
        summary_markdown 3 string
        builder 4 buildbucket.v2.BuilderID
        infra 5 buildbucket.v2.BuildInfra""",
    "cv.internal.tryjob.ExecutionState": f"""
        executions 1 repeated:cv.internal.tryjob.ExecutionState.Execution
        requirement 2 cv.internal.tryjob.Requirement
        status 3 cv.internal.tryjob.ExecutionState.Status
        requirement_version 5 int32
        end_time 6 {TS}
        failures 8 cv.internal.tryjob.ExecutionState.Failures""",
    "cv.internal.tryjob.ExecutionState.Execution": """
        attempts 2 repeated:cv.internal.tryjob.ExecutionState.Execution.Attempt
        used_quota 3 int32""",
    "cv.internal.tryjob.ExecutionState.Execution.Attempt": """
        tryjob_id 1 int64
        external_id 2 string
        status 3 cv.internal.tryjob.Status
        result 4 cv.internal.tryjob.Result
        reused 5 bool""",
    "cv.internal.tryjob.ExecutionState.Failures": """
        launch_failures 1 repeated:cv.internal.tryjob.ExecutionState.Failures.LaunchFailure
        unsuccessful_results 2 repeated:cv.internal.tryjob.ExecutionState.Failures.UnsuccessfulResult""",  # noqa: E501
    "cv.internal.tryjob.ExecutionState.Failures.LaunchFailure": """
        definition 1 cv.internal.tryjob.Definition
        reason 2 string""",
    "cv.internal.tryjob.ExecutionState.Failures.UnsuccessfulResult": "tryjob_id 1 int64",
    "cv.internal.tryjob.ExecutionLogEntries": (
        "entries 1 repeated:cv.internal.tryjob.ExecutionLogEntry"
    ),
    "cv.internal.tryjob.ExecutionLogEntry": f"""
        time 1 {TS}
        requirement_changed 2 cv.internal.tryjob.ExecutionLogEntry.RequirementChanged oneof=kind
        tryjobs_launched 3 cv.internal.tryjob.ExecutionLogEntry.TryjobsLaunched oneof=kind
        tryjobs_launch_failed 4 cv.internal.tryjob.ExecutionLogEntry.TryjobsLaunchFailed oneof=kind
        tryjobs_reused 5 cv.internal.tryjob.ExecutionLogEntry.TryjobsReused oneof=kind
        tryjob_discarded 7 cv.internal.tryjob.ExecutionLogEntry.TryjobDiscarded oneof=kind
        tryjobs_ended 8 cv.internal.tryjob.ExecutionLogEntry.TryjobsEnded oneof=kind
        retry_denied 9 cv.internal.tryjob.ExecutionLogEntry.RetryDenied oneof=kind""",
    "cv.internal.tryjob.ExecutionLogEntry.RequirementChanged": "",
    "cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot": """
        id 1 int64
        external_id 2 string
        definition 3 cv.internal.tryjob.Definition
        status 4 cv.internal.tryjob.Status
        result 5 cv.internal.tryjob.Result
        reused 6 bool""",
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsLaunched": (
        "tryjobs 2 repeated:cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot"
    ),
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsLaunchFailed": (
        "tryjobs 1 repeated:cv.internal.tryjob.ExecutionLogEntry.TryjobLaunchFailed"
    ),
    "cv.internal.tryjob.ExecutionLogEntry.TryjobLaunchFailed": """
        definition 1 cv.internal.tryjob.Definition
        reason 2 string""",
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsReused": (
        "tryjobs 2 repeated:cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot"
    ),
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsEnded": (
        "tryjobs 2 repeated:cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot"
    ),
    "cv.internal.tryjob.ExecutionLogEntry.TryjobDiscarded": """
        snapshot 1 cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot
        reason 2 string""",
    "cv.internal.tryjob.ExecutionLogEntry.RetryDenied": """
        tryjobs 1 repeated:cv.internal.tryjob.ExecutionLogEntry.TryjobSnapshot
        reason 2 string""",
    "cv.internal.tryjob.TryjobUpdatedEvent": "tryjob_id 1 int64",
    "cv.internal.tryjob.TryjobUpdatedEvents": (
        "events 1 repeated:cv.internal.tryjob.TryjobUpdatedEvent"
    ),
    # ---------------------------------------------------- buildbucket.v2 (B)
    "buildbucket.v2.BuilderID": """
        project 1 string
        bucket 2 string
        builder 3 string""",
    "buildbucket.v2.BuildInfra": """
        buildbucket 1 buildbucket.v2.BuildInfra.Buildbucket
        swarming 2 buildbucket.v2.BuildInfra.Swarming
        logdog 3 buildbucket.v2.BuildInfra.LogDog
        recipe 4 buildbucket.v2.BuildInfra.Recipe
        resultdb 5 buildbucket.v2.BuildInfra.ResultDB
        bbagent 6 buildbucket.v2.BuildInfra.BBAgent
        backend 7 buildbucket.v2.BuildInfra.Backend
        led 8 buildbucket.v2.BuildInfra.Led""",
    "buildbucket.v2.BuildInfra.ResultDB": """
        hostname 1 string
        invocation 2 string
        enable 3 bool
        bq_exports 4 repeated:luci.resultdb.v1.BigQueryExport
        history_options 5 luci.resultdb.v1.HistoryOptions""",
    "buildbucket.v2.BuildInfra.Buildbucket": f"""
        service_config_revision 2 string
        requested_properties 5 {STRUCT}
        requested_dimensions 6 repeated:buildbucket.v2.RequestedDimension
        hostname 7 string
        experiment_reasons 8 map:string:buildbucket.v2.BuildInfra.Buildbucket.ExperimentReason
        agent_executable 9 map:string:buildbucket.v2.ResolvedDataRef
        agent 10 buildbucket.v2.BuildInfra.Buildbucket.Agent
        known_public_gerrit_hosts 11 repeated:string
        build_number 12 bool""",
    "buildbucket.v2.BuildInfra.Buildbucket.Agent": """
        input 1 buildbucket.v2.BuildInfra.Buildbucket.Agent.Input
        output 2 buildbucket.v2.BuildInfra.Buildbucket.Agent.Output
        source 3 buildbucket.v2.BuildInfra.Buildbucket.Agent.Source
        purposes 4 map:string:buildbucket.v2.BuildInfra.Buildbucket.Agent.Purpose
        cipd_client_cache 5 buildbucket.v2.CacheEntry
        cipd_packages_cache 6 buildbucket.v2.CacheEntry""",
    "buildbucket.v2.BuildInfra.Buildbucket.Agent.Source": (
        "cipd 1 buildbucket.v2.BuildInfra.Buildbucket.Agent.Source.CIPD oneof=data_type"
    ),
    "buildbucket.v2.BuildInfra.Buildbucket.Agent.Source.CIPD": """
        package 1 string
        version 2 string
        server 3 string
        resolved_instances 4 map:string:string""",
    "buildbucket.v2.BuildInfra.Buildbucket.Agent.Input": """
        data 1 map:string:buildbucket.v2.InputDataRef
        cipd_source 2 map:string:buildbucket.v2.InputDataRef""",
    "buildbucket.v2.BuildInfra.Buildbucket.Agent.Output": f"""
        resolved_data 1 map:string:buildbucket.v2.ResolvedDataRef
        status 2 buildbucket.v2.Status
        status_details 3 buildbucket.v2.StatusDetails
        summary_html 4 string
        agent_platform 5 string
        total_duration 6 {DUR}
        summary_markdown 7 string""",
    "buildbucket.v2.BuildInfra.Swarming": """
        hostname 1 string
        task_id 2 string
        task_service_account 3 string
        priority 4 int32
        task_dimensions 5 repeated:buildbucket.v2.RequestedDimension
        bot_dimensions 6 repeated:buildbucket.v2.StringPair
        caches 7 repeated:buildbucket.v2.BuildInfra.Swarming.CacheEntry
        parent_run_id 9 string""",
    "buildbucket.v2.BuildInfra.Swarming.CacheEntry": f"""
        name 1 string
        path 2 string
        wait_for_warm_cache 3 {DUR}
        env_var 4 string""",
    "buildbucket.v2.BuildInfra.LogDog": """
        hostname 1 string
        project 2 string
        prefix 3 string""",
    "buildbucket.v2.BuildInfra.Recipe": """
        cipd_package 1 string
        name 2 string""",
    "buildbucket.v2.BuildInfra.Led": "shadowed_bucket 1 string",
    "buildbucket.v2.BuildInfra.BBAgent": """
        payload_path 1 string
        cache_dir 2 string
        known_public_gerrit_hosts 3 repeated:string
        input 4 buildbucket.v2.BuildInfra.BBAgent.Input""",
    "buildbucket.v2.BuildInfra.BBAgent.Input": (
        "cipd_packages 1 repeated:buildbucket.v2.BuildInfra.BBAgent.Input.CIPDPackage"
    ),
    "buildbucket.v2.BuildInfra.BBAgent.Input.CIPDPackage": """
        name 1 string
        version 2 string
        server 3 string
        path 4 string""",
    "buildbucket.v2.BuildInfra.Backend": f"""
        config 1 {STRUCT}
        task 2 buildbucket.v2.Task
        caches 3 repeated:buildbucket.v2.CacheEntry
        task_dimensions 5 repeated:buildbucket.v2.RequestedDimension
        hostname 6 string""",
    "buildbucket.v2.RequestedDimension": f"""
        key 1 string
        value 2 string
        expiration 3 {DUR}""",
    "buildbucket.v2.StringPair": """
        key 1 string
        value 2 string""",
    "buildbucket.v2.CacheEntry": f"""
        name 1 string
        path 2 string
        wait_for_warm_cache 3 {DUR}
        env_var 4 string""",
    "buildbucket.v2.StatusDetails": """
        resource_exhaustion 3 buildbucket.v2.StatusDetails.ResourceExhaustion
        timeout 4 buildbucket.v2.StatusDetails.Timeout""",
    "buildbucket.v2.StatusDetails.ResourceExhaustion": "",
    "buildbucket.v2.StatusDetails.Timeout": "",
    "buildbucket.v2.InputDataRef": """
        cas 1 buildbucket.v2.InputDataRef.CAS oneof=data_type
        cipd 2 buildbucket.v2.InputDataRef.CIPD oneof=data_type
        on_path 3 repeated:string""",
    "buildbucket.v2.InputDataRef.CAS": """
        cas_instance 1 string
        digest 2 buildbucket.v2.InputDataRef.CAS.Digest""",
    "buildbucket.v2.InputDataRef.CAS.Digest": """
        hash 1 string
        size_bytes 2 int64""",
    "buildbucket.v2.InputDataRef.CIPD": """
        server 1 string
        specs 2 repeated:buildbucket.v2.InputDataRef.CIPD.PkgSpec""",
    "buildbucket.v2.InputDataRef.CIPD.PkgSpec": """
        package 1 string
        version 2 string""",
    "buildbucket.v2.ResolvedDataRef": """
        cas 1 buildbucket.v2.ResolvedDataRef.CAS oneof=data_type
        cipd 2 buildbucket.v2.ResolvedDataRef.CIPD oneof=data_type""",
    "buildbucket.v2.ResolvedDataRef.Timing": f"""
        fetch_duration 1 {DUR}
        install_duration 2 {DUR}""",
    "buildbucket.v2.ResolvedDataRef.CAS": "timing 1 buildbucket.v2.ResolvedDataRef.Timing",
    "buildbucket.v2.ResolvedDataRef.CIPD": (
        "specs 2 repeated:buildbucket.v2.ResolvedDataRef.CIPD.PkgSpec"
    ),
    "buildbucket.v2.ResolvedDataRef.CIPD.PkgSpec": """
        skipped 1 bool
        package 2 string
        version 3 string
        was_cached 4 buildbucket.v2.Trinary
        timing 5 buildbucket.v2.ResolvedDataRef.Timing""",
    "buildbucket.v2.Task": f"""
        id 1 buildbucket.v2.TaskID
        link 2 string
        status 3 buildbucket.v2.Status
        status_details 4 buildbucket.v2.StatusDetails
        summary_html 5 string
        details 6 {STRUCT}
        update_id 7 int64
        summary_markdown 8 string""",
    "buildbucket.v2.TaskID": """
        target 1 string
        id 2 string""",
    "buildbucket.v2.Build": f"""
        id 1 int64
        builder 2 buildbucket.v2.BuilderID
        number 3 int32
        created_by 4 string
        view_url 5 string
        create_time 6 {TS}
        start_time 7 {TS}
        end_time 8 {TS}
        update_time 9 {TS}
        status 12 buildbucket.v2.Status
        input 15 buildbucket.v2.Build.Input
        output 16 buildbucket.v2.Build.Output
        steps 17 repeated:buildbucket.v2.Step
        infra 18 buildbucket.v2.BuildInfra
        tags 19 repeated:buildbucket.v2.StringPair
        summary_markdown 20 string
        critical 21 buildbucket.v2.Trinary
        status_details 22 buildbucket.v2.StatusDetails
        canceled_by 23 string
        exe 24 buildbucket.v2.Executable
        canary 25 bool
        scheduling_timeout 26 {DUR}
        execution_timeout 27 {DUR}
        wait_for_capacity 28 bool
        grace_period 29 {DUR}
        can_outlive_parent 30 bool
        ancestor_ids 31 repeated:int64
        cancel_time 32 {TS}
        cancellation_markdown 33 string
        builder_info 34 buildbucket.v2.Build.BuilderInfo
        retriable 35 buildbucket.v2.Trinary""",
    "buildbucket.v2.Build.Output": f"""
        properties 1 {STRUCT}
        summary_markdown 2 string
        gitiles_commit 3 buildbucket.v2.GitilesCommit
        logs 5 repeated:buildbucket.v2.Log
        status 6 buildbucket.v2.Status
        status_details 7 buildbucket.v2.StatusDetails
        summary_html 8 string""",
    "buildbucket.v2.GitilesCommit": """
        host 1 string
        project 2 string
        id 3 string
        ref 4 string
        position 5 uint32""",
    "buildbucket.v2.Build.Input": f"""
        properties 1 {STRUCT}
        gitiles_commit 2 buildbucket.v2.GitilesCommit
        gerrit_changes 3 repeated:buildbucket.v2.GerritChange
        experimental 5 bool
        experiments 6 repeated:string""",
    "buildbucket.v2.Build.BuilderInfo": "description 1 string",
    "buildbucket.v2.Log": """
        name 1 string
        view_url 2 string
        url 3 string""",
    # -------------------------------------- buildbucket.v2 Builds service (§1.9–§1.16)
    "buildbucket.v2.BuildMask": f"""
        fields 1 {MASK}
        input_properties 2 repeated:structmask.StructMask
        output_properties 3 repeated:structmask.StructMask
        requested_properties 4 repeated:structmask.StructMask
        all_fields 5 bool
        step_status 6 repeated:{BB}.Status""",
    "structmask.StructMask": "path 1 repeated:string",
    "google.rpc.Status": """
        code 1 int32
        message 2 string
        details 3 repeated:google.protobuf.Any""",
    "buildbucket.v2.GetBuildRequest": f"""
        id 1 int64
        builder 2 {BB}.BuilderID
        build_number 3 int32
        fields 100 {MASK}
        mask 101 {BB}.BuildMask""",
    "buildbucket.v2.GetBuildStatusRequest": f"""
        id 1 int64
        builder 2 {BB}.BuilderID
        build_number 3 int32""",
    "buildbucket.v2.SearchBuildsRequest": f"""
        predicate 1 {BB}.BuildPredicate
        fields 100 {MASK}
        mask 103 {BB}.BuildMask
        page_size 101 int32
        page_token 102 string""",
    "buildbucket.v2.SearchBuildsResponse": f"""
        builds 1 repeated:{BB}.Build
        next_page_token 100 string""",
    "buildbucket.v2.BuildPredicate": f"""
        builder 1 {BB}.BuilderID
        status 2 {BB}.Status
        gerrit_changes 3 repeated:{BB}.GerritChange
        output_gitiles_commit 4 {BB}.GitilesCommit
        created_by 5 string
        tags 6 repeated:{BB}.StringPair
        create_time 7 {BB}.TimeRange
        include_experimental 8 bool
        build 9 {BB}.BuildRange
        canary 10 {BB}.Trinary
        experiments 11 repeated:string
        descendant_of 12 int64
        child_of 13 int64""",
    "buildbucket.v2.BuildRange": """
        start_build_id 1 int64
        end_build_id 2 int64""",
    "buildbucket.v2.ScheduleBuildRequest": f"""
        request_id 1 string
        template_build_id 2 int64
        builder 3 {BB}.BuilderID
        canary 4 {BB}.Trinary
        experimental 5 {BB}.Trinary
        experiments 16 map:string:bool
        properties 6 {STRUCT}
        gitiles_commit 7 {BB}.GitilesCommit
        gerrit_changes 8 repeated:{BB}.GerritChange
        tags 9 repeated:{BB}.StringPair
        dimensions 10 repeated:{BB}.RequestedDimension
        priority 11 int32
        notify 12 {BB}.NotificationConfig
        fields 100 {MASK}
        mask 101 {BB}.BuildMask
        critical 13 {BB}.Trinary
        exe 14 {BB}.Executable
        swarming 15 {BB}.ScheduleBuildRequest.Swarming
        scheduling_timeout 17 {DUR}
        execution_timeout 18 {DUR}
        grace_period 19 {DUR}
        dry_run 20 bool
        can_outlive_parent 21 {BB}.Trinary
        retriable 22 {BB}.Trinary
        shadow_input 23 {BB}.ScheduleBuildRequest.ShadowInput""",
    "buildbucket.v2.ScheduleBuildRequest.Swarming": "parent_run_id 1 string",
    "buildbucket.v2.ScheduleBuildRequest.ShadowInput": "",
    "buildbucket.v2.CancelBuildRequest": f"""
        id 1 int64
        summary_markdown 2 string
        fields 100 {MASK}
        mask 101 {BB}.BuildMask""",
    "buildbucket.v2.BatchRequest": f"requests 1 repeated:{BB}.BatchRequest.Request",
    "buildbucket.v2.BatchRequest.Request": f"""
        get_build 1 {BB}.GetBuildRequest oneof=request
        search_builds 2 {BB}.SearchBuildsRequest oneof=request
        schedule_build 3 {BB}.ScheduleBuildRequest oneof=request
        cancel_build 4 {BB}.CancelBuildRequest oneof=request
        get_build_status 5 {BB}.GetBuildStatusRequest oneof=request""",
    "buildbucket.v2.BatchResponse": f"responses 1 repeated:{BB}.BatchResponse.Response",
    "buildbucket.v2.BatchResponse.Response": f"""
        get_build 1 {BB}.Build oneof=response
        search_builds 2 {BB}.SearchBuildsResponse oneof=response
        schedule_build 3 {BB}.Build oneof=response
        cancel_build 4 {BB}.Build oneof=response
        get_build_status 5 {BB}.Build oneof=response
        error 100 google.rpc.Status oneof=response""",
    "buildbucket.v2.BuildsV2PubSub": f"""
        build 1 {BB}.Build
        build_large_fields 2 bytes
        compression 3 {BB}.Compression
        build_large_fields_dropped 4 bool""",
    "buildbucket.v2.PubSubCallBack": f"""
        build_pubsub 1 {BB}.BuildsV2PubSub
        user_data 2 bytes""",
    "buildbucket.v2.NotificationConfig": """
        pubsub_topic 1 string
        user_data 2 bytes""",
    "buildbucket.v2.GerritChange": """
        host 1 string
        project 2 string
        change 3 int64
        patchset 4 int64""",
    "buildbucket.v2.TimeRange": f"""
        start_time 1 {TS}
        end_time 2 {TS}""",
    "buildbucket.v2.Executable": """
        cipd_package 1 string
        cipd_version 2 string
        cmd 3 repeated:string
        wrapper 4 repeated:string""",
    # Step: numbers/names are documented; the types are the natural ones.
    "buildbucket.v2.Step": f"""
        name 1 string
        start_time 2 {TS}
        end_time 3 {TS}
        status 4 buildbucket.v2.Status
        logs 5 repeated:buildbucket.v2.Log
        merge_build 6 buildbucket.v2.Step.MergeBuild
        summary_markdown 7 string
        tags 8 repeated:buildbucket.v2.StringPair""",
    "buildbucket.v2.Step.MergeBuild": """
        from_logdog_stream 1 string
        legacy_global_namespace 2 bool""",
    # -------------------------------------------------- luci.resultdb.v1 (B)
    "luci.resultdb.v1.BigQueryExport": """
        project 1 string
        dataset 2 string
        table 3 string
        test_results 4 luci.resultdb.v1.BigQueryExport.TestResults oneof=result_type
        text_artifacts 6 luci.resultdb.v1.BigQueryExport.TextArtifacts oneof=result_type""",
    "luci.resultdb.v1.BigQueryExport.TestResults": (
        "predicate 1 luci.resultdb.v1.TestResultPredicate"
    ),
    "luci.resultdb.v1.BigQueryExport.TextArtifacts": (
        "predicate 1 luci.resultdb.v1.ArtifactPredicate"
    ),
    "luci.resultdb.v1.HistoryOptions": """
        use_invocation_timestamp 1 bool
        commit 2 luci.resultdb.v1.CommitPosition""",
    "luci.resultdb.v1.CommitPosition": """
        host 1 string
        project 2 string
        ref 3 string
        position 4 int64""",
    "luci.resultdb.v1.TestResultPredicate": """
        test_id_regexp 1 string
        variant 2 luci.resultdb.v1.VariantPredicate
        expectancy 3 luci.resultdb.v1.TestResultPredicate.Expectancy
        exclude_exonerated 4 bool""",
    "luci.resultdb.v1.VariantPredicate": """
        equals 1 luci.resultdb.v1.Variant oneof=predicate
        contains 2 luci.resultdb.v1.Variant oneof=predicate""",
    "luci.resultdb.v1.Variant": "def 1 map:string:string",
    "luci.resultdb.v1.ArtifactPredicate": """
        follow_edges 1 luci.resultdb.v1.ArtifactPredicate.EdgeTypeSet
        test_result_predicate 2 luci.resultdb.v1.TestResultPredicate
        content_type_regexp 3 string
        artifact_id_regexp 4 string""",
    "luci.resultdb.v1.ArtifactPredicate.EdgeTypeSet": """
        included_invocations 1 bool
        test_results 2 bool""",
    # --------------------------------------------------------- cv.config (B)
    "cv.config.Verifiers": """
        gerrit_cq_ability 1 cv.config.Verifiers.GerritCQAbility
        tree_status 2 cv.config.Verifiers.TreeStatus
        tryjob 3 cv.config.Verifiers.Tryjob
        cqlinter 4 cv.config.Verifiers.CQLinter
        fake 5 cv.config.Verifiers.Fake""",
    "cv.config.Verifiers.Tryjob": """
        builders 1 repeated:cv.config.Verifiers.Tryjob.Builder
        retry_config 2 cv.config.Verifiers.Tryjob.RetryConfig
        cancel_stale_tryjobs 3 cv.config.Toggle""",
    "cv.config.Verifiers.Tryjob.RetryConfig": """
        single_quota 1 int32
        global_quota 2 int32
        failure_weight 3 int32
        transient_failure_weight 4 int32
        timeout_weight 5 int32""",
    # Includes the post-2024-03 additions skip_footers (17),
    # disable_reuse_footers (18) and reuse_window (19).
    "cv.config.Verifiers.Tryjob.Builder": """
        name 1 string
        disable_reuse 2 bool
        experiment_percentage 4 float
        equivalent_to 5 cv.config.Verifiers.Tryjob.EquivalentBuilder
        owner_whitelist_group 8 repeated:string
        includable_only 9 bool
        result_visibility 10 cv.config.CommentLevel
        cancel_stale 11 cv.config.Toggle
        mode_allowlist 14 repeated:string
        location_filters 15 repeated:cv.config.Verifiers.Tryjob.Builder.LocationFilter
        host 16 string
        skip_footers 17 repeated:cv.config.Verifiers.Tryjob.Builder.SkipFooter
        disable_reuse_footers 18 repeated:string
        reuse_window 19 cv.config.Verifiers.Tryjob.Builder.ReuseWindow""",
    "cv.config.Verifiers.Tryjob.Builder.ReuseWindow": "max_commit_distance 1 uint32",
    "cv.config.Verifiers.Tryjob.Builder.LocationFilter": """
        gerrit_host_regexp 1 string
        gerrit_project_regexp 2 string
        path_regexp 3 string
        exclude 4 bool
        gerrit_ref_regexp 5 string""",
    "cv.config.Verifiers.Tryjob.EquivalentBuilder": """
        name 1 string
        percentage 2 float
        owner_whitelist_group 3 string""",
    "cv.config.Verifiers.Tryjob.IncludableBuilder": "name 1 string",
    "cv.config.Verifiers.GerritCQAbility": """
        committer_list 1 repeated:string
        dry_run_access_list 2 repeated:string
        allow_submit_with_open_deps 3 bool
        allow_owner_if_submittable 4 cv.config.Verifiers.GerritCQAbility.CQAction
        new_patchset_run_access_list 5 repeated:string
        trust_dry_runner_deps 6 bool
        allow_non_owner_dry_runner 7 bool""",
    "cv.config.Verifiers.TreeStatus": """
        url 1 string
        tree_name 2 string""",
    "cv.config.Verifiers.CQLinter": "",
    "cv.config.Verifiers.Fake": """
        name 1 string
        eventual_state 2 string
        delay 3 int32""",
    "cv.config.Config": """
        draining_start_time 1 string
        cq_status_host 2 string
        submit_options 3 cv.config.SubmitOptions
        config_groups 4 repeated:cv.config.ConfigGroup
        project_scoped_account 5 cv.config.Toggle
        honor_gerrit_linked_accounts 6 bool
        gerrit_listener_type 7 cv.config.Config.GerritListenerType""",
    "cv.config.ConfigGroup": """
        gerrit 1 repeated:cv.config.ConfigGroup.Gerrit
        verifiers 2 cv.config.Verifiers
        combine_cls 4 cv.config.CombineCLs
        fallback 5 cv.config.Toggle
        name 6 string
        additional_modes 7 repeated:cv.config.Mode
        user_limits 8 repeated:cv.config.UserLimit
        user_limit_default 9 cv.config.UserLimit
        post_actions 10 repeated:cv.config.ConfigGroup.PostAction
        tryjob_experiments 11 repeated:cv.config.ConfigGroup.TryjobExperiment""",
    "cv.config.ConfigGroup.PostAction": """
        name 1 string
        conditions 2 repeated:cv.config.ConfigGroup.PostAction.TriggeringCondition
        vote_gerrit_labels 3 cv.config.ConfigGroup.PostAction.VoteGerritLabels oneof=action""",
    "cv.config.ConfigGroup.PostAction.TriggeringCondition": """
        mode 1 string
        statuses 2 repeated:cv.v1.Run.Status""",
    "cv.config.UserLimit.Limit": """
        value 1 int64 oneof=limit
        unlimited 2 bool oneof=limit""",
    "cv.config.SubmitOptions": f"""
        max_burst 1 int32
        burst_delay 2 {DUR}""",
    "cv.config.ConfigGroup.Gerrit": """
        url 1 string
        projects 2 repeated:cv.config.ConfigGroup.Gerrit.Project""",
    "cv.config.ConfigGroup.Gerrit.Project": """
        name 1 string
        ref_regexp 2 repeated:string
        ref_regexp_exclude 3 repeated:string""",
    "cv.config.ConfigGroup.PostAction.VoteGerritLabels": (
        "votes 1 repeated:cv.config.ConfigGroup.PostAction.VoteGerritLabels.Vote"
    ),
    "cv.config.ConfigGroup.PostAction.VoteGerritLabels.Vote": """
        name 1 string
        value 2 int32""",
    "cv.config.ConfigGroup.TryjobExperiment": """
        name 1 string
        condition 2 cv.config.ConfigGroup.TryjobExperiment.Condition""",
    "cv.config.ConfigGroup.TryjobExperiment.Condition": "owner_group_allowlist 1 repeated:string",
    "cv.config.Mode": """
        name 1 string
        cq_label_value 2 int32
        triggering_label 3 string
        triggering_value 4 int32""",
    "cv.config.CombineCLs": f"stabilization_delay 1 {DUR}",
    "cv.config.Verifiers.Tryjob.Builder.SkipFooter": """
        key 1 string
        value_regexp 2 string""",
    "cv.config.UserLimit": """
        name 1 string
        principals 2 repeated:string
        run 5 cv.config.UserLimit.Run
        tryjob 6 cv.config.UserLimit.Tryjob""",
    "cv.config.UserLimit.Run": """
        max_active 1 cv.config.UserLimit.Limit
        reach_limit_msg 2 string""",
    "cv.config.UserLimit.Tryjob": "max_active 1 cv.config.UserLimit.Limit",
    # Only the nested Status enum is declared (see run.proto).
    "cv.v1.Run": "",
    # --------------------------------------------------------- cq.recipe (B)
    "cq.recipe.Output": """
        triggered_build_ids 1 repeated:int64
        retry 2 cq.recipe.Output.Retry
        reuse 3 repeated:cq.recipe.Output.Reuse
        reusability 4 cq.recipe.Output.Reusability""",
    "cq.recipe.Output.Reuse": """
        mode_regexp 1 string
        deny 2 bool""",
    "cq.recipe.Output.Reusability": "mode_allowlist 4 repeated:string",
    "cq.recipe.Input": """
        active 1 bool
        dry_run 2 bool
        experimental 3 bool
        top_level 4 bool
        run_mode 5 string
        owner_is_googler 20 bool""",
}

ENUMS: dict[str, dict[str, int]] = {
    "migration.ReportVerifiedRunRequest.Action": {
        "ACTION_UNSPECIFIED": 0,
        "ACTION_SUBMIT": 1,
        "ACTION_DRY_RUN_OK": 2,
        "ACTION_FAIL": 3,
    },
    "bigquery.Mode": {"MODE_UNSPECIFIED": 0, "DRY_RUN": 1, "FULL_RUN": 2, "QUICK_DRY_RUN": 3},
    "bigquery.AttemptStatus": {
        "ATTEMPT_STATUS_UNSPECIFIED": 0,
        "STARTED": 1,
        "SUCCESS": 2,
        "ABORTED": 3,
        "FAILURE": 4,
        "INFRA_FAILURE": 5,
    },
    "bigquery.AttemptSubstatus": {
        "ATTEMPT_SUBSTATUS_UNSPECIFIED": 0,
        "NO_SUBSTATUS": 1,
        "FAILED_TRYJOBS": 2,
        "FAILED_LINT": 3,
        "UNAPPROVED": 4,
        "PERMISSION_DENIED": 5,
        "UNSATISFIED_DEPENDENCY": 6,
        "MANUAL_CANCEL": 7,
        "BUILDBUCKET_MISCONFIGURATION": 8,
    },
    "bigquery.GerritChange.SubmitStatus": {
        "SUBMIT_STATUS_UNSPECIFIED": 0,
        "PENDING": 1,
        "UNKNOWN": 2,
        "FAILURE": 3,
        "SUCCESS": 4,
    },
    "bigquery.Build.Origin": {
        "ORIGIN_UNSPECIFIED": 0,
        "NOT_REUSABLE": 1,
        "NOT_REUSED": 2,
        "REUSED": 3,
    },
    "gerrit.ChangeStatus": {"CHANGE_STATUS_INVALID": 0, "NEW": 1, "MERGED": 2, "ABANDONED": 3},
    "gerrit.RevisionInfo.Kind": {
        "KIND_INVALID": 0,
        "REWORK": 1,
        "TRIVIAL_REBASE": 2,
        "MERGE_FIRST_PARENT_UPDATE": 3,
        "NO_CODE_CHANGE": 4,
        "NO_CHANGE": 5,
    },
    "gerrit.FileInfo.Status": {"M": 0, "A": 1, "D": 2, "R": 3, "C": 4, "W": 5},
    "gerrit.Requirement.Status": {
        "REQUIREMENT_STATUS_UNSPECIFIED": 0,
        "REQUIREMENT_STATUS_OK": 1,
        "REQUIREMENT_STATUS_NOT_READY": 2,
        "REQUIREMENT_STATUS_RULE_ERROR": 3,
    },
    "gerrit.QueryOption": {
        "OPTION_UNSPECIFIED": 0,
        **{
            name: 1 << i
            for i, name in enumerate(
                "LABELS DETAILED_LABELS CURRENT_REVISION ALL_REVISIONS CURRENT_COMMIT "
                "ALL_COMMITS CURRENT_FILES ALL_FILES DETAILED_ACCOUNTS REVIEWER_UPDATES "
                "MESSAGES CURRENT_ACTIONS CHANGE_ACTIONS REVIEWED SKIP_MERGEABLE SUBMITTABLE "
                "WEB_LINKS CHECK COMMIT_FOOTERS PUSH_CERTIFICATES TRACKING_IDS "
                "DOWNLOAD_COMMANDS".split()
            )
        },
    },
    "cv.internal.tryjob.Status": {
        "STATUS_UNSPECIFIED": 0,
        "PENDING": 1,
        "TRIGGERED": 2,
        "ENDED": 3,
        "CANCELLED": 4,
        "UNTRIGGERED": 5,
    },
    "cv.internal.tryjob.Result.Status": {
        "RESULT_STATUS_UNSPECIFIED": 0,
        "UNKNOWN": 1,
        "SUCCEEDED": 2,
        "FAILED_PERMANENTLY": 3,
        "FAILED_TRANSIENTLY": 4,
        "TIMEOUT": 5,
    },
    "cv.internal.tryjob.ExecutionState.Status": {
        "STATUS_UNSPECIFIED": 0,
        "RUNNING": 1,
        "FAILED": 2,
        "SUCCEEDED": 3,
    },
    "buildbucket.v2.Status": {
        "STATUS_UNSPECIFIED": 0,
        "SCHEDULED": 1,
        "STARTED": 2,
        "ENDED_MASK": 4,
        "SUCCESS": 12,
        "FAILURE": 20,
        "INFRA_FAILURE": 36,
        "CANCELED": 68,
    },
    "buildbucket.v2.Trinary": {"UNSET": 0, "YES": 1, "NO": 2},
    "buildbucket.v2.Compression": {"ZLIB": 0, "ZSTD": 1},
    "buildbucket.v2.BuildInfra.Buildbucket.ExperimentReason": {
        "EXPERIMENT_REASON_UNSET": 0,
        "EXPERIMENT_REASON_GLOBAL_DEFAULT": 1,
        "EXPERIMENT_REASON_BUILDER_CONFIG": 2,
        "EXPERIMENT_REASON_GLOBAL_MINIMUM": 3,
        "EXPERIMENT_REASON_REQUESTED": 4,
        "EXPERIMENT_REASON_GLOBAL_INACTIVE": 5,
    },
    "buildbucket.v2.BuildInfra.Buildbucket.Agent.Purpose": {
        "PURPOSE_UNSPECIFIED": 0,
        "PURPOSE_EXE_PAYLOAD": 1,
        "PURPOSE_BBAGENT_UTILITY": 2,
    },
    "luci.resultdb.v1.TestResultPredicate.Expectancy": {
        "ALL": 0,
        "VARIANTS_WITH_UNEXPECTED_RESULTS": 1,
        "VARIANTS_WITH_ONLY_UNEXPECTED_RESULTS": 2,
    },
    "cv.config.CommentLevel": {
        "COMMENT_LEVEL_UNSET": 0,
        "COMMENT_LEVEL_FULL": 1,
        "COMMENT_LEVEL_RESTRICTED": 2,
    },
    "cv.config.Toggle": {"UNSET": 0, "YES": 1, "NO": 2},
    "cv.config.Verifiers.GerritCQAbility.CQAction": {"UNSET": 0, "DRY_RUN": 1, "COMMIT": 2},
    "cv.config.Config.GerritListenerType": {
        "GERRIT_LISTENER_TYPE_UNSPECIFIED": 0,
        "GERRIT_LISTENER_TYPE_PUBSUB": 1,
        "GERRIT_LISTENER_TYPE_LEGACY_POLLER": 2,
    },
    "cv.v1.Run.Status": {
        "STATUS_UNSPECIFIED": 0,
        "PENDING": 1,
        "RUNNING": 2,
        "WAITING_FOR_SUBMISSION": 4,
        "SUBMITTING": 5,
        "ENDED_MASK": 64,
        "SUCCEEDED": 65,
        "FAILED": 66,
        "CANCELLED": 67,
    },
    "cq.recipe.Output.Retry": {
        "OUTPUT_RETRY_UNSPECIFIED": 0,
        "OUTPUT_RETRY_ALLOWED": 1,
        "OUTPUT_RETRY_DENIED": 2,
    },
}

# Every message of every cvproto file not listed here must have no reserved
# numbers. The migration ones are reserved only locally (see migration.proto).
RESERVED: dict[str, set[int]] = {
    "cv.internal.tryjob.Definition": {7},
    "cv.internal.tryjob.ExecutionState": {4, 7},
    "cv.internal.tryjob.ExecutionLogEntry": {6},
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsLaunched": {1},
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsReused": {1},
    "cv.internal.tryjob.ExecutionLogEntry.TryjobsEnded": {1},
    "buildbucket.v2.Build": {13, 14},
    "buildbucket.v2.Build.Output": {4},
    "buildbucket.v2.BuildInfra.Buildbucket": {4},
    "buildbucket.v2.StatusDetails": {1, 2},
    "buildbucket.v2.InputDataRef": {4},
    "cv.config.ConfigGroup": {3},
    "cv.config.Verifiers.Tryjob.Builder": {3, 12, 13},
    "migration.ReportVerifiedRunRequest": {21},
    "migration.PostGerritMessageResponse": {1},
    "migration.FetchActiveRunsResponse": {1},
    "migration.RunCL.Trigger": {2},
}

MIGRATION_METHODS = [
    ("ReportRuns", "migration.ReportRunsRequest", "google.protobuf.Empty"),
    ("ReportFinishedRun", "migration.ReportFinishedRunRequest", "google.protobuf.Empty"),
    ("ReportVerifiedRun", "migration.ReportVerifiedRunRequest", "google.protobuf.Empty"),
    ("FetchRunStatus", "migration.FetchRunStatusRequest", "migration.FetchRunStatusResponse"),
    (
        "PostGerritMessage",
        "migration.PostGerritMessageRequest",
        "migration.PostGerritMessageResponse",
    ),
    ("FetchActiveRuns", "migration.FetchActiveRunsRequest", "migration.FetchActiveRunsResponse"),
    (
        "FetchExcludedCLs",
        "migration.FetchExcludedCLsRequest",
        "migration.FetchExcludedCLsResponse",
    ),
    ("ReportUsedNetrc", "migration.ReportUsedNetrcRequest", "google.protobuf.Empty"),
]

_SCALARS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_DOUBLE: "double",
}


def _modules():
    return {path: importlib.import_module(mod) for path, (mod, _) in MODULES.items()}


def _all_messages(descs):
    for d in descs:
        yield d
        yield from _all_messages(d.nested_types)


def _all_enums(file_desc):
    yield from file_desc.enum_types_by_name.values()
    for msg in _all_messages(file_desc.message_types_by_name.values()):
        yield from msg.enum_types


def _pool_message(full_name):
    for mod in _modules().values():
        for msg in _all_messages(mod.DESCRIPTOR.message_types_by_name.values()):
            if msg.full_name == full_name:
                return msg
    raise KeyError(full_name)


def _type_of(field) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        if entry.GetOptions().map_entry:
            key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
            return f"map:{_type_of(key)}:{_type_of(value)}"
        base = entry.full_name
    elif field.type == FieldDescriptor.TYPE_ENUM:
        base = field.enum_type.full_name
    else:
        base = _SCALARS[field.type]
    return base


def _describe(field) -> str:
    kind = _type_of(field)
    if field.is_repeated and not kind.startswith("map:"):
        kind = f"repeated:{kind}"
    row = f"{field.name} {field.number} {kind}"
    if field.containing_oneof is not None:
        row += f" oneof={field.containing_oneof.name}"
    return row


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def test_every_proto_source_is_covered():
    sources = {p.as_posix() for p in build.proto_sources()}
    assert sources == set(MODULES)


@pytest.mark.parametrize("path", sorted(MODULES))
def test_file_package(path):
    mod_name, package = MODULES[path]
    mod = importlib.import_module(mod_name)
    assert mod.DESCRIPTOR.name == path
    assert mod.DESCRIPTOR.package == package
    file_proto = descriptor_pb2.FileDescriptorProto()
    mod.DESCRIPTOR.CopyToProto(file_proto)
    assert file_proto.syntax == "proto3"
    # Only plain imports of sibling cvproto files and well-known types.
    for dep in file_proto.dependency:
        assert dep.startswith(("cvproto/", "google/protobuf/")), dep


def test_every_message_has_an_expected_shape():
    declared = {
        msg.full_name
        for mod in _modules().values()
        for msg in _all_messages(mod.DESCRIPTOR.message_types_by_name.values())
        if not msg.GetOptions().map_entry
    }
    assert declared == set(SHAPES)


def test_every_enum_has_expected_values():
    declared = {e.full_name for mod in _modules().values() for e in _all_enums(mod.DESCRIPTOR)}
    assert declared == set(ENUMS)


@pytest.mark.parametrize("full_name", sorted(SHAPES))
def test_message_shape(full_name):
    msg = _pool_message(full_name)
    expected = sorted(
        " ".join(line.split()) for line in SHAPES[full_name].strip().splitlines() if line.strip()
    )
    actual = sorted(_describe(f) for f in msg.fields)
    assert actual == expected


@pytest.mark.parametrize("full_name", sorted(ENUMS))
def test_enum_values(full_name):
    found = [e for mod in _modules().values() for e in _all_enums(mod.DESCRIPTOR)]
    (enum,) = [e for e in found if e.full_name == full_name]
    assert {v.name: v.number for v in enum.values} == ENUMS[full_name]
    # proto3: the first declared value is the zero value.
    assert enum.values[0].number == 0


def test_reserved_numbers():
    for mod in _modules().values():
        for msg in _all_messages(mod.DESCRIPTOR.message_types_by_name.values()):
            proto = descriptor_pb2.DescriptorProto()
            msg.CopyToProto(proto)
            reserved = {n for r in proto.reserved_range for n in range(r.start, r.end)}
            assert reserved == RESERVED.get(msg.full_name, set()), msg.full_name
            assert not proto.reserved_name, msg.full_name
            # A reserved number is never also used by a field.
            assert not reserved & {f.number for f in msg.fields}, msg.full_name


def test_no_custom_json_names_and_no_explicit_presence():
    for mod in _modules().values():
        for msg in _all_messages(mod.DESCRIPTOR.message_types_by_name.values()):
            for field in msg.fields:
                assert field.json_name == _camel(field.name), field.full_name
                if field.type not in (FieldDescriptor.TYPE_MESSAGE,) and not field.is_repeated:
                    # proto3 implicit presence, except oneof members.
                    assert field.has_presence == (field.containing_oneof is not None), (
                        field.full_name
                    )


def test_packed_repeated_scalars():
    from cvproto.buildbucket.v2 import build_pb2
    from cvproto.cq.recipe import cq_pb2
    from cvproto.cv.config import config_pb2

    cond = config_pb2.ConfigGroup.PostAction.TriggeringCondition.DESCRIPTOR
    for field in (
        cq_pb2.Output.DESCRIPTOR.fields_by_name["triggered_build_ids"],
        build_pb2.Build.DESCRIPTOR.fields_by_name["ancestor_ids"],
        cond.fields_by_name["statuses"],
    ):
        assert field.is_packed, field.full_name


def test_migration_service():
    from cvproto.migration import migration_pb2

    service = migration_pb2.DESCRIPTOR.services_by_name["Migration"]
    assert service.full_name == "migration.Migration"
    assert [
        (m.name, m.input_type.full_name, m.output_type.full_name) for m in service.methods
    ] == MIGRATION_METHODS
    for m in service.methods:
        assert not m.client_streaming and not m.server_streaming


def test_top_level_names():
    expected = {
        "migration": {
            "ReportRunsRequest",
            "ReportFinishedRunRequest",
            "ReportVerifiedRunRequest",
            "ReportedRun",
            "PostGerritMessageRequest",
            "PostGerritMessageResponse",
            "ReportUsedNetrcRequest",
            "FetchActiveRunsRequest",
            "FetchActiveRunsResponse",
            "ActiveRun",
            "RunCL",
            "FetchRunStatusRequest",
            "FetchRunStatusResponse",
            "FetchExcludedCLsRequest",
            "FetchExcludedCLsResponse",
        },
        "cv.internal.tryjob": {
            "Definition",
            "Requirement",
            "Result",
            "ExecutionState",
            "ExecutionLogEntries",
            "ExecutionLogEntry",
            "TryjobUpdatedEvent",
            "TryjobUpdatedEvents",
        },
    }
    for path in ("cvproto/migration/migration.proto", "cvproto/cv/internal/tryjob/storage.proto"):
        mod = importlib.import_module(MODULES[path][0])
        assert set(mod.DESCRIPTOR.message_types_by_name) == expected[mod.DESCRIPTOR.package]
    from cvproto.cv.internal.tryjob import storage_pb2
    from cvproto.migration import migration_pb2

    assert set(storage_pb2.DESCRIPTOR.enum_types_by_name) == {"Status"}
    assert not migration_pb2.DESCRIPTOR.enum_types_by_name
    runcl = migration_pb2.RunCL.DESCRIPTOR
    assert {m.full_name for m in runcl.nested_types} == {
        "migration.RunCL.Trigger",
        "migration.RunCL.Dep",
    }
