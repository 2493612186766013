"""Changes given at the command line: ``--set FIELD=VALUE`` (repeatable) and ``--file`` (a
JSON object, as the API takes it), validated by the API's update schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from havens.exceptions import ValidationFailed

SET = typer.Option([], "--set", metavar="FIELD=VALUE",
                   help="A field to change (repeatable); an empty value clears it")
CHANGES_FILE = typer.Option(None, "--file", exists=True, dir_okay=False,
                            help="JSON: an object of the fields to change (as the API takes)")

_Update = TypeVar("_Update", bound=BaseModel)


def changes_from(schema: type[_Update], sets: list[str], file: Path | None) -> _Update:
    """The changes of --file and --set (--set wins), validated by the API's schema."""
    changes: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_bytes())
        except ValueError as exc:
            raise ValidationFailed(f"{file.name} is not JSON: {exc}", field="file") from exc
        if not isinstance(loaded, dict):
            raise ValidationFailed(f"{file.name} holds no JSON object of fields.", field="file")
        changes.update(loaded)
    for item in sets:
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ValidationFailed(f"--set {item!r}: write FIELD=VALUE.", field="set")
        changes[name] = _set_value(schema, name, text)
    unknown = sorted(set(changes) - set(schema.model_fields))
    if unknown:
        raise ValidationFailed(f"Unknown field {unknown[0]!r}; the fields are "
                               + ", ".join(schema.model_fields) + ".", field=unknown[0])
    if not changes:
        raise ValidationFailed("Nothing to change: give --set FIELD=VALUE or --file.",
                               field="set")
    try:
        # Lax: text from the command line is read as the field's type ("true", "36.5").
        return schema.model_validate(changes, strict=False)
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "file"
        raise ValidationFailed(f"{field}: {error['msg']}", field=field) from exc


def _set_value(schema: type[BaseModel], name: str, text: str) -> Any:
    """A --set value: None when empty, JSON for an object or list written as one, a list of
    ';'-separated items (as in an import file) for a list field, else the text."""
    field = schema.model_fields.get(name)
    if not text.strip():
        return None  # cleared; a field that cannot be empty says so
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if field is not None and _takes_list(field.annotation):
        return [item.strip() for item in text.split(";") if item.strip()]
    return text


def _takes_list(annotation: Any) -> bool:
    return any(get_origin(a) is list for a in (annotation, *get_args(annotation)))
