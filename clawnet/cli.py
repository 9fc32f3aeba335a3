"""The `clawnet` command: administration tasks that do not need the web app.

clawnet migrate                      bring the database schema up to date
clawnet create-admin --email ...     create an admin account (password from stdin or prompt)
clawnet rotate-key [--drop-old]      re-encrypt every stored secret with a new key
clawnet import FILE [--yes]          import an openclaw.json as bots (as an admin: --as EMAIL,
                                     else the first admin account)
clawnet export [--to FILE]           every bot as one openclaw.json, secrets removed (as an admin)
clawnet backup [--to DIR]            one archive of the whole installation (safe while it runs)
clawnet restore ARCHIVE [--force]    restore an archive onto this (stopped, empty) installation
clawnet stop-gateways                end the gateways a stopped ClawNet left running (it keeps
                                     them across its own restarts; the next start adopts them)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from clawnet import db
from clawnet.settings import SettingsError, get_settings


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("The passwords differ; nothing was created.")
    return first


def cmd_migrate(_args: argparse.Namespace) -> int:
    db.migrate()
    print(f"Database is at revision {db.current_revision()}.")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from clawnet.accounts.registration import register
    from clawnet.enums import Role
    from clawnet.errors import UserError

    db.migrate()
    password = _read_password(args.password_stdin)
    try:
        with db.session_scope() as session:
            user = register(
                session,
                email=args.email,
                display_name=args.name,
                password=password,
                handle=args.handle,
                role=Role.ADMIN,
            )
            print(f"Created admin {user.email} (id {user.id}).")
    except UserError as exc:
        for field, message in exc.field_errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 1
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from clawnet.security.crypto import SecretError, generate_key, parse_key
    from clawnet.security.key_rotation import rotate_key

    settings = get_settings()
    db.migrate()
    new_key = parse_key(args.new_key, source="--new-key") if args.new_key else generate_key()
    try:
        report = rotate_key(settings, new_key, drop_old=args.drop_old)
    except SecretError as exc:
        print(f"Rotation stopped, nothing changed in the database: {exc}", file=sys.stderr)
        return 1
    print(
        f"Re-encrypted {report.total} secrets with key {report.new_key_id}: "
        + ", ".join(f"{k} {v}" for k, v in report.reencrypted.items())
    )
    if settings.secret_key:
        print(
            "Keys come from the environment. Restart ClawNet with:\n"
            f"  CLAWNET_SECRET_KEY={base64.b64encode(new_key).decode()}\n"
            + (f"  CLAWNET_PREVIOUS_SECRET_KEYS={settings.secret_key}\n" if not args.drop_old else "")
        )
    else:
        print(
            f"Key file {settings.key_file} updated"
            + (
                "; old keys removed."
                if args.drop_old
                else f"; old keys kept for backups: {', '.join(report.old_key_ids)}."
            )
        )
    return 0


def cmd_controller(_args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import signal

    from clawnet import runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db.migrate()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runtime.start(run_controller=True, wait_for_lock=True)
        print("ClawNet control plane running; stop with Ctrl-C.", flush=True)
        try:
            await stop.wait()
        finally:
            await runtime.stop()

    asyncio.run(run())
    return 0


def cmd_stop_gateways(_args: argparse.Namespace) -> int:
    from clawnet.controlplane.recovery import stop_left_running
    from clawnet.controlplane.supervisor import GatewayStartError

    settings = get_settings()
    db.migrate()
    try:
        ended = asyncio.run(stop_left_running(settings))
    except GatewayStartError as exc:
        print(f"Not stopped: {exc}", file=sys.stderr)
        return 1
    if ended:
        print(f"Stopped {len(ended)} gateway process(es): {', '.join(map(str, sorted(ended)))}.")
    else:
        print("No gateway of this installation was running.")
    return 0


def cmd_fake_llm(args: argparse.Namespace) -> int:
    from clawnet.controlplane.echo_llm import main as serve

    serve(args.port)
    return 0


# --- import / export: as an administrator (--as EMAIL, else the first active admin) ------------

IMPORT_HELP = """Import an openclaw.json as bots: the preview is printed first (bots, the model providers
needing a key, every key not carried over), then, with --yes or a yes at the prompt, all or
nothing is imported. The command acts as an administrator of this installation: the account
named by --as EMAIL (an active admin), else the first active admin. ${VAR} references in the
file are read from this command's environment; other keys come with --key PROVIDER=KEY. A
running ClawNet notices the new bots within about a second and starts them."""
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
        print(f"cron job carried over as a schedule: {job}")
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


def add_import_commands(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import",
        help="import an openclaw.json as bots (preview first; as an admin, see --as)",
        description=IMPORT_HELP,
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


# --- backup / restore -------------------------------------------------------------------------


def _passphrase(args: argparse.Namespace) -> str | None:
    if args.passphrase_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise SystemExit("No passphrase on standard input.")
        return value
    if args.passphrase_env:
        value = os.environ.get(args.passphrase_env, "")
        if not value:
            raise SystemExit(f"The environment variable {args.passphrase_env} is empty or unset.")
        return value
    return None


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def cmd_backup(args: argparse.Namespace) -> int:
    from clawnet.backup import BackupError, create_backup

    settings = get_settings()
    try:
        result = create_backup(settings, Path(args.to) if args.to else None, _passphrase(args))
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written: {result.path}")
    print(
        f"  size {_size(result.size_bytes)}, {result.seconds:.1f} s"
        + (", encrypted" if result.encrypted else "")
    )
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from clawnet.backup import BackupError, restore_backup

    settings = get_settings()
    try:
        result = restore_backup(settings, Path(args.archive), _passphrase(args), force=args.force)
    except BackupError as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Restored {result.archive} (made {result.created_at:%Y-%m-%d %H:%M:%S} UTC) in {result.seconds:.1f} s:"
    )
    print(
        f"  database ({result.database_kind}) at revision {result.revision_now} (archive: {result.revision_in_archive})"
    )
    print(f"  {len(result.bots)} bots: {', '.join(result.bots) or 'none'}")
    print(f"  {result.gateways} gateway state folders, {result.media_files} media files")
    print("  key file restored" if result.keys_restored else "  no key file in the archive")
    if result.replaced_to:
        print(f"  the previous installation's files were moved to {result.replaced_to}")
    if result.replaced_database:
        print(f"  the previous database was saved as {result.replaced_database}")
    for note in result.notes:
        print(f"  note: {note}")
    print("Start ClawNet (make run): every bot comes back up.")
    return 0


def add_backup_commands(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="write one archive of the whole installation (safe while it runs)")
    backup.add_argument("--to", metavar="DIR", help="folder for the archive (default: <data dir>/../backups)")
    restore = sub.add_parser("restore", help="restore an archive onto this installation (ClawNet stopped)")
    restore.add_argument("archive", help="the archive written by `clawnet backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a non-empty installation (its files are moved aside)"
    )
    for command in (backup, restore):
        group = command.add_mutually_exclusive_group()
        group.add_argument("--passphrase-stdin", action="store_true", help="read a passphrase from stdin")
        group.add_argument("--passphrase-env", metavar="VAR", help="read the passphrase from this variable")
    backup.set_defaults(func=cmd_backup)
    restore.set_defaults(func=cmd_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clawnet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    admin = sub.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True, help="display name")
    admin.add_argument("--handle", required=True, help="social handle, e.g. ops_team")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(func=cmd_create_admin)
    rotate = sub.add_parser("rotate-key", help="re-encrypt all secrets with a new key")
    rotate.add_argument("--new-key", help="base64 32-byte key to rotate to (default: generate one)")
    rotate.add_argument("--drop-old", action="store_true", help="forget old keys no secret uses any more")
    rotate.set_defaults(func=cmd_rotate_key)
    sub.add_parser("controller", help="run the control plane in this process").set_defaults(
        func=cmd_controller
    )
    sub.add_parser(
        "stop-gateways",
        help="end the gateways a stopped ClawNet left running (ClawNet keeps them across restarts)",
    ).set_defaults(func=cmd_stop_gateways)
    add_import_commands(sub)
    add_backup_commands(sub)
    fake = sub.add_parser("fake-llm", help="run the local echo model (OpenAI-compatible) on loopback")
    fake.add_argument("--port", type=int, default=18799)
    fake.set_defaults(func=cmd_fake_llm)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
