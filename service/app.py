"""The application factory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from service import config as configuration
from service.extensions import csrf, db, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides defaults and environment (tests pass DATABASE URL here)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(configuration.load(Path(app.instance_path), config))
    _configure_database(app)
    _configure_login(app)
    _configure_domains()
    _configure_blueprints(app)
    _configure_cli(app)
    return app


def _configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if uri.startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"timeout": 30})
        options["pool_pre_ping"] = False  # a file, not a server: nothing to reconnect to (and a query per request)
    else:
        for option, key in (("pool_size", "DB_POOL_SIZE"), ("max_overflow", "DB_MAX_OVERFLOW"),
                            ("pool_recycle", "DB_POOL_RECYCLE"), ("pool_timeout", "DB_POOL_TIMEOUT")):
            options.setdefault(option, int(app.config[key]))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if not uri.startswith("sqlite") and not options.get("pool_pre_ping"):
        with app.app_context():
            _ping_after_idle(db.engine, float(app.config["DB_PING_AFTER_IDLE_SECONDS"]))
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True)


_IDLE_SINCE = "samverkan_idle_since"


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection before use only if it has sat idle for ``seconds`` (a database restarted
    overnight has closed it), not on every checkout as ``pool_pre_ping`` would: that is a round trip more
    on every request. A connection used within ``seconds`` of a restart fails its first statement instead;
    SQLAlchemy then invalidates the whole pool, and commit_with_retry runs the work again on a new one."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)  # a new connection has none: it was just opened
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone (database restarted?)") from exc


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers work while one writer commits; foreign keys are off by default in SQLite. With WAL,
    synchronous=NORMAL syncs at checkpoints, not every commit: a power cut may lose the last transactions
    but cannot corrupt the database (a crash of the process loses nothing)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _configure_login(app: Flask) -> None:
    from service.auth.sessions import load_session_user
    from service.parties.models import User

    login_manager.init_app(app)
    login_manager.login_view = "inbox.login"
    login_manager.login_message = "Logga in för att fortsätta."
    csrf.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return load_session_user(int(user_id))  # None once the session is revoked on the server


def _configure_domains() -> None:
    """Import every package's models (their tables join the metadata) and register process hooks."""
    import importlib

    for package in ("parties", "processes", "audit", "agreements", "notifications", "scheduler", "bodies",
                    "deviations", "disputes", "api", "modeller", "history", "ops", "auth", "inbox", "reports", "routines"):
        importlib.import_module(f"service.{package}.models")
    from service.agreements import hooks as agreement_hooks
    from service.deviations import hooks as deviation_hooks
    from service.disputes import hooks as dispute_hooks

    agreement_hooks.register()
    from service.agreements import drafting

    drafting.register()
    deviation_hooks.register()
    dispute_hooks.register()
    from service.reports import hooks as report_hooks

    report_hooks.register()


def _configure_blueprints(app: Flask) -> None:
    from service.agreements.appeal_views import bp as appeals
    from service.agreements.views import bp as agreements
    from service.deviations.views import bp as deviations
    from service.disputes.views import bp as disputes
    from service.inbox.views import bp as inbox
    from service.notifications.views import bp as notifications
    from service.processes.views import bp as processes
    from service.scheduler.views import bp as scheduler_admin
    from service.vendor import bp as vendor

    for blueprint in (inbox, notifications, scheduler_admin, deviations, disputes, vendor, processes, agreements,
                      appeals):
        app.register_blueprint(blueprint)
    from service.deviations.improvement_views import bp as improvements
    from service.reports.views import bp as reports
    from service.routines.views import bp as routines

    for blueprint in (improvements, reports, routines):  # issue #20: improvement actions, annual reports, routine health
        app.register_blueprint(blueprint)
    from service import api, auth, history, i18n, modeller, ops, security

    # Each package registers its own blueprints, extensions and request hooks.
    for package in (security, i18n, ops, auth, modeller, history, api):
        package.init_app(app)
    from service.bodies.views import bp as bodies

    app.register_blueprint(bodies)  # issue #20: joint bodies, their meetings and protocols


def _configure_cli(app: Flask) -> None:
    from service.cli import register_commands

    register_commands(app)
