"""The CSV files of a ZIP export (ODK Central, ODK Briefcase), checked before they are read.

ODK Central's "CSV (.zip)" download and a zipped Briefcase export hold ``<form id>.csv`` (one
row a submission, keyed by ``KEY``, the instance id) and one ``<form id>-<repeat>.csv`` a
repeat group, whose rows point at their parent by ``PARENT_KEY``; Central adds attachments
under ``media/``. An XLSX workbook is a ZIP too: it is told apart by its
``[Content_Types].xml``, and left to the workbook reader.

The archive comes from an upload, so it is refused, with a message naming it, when it claims
more entries than an export has, would unpack to more CSV text than an import can hold (a ZIP
bomb), names a path outside itself, or is damaged. Only the CSV files are decompressed.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import PurePosixPath

from havens.exceptions import ValidationFailed

#: Entries of any kind (attachments included): each costs memory once the listing is read.
MAX_ENTRIES = 10_000
#: CSV files: an export has one a repeat group.
MAX_CSV_FILES = 50
#: Uncompressed CSV text, all files together: four times the default upload limit (50 MB) —
#: CSV compresses well, but no more than a few plain uploads' worth of rows is imported at once.
MAX_CSV_BYTES = 200 * 1024 * 1024

_END_OF_DIRECTORY = b"PK\x05\x06"
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError, struct.error)


def csv_members(data: bytes, filename: str) -> list[tuple[str, bytes]] | None:
    """The ZIP's CSV files as (name, content), the main one first; None for an XLSX workbook."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return None  # the workbook reader says what is wrong with a damaged one
    _check_listing_size(data, filename)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if any(info.filename == "[Content_Types].xml" for info in infos):
                return None
            _check_entries(infos, filename)
            wanted = sorted((i for i in infos if _is_csv(i.filename)), key=_main_first)
            _check_csv_sizes(wanted, filename)
            members = [(PurePosixPath(i.filename).name, _read(archive, i, filename))
                       for i in wanted]
    except ValidationFailed:
        raise
    except _DAMAGED as exc:
        raise ValidationFailed(f"{filename} is a damaged ZIP file ({type(exc).__name__}).",
                               field="file") from exc
    if not members:
        raise ValidationFailed(f"{filename} holds no CSV file (an ODK export ZIP has "
                               "<form id>.csv and one CSV a repeat group).", field="file")
    return members


def _check_listing_size(data: bytes, filename: str) -> None:
    """Refuse an archive claiming too many entries before ``zipfile`` reads them all.

    The end-of-directory record (last 22 bytes, before a comment of at most 64 KiB) gives the
    entry count and the listing's size; a ZIP64 archive puts 0xFFFF there, and is refused too:
    no export needs it.
    """
    at = data.rfind(_END_OF_DIRECTORY, max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or len(data) < at + 22:
        raise ValidationFailed(f"{filename} is not a readable ZIP file (no directory).",
                               field="file")
    entries, listing = struct.unpack_from("<HI", data, at + 10)
    if entries > MAX_ENTRIES or listing > MAX_ENTRIES * 1024:
        raise _too_many(filename)


def _too_many(filename: str) -> ValidationFailed:
    return ValidationFailed(f"{filename} holds more than {MAX_ENTRIES:,} files: export the "
                            "submissions without media files.", field="file")


def _check_entries(infos: list[zipfile.ZipInfo], filename: str) -> None:
    if len(infos) > MAX_ENTRIES:
        raise _too_many(filename)
    for info in infos:
        path = info.filename.replace("\\", "/")
        if path.startswith("/") or ".." in path.split("/") or ":" in path.split("/")[0]:
            raise ValidationFailed(f"{filename}: the entry '{info.filename}' points outside the "
                                   "archive; the file is refused.", field="file")
        if info.flag_bits & 0x1 and _is_csv(info.filename):
            raise ValidationFailed(f"{filename}: {info.filename} is password-protected; "
                                   "export it again without a password.", field="file")


def _is_csv(path: str) -> bool:
    """A CSV file, not a folder, a macOS resource fork nor an attachment."""
    parts = path.replace("\\", "/").split("/")
    return (path.lower().endswith(".csv") and not parts[-1].startswith(".")
            and parts[0] not in ("__MACOSX", "media"))


def _main_first(info: zipfile.ZipInfo) -> tuple[int, str]:
    """``form.csv`` before ``form-member.csv``: a repeat's file name extends its form's."""
    name = PurePosixPath(info.filename).name
    return len(name), name


def _check_csv_sizes(infos: list[zipfile.ZipInfo], filename: str) -> None:
    if len(infos) > MAX_CSV_FILES:
        raise ValidationFailed(f"{filename} holds {len(infos)} CSV files; an export has at "
                               f"most {MAX_CSV_FILES}.", field="file")
    if sum(info.file_size for info in infos) > MAX_CSV_BYTES:
        raise _too_large(filename)


def _too_large(filename: str) -> ValidationFailed:
    return ValidationFailed(f"{filename} unpacks to more than {MAX_CSV_BYTES // 1048576} MB "
                            "of CSV: import it in parts.", field="file")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    # Read no more than the size declared (and checked): a forged header cannot make it grow.
    with archive.open(info) as member:
        content = member.read(info.file_size + 1)
    if len(content) > info.file_size:
        raise _too_large(filename)
    if b"\x00" in content[:8192]:
        raise ValidationFailed(f"{info.filename} in {filename} is not a text CSV file "
                               "(UTF-16? save it as UTF-8).", field="file")
    return content
