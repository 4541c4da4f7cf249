"""Fixtures shared by every test module, and the markers they imply.

Markers (registered in ``pyproject.toml``; ``make test-fast`` leaves out ``slow``
and ``browser``):

* ``redis``: the test talks to a real ``redis-server``. Tests using the
  :func:`redis_server`, :func:`rdb` or :func:`own_redis_server` fixtures get it
  automatically; a test that starts its own server is marked by hand.
* ``browser``: the test drives Debian's Chromium through Playwright.
* ``slow``: left out of the inner loop (``make test-fast``, under a minute): tests
  marked by hand (about two seconds or more), and those named in :data:`_SLOW`,
  the longest of the rest (a quarter second or more each on a quiet machine of
  the project's kind; ``pytest -m "not slow and not browser" --durations=80``).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from api import observability
from tests.live_servers_age import RedisServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

_REDIS_FIXTURES = frozenset({"redis_server", "rdb", "own_redis_server"})
_SLOW = frozenset({
    "106",
    "tests/test_api.py::test_official_host",
    "tests/test_api.py::test_unexpected_error_is_a_500_problem",
    "tests/test_api.py::test_wrong_content_type",
    "tests/test_api_apk.py::test_same_file_again_is_answered_from_the_stored_report",
    "tests/test_api_batch.py::test_a_batch_body_may_exceed_the_ordinary_body_limit",
    "tests/test_api_batch.py::test_live_batch_is_bounded_in_concurrency",
    "tests/test_api_batch.py::test_live_batch_time_budget_falls_back_offline_and_says_so",
    "tests/test_api_message.py::test_cli_binary_stdin_cannot_be_checked",
    "tests/test_api_message.py::test_cli_calm_message",
    "tests/test_api_message.py::test_cli_json_from_argument",
    "tests/test_api_message.py::test_cli_reads_stdin_and_prints_the_reply",
    "tests/test_api_message.py::test_junk_and_mixed_scripts_never_500",
    "tests/test_apk_facts.py::test_a_child_over_its_memory_slack_retires",
    "tests/test_apk_facts.py::test_a_forked_process_gets_a_supervisor_state_of_its_own",
    "tests/test_apk_facts.py::test_a_reused_child_gives_the_facts_of_a_fresh_one",
    "tests/test_apk_facts.py::test_cold_worker_is_still_available",
    "tests/test_apk_facts.py::test_fake_dichvucong_manifest",
    "tests/test_apk_facts.py::test_lazy_arsc_matches_androguard_on_every_resource",
    "tests/test_apk_layout.py::test_no_apk_module_imports_itself_back",
    "tests/test_auth.py::test_a_client_sees_only_its_own_scans",
    "tests/test_auth.py::test_missing_bad_and_revoked_keys_are_401_problems",
    "tests/test_auth.py::test_openapi_has_the_api_key_scheme",
    "tests/test_auth.py::test_redis_keys_and_shared_limits",
    "tests/test_cli.py::test_file_all_valid_exit_0_and_clean_stderr",
    "tests/test_cli.py::test_file_empty_input",
    "tests/test_cli.py::test_file_human_output",
    "tests/test_cli.py::test_file_path",
    "tests/test_cli.py::test_file_stdin",
    "tests/test_cli.py::test_invalid_argument_gets_an_error_line_and_exit_1",
    "tests/test_cli.py::test_online_mode_reports_the_live_check_as_incomplete",
    "tests/test_cli.py::test_url_json_contract",
    "tests/test_cli.py::test_url_no_blocklists_flag_and_setting",
    "tests/test_cli.py::test_url_no_blocklists_setting_must_be_on_or_off",
    "tests/test_console.py::test_revoked_key_ends_its_sessions",
    "tests/test_docs.py::test_the_page_names_only_local_assets",
    "tests/test_domain_age.py::test_concurrent_scans_share_one_lookup",
    "tests/test_domain_age.py::test_hanging_whois_lookup_is_bounded",
    "tests/test_domain_age.py::test_rdap_timeout_applies_to_a_caller_supplied_client",
    "tests/test_domain_age.py::test_real_python_whois_gaierror_is_contained_offline",
    "tests/test_domain_age.py::test_slow_rdap_respects_its_timeout",
    "tests/test_domain_age.py::test_slow_whois_respects_its_timeout",
    "tests/test_export.py::test_export_errors_are_problems",
    "tests/test_export.py::test_link_json_export_is_the_scan_as_a_download",
    "tests/test_feedback.py::test_a_message_check_cannot_become_a_list_entry",
    "tests/test_feedback.py::test_bad_feedback_is_a_422_problem",
    "tests/test_feedback.py::test_duplicates_are_folded_per_key_and_target",
    "tests/test_feedback.py::test_feedback_never_changes_a_verdict_until_an_analyst_acts",
    "tests/test_feedback.py::test_openapi_describes_feedback",
    "tests/test_feedback.py::test_pending_per_key_is_bounded",
    "tests/test_feedback.py::test_redis_feedback_is_shared_between_instances",
    "tests/test_feedback.py::test_resolve_turns_each_target_into_its_list_entry",
    "tests/test_feedback.py::test_roles_and_visibility",
    "tests/test_feedback.py::test_targets_are_detected_and_normalised",
    "tests/test_fetch.py::test_hop_timeout",
    "tests/test_fetch.py::test_time_left_bounds_a_dripping_body",
    "tests/test_history.py::test_redis_history_is_bounded",
    "tests/test_history.py::test_redis_history_is_shared_by_replicas_with_visibility",
    "tests/test_identifiers.py::test_cli_lists_every_identifier_kind",
    "tests/test_lists.py::test_feed_on_a_refused_address_is_refused_without_a_request",
    "tests/test_lists.py::test_feed_redirect_to_a_refused_address_is_not_followed",
    "tests/test_lists.py::test_feeds_from_settings",
    "tests/test_lists.py::test_redis_lists_are_shared_between_instances",
    "tests/test_lists.py::test_roles_and_entries",
    "tests/test_live.py::test_budget_spent_across_hops",
    "tests/test_live.py::test_default_limits_finish_within_budget",
    "tests/test_live.py::test_total_budget_against_a_slow_endpoint",
    "tests/test_live_e2e.py::test_api_live_timeout_is_listed_incomplete",
    "tests/test_live_e2e.py::test_cli_bad_allow_networks_is_a_clear_error",
    "tests/test_live_e2e.py::test_cli_live_without_allowance_refuses_and_fetches_nothing",
    "tests/test_live_hostile.py::test_api_link_scans_answer_every_hostile_target",
    "tests/test_live_hostile.py::test_cli_reports_a_malformed_redirect",
    "tests/test_message_history.py::test_console_history_and_message_report",
    "tests/test_message_history.py::test_message_check_is_remembered_masked_redis",
    "tests/test_message_history.py::test_message_check_is_remembered_masked_sqlite",
    "tests/test_ops.py::test_each_app_has_its_own_registry",
    "tests/test_ops.py::test_readyz_when_redis_goes_away",
    "tests/test_ops.py::test_unsafe_request_id_is_replaced",
    "tests/test_retention.py::test_an_upload_of_a_stored_sample_makes_it_young",
    "tests/test_retention.py::test_embedded_scans_history_and_job_records_are_pruned",
    "tests/test_retention.py::test_the_server_sweeps_when_it_starts",
    "tests/test_schema_fuzz.py::test_every_error_is_documented_as_problem_json",
    "tests/test_schema_fuzz.py::test_random_multipart_uploads_get_an_answer_never_a_500",
    "tests/test_security_http.py::test_an_emptied_sqlite_key_store_does_not_reopen_keyless",
    "tests/test_security_http.py::test_cross_site_writes_are_refused_in_keyless_mode",
    "tests/test_security_http.py::test_failed_authentications_are_counted_in_redis_across_replicas",
    "tests/test_shares.py::test_openapi_describes_sharing",
    "tests/test_shares.py::test_public_base_url_names_the_link",
    "tests/test_shares.py::test_share_link_of_a_link_scan",
    "tests/test_structure.py::test_redis_clients_built_in_one_module",
    "tests/test_url_model.py::test_name_pattern_drives_a_finding_with_a_readable_reason",
})
"""Tests (every parametrisation) marked ``slow`` here rather than one by one."""


_DATA_DIR_ENV = "SCAMSCAN_DATA_DIR"
_run_data_dir: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every ``scamscan`` it runs, gets a data directory of this run:
    the default one (``~/.local/share/scamscan``, ``/var/lib/scamscan`` for root) is
    never touched. Tests that need their own set ``data_dir``/``SCAMSCAN_DATA_DIR``."""
    global _run_data_dir
    _run_data_dir = tempfile.mkdtemp(prefix="scamscan-tests-")
    os.environ[_DATA_DIR_ENV] = _run_data_dir


def pytest_unconfigure(config: pytest.Config) -> None:
    if _run_data_dir is not None:
        shutil.rmtree(_run_data_dir, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a Redis fixture with ``redis``, and those of
    :data:`_SLOW` with ``slow``."""
    for item in items:
        if _REDIS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)
        if item.nodeid.split("[", 1)[0] in _SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, the server's loop."""
    return "asyncio"


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real ``redis-server`` (Debian's) on a free loopback port for the whole run:
    starting one per test cost more than most Redis tests themselves."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_session: RedisServer) -> Iterator[RedisServer]:
    """The run's ``redis-server``, emptied (``FLUSHALL``) before this test.

    A test may pause it (SIGSTOP) if it resumes it; a test that stops the server
    for good takes :func:`own_redis_server` instead."""
    if not redis_session.ping():
        pytest.fail("the shared redis-server no longer answers: a test stopped it "
                    "(use the own_redis_server fixture to stop one)", pytrace=False)
    client = redis.Redis.from_url(redis_session.url, socket_timeout=5)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_session


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` for this test alone, which it may stop."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def rdb(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of :func:`redis_server`."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the ``scamscan`` loggers write through the JSON formatter
    (read it with :func:`tests.json_logs.json_lines`)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(observability.json_formatter())
    logger = logging.getLogger("scamscan")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Debian's Chromium for a module's browser tests (``tests/console_server.py``)."""
    # Imported here: Playwright is loaded only by the tests that drive a browser.
    from tests.console_server import chromium_browser

    with chromium_browser(request.config) as b:
        yield b
