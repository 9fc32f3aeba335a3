"""Checks for what people give the Skills tab: skill names, pack forms, and custom skills (a zip
or a folder's files, with `SKILL.md` at the root). Pure functions; the gateway verifies the
archive again when it installs it.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from clawnet.errors import UserError
from clawnet.security.sanitize import clean_text

SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ARCHIVE_BYTES = 1_000_000
MAX_FILES = 200
MAX_PACK_SKILLS = 100
SKILL_FILE = "SKILL.md"
# What reading a damaged, encrypted or oddly compressed zip raises.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    EOFError,
)


@dataclass(frozen=True)
class SkillArchive:
    name: str
    description: str
    archive: bytes  # a zip with SKILL.md at its root


def name_problem(name: str) -> str | None:
    if not SKILL_NAME.match(name):
        return (
            f"\u201c{name[:64]}\u201d is not a skill name: lower-case letters, digits, - and _, "
            "at most 64 characters, starting with a letter or digit."
        )
    return None


def check_skill_name(name: str) -> str:
    name = str(name or "").strip()
    problem = name_problem(name)
    if problem:
        raise UserError(problem, {"skill": problem})
    return name


def parse_skill_list(text: str | Sequence[str]) -> list[str]:
    """A pack's skills, typed as names separated by commas, spaces or lines."""
    raw = re.split(r"[\s,]+", text) if isinstance(text, str) else [str(t) for t in text]
    names = list(dict.fromkeys(n.strip() for n in raw if n.strip()))
    bad = [n for n in names if name_problem(n)]
    if bad:
        raise UserError(field_errors={"skills": f"Not skill names: {', '.join(b[:40] for b in bad[:5])}."})
    if not names:
        raise UserError(field_errors={"skills": "Name at least one skill."})
    if len(names) > MAX_PACK_SKILLS:
        raise UserError(field_errors={"skills": f"A pack holds at most {MAX_PACK_SKILLS} skills."})
    return names


def check_pack(name: str, description: str, skills: str | Sequence[str]) -> tuple[str, str, list[str]]:
    errors: dict[str, str] = {}
    name = clean_text(str(name or "")).strip()
    description = clean_text(str(description or "")).strip()
    if not name:
        errors["name"] = "Give the pack a name."
    elif len(name) > 80:
        errors["name"] = "At most 80 characters."
    if len(description) > 500:
        errors["description"] = "At most 500 characters."
    try:
        names = parse_skill_list(skills)
    except UserError as exc:
        errors.update(exc.field_errors)
        names = []
    if errors:
        raise UserError(field_errors=errors)
    return name, description, names


def front_matter(text: str) -> dict[str, str]:
    """The top-level `key: value` lines of a SKILL.md's frontmatter ({} when there is none)."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    found: dict[str, str] = {}
    for line in text[3:end].splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key[0].isspace() and key.strip() not in found:
            found[key.strip()] = value.strip().strip("\"'")
    return found


def _safe_path(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return str(path)


def _files_of_zip(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            if len(infos) > MAX_FILES:
                raise UserError(field_errors={"file": f"At most {MAX_FILES} files in a skill."})
            if sum(i.file_size for i in infos) > MAX_ARCHIVE_BYTES * 5:
                raise UserError(field_errors={"file": "The skill is too large once unpacked."})
            return {i.filename: z.read(i) for i in infos}
    except ZIP_ERRORS:
        raise UserError(
            field_errors={"file": "This file is not a zip archive ClawNet can read (damaged, encrypted?)."}
        ) from None


def read_skill(files: Sequence[tuple[str, bytes]]) -> SkillArchive:
    """Check an upload (one .zip, or a skill folder's files) and return it as a zip with
    SKILL.md at its root. A single top folder around everything is dropped."""
    if not files:
        raise UserError(field_errors={"file": "Choose a .zip, or a skill folder's files with SKILL.md."})
    if sum(len(d) for _, d in files) > MAX_ARCHIVE_BYTES:
        raise UserError(field_errors={"file": f"A custom skill is at most {MAX_ARCHIVE_BYTES // 1000} KB."})
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        contents = _files_of_zip(files[0][1])
    else:
        contents = dict(files)
    paths: dict[str, bytes] = {}
    for raw, data in contents.items():
        path = _safe_path(raw)
        if path is None:
            raise UserError(field_errors={"file": f"Unsafe path in the upload: {raw[:80]}"})
        paths[path] = data
    tops = {PurePosixPath(p).parts[0] for p in paths}
    if SKILL_FILE not in paths and len(tops) == 1:
        top = next(iter(tops))
        paths = {str(PurePosixPath(*PurePosixPath(p).parts[1:])): d for p, d in paths.items() if p != top}
    if SKILL_FILE not in paths:
        raise UserError(field_errors={"file": "The skill needs a SKILL.md at its root."})
    try:
        text = paths[SKILL_FILE].decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(field_errors={"file": "SKILL.md is not UTF-8 text."}) from None
    meta = front_matter(text)
    name = str(meta.get("name") or "").strip()
    description = clean_text(str(meta.get("description") or "")).strip()
    if not name or not description:
        raise UserError(field_errors={"file": "SKILL.md needs a frontmatter with a name and a description."})
    problem = name_problem(name)
    if problem:
        raise UserError(field_errors={"file": problem})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(paths):
            z.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), paths[path])
    return SkillArchive(name, description[:500], buffer.getvalue())
