"""Fixtures shared by the whole suite: real PostgreSQL, real Chromium, real SMTP.

A test that needs a component the machine lacks is skipped with the reason — except in CI
(`CI` set), where a missing component fails the test: nothing is skipped there.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import re
import shutil
import socket
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests import axe_cache

if TYPE_CHECKING:
    from django.test import Client

    from madoguchi.staff.models import StaffUser

hypothesis_settings.register_profile(
    "madoguchi",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    max_examples=50,
)
hypothesis_settings.register_profile(
    "deep", hypothesis_settings.get_profile("madoguchi"), max_examples=1000, derandomize=False
)
hypothesis_settings.load_profile("madoguchi")
"""Property tests judge results, not speed: Hypothesis's 200 ms deadline per example and its
"input generation is slow" check fail on a loaded machine what passes on a quiet one. And every
run tries the same examples (`derandomize`, seeded from each test's own code): a property test
passes or fails the same way on every run and every machine, never by the draw of one CI run —
new examples come when a test or Hypothesis changes, and a failure found is reproduced as is.
The suite's profile tries 50 examples a property (a test that means more asks for a multiple of
`settings().max_examples`); `pytest --hypothesis-profile=deep` tries 1,000, drawn
afresh, for a deeper run."""

pytest_plugins = [
    "tests.frozen_clock",
    "tests.migration_steps",
    "tests.cpu_report",
    "tests.world_order",
    "tests.clean_tree",
]
"""The one frozen clock (`frozen`, `now`, `frozen_at`): tests/frozen_clock.py; the
migration-data tests' throw-away database (`migration_steps`): tests/migration_steps.py;
`--cpu-report`, each test's wall time beside its CPU time: tests/cpu_report.py; tests that want
the same kept world run next to each other: tests/world_order.py; a run that leaves a new
untracked file in the working tree fails: tests/clean_tree.py."""

REPO = Path(__file__).resolve().parent.parent
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
EXAMPLES = REPO / "docs" / "examples"
"""The sample files docs/contract.md shows; tests make their own data too."""


def example_file(name: str) -> Path:
    """A sample file of docs/examples (in every clone)."""
    path = EXAMPLES / name
    assert path.is_file(), path
    return path


SUITE_SETTINGS: dict[str, Any] = {
    # Staff passwords in tests need no brute-force resistance; hashing them costs seconds.
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    # The test client and the live server speak plain http, as the demo does: no Secure
    # cookies (settings default them on, MADOGUCHI_HTTPS); header tests switch them back.
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    # Every test client is 127.0.0.1 and makes many requests in seconds, which real limits
    # would stop; tests of the limits set their own.
    "MADOGUCHI_RATE_LIMITS": {},
    # Every test's SMS go to a file (the adapter's `file` backend, emptied before each test:
    # fixture `sms_outbox`), never printed.
    "MADOGUCHI_SMS_BACKEND": "file",
    # Deterministic chains: no background timer (its own tests switch it on).
    "MADOGUCHI_AUDIT_SEAL_MS": 0,
    # The booking pages' few seconds of whole-page caching (core/pagecache.py) would, under a
    # frozen clock, never expire; tests/core/test_pagecache.py switches it on.
    "MADOGUCHI_PAGE_CACHE_SECONDS": 0,
    # Each test builds its own sites (primary keys repeat after a rollback on SQLite).
    "MADOGUCHI_REFERENCE_CACHE_SECONDS": 0,
}
"""The settings every test starts from, set once per process (`_suite_settings`) — a test that
wants another value sets it with pytest-django's `settings` fixture, undone after the test.
Worlds shared between tests (tests/personas.py's kept worlds, the language sweep's town) are
built under these settings again, whatever the first test that asks for one has set."""


@dataclass
class SuiteDefaults:
    """What `_suite_settings` set up for this process, and what every test starts from."""

    folder: Path
    holder: Any
    """The settings layer with `SUITE_SETTINGS` (django.test.utils' UserSettingsHolder)."""
    kept: dict[str, Any]
    """A deep copy of `holder`'s own values, as the first test found them."""

    @property
    def sms_file(self) -> Path:
        return self.folder / "sms.jsonl"

    @property
    def checkpoint_file(self) -> Path:
        return self.folder / "audit-checkpoints.jsonl"

    def layer(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self.holder).items() if k != "default_settings"}


@pytest.fixture(autouse=True, scope="session")
def _suite_settings(
    django_test_environment: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SuiteDefaults]:
    """`SUITE_SETTINGS` as one `override_settings` for the whole process (after pytest-django's
    test environment, whose own settings stay below it), the SMS and audit checkpoint files in a
    folder of the process's own, and the queue pages' caches off: the display's and the
    congestion page's few seconds of caching would, under a frozen clock, never expire (their
    own tests switch it on with `monkeypatch`). Set once instead of by ten fixtures in every
    test — each `settings.X = …` was an `override_settings` of its own, with its signals, and a
    settings chain ten layers deep below whatever the test set."""
    import copy

    from django.conf import settings as django_settings
    from django.test import override_settings

    from madoguchi.queue_board import views

    folder = tmp_path_factory.mktemp("suite")
    override = override_settings(
        **SUITE_SETTINGS,
        MADOGUCHI_SMS_FILE=str(folder / "sms.jsonl"),
        MADOGUCHI_AUDIT_CHECKPOINT_FILE=folder / "audit-checkpoints.jsonl",
    )
    override.enable()
    holder = vars(django_settings)["_wrapped"]
    suite = SuiteDefaults(folder, holder, {})
    suite.kept = copy.deepcopy(suite.layer())
    _suite.append(suite)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(views, "DISPLAY_CACHE_SECONDS", 0)
            patch.setattr(views, "CONGESTION_CACHE_SECONDS", 0)
            yield suite
    finally:
        _suite.clear()
        override.disable()


_suite: list[SuiteDefaults] = []
"""This process's `SuiteDefaults` while `_suite_settings` holds them."""


@pytest.fixture(autouse=True)
def _each_test_from_the_suite_s_defaults(_suite_settings: SuiteDefaults) -> None:
    """Before each test, what the tests before it left is gone (`start_from_suite_defaults`);
    after it, once all its fixtures are torn down, `pytest_runtest_teardown` puts the language
    and the settings back (`reset_to_suite_defaults`). It asks for the session's fixture itself,
    not for `suite_defaults`: every test would set that up and tear it down again."""
    start_from_suite_defaults(_suite_settings)


def start_from_suite_defaults(suite: SuiteDefaults) -> None:
    """The SMS and audit checkpoint files emptied (each test's chain starts from nothing —
    rolled back or flushed —, so its checkpoints too), the queue pages' caches off, the
    per-process caches forgotten: the queue pages', their phones' snapshots, whole pages,
    reference data (site ids repeat between tests)."""
    from django.core.cache import cache

    from madoguchi.core.pagecache import forget_pages
    from madoguchi.offices.selectors import forget_reference_data
    from madoguchi.queue_board import views

    suite.sms_file.unlink(missing_ok=True)
    suite.checkpoint_file.unlink(missing_ok=True)
    views.DISPLAY_CACHE_SECONDS = views.CONGESTION_CACHE_SECONDS = 0  # as `_suite_settings` did
    cache.clear()
    views._snapshots.clear()
    forget_pages()
    forget_reference_data()


def reset_to_suite_defaults(suite: SuiteDefaults) -> None:
    """The default language active again (a page requested in another language leaves it
    active in the thread: LocaleMiddleware activates it) and the suite's settings again, should
    a test have written one without the `settings` fixture (straight into the suite's layer) or
    left an `override_settings` enabled — both were undone before with the test's own layer."""
    import copy

    from django.conf import settings as django_settings
    from django.utils import translation

    lazy: Any = django_settings
    if vars(lazy)["_wrapped"] is not suite.holder or suite.layer() != suite.kept:
        values = vars(suite.holder)
        default_settings = values["default_settings"]
        values.clear()
        values.update(copy.deepcopy(suite.kept), default_settings=default_settings)
        lazy._wrapped = suite.holder  # also forgets LazySettings' cached values
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After each test and all its fixtures (a live server's `modify_settings` included): the
    suite's language and settings again (`reset_to_suite_defaults`)."""
    try:
        return (yield)
    finally:
        if _suite:  # not after the last test, whose teardown ended `_suite_settings` too
            reset_to_suite_defaults(_suite[0])


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Any:
    """No automatic garbage collection while the tests are collected, and what collection built
    (every test module, item and fixture definition, the libraries they import — all alive until
    the process ends) frozen out of later collections (`gc.freeze`). Collection only allocates
    what it keeps, and each full collection walked all of it again; during the tests each full
    collection walked it again too. Unfrozen at the session's end (`pytest_sessionfinish`), so
    the last collection, which pytest runs for unraisable exceptions, sees everything as before.

    During the tests the youngest generation is collected after 10,000 allocations more than
    deallocations instead of Python's 700 (`YOUNG_COLLECTION_AFTER`): a test allocates tens of
    thousands of objects that reference counting frees (query and ORM objects, template nodes,
    requests), and each young collection walked the live ones again — seven times fewer young
    collections, and the older generations' collections follow theirs. Put back at the session's
    end with the freeze.
    """
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()
        gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION_AFTER, older, oldest)


YOUNG_COLLECTION_AFTER = 10_000
PYTHON_YOUNG_COLLECTION_AFTER = gc.get_threshold()[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    gc.unfreeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(PYTHON_YOUNG_COLLECTION_AFTER, older, oldest)


@pytest.fixture
def suite_defaults(_suite_settings: SuiteDefaults) -> SuiteDefaults:
    """The process's `SuiteDefaults` (its SMS and checkpoint files, the settings layer)."""
    return _suite_settings


class SmsOutbox:
    """The text messages sent through the SMS adapter's file backend, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def messages(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def sms_outbox(suite_defaults: SuiteDefaults) -> SmsOutbox:
    """The test's SMS: the suite's file (`SUITE_SETTINGS`), emptied before every test."""
    return SmsOutbox(suite_defaults.sms_file)


SOLVER_TIME_LIMIT_SECONDS = 600.0
"""The staffing solver's limit in tests: far above what it needs to reach its gap."""


@pytest.fixture(autouse=True, scope="session")
def _staffing_plans_solved_to_their_gap() -> Iterator[None]:
    """A staffing plan cut short by the solver's clock (5–10 s by default) depends on how busy
    the machine is, so a property of it (steady, serving to the last week) could hold on a quiet
    machine and fail on a loaded one; the tests get the plan the solver returns at its gap,
    which is the same on every machine (tests/planning/test_staffing.py checks the limit)."""
    from madoguchi.forecasts import staffing_plan
    from madoguchi.planning import staffing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staffing, "DEFAULT_TIME_LIMIT_SECONDS", SOLVER_TIME_LIMIT_SECONDS)
        patch.setattr(staffing_plan, "DEFAULT_TIME_LIMIT_SECONDS", SOLVER_TIME_LIMIT_SECONDS)
        yield


@pytest.fixture(autouse=True, scope="session")
def _staffing_plans_solved_once_per_problem(
    _staffing_plans_solved_to_their_gap: None,
) -> Iterator[None]:
    """The pages, commands and caches (`forecasts.staffing_plan`) of many tests solve the very
    same problem — the same kept demo city, rolled back between tests. Solved to its gap, a plan
    is a function of the problem and the options (HiGHS is deterministic), so each process
    solves a problem once (a digest of the pickled problem and options) and every caller gets
    its own deep copy. Only plans that reached their gap are kept; errors are raised each time;
    the solver's own tests (tests/planning) call `planning.staffing` directly, never this."""
    import copy
    import hashlib
    import pickle

    from madoguchi.forecasts import staffing_plan
    from madoguchi.planning.staffing import solve_staffing as original

    solved: dict[bytes, Any] = {}

    def solve_staffing(problem: Any, **options: Any) -> Any:
        key = hashlib.sha256(pickle.dumps((problem, sorted(options.items())))).digest()
        if key not in solved:
            plan = original(problem, **options)
            if plan.status != "optimal":
                return plan
            solved[key] = plan
        return copy.deepcopy(solved[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staffing_plan, "solve_staffing", solve_staffing)
        yield


# Subprocesses the tests start write their audit checkpoints here, never into the data
# directory's own file (the demo's); the tests' own go to the file `_suite_settings` names.
os.environ["MADOGUCHI_AUDIT_CHECKPOINT_FILE"] = str(
    Path(tempfile.mkdtemp(prefix="madoguchi-checkpoints-")) / "audit-checkpoints.jsonl"
)


@pytest.fixture(autouse=True, scope="session")
def _flush_may_empty_the_audit_log() -> Iterator[None]:
    """Transactional tests end with Django's flush, which empties every table (DELETE on SQLite,
    TRUNCATE on PostgreSQL) — exactly what the audit table's triggers refuse. The flush lifts
    them for its own statements, as only the table's owner can (docs/audit.md)."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: list[str]) -> None:
        from django.db import transaction

        connection = self.connection
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
                original(self, sql_list)
                cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
            else:
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                    " AND name = 'core_auditevent_no_delete'"
                )
                found = cursor.fetchone()
                cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")
                original(self, sql_list)
                if found:
                    cursor.execute(found[0])

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign,assignment]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


@dataclass
class PostMigrateRows:
    """What `post_migrate` writes after a flush, kept per SQLite database of this process."""

    rows: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = field(default_factory=dict)
    """The content types and permissions Django's receivers created, by database file."""
    put_back: int = 0
    """How many flushes got them written back instead of the signal."""


POST_MIGRATE_ROWS = PostMigrateRows()

POST_MIGRATE_RECEIVERS = frozenset(
    {
        "django.contrib.contenttypes.management.create_contenttypes",
        "django.contrib.auth.management.create_permissions",
        "madoguchi.core.db_roles.grant_after_migrate",
    }
)
"""The receivers whose whole work after a flush on SQLite is the rows kept: Django's content
types and permissions, and the app role's grant (PostgreSQL, after `migrate` only)."""


@pytest.fixture(autouse=True, scope="session")
def _flush_puts_back_content_types() -> Iterator[None]:
    """Every transactional test ends with Django's flush, which empties every table and sends
    `post_migrate`, whose receivers build the content types and permissions again — a read of
    each app's rows and a bulk create per app, ~40 ms of CPU per flush (358 transactional tests
    in the SQLite pass). On SQLite the first flush of a database in this process sends the
    signal and keeps the rows it wrote; every later one writes those rows back (two bulk
    creates: the same rows, keys included) instead — as long as nothing but the receivers
    named in POST_MIGRATE_RECEIVERS listens. PostgreSQL, or another receiver, sends the signal
    every time. tests/test_flush.py compares the rows with the signal's."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.commands import flush
    from django.core.management.sql import emit_post_migrate_signal as original
    from django.db import connections, transaction
    from django.db.models.signals import post_migrate

    def only_known_receivers() -> bool:
        listening = {
            f"{receiver.__module__}.{receiver.__qualname__}"
            for receiver in post_migrate._live_receivers(None)[0]
        }
        return listening <= POST_MIGRATE_RECEIVERS

    def emit_post_migrate_signal(verbosity: int, interactive: bool, db: str, **kwargs: Any) -> None:
        connection = connections[db]
        name = str(connection.settings_dict["NAME"])
        if connection.vendor != "sqlite" or kwargs or not only_known_receivers():
            original(verbosity, interactive, db, **kwargs)
            return
        kept = POST_MIGRATE_ROWS.rows.get(name)
        if kept is None:
            original(verbosity, interactive, db)
            POST_MIGRATE_ROWS.rows[name] = (
                list(ContentType.objects.using(db).order_by("pk").values()),
                list(Permission.objects.using(db).order_by("pk").values()),
            )
            return
        content_types, permissions = kept
        ContentType.objects.clear_cache()  # as create_contenttypes does first
        with transaction.atomic(using=db):
            ContentType.objects.using(db).bulk_create(ContentType(**r) for r in content_types)
            Permission.objects.using(db).bulk_create(Permission(**r) for r in permissions)
        POST_MIGRATE_ROWS.put_back += 1

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush, "emit_post_migrate_signal", emit_post_migrate_signal)
        yield


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's `django_db_setup`, the test database copied from a template migrated
    once per set of migrations (tests/template_db.py) instead of migrated in every worker."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    from tests import personas, template_db

    assert django_db_use_migrations, "the suite always tests the migrated schema"
    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = template_db.setup_databases(
            setup_databases,
            aliases,
            verbosity=verbosity,
            interactive=False,
            serialized_aliases=serialized_aliases,
            keepdb=keepdb,
        )
    yield
    # The kept world's transaction ends before its database does: session fixtures end in
    # the reverse order of their start, so `_release_the_kept_world` (autouse, started first)
    # would otherwise roll it back only after the database was torn down, on a connection
    # closed inside that transaction — whenever a worker's last test used a kept world.
    personas.release(django_db_blocker)
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(autouse=True, scope="session")
def _static_files_listed_once() -> Iterator[None]:
    """WhiteNoise lists every static file when its middleware is made — once per process in a
    server, but once per test `Client` here (every new client loads the middleware again): a
    tenth of a second per client, thousands of clients. The listing is made once per process
    and configuration and shared by every later middleware (it is read-only unless WhiteNoise
    refreshes it, which is never kept)."""
    from django.conf import settings as django_settings
    from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]

    original = WhiteNoiseMiddleware.__init__
    listed: dict[tuple[Any, ...], dict[str, Any]] = {}

    def __init__(self: Any, get_response: Any = None, settings: Any = django_settings) -> None:
        key = tuple(
            repr(getattr(settings, name, None))
            for name in sorted(dir(settings))
            if name.startswith(("WHITENOISE_", "STATIC")) or name in ("DEBUG", "FORCE_SCRIPT_NAME")
        )
        state = listed.get(key)
        if state is None:
            original(self, get_response, settings)
            if not self.autorefresh:
                listed[key] = dict(vars(self))
            return
        vars(self).update(state)
        self.get_response = get_response

    WhiteNoiseMiddleware.__init__ = __init__
    yield
    WhiteNoiseMiddleware.__init__ = original


@pytest.fixture
def city(_kept_world: Any, db: None, frozen: Any) -> Any:
    """The residents' factories' test city (`tests.resident_site.factories.City`): kept for
    consecutive tests that roll back (tests.personas.FACTORY_WORLDS), each test handed its own
    copy of the objects; built for the test otherwise."""
    from tests import personas as built
    from tests.resident_site import factories

    if built.holding("city"):
        return built.fresh_copy(_kept_world)
    return factories.city()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A kept world is rolled back before a test that cannot share it sets up anything
    (`tests.personas.release_before`)."""
    from tests import personas as built

    built.release_before(item)


@pytest.fixture
def _kept_world(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Any:
    """The world this test shares with its neighbours (`personas`, `demo_city`,
    `demo_printed`), held open for as long as consecutive tests ask for the same one
    (tests/personas.py, `hold`); None for a test that wants none, which rolls any held world
    back first."""
    from tests import personas as built

    want = built.wanted(request)
    if want is None:
        built.release(django_db_blocker)
        return None
    return built.hold(want, django_db_blocker)


@pytest.fixture
def _django_db_helper(_kept_world: Any, _django_db_helper: Any) -> Any:
    """pytest-django's per-test transaction, entered after the kept world's (a savepoint in it)."""
    return _django_db_helper


@pytest.fixture(autouse=True, scope="session")
def _release_the_kept_world(django_db_blocker: Any) -> Iterator[None]:
    yield
    from tests import personas as built

    built.release(django_db_blocker)


@pytest.fixture
def personas(request: pytest.FixtureRequest, _kept_world: Any, db: None, frozen: Any) -> Any:
    """The staff side's personas (`tests.personas.World`): a municipality with two sites and
    staff in every role, accounts without a municipality, a second municipality with its own
    site and staff. Built once for consecutive tests at the same moment; each test gets its own
    copy of the objects, and its changes to the rows are rolled back."""
    from tests import personas as built

    if _kept_world is None:
        pytest.fail(
            "`personas` is kept for tests that roll back; a transactional test builds its own "
            "with tests.personas.world()"
        )
    return built.fresh_copy(_kept_world)


@pytest.fixture
def signed_in_personas(_kept_world: Any, db: None, frozen: Any) -> Any:
    """`personas` with every persona signed in at the module's `SIGNED_IN_AT`
    (`tests.personas.SignedIn`: `.world`, `.client(name)`), kept like `personas`: the sign-ins
    happen once for consecutive tests, each test's requests are rolled back with its changes."""
    from tests import personas as built

    if _kept_world is None:
        pytest.fail("`signed_in_personas` is kept for tests that roll back")
    return built.fresh_copy(_kept_world)


@pytest.fixture
def demo_city(_kept_world: Any, db: None, frozen: Any) -> Any:
    """The demo city's Municipality (the module's `DEMO_CITY`, tests.personas.DemoCity), built once
    for consecutive tests that ask for the same one; time stands on the demo day's evening."""
    from tests import personas as built
    from tests.frozen_clock import DEMO_EVENING

    if _kept_world is None:
        pytest.fail("`demo_city` is kept for tests that roll back")
    frozen.move_to(DEMO_EVENING)
    return built.fresh_copy(_kept_world)


@pytest.fixture
def demo_printed(_kept_world: Any, db: None, frozen: Any) -> str:
    """What `madoguchi demo --no-serve` printed (the module's `DEMO_COMMAND`,
    tests.personas.DemoCommand), its rows kept like `demo_city`'s: run once for consecutive
    tests at the same moment."""
    if _kept_world is None:
        pytest.fail("`demo_printed` is kept for tests that roll back")
    printed: str = _kept_world
    return printed


# --- staff sign-in ---------------------------------------------------------------------------


def login_staff(client: Any, user: Any) -> Any:
    """Sign a staff member in as the two sign-in steps do: the password step
    (`Client.force_login`, which also starts the session's idle and absolute clocks) and the
    second factor (a confirmed authenticator device, verified in the session). Returns the
    device. Staff pages refuse a session without the second step (tests/staff/)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="認証アプリ", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def site_official(site: Any, username: str = "official") -> StaffUser:
    """An official of the site's municipality who works at the site (a counter clerk)."""
    from madoguchi.staff.models import Role
    from madoguchi.staff.models import StaffUser as Staff

    user = Staff.objects.create_user(
        username, password="x", role=Role.OFFICIAL, municipality=site.municipality
    )
    user.sites.set([site])
    return user


def signed_in_client(user: StaffUser) -> Client:
    """A test client with `user` signed in through both steps (`login_staff`)."""
    from django.test import Client as TestClient

    client = TestClient()
    login_staff(client, user)
    return client


def sign_in_browser(page: Any, base_url: str, user: Any) -> None:
    """`user` signed in through both steps in `page`'s browser as `login_staff` signs in a test
    client (the session's cookie given to the browser): the sign-in's five pages — password,
    enrolment of the authenticator, backup codes — are not walked again by every test that is
    about what staff do once signed in. tests/browser/test_staff_login.py walks them, and
    submits each of their forms."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    login_staff(client, user)
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base_url}])


@pytest.fixture
def admin_client(db: None, admin_user: Any) -> Any:
    """pytest-django's `admin_client`, signed in through both steps (`login_staff`)."""
    from django.test import Client

    client = Client()
    login_staff(client, admin_user)
    return client


def pass_second_factor(page: Any, username: str) -> None:
    """In a browser test, after the password form was submitted: the second step as a person
    does it — the code of the account's authenticator app, or on a first sign-in the enrolment
    (the secret read from the page, a code from it, then on past the backup codes)."""
    from base64 import b32decode

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.wait_for_load_state()
    if page.locator("#otp-secret").count():
        secret = page.locator("#otp-secret").inner_text().replace(" ", "")
        app = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
        page.fill("#id_code", f"{app.token():06d}")
        page.get_by_role("button", name="登録する").click()
        page.get_by_role("link", name="続ける").click()
        return
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    page.fill("#id_code", current_totp_code(device))
    page.get_by_role("button", name="確認する").click()


def current_totp_code(device: Any) -> str:
    """The code the authenticator app shows now for `device` (time-machine's now)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(trylast=True)  # after `-m` has deselected what this run leaves out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    reason = "needs PostgreSQL: set MADOGUCHI_TEST_DATABASE_URL and run `make test`"
    needing = [item for item in items if "postgres" in item.keywords]
    if needing and os.environ.get("CI"):
        # skipped on a laptop; in CI nothing may be skipped for want of a component (`_missing`)
        raise pytest.UsageError(f"CI must provide this: {len(needing)} tests {reason}")
    for item in needing:
        item.add_marker(pytest.mark.skip(reason=reason))


# --- browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Iterator[Any]:
    """pytest-django's live server, warmed up as `madoguchi.wsgi` warms a production process
    (`core.warmup`: URL tables, templates, catalogues, holidays) before any page is asked of it,
    its static files kept by the browser (`_static_files_kept`).

    The server runs in this process, so the warm-up done here is the server's. Without it the
    first page a browser test opens paid for all of that in its request: under load it took
    over 30 s, and that test's first `goto` ran out of Playwright's time.
    """
    from madoguchi.core.warmup import warm_up

    warm_up()
    with pytest.MonkeyPatch.context() as patch:
        _static_files_kept(patch)
        yield live_server


STATIC_MAX_AGE = 10 * 365 * 24 * 3600
"""How long a browser keeps the live server's static files: ten years, since a max-age counts
from the response's Date, which the tests' frozen clock puts months or years in the past."""


def _static_files_kept(patch: pytest.MonkeyPatch) -> None:
    """The live server's static files (Django's `StaticFilesHandler`, which answers /static/
    before WhiteNoise would) come with `Cache-Control: max-age=STATIC_MAX_AGE`, so a browser
    context asks for a stylesheet or script once, as a resident's browser keeps them between
    pages (WhiteNoise serves them with a max-age in production).

    Without it Chromium asked for site.css again on every page: the handler sends only
    Last-Modified (the file's real time), and the response's Date comes from the tests' frozen
    clock, months before it — a heuristic freshness of nothing, so each page revalidated it (a
    request and a 304). The files do not change while the tests run; what a page looks like
    is the same, fetched once or on every page."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    serve = StaticFilesHandler.serve

    def kept(self: Any, request: Any) -> Any:
        response = serve(self, request)
        response["Cache-Control"] = f"max-age={STATIC_MAX_AGE}"
        return response

    patch.setattr(StaticFilesHandler, "serve", kept)


def chromium_path() -> str | None:
    """The Chromium the browser tests drive: MADOGUCHI_CHROMIUM if set, else Debian's headless
    shell where it is installed, else Debian's Chromium (decision 0039)."""
    configured = os.environ.get("MADOGUCHI_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser): its headless shell
    where installed, as Playwright's own headless runs use (decision 0039)."""
    executable = chromium_path()
    if executable is None:
        _missing("Chromium not found (apt-get install chromium, or set MADOGUCHI_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev extra not installed
        _missing("playwright is not installed")
    # Playwright's sync API keeps an event loop running in this thread; the Django ORM calls
    # the tests make between browser steps are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright, pytest.MonkeyPatch.context() as patch:
        _settle_after_actions(patch)
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
"""The features Playwright's own `--disable-features` turns off. Chromium keeps only the last
`--disable-features` of its command line, and ours comes after Playwright's: it names these
again (tests/browser/test_chromium_flags.py checks that Chromium still has each one off)."""

NO_BROWSER_WINDOW_UI = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup")
"""The address bar's drop-down, which Chromium's full browser (its new headless mode, used where
the headless shell is not installed) builds as a web page of its own — a renderer process with
two WebUI documents — for every browser context, although a headless window never shows an
address bar. It cost about 0.15 s of CPU for each context opened (most browser tests open one).
"""

ONE_DOCUMENT_HOST_PER_FRAME = ("RenderDocument",)
"""Chromium's RenderDocument: every navigation of a frame, to a page of the same site too, gets
a speculative frame host of its own — a new RenderFrameHost and render view in the browser
process, a new frame and view in the renderer — and swaps it in at commit. With it off a
same-site navigation loads its new document into the frame it leaves, as Chromium did before
RenderDocument; the document, its layout and what it paints are the same. A fixed bench of 10
contexts, 150 residents' page loads and 30 axe-core runs against the live server: 18.5/16.5 →
13.5–14.3 s CPU of Chromium (browser process 4.7/4.4 → 3.4, renderers 11.9/10.4 → 8.6–9.5, the
GPU process 1.2/1.0 → 0.6–0.7; load 9–15).

The pointer the tests move stays where it is across a navigation: the element under it in the
page a click led to is hovered, as in a browser whose mouse has clicked there; the headless
shell's first document of a new page is no longer counted as hovered (decision 0039)."""

NO_OPTIMIZING_COMPILERS = "--js-flags=--no-opt --no-maglev"
"""V8 in the renderers runs JavaScript with its interpreter and baseline compiler (Ignition,
Sparkplug) only, without its optimizing compilers (Maglev, TurboFan). A browser test's
JavaScript lives for a few hundred milliseconds — axe-core's run on a page, a page's own small
scripts — and the optimizing compilers spent more CPU compiling its hot functions than the
optimized code saved before the document was gone. What the scripts do is the same: the
optimizing tiers change how fast code runs, never what it does. Measured at load 7–10, old and
new alternated twice: 54 residents' pages loaded and checked by axe-core twice over (108 runs),
renderers 20.8/16.9 → 14.9/13.5 s of CPU; the resident booking, staff pages and booking without
traps (6 tests), renderers 23.5/24.1 → 19.7/21.8 s."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features="
    + ",".join(PLAYWRIGHT_DISABLED_FEATURES + NO_BROWSER_WINDOW_UI + ONE_DOCUMENT_HOST_PER_FRAME),
    NO_OPTIMIZING_COMPILERS,
]


SETTLING_ACTIONS = (
    "click",
    "dblclick",
    "tap",
    "press",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
)
"""Page and locator actions after which a test reads the page: each may submit a form."""


def _settle_after_actions(patch: pytest.MonkeyPatch) -> None:
    """Make every action that may submit a form return only once the page it led to is loaded.

    Playwright's actions wait for a navigation they start to *commit*; the new document may
    still be parsing when the action returns, so a read right after it (`count()`,
    `all_inner_texts()`, a heading's text) can see an empty or half-built page — under load,
    a test that passes on a quiet machine then fails. Waiting for the `load` state after each
    action closes that gap for every test at once; when nothing navigated, the current
    document is loaded already and the wait returns at once.
    """
    from playwright.sync_api import Locator, Page

    def settling(action: Any, page_of: Any) -> Any:
        @functools.wraps(action)
        def act(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = action(self, *args, **kwargs)
            page_of(self).wait_for_load_state()
            return result

        return act

    for name in SETTLING_ACTIONS:
        patch.setattr(Page, name, settling(getattr(Page, name), lambda page: page))
        patch.setattr(Locator, name, settling(getattr(Locator, name), lambda locator: locator.page))


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) in the page; return its violations.

    A page of the same structure as one checked before in this process (same markup, its
    words aside, same stylesheets, viewport, state and layout facts — `tests/axe_cache.py`,
    decision 0037) gets that page's result without running axe-core again.

    axe-core runs in an isolated world of the page itself (decision 0040): the very document
    in front of the person, its DOM, layout and computed styles, with JavaScript on or off —
    with JavaScript off the document is the one the browser built without scripting. The
    page's own scripts share only the DOM with that world, and a page whose fingerprint is
    known gets no axe-core at all.

    axe-core calls whatever `<noscript>` wraps hidden, whether scripts run or not; a browser
    without JavaScript shows it. A JavaScript-off page with a `<noscript>` in its body (the
    site's templates have none) is therefore checked in a twin: its document served again at
    the same address to a JavaScript-enabled page of the same browser (same origin, so the
    same stylesheets), byte for byte but for `<noscript>`'s own tags, so what they wrap is
    checked as the page without JavaScript shows it. That twin page is opened once per
    browser and reused.
    """
    return axe_violations_and(page, "() => null")[0]


def axe_violations_and(page: Any, read: str) -> tuple[list[dict[str, Any]], Any]:
    """`axe_violations(page)`, and what `read` (a function's source) gives in the same
    document: it is asked in the very call that takes the page's fingerprint, one round trip
    to the browser fewer for a test that reads the page it checks."""
    if not AXE_JS.exists():
        _missing("axe-core not installed (run `npm install`, which `make test` does)")
    scripting, key, (noscript, value) = axe_cache.page_key(
        page,
        _SCRIPTING_ENABLED,
        valid_langs=lambda: _valid_langs(page),
        also=f"() => [({_NOSCRIPT_IN_BODY})(), ({read})()]",
    )
    found = axe_cache.known(key)
    if found is not None:
        return found, value
    if scripting or not noscript:
        violations = _run_axe(page, scripting=scripting)
    else:
        violations = _run_axe_in_twin(page)
    axe_cache.remember(key, violations)
    return violations, value


_NOSCRIPT_IN_BODY = "() => document.querySelector('body noscript') !== null"


def _run_axe_in_twin(page: Any) -> list[dict[str, Any]]:
    html, url = _NOSCRIPT_TAG.sub("", page.content()), page.url
    twin = _twin_page(page.context.browser)
    size = page.viewport_size or {"width": 390, "height": 844}
    if twin.viewport_size != size:  # known here, without asking the browser
        twin.set_viewport_size(size)
    twin.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    try:
        twin.goto(url)
        return _run_axe(twin, scripting=True)
    finally:
        twin.unroute(url)
        twin.goto("about:blank")  # nothing of the checked page runs on (a display's polling)


_NOSCRIPT_TAG = re.compile(r"</?noscript\b[^>]*>", re.IGNORECASE)
"""`<noscript>`'s own tags, dropped for the twin: what they wrap is what a browser without
JavaScript shows (and axe-core must see)."""

_twins: dict[int, tuple[Any, Any]] = {}
"""One JavaScript-enabled page per browser (keyed by the browser's id, the browser kept with
it) where documents of JavaScript-off pages with a `<noscript>` in their body are checked."""


def _twin_page(browser: Any) -> Any:
    kept = _twins.get(id(browser))
    if kept is not None and kept[0] is browser and not kept[1].is_closed():
        return kept[1]
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    twin = context.new_page()
    _twins[id(browser)] = (browser, twin)
    return twin


AXE_WORLD = "madoguchi-axe"
"""The name of the isolated world axe-core runs in (DevTools' `Page.createIsolatedWorld`)."""


def _in_axe_world(page: Any, expression: str) -> Any:
    """`expression`'s value (a promise's, awaited) in a new isolated world of the page's main
    frame: the page's document, not its scripts' globals.

    An isolated world runs what the DevTools protocol gives it even where the page's own
    scripts are disabled (Playwright's locators work so in a JavaScript-off page), and the
    site's Content-Security-Policy does not govern it; the page's own rules stay in force."""
    session = _devtools_session(page)
    frame = session.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
    world = session.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": AXE_WORLD})
    reply = session.send(
        "Runtime.evaluate",
        {
            "expression": expression,
            "contextId": world["executionContextId"],
            "awaitPromise": True,
            "returnByValue": True,
        },
    )
    if "exceptionDetails" in reply:
        raise RuntimeError(f"axe-core failed in {page.url}: {reply['exceptionDetails']}")
    return reply["result"].get("value")


_sessions: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The DevTools session axe-core is run through, one per page, opened at the page's first
fingerprint miss and kept with it: a session opened and closed for each run cost the browser
and its renderer more than the three calls it carries (no domain is enabled in it, so it sends
no events). It ends with its page."""


def _devtools_session(page: Any) -> Any:
    session = _sessions.get(page)
    if session is None:
        session = _sessions[page] = page.context.new_cdp_session(page)
    return session


_langs: dict[str, frozenset[str]] = {}


def _valid_langs(page: Any) -> frozenset[str]:
    """The primary language subtags axe-core's own list accepts (`axe.utils.validLangs`),
    asked once per process."""
    if "axe" not in _langs:
        _langs["axe"] = frozenset(_in_axe_world(page, f"{_axe_source()}\n;axe.utils.validLangs()"))
    return _langs["axe"]


def accessible(page: Any) -> None:
    """The page in front of the person has no WCAG 2.0/2.1 A or AA violation (axe-core)."""
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


_SCRIPTING_ENABLED = """() => {
    const probe = document.createElement("div");
    probe.innerHTML = "<noscript><p></p></noscript>";
    return probe.querySelector("noscript p") === null;
}"""
"""Whether scripts run in the page: the HTML parser keeps <noscript>'s content as text only
when scripting is enabled (a probe that needs no script of the page's own)."""


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


_TIMERS_AS_MICROTASKS = """window.setTimeout = (callback, _delay, ...args) => {
  Promise.resolve().then(() => callback(...args));
  return 0;
};
window.clearTimeout = () => {};
"""
"""For a page with JavaScript off: its timers never fire, in any world, and axe-core defers
parts of its run with `setTimeout(…, 0)` (its queue, its promise library). In axe-core's world
only, a deferred call runs as a microtask instead — the same order, without the timer; microtasks
run with scripting off."""

_NO_FRAMES = """if (document.querySelector("iframe,frame,object,embed,portal,fencedframe")) {
  throw new Error("a page with frames: axe-core here checks no frame's document");
}
"""
"""axe-core checks a frame only where it runs in the frame too; it runs in the main frame's
world alone. The site's pages have no frames: a page with one fails the check loudly instead
of passing unchecked inside it."""

_AXE_RUN = """axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  resultTypes: ["violations"],
}).then((result) => result.violations.map((v) => ({
  id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target),
})))"""
"""resultTypes: only violations are collected node by node (passes and the rest keep one node
each), which axe-core documents as the way to make a run faster; violations are found and
reported exactly as before. Only what the check reports comes back through the driver."""


def _run_axe(page: Any, *, scripting: bool) -> list[dict[str, Any]]:
    """axe-core's violations in the page: axe-core evaluated and run in an isolated world of
    the page in one call — only for a page whose fingerprint missed the cache."""
    axe_cache.AXE_RUNS.runs += 1
    timers = "" if scripting else _TIMERS_AS_MICROTASKS
    violations = _in_axe_world(page, f"{_NO_FRAMES}{timers}{_axe_source()}\n;{_AXE_RUN}")
    return [{"id": v["id"], "help": v["help"], "nodes": v["nodes"]} for v in violations]


# --- mail ------------------------------------------------------------------------------------


@dataclass
class SmtpInbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox(settings: Any) -> Iterator[SmtpInbox]:
    """A real local SMTP server; Django's mail goes to it over a real SMTP conversation."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox(host="127.0.0.1", port=_free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.messages.append(message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=inbox.host, port=inbox.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = inbox.host
    settings.EMAIL_PORT = inbox.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()
