"""Schedules, pure: validation with a message per field, the next-run preview, and OpenClaw's
job shape (what ClawNet writes, drift, and jobs carried over from OpenClaw)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clawnet.bots.schedule_rules import describe_runs, jobs_from_openclaw, next_runs, preview, validate
from clawnet.bots.schedule_views import (
    IN_SYNC,
    NOT_APPLIED,
    NOT_CHECKED,
    REMOVED,
    Applied,
    foreign_row,
    schedule_row,
)
from clawnet.controlplane.cron_jobs import (
    ScheduleInput,
    differences,
    input_from_job,
    job_params,
    parse_every,
    spec_from_job,
)
from clawnet.controlplane.gateway_cron import cron_job, cron_run
from clawnet.errors import UserError

NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)  # a Wednesday


def errors_of(data: ScheduleInput) -> dict[str, str]:
    with pytest.raises(UserError) as caught:
        validate(data)
    return caught.value.field_errors


def test_each_bad_field_gets_its_own_message():
    errors = errors_of(ScheduleInput(name=" ", kind="cron", cron_expr="61 * * * *", message=""))
    assert set(errors) == {"name", "cron_expr", "message"}
    assert "cron expression" in errors["cron_expr"]
    assert "what the bot should do" in errors["message"]


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [("* * *", "5 fields"), ("0 25 * * *", "cron expression"), ("a b c d e", "cron expression")],
)
def test_a_bad_cron_expression_is_refused(expr, fragment):
    assert fragment in errors_of(ScheduleInput("x", "cron", cron_expr=expr, message="m"))["cron_expr"]


def test_an_interval_too_small_or_unreadable_is_refused():
    assert "too small" in errors_of(ScheduleInput("x", "every", every="5s", message="m"))["every"]
    assert "such as" in errors_of(ScheduleInput("x", "every", every="soon", message="m"))["every"]


def test_unknown_time_zone_and_session_are_refused():
    errors = errors_of(
        ScheduleInput(
            "x", "cron", cron_expr="0 9 * * *", timezone="Mars/Olympus", message="m", session="nope"
        )
    )
    assert "time zone" in errors["timezone"]
    assert "session" in errors["session"]


def test_valid_input_is_normalized():
    spec = validate(ScheduleInput("  Morning   brief ", "every", every="15m", message=" hi ", session=""))
    assert (spec.name, spec.every_seconds, spec.message, spec.session) == (
        "Morning brief",
        900,
        "hi",
        "isolated",
    )
    assert parse_every("2h") == 7200 and parse_every("90") == 90 and parse_every("1 day") == 86400


def test_weekday_numbers_follow_cron_sunday_is_zero():
    spec = validate(ScheduleInput("x", "cron", cron_expr="0 9 * * 0", message="m"))
    runs = next_runs(spec, now=NOW, count=2)
    assert [r.strftime("%a %d %H:%M") for r in runs] == ["Sun 06 09:00", "Sun 13 09:00"]


def test_weekday_steps_count_from_sunday_like_cron():
    spec = validate(ScheduleInput("x", "cron", cron_expr="0 9 * * */2", message="m"))
    runs = next_runs(spec, now=NOW, count=4)
    assert [r.strftime("%a") for r in runs] == ["Thu", "Sat", "Sun", "Tue"]
    spec = validate(ScheduleInput("x", "cron", cron_expr="0 9 * * 1-5/2", message="m"))
    assert [r.strftime("%a") for r in next_runs(spec, now=NOW, count=3)] == [
        "Wed",
        "Fri",
        "Mon",
    ]  # Mon, Wed, Fri


def test_a_session_name_cannot_name_a_session_key():
    errors = errors_of(
        ScheduleInput("x", "every", every="1h", message="m", session="session:agent:other:main")
    )
    assert "session" in errors["session"]


def test_weekdays_range_and_time_zone():
    spec = validate(ScheduleInput("x", "cron", cron_expr="0 9 * * 1-5", timezone="Europe/Paris", message="m"))
    runs = next_runs(spec, now=NOW, count=3)
    assert [r.strftime("%a %H:%M %Z") for r in runs] == [
        "Thu 09:00 CET",
        "Fri 09:00 CET",
        "Mon 09:00 CET",
    ]  # 08:30 UTC is 09:30 in Paris


def test_day_of_month_or_weekday_like_vixie_cron():
    spec = validate(ScheduleInput("x", "cron", cron_expr="0 9 15 * 1", message="m"))
    runs = next_runs(spec, now=NOW, count=3)
    assert [r.strftime("%a %d") for r in runs] == ["Mon 07", "Mon 14", "Tue 15"]


def test_interval_preview_counts_from_now_in_plain_words():
    spec = validate(ScheduleInput("x", "every", every="90m", message="m"))
    assert describe_runs(spec, now=NOW, count=2) == [
        "Wed 2 Dec 2026, 10:00 UTC (in 1 h 30 min)",
        "Wed 2 Dec 2026, 11:30 UTC (in 3 h)",
    ]


def test_preview_says_what_is_wrong_with_the_timing_only():
    assert preview(ScheduleInput("", "every", every="1s"), now=NOW)[1].startswith("The interval is too small")
    runs, problem = preview(ScheduleInput("", "every", every="1h"), now=NOW)  # no name or message yet
    assert problem == "" and runs[0].startswith("Wed 2 Dec 2026, 09:30 UTC")


def test_job_params_and_drift_against_the_gateway_copy():
    spec = validate(ScheduleInput("Tick", "every", every="10s", message="say tick"))
    params = job_params(spec, agent_id="bot1", key="k1")
    assert params["declarationKey"] == "clawnet:k1"
    assert params["schedule"] == {"kind": "every", "everyMs": 10000}
    assert params["payload"] == {"kind": "agentTurn", "message": "say tick"}
    gateway_copy = {**params, "id": "j1", "schedule": {"kind": "every", "everyMs": 10000, "anchorMs": 5}}
    assert differences(spec, gateway_copy) == []
    changed = {**gateway_copy, "payload": {"kind": "agentTurn", "message": "other"}, "enabled": False}
    assert differences(spec, changed) == ["message", "paused or active"]
    main = validate(ScheduleInput("Wake", "cron", cron_expr="0 9 * * *", message="wake", session="main"))
    assert job_params(main, agent_id="bot1", key="k2")["payload"] == {"kind": "systemEvent", "text": "wake"}


def test_gateway_shape_jobs_map_to_schedule_inputs():
    dreaming = {
        "id": "a4",
        "declarationKey": "memory-core:memory-dreaming-promotion",
        "name": "Memory Dreaming Promotion",
        "enabled": True,
        "schedule": {"kind": "cron", "expr": "0 3 * * *"},
        "sessionTarget": "isolated",
        "payload": {"kind": "agentTurn", "message": "dream", "lightContext": True},
        "effectiveAgentId": "probe",
        "state": {"nextRunAtMs": 1796266800000},
    }
    assert input_from_job(dreaming) == ScheduleInput(
        "Memory Dreaming Promotion", "cron", "0 3 * * *", "", "", "dream", "isolated", True
    )
    job = cron_job(dreaming)
    assert (job.agent_id, job.managed_key, job.next_run_ms) == ("probe", "", 1796266800000)
    assert cron_job({"id": "x", "declarationKey": "clawnet:k9"}).managed_key == "k9"
    run = cron_run(
        {
            "ts": 5,
            "jobId": "x",
            "status": "ok",
            "completionStatus": "succeeded",
            "runAtMs": 3,
            "durationMs": 10467,
        }
    )
    assert (run.at_ms, run.status, run.duration_ms) == (3, "ok", 10467)


def test_legacy_jobs_json_rows_map_and_unsupported_ones_are_listed():
    legacy = {
        "version": 1,
        "jobs": [
            {
                "jobId": "old1",
                "name": "Standup",
                "schedule": {"cron": "30 9 * * 1-5", "tz": "Europe/Berlin"},
                "message": "Post the standup summary",
                "agentId": "ops",
            },
            {
                "id": "old2",
                "name": "Ping",
                "schedule": "every 2h",
                "payload": {"kind": "system_event", "text": "ping"},
            },
            {
                "id": "old3",
                "name": "Probe",
                "schedule": {"kind": "every", "everyMs": 900000},
                "payload": {"kind": "agentTurn", "message": "check"},
                "sessionTarget": "session:ops",
                "enabled": False,
            },
            {
                "id": "old4",
                "name": "Once",
                "schedule": {"kind": "at", "at": "2027-01-01T00:00:00Z"},
                "payload": {"kind": "agentTurn", "message": "x"},
            },
            {
                "id": "old5",
                "name": "Shell",
                "schedule": {"kind": "every", "everyMs": 60000},
                "payload": {"kind": "command", "argv": ["ls"]},
            },
            {
                "id": "old6",
                "name": "Too fast",
                "schedule": {"kind": "every", "everyMs": 1000},
                "payload": {"kind": "agentTurn", "message": "x"},
            },
        ],
    }
    taken, skipped = jobs_from_openclaw(legacy)
    assert [(t.agent_id, t.data.name, t.data.kind) for t in taken] == [
        ("ops", "Standup", "cron"),
        ("", "Ping", "every"),
        ("", "Probe", "every"),
    ]
    assert taken[0].data.timezone == "Europe/Berlin" and taken[0].data.session == "isolated"
    assert (taken[1].data.session, taken[1].data.message, taken[1].data.every) == ("main", "ping", "2h")
    assert (taken[2].data.session, taken[2].data.enabled) == ("session:ops", False)
    assert [s.split(":")[0] for s in skipped] == ["Once", "Shell", "Too fast"]
    assert spec_from_job(legacy["jobs"][4]) is None


def test_a_rows_state_tells_in_sync_pending_changed_removed_and_unchecked():
    spec = validate(ScheduleInput("Tick", "every", every="10s", message="say tick"))
    params = job_params(spec, agent_id="bot1", key="k1")
    job = cron_job({**params, "id": "j1", "configRevision": "r1", "nextRunAtMs": 1796266800000})
    changed = cron_job(
        {**params, "id": "j1", "configRevision": "r2", "payload": {"kind": "agentTurn", "message": "x"}}
    )
    applied = Applied("j1", "r1", "")

    def state(job, applied=applied, known=True):
        r = schedule_row(7, spec, applied, job, known=known, now=NOW)
        return r.state, r.drift

    assert state(job) == (IN_SYNC, False)
    assert state(changed) == ("changed on the gateway: message", True)
    assert state(changed, Applied("j1", "r2", "")) == (NOT_APPLIED, False)  # ClawNet's edit, not written yet
    assert state(None) == (REMOVED, True)
    assert state(None, Applied()) == (NOT_APPLIED, False)
    assert state(None, known=False) == (NOT_CHECKED, False)
    assert schedule_row(7, spec, applied, job, known=True, now=NOW).next_run.startswith(
        "Thu 3 Dec 2026, 03:00 UTC"
    )


def test_openclaw_own_jobs_are_listed_read_only_with_their_timing():
    heartbeat = cron_job(
        {"id": "h1", "name": "Heartbeat (clock)", "enabled": False, "agentId": "clock",
         "schedule": {"kind": "every", "everyMs": 1_800_000}, "sessionTarget": "main", "payload": {"kind": "heartbeat"}}
    )  # fmt: skip
    r = foreign_row(heartbeat, NOW)
    assert (r.managed, r.ref, r.when, r.next_run, r.message) == (
        False,
        "oc-h1",
        "every 30m",
        "paused",
        "heartbeat",
    )


def test_a_run_due_now_says_now():
    from clawnet.bots.schedule_rules import describe_run

    assert describe_run(NOW, NOW).endswith("(now)")
    assert describe_run(NOW + timedelta(minutes=5), NOW).endswith("(in 5 min)")
