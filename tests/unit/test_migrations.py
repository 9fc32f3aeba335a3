"""Migrations: an empty database reaches head, matching the tables in clawnet/models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from clawnet import db
from clawnet.settings import get_settings
from clawnet.social import search_index


def _assert_head_matches_models(url: str) -> None:
    db.migrate(url)
    script = ScriptDirectory.from_config(db.alembic_config(url))
    assert db.current_revision(url) == script.get_current_head()
    with db.get_engine(url).connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": search_index.include_object}
            ),
            SQLModel.metadata,
        )
        if conn.dialect.name == "sqlite":
            diff = _without_string_lengths(_without_inline_fk_options(diff))
    assert diff == [], f"models and migrations differ: {diff}"


def _without_string_lengths(diff: list) -> list:
    """SQLite does not enforce a string column's length, and changing a column's declared type
    there rebuilds the table, whose DROP cascades into every child row (foreign keys are on): so
    migrations change lengths only on PostgreSQL (`profiles.handle`, for instance), whose test
    compares them in full."""

    def length_only(d: object) -> bool:
        if not (isinstance(d, list) and len(d) == 1 and d[0][0] == "modify_type"):
            return False
        old, new = (getattr(t, "impl", t) for t in (d[0][5], d[0][6]))  # AutoString wraps a String
        return isinstance(old, sa.String) and isinstance(new, sa.String)

    return [d for d in diff if not length_only(d)]


def _without_inline_fk_options(diff: list) -> list:
    """SQLite adds a column's foreign key only inline (`ADD COLUMN ... REFERENCES`), and
    SQLAlchemy does not read an inline key's ON DELETE back: such a key shows as removed and
    added again on the same columns. The PostgreSQL test compares those keys in full."""

    def key(fk) -> tuple:
        return (fk.parent.name, tuple(c.name for c in fk.columns), fk.referred_table.name)

    removed = {key(d[1]) for d in diff if d[0] == "remove_fk"}
    added = {key(d[1]) for d in diff if d[0] == "add_fk"}
    same = removed & added
    return [d for d in diff if not (d[0] in ("remove_fk", "add_fk") and key(d[1]) in same)]


def test_empty_sqlite_database_migrates_to_head_matching_the_models(clawnet_env):
    _assert_head_matches_models(get_settings().database_url)


def test_migrating_twice_is_a_no_op(clawnet_env):
    url = get_settings().database_url
    db.migrate(url)
    db.migrate(url)
    with db.get_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_sqlite_runs_with_wal_and_foreign_keys(clawnet_env):
    with db.get_engine().connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.postgres
def test_empty_postgres_database_migrates_to_head_matching_the_models(postgres_url):
    from clawnet.settings import normalize_database_url

    url = normalize_database_url(postgres_url, get_settings().data_dir)
    with db.get_engine(url).begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    _assert_head_matches_models(url)


def test_upgrading_keeps_every_row_and_bots_start_their_uptime_history(clawnet_env):
    """Migrations keep what references a bot or a profile (a batch copy of `bots` or `profiles` on
    SQLite would cascade-delete it), and bots that existed before uptime start their history."""
    from sqlmodel import select

    from alembic import command
    from clawnet.enums import Role
    from clawnet.models import BotSession, BotStatusChange, Post
    from tests.factories import make_bot, make_user, profile_of

    url = get_settings().database_url
    db.migrate(url)
    with db.session_scope() as s:
        owner = make_user(s, Role.ADMIN)
        running, stopped = make_bot(s, owner), make_bot(s, owner)
        running.actual_status, running.desired_status = "running", "running"
        stopped.actual_status, stopped.desired_status = "stopped", "stopped"
        s.add(BotSession(bot_id=running.id, key="agent:x:main"))
        # Profiles gained columns later (federation): their posts must survive that too.
        s.add(Post(author_id=profile_of(s, owner).id, content_html="<p>kept</p>", content_text="kept"))
    # Back to before uptime was recorded (every later migration's downgrade runs), and up again.
    command.downgrade(db.alembic_config(url), "00ca6608ac00")
    db.migrate(url)
    with db.session_scope() as s:
        rows = {(r.status, r.desired_running) for r in s.exec(select(BotStatusChange)).all()}
        assert len(s.exec(select(BotSession)).all()) == 1
        assert [p.content_text for p in s.exec(select(Post)).all()] == ["kept"]
    assert rows == {("running", True), ("stopped", False)}


def test_a_deleted_post_or_comment_id_is_never_given_to_a_new_one(migrated):
    """Federation names notes by post and comment ids and other servers remember deleted ones;
    SQLite alone would give a new row the id of the newest deleted row (models/ids.py)."""
    from clawnet.enums import Role
    from clawnet.models import Comment, Post
    from tests.factories import make_user, profile_of

    with db.session_scope() as s:
        author = profile_of(s, make_user(s, Role.OPERATOR)).id
        first = Post(author_id=author, content_html="<p>a</p>", content_text="a")
        newest = Post(author_id=author, content_html="<p>b</p>", content_text="b")
        s.add_all([first, newest])
        s.flush()
        reply = Comment(post_id=first.id, author_id=author, content_html="<p>c</p>", content_text="c")
        s.add(reply)
        s.flush()
        taken = (newest.id, reply.id)
        s.delete(newest)
        s.delete(reply)
        s.flush()
        post = Post(author_id=author, content_html="<p>d</p>", content_text="d")
        s.add(post)
        s.flush()
        comment = Comment(post_id=first.id, author_id=author, content_html="<p>e</p>", content_text="e")
        s.add(comment)
        s.flush()
        assert post.id > taken[0] and comment.id > taken[1]
