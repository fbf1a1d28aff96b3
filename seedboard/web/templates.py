"""The Jinja2 environment the pages are rendered with: autoescaping always on, and the
filters and globals the templates use, from the text, URL, HTML and chart modules."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from seedboard.domain import Outcome
from seedboard.resources import resource_dir
from seedboard.settings import DB_ENV, DEFAULT_DB_FILE
from seedboard.triage.listing import last_failure
from seedboard.web.chart_views import (
    duration_chart,
    failure_rate_chart,
    flakiness_chart,
    outcome_bar,
    runs_chart,
    sparkline,
    sparkline_points,
    timeline,
)
from seedboard.web.html import (
    CLASS_MARKS,
    CLASS_MEANINGS,
    DIFF_SECTIONS,
    commit_code,
    commit_results,
    copyable,
    failing_seed_rows,
    failure_group_rows,
    history_rows,
    moment,
    optional,
    outcome_badge,
    passing_seed_rows,
    result_rows,
    seed_statuses,
)
from seedboard.web.text import bucket_label, percent, readable_duration, readable_utc, run_replay
from seedboard.web.urls import is_web_url, path_to_run, path_to_test


def make_environment(directory: Path | None = None) -> Environment:
    """The Jinja2 environment for the dashboard's templates, autoescaping everything."""
    environment = Environment(
        loader=FileSystemLoader(directory or resource_dir("templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        run_url=path_to_run,
        test_url=path_to_test,
        utc=readable_utc,
        duration=readable_duration,
        percent=percent,
        run_replay=run_replay,
        sparkline_points=sparkline_points,
        last_failure=last_failure,
    )
    environment.tests["web_url"] = is_web_url
    environment.globals.update(
        outcomes=list(Outcome),
        DB_ENV=DB_ENV,
        DEFAULT_DB_FILE=DEFAULT_DB_FILE,
        CLASS_MEANINGS=CLASS_MEANINGS,
        CLASS_MARKS=CLASS_MARKS,
        outcome_bar=outcome_bar,
        outcome_badge=outcome_badge,
        result_rows=result_rows,
        seed_statuses=seed_statuses,
        failure_group_rows=failure_group_rows,
        history_rows=history_rows,
        moment=moment,
        optional=optional,
        commit_code=commit_code,
        commit_results=commit_results,
        copyable=copyable,
        failing_seed_rows=failing_seed_rows,
        passing_seed_rows=passing_seed_rows,
        timeline=timeline,
        duration_chart=duration_chart,
        runs_chart=runs_chart,
        failure_rate_chart=failure_rate_chart,
        flakiness_chart=flakiness_chart,
        sparkline=sparkline,
        bucket_label=bucket_label,
        DIFF_SECTIONS=DIFF_SECTIONS,
    )
    return environment


def static_directory() -> Path:
    """The files served as they are under ``/static/``: the stylesheet and the copy buttons'
    script."""
    return resource_dir("templates") / "static"
