"""Another generator run over many specs in ONE process, as a library user would loop over them.

    python -m bench.amortised {datamodel-codegen,openapi-python-client} OUT SPEC...

Prints a JSON object: how many specs were generated cleanly, with warnings, or failed. Each tool
keeps its defaults (datamodel-codegen formats with black and isort; openapi-python-client runs
its ruff post-hooks), exactly as its command line does, minus the interpreter start per spec.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def datamodel_codegen(out: Path, specs: list[Path]) -> dict[str, int]:
    from datamodel_code_generator import DataModelType, InputFileType, generate

    counts = {"clean": 0, "warned": 0, "failed": 0}
    for index, spec in enumerate(specs):
        try:
            generate(
                spec.read_text(encoding="utf-8"),
                input_file_type=InputFileType.OpenAPI,
                output_model_type=DataModelType.PydanticV2BaseModel,
                output=out / f"models_{index}.py",
            )
        except Exception:  # counted, like a failed command
            counts["failed"] += 1
        else:
            counts["clean"] += 1
    return counts


def openapi_python_client(out: Path, specs: list[Path]) -> dict[str, int]:
    from openapi_python_client import MetaType, generate
    from openapi_python_client.config import Config, ConfigFile

    counts = {"clean": 0, "warned": 0, "failed": 0}
    for index, spec in enumerate(specs):
        config = Config.from_sources(
            ConfigFile(), MetaType.POETRY, spec, "utf-8", True, out / f"client_{index}"
        )
        try:
            problems = generate(config=config)
        except Exception:  # counted, like a failed command
            counts["failed"] += 1
            continue
        counts["warned" if problems else "clean"] += 1
    return counts


TOOLS = {"datamodel-codegen": datamodel_codegen, "openapi-python-client": openapi_python_client}


def main(argv: list[str]) -> int:
    tool, out, *specs = argv
    Path(out).mkdir(parents=True, exist_ok=True)
    print(json.dumps(TOOLS[tool](Path(out), [Path(spec) for spec in specs])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
