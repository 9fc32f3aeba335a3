"""`clawnet import FILE` and `clawnet export`: the Settings page's import and export from a shell.

Both act as an administrator of this installation: the account named by `--as EMAIL` (which must
be an active admin), else the first active admin (the account created first). They need the
database (`CLAWNET_DATA_DIR` / `DATABASE_URL`, as the web app); a running ClawNet notices the new
bots within about a second and starts them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from clawnet import db
from clawnet.settings import get_settings

HELP_AS = "act as this admin account (default: the first active admin)"


def _admin(email: str | None):  # -> Principal
    from sqlmodel import col, select

    from clawnet.enums import Role
    from clawnet.models import User
    from clawnet.security.permissions import Principal

    with db.session_scope() as session:
        query = select(User).where(User.role == Role.ADMIN.value, col(User.is_active).is_(True))
        if email:
            query = query.where(User.email == email.strip().lower())
        user = session.exec(query.order_by(col(User.id))).first()
        if user is None:
            raise SystemExit(
                f"No active admin account {email}."
                if email
                else "No admin account yet: run `clawnet create-admin`."
            )
        return Principal.of(user)


def _service():
    from clawnet.bots.service import BotsService
    from clawnet.events import EventBus

    return BotsService(get_settings(), EventBus())


def _keys(pairs: list[str]) -> dict[str, str]:
    keys = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--key takes NAME=KEY, not {pair!r}.")
        keys[name.strip()] = value.strip()
    return keys


def cmd_import(args: argparse.Namespace) -> int:
    db.migrate()
    raw = Path(args.file).read_text(encoding="utf-8")
    uploads = [(Path(f).name, Path(f).read_bytes()) for f in args.files or []]
    actor = _admin(args.as_email)
    service = _service()
    keys = _keys(args.key or [])
    env = dict(os.environ)

    async def run(dry_run: bool):  # -> ImportResult
        return await service.import_config(
            actor, raw, dry_run=dry_run, provider_keys=keys, uploads=uploads, env=env
        )

    preview = asyncio.run(run(True))
    for bot in preview.bots:
        renamed = f" (was {bot.source_id})" if bot.source_id and bot.source_id != bot.agent_id else ""
        fallbacks = f", fallbacks {', '.join(bot.fallbacks)}" if bot.fallbacks else ""
        print(
            f"bot {bot.name} [{bot.agent_id}{renamed}]: model {bot.model}{fallbacks}; "
            f"channels {', '.join(bot.channels) or 'none'}"
            + (f"; files {', '.join(bot.files)}" if bot.files else "")
        )
    for need in preview.needs:
        state = "key given" if need.has_key else f"KEY NEEDED: --key {need.name}=... (or {need.key_hint})"
        print(f"provider {need.name} ({need.kind}, models {', '.join(need.models)}): {state}")
    for path in preview.unsupported:
        print(f"not carried over: {path}")
    for job in preview.cron_jobs:
        print(f"cron job not carried over yet: {job}")
    missing = [n.name for n in preview.needs if not n.has_key]
    if preview.errors or missing:
        for error in preview.errors:
            print(f"error: {error}", file=sys.stderr)
        for name in missing:
            print(f"error: no API key for provider {name}: pass --key {name}=...", file=sys.stderr)
        print("Nothing was imported.", file=sys.stderr)
        return 1
    if not args.yes:
        if not sys.stdin.isatty():
            print("Preview only: run again with --yes to import.")
            return 0
        if input(f"Import {len(preview.bots)} bots? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing was imported.")
            return 0
    result = asyncio.run(run(False))
    if result.errors:
        for error in result.errors:
            print(f"error: {error}", file=sys.stderr)
        print("Nothing was imported.", file=sys.stderr)
        return 1
    print(f"Imported {len(result.bot_ids)} bots.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    db.migrate()
    text = asyncio.run(_service().export_config(_admin(args.as_email)))
    if args.to:
        Path(args.to).write_text(text, encoding="utf-8")
        print(f"Wrote {args.to} (secrets removed).")
    else:
        sys.stdout.write(text)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = sub.add_parser(
        "import",
        help="import an openclaw.json as bots (preview first; as an admin, see --as)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", help="the openclaw.json / openclaw.json5 to import")
    imp.add_argument("--yes", action="store_true", help="import without asking after the preview")
    imp.add_argument("--key", action="append", metavar="PROVIDER=KEY", help="a model provider's API key")
    imp.add_argument(
        "--files",
        nargs="*",
        metavar="PATH",
        help="persona files (SOUL.md, IDENTITY.md, ...) or a workspace zip",
    )
    imp.add_argument("--as", dest="as_email", metavar="EMAIL", help=HELP_AS)
    imp.set_defaults(func=cmd_import)
    exp = sub.add_parser(
        "export", help="export every bot as one openclaw.json, secrets removed (as an admin, see --as)"
    )
    exp.add_argument("--to", metavar="FILE", help="write to FILE instead of standard output")
    exp.add_argument("--as", dest="as_email", metavar="EMAIL", help=HELP_AS)
    exp.set_defaults(func=cmd_export)
