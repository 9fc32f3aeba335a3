"""Names inside an archive, where they go on disk, and the symlinks a manifest records.

A backup records each symlink it met as `name -> target` in the manifest instead of following it
(see `archive`): the target is `archive:<name>` when it pointed into the bots folder (the agent
state links of a gateway, `gateways/gw-1/state/agents/<id> -> archive:bots/<id>/state`), else the
link's text as it was on the old machine. A restore re-creates only links that stay inside what
it restores: each name and target is checked like a member's name before anything is written, a
link is never created under another link, and a target outside the restored tree (an absolute
path of the old machine, or `..` climbing out) is left out and reported.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from clawnet.backup.model import BackupError
from clawnet.settings import Settings

TOPS = ("format.json", "manifest.json", "db", "keys", "bots", "gateways", "media")
DAMAGED = "The archive is damaged or incomplete ({}); nothing was restored."


def safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] not in TOPS:
        raise BackupError(DAMAGED.format(f"unexpected member {name!r}"))
    return path


def _restored(path: PurePosixPath, *, as_link: bool) -> bool:
    """Whether `path` is inside what a restore puts in place: bots/..., media/...,
    gateways/gw-*/state/... (a link needs a name below those folders, a target may be one)."""
    parts = path.parts
    if not parts or ".." in parts or path.is_absolute():
        return False
    if parts[0] in ("bots", "media"):
        return len(parts) >= (2 if as_link else 1)
    if parts[0] == "gateways":
        in_state = len(parts) >= 3 and parts[1].startswith("gw-") and parts[2] == "state"
        return in_state and len(parts) >= (4 if as_link else 3)
    return False


def destination(settings: Settings, name: str | PurePosixPath) -> Path:
    parts = PurePosixPath(name).parts
    rest = Path(*parts[1:]) if len(parts) > 1 else Path()
    if parts[0] == "bots":
        return settings.data_dir / "bots" / rest
    if parts[0] == "gateways":
        return settings.gateways_dir / rest
    if parts[0] == "media":
        return settings.media_dir / rest
    raise BackupError(DAMAGED.format(f"unexpected name {str(name)!r}"))


def _ancestors(path: PurePosixPath) -> Iterable[PurePosixPath]:
    return path.parents[:-1]  # without "."


def check_links(manifest: dict[str, Any]) -> tuple[dict[PurePosixPath, PurePosixPath], list[str]]:
    """The manifest's symlinks a restore may create (name -> target, both archive names), and
    the names of those left out because their target is outside the restored tree. Raises
    BackupError (nothing written yet) for a name or `archive:` target no backup writes."""
    symlinks = manifest.get("symlinks") or {}
    if not isinstance(symlinks, dict):
        raise BackupError(DAMAGED.format("its list of symlinks is malformed"))
    members = [PurePosixPath(n) for n in manifest.get("members", {})]
    files = set(members)
    folders = {parent for m in members for parent in _ancestors(m)}
    names = set()
    for raw_name, raw_target in symlinks.items():
        name = safe_name(str(raw_name))
        if not _restored(name, as_link=True) or not isinstance(raw_target, str) or not raw_target:
            raise BackupError(DAMAGED.format(f"unexpected symlink {raw_name!r}"))
        if name in files or name in folders:
            raise BackupError(DAMAGED.format(f"symlink {raw_name!r} is also a file or folder"))
        names.add(name)
    accepted: dict[PurePosixPath, PurePosixPath] = {}
    outside: list[str] = []
    for name in sorted(names):
        if any(parent in names for parent in _ancestors(name)):
            raise BackupError(DAMAGED.format(f"symlink {str(name)!r} is under another symlink"))
        raw_target = symlinks[str(name)]
        if raw_target.startswith("archive:"):
            target = safe_name(raw_target.removeprefix("archive:"))
            if not _restored(target, as_link=False):
                raise BackupError(DAMAGED.format(f"unexpected symlink target {raw_target!r}"))
        else:
            joined = posixpath.normpath(posixpath.join(str(name.parent), raw_target))
            target = PurePosixPath(joined)
            if PurePosixPath(raw_target).is_absolute() or not _restored(target, as_link=False):
                outside.append(str(name))
                continue
        accepted[name] = target
    return accepted, outside


def make_link(settings: Settings, name: PurePosixPath, target: PurePosixPath) -> None:
    """Create one checked link (see `check_links`), its parent folders made one by one inside
    the destination folder: a component that is a symlink, or a name already taken, is refused."""
    root = destination(settings, name.parts[0]).resolve()
    current = root
    for part in name.parts[1:-1]:
        current = current / part
        if current.is_symlink():
            raise BackupError(f"The restore met a symlink at {current} where a folder belongs.")
        current.mkdir(exist_ok=True)
    path = current / name.parts[-1]
    if path.is_symlink() or path.exists():
        raise BackupError(f"The restore found {path} already there instead of a symlink.")
    if current.resolve() != root / Path(*name.parts[1:-1]):
        raise BackupError(f"The restore found {current} outside {root}.")
    path.symlink_to(destination(settings, target))
