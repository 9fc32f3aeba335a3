"""The `clawnet` command: administration tasks that do not need the web app.

clawnet migrate                      bring the database schema up to date
clawnet create-admin --email ...     create an admin account (password from stdin or prompt)
clawnet rotate-key [--drop-old]      re-encrypt every stored secret with a new key
clawnet import FILE [--yes]          import an openclaw.json as bots (as an admin: --as EMAIL,
                                     else the first admin account)
clawnet export [--to FILE]           every bot as one openclaw.json, secrets removed (as an admin)
"""

from __future__ import annotations

import argparse
import base64
import getpass
import sys
from collections.abc import Sequence

from clawnet import db
from clawnet.cli_imports import add_commands as add_import_commands
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


def cmd_fake_llm(args: argparse.Namespace) -> int:
    from clawnet.controlplane.echo_llm import main as serve

    serve(args.port)
    return 0


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
    add_import_commands(sub)
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
