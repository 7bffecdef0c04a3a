"""How results look on the command line, and saving the files a result points to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pydantic

from .._runtime import Completed, FileModel, InProgress, Queued, SyncClient
from .._runtime._files import file_in, safe_stem

_NOT_ESCAPED_BY_JSON = re.compile("[\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def json_text(value: Any) -> str:
    """``value`` as indented JSON, safe to print: json escapes C0 controls itself, and the rest
    are escaped here (they only occur inside strings, where ``\\uXXXX`` is valid)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _NOT_ESCAPED_BY_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


JSONPath = tuple[str | int, ...]


def file_models(value: Any, path: JSONPath = ()) -> Iterator[tuple[JSONPath, FileModel]]:
    """Every file object of a result, with its path in the result's JSON."""
    if isinstance(value, FileModel):
        yield path, value
    elif isinstance(value, pydantic.BaseModel):
        for name, info in type(value).model_fields.items():
            yield from file_models(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from file_models(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from file_models(item, (*path, str(key)))


def save_files(
    result: pydantic.BaseModel,
    directory: Path,
    stem: str,
    client: SyncClient,
    *,
    overwrite: bool = False,
) -> dict[JSONPath, Path]:
    """Save every file of ``result`` into ``directory`` as ``<stem>-<json path><ext>``, e.g.
    ``<request id>-images-0.png``. Every part comes from the reply, so the name is made of safe
    characters only, stays inside ``directory``, has an extension of a known format (``.bin``
    otherwise), and replaces an existing file only when ``overwrite``."""
    saved: dict[JSONPath, Path] = {}
    for path, file in file_models(result):
        name = "-".join([safe_stem(stem), *(safe_stem(str(part)) for part in path)])
        target = file_in(directory, name + file._extension())
        saved[path] = file.save(target, client, overwrite=overwrite)
    return saved


def summary(result: Mapping[str, Any], saved: Mapping[JSONPath, Path]) -> list[str]:
    """Human lines: one per file (with where it was saved) and per plain field."""
    lines: list[str] = []
    for key, value in result.items():
        lines += _describe(str(key), value, (str(key),), saved)
    return lines


def _describe(label: str, value: Any, path: JSONPath, saved: Mapping[JSONPath, Path]) -> list[str]:
    if isinstance(value, str) and "\n" in value.strip("\n"):
        # Text (an LLM's answer): under its label, indented, as written.
        return [f"{label}:", *(f"  {line}" for line in value.strip("\n").split("\n"))]
    if isinstance(value, Mapping):
        if isinstance(value.get("url"), str):
            return [
                f"{label}: {_file_text(value)}" + (f" -> {saved[path]}" if path in saved else "")
            ]
        if all(_is_scalar(item) for item in value.values()):
            return [f"{label}: " + ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())]
        return [
            line
            for key, item in value.items()
            for line in _describe(f"{label}.{key}", item, (*path, str(key)), saved)
        ]
    if isinstance(value, list):
        if all(_is_scalar(item) for item in value):
            return [f"{label}: " + ", ".join(_scalar(item) for item in value)]
        return [
            line
            for index, item in enumerate(value)
            for line in _describe(f"{label}[{index}]", item, (*path, index), saved)
        ]
    return [f"{label}: {_scalar(value)}"]


def _file_text(file: Mapping[str, Any]) -> str:
    url = str(file["url"])
    if url.startswith("data:"):
        url = f"{url.split(',', 1)[0]},... ({len(url)} characters)"
    details = []
    if isinstance(file.get("width"), int) and isinstance(file.get("height"), int):
        details.append(f"{file['width']}x{file['height']}")
    for key in ("content_type", "file_size"):
        if file.get(key) is not None:
            details.append(str(file[key]) + (" bytes" if key == "file_size" else ""))
    return url + (f" ({', '.join(details)})" if details else "")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def status_lines(status: Queued | InProgress | Completed) -> list[str]:
    if isinstance(status, Queued):
        head = f"IN_QUEUE (position {status.position})"
    elif isinstance(status, InProgress):
        head = "IN_PROGRESS"
    else:
        head = "COMPLETED" if status.error is None else f"COMPLETED with error: {status.error}"
    logs = [] if isinstance(status, Queued) else status.logs
    return [head, *(f"[{log.level}] {log.message}" for log in logs)]
