"""Backups of a whole ClawNet installation, and restoring one onto a fresh machine.

    result = create_backup(settings)                         # while ClawNet runs
    restore_backup(settings, result.path)                   # on a new, empty installation
    prune_backups(settings_backup_dir(settings), keep=7)    # retention

One archive holds the database, the key file, every bot's folder, each gateway's state that
ClawNet cannot rebuild, and uploaded media (see `archive` for the layout). The functions block:
callers on an event loop run them in a thread. Archives go to `<data dir>/../backups` unless
told otherwise (outside the data folder, so a backup never contains older backups).
"""

from clawnet.backup.create import create_backup, list_backups, prune_backups
from clawnet.backup.model import BackupError, BackupResult, RestoreResult, default_backup_dir
from clawnet.backup.restore import read_manifest, restore_backup

__all__ = [
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "create_backup",
    "default_backup_dir",
    "list_backups",
    "prune_backups",
    "read_manifest",
    "restore_backup",
]
