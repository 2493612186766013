"""Upload type checks: the extension names a type, and the first bytes must agree.

A ``.xlsx``/``.xlsm`` is a ZIP (``PK\\x03\\x04``) holding ``[Content_Types].xml``; a ``.zip`` (an
ODK Central or Briefcase export, where allowed) is a ZIP that is not a workbook; a ``.csv``
is text — no NUL bytes, and not one of the binary formats people rename by mistake or on
purpose (ZIP, legacy Excel, PDF, executables, images). Checked before any parser sees the file.
"""

from __future__ import annotations

import io
import zipfile

from havens.exceptions import ValidationFailed

_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP or Excel workbook",
    b"\xd0\xcf\x11\xe0": "a legacy Excel (.xls) or Office file",
    b"%PDF": "a PDF",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
}


def check_upload(filename: str, data: bytes, *, allowed: tuple[str, ...] = (".csv", ".xlsx",
                                                                            ".xlsm"),
                 max_bytes: int | None = None, field: str = "file") -> str:
    """The file's kind (``csv`` or ``xlsx``) when its name and content agree, else
    ``ValidationFailed`` saying what the file really looks like."""
    name = (filename or "").lower()
    extension = next((e for e in allowed if name.endswith(e)), None)
    if extension is None:
        raise ValidationFailed(f"Upload a {' or '.join(allowed)} file.", field=field)
    if max_bytes is not None and len(data) > max_bytes:
        raise ValidationFailed(f"The file is larger than {max_bytes / 1048576:g} MB.",
                               field=field)
    if not data:
        raise ValidationFailed("The file is empty.", field=field)
    if extension == ".zip":
        # What is inside (CSV files only, sizes, names) is checked where it is unpacked.
        if not data.startswith(b"PK\x03\x04"):
            raise ValidationFailed(f"{filename} is not a ZIP file.", field=field)
        return "zip"
    if extension in (".xlsx", ".xlsm"):
        if not data.startswith(b"PK\x03\x04"):
            raise ValidationFailed(f"{filename} is not an Excel workbook (.xlsx): save it "
                                   "again from Excel as .xlsx, or export CSV.", field=field)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise ValidationFailed(f"{filename} is a damaged workbook.", field=field) from None
        if "[Content_Types].xml" not in names:
            raise ValidationFailed(f"{filename} is a ZIP file, not an Excel workbook.",
                                   field=field)
        return "xlsx"
    head = data[:8192]
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ValidationFailed(f"{filename} is {what}, not a CSV text file.", field=field)
    if b"\x00" in head:
        raise ValidationFailed(f"{filename} is not a text file (CSV expected; UTF-16 files: "
                               "save as UTF-8 CSV).", field=field)
    return "csv"
