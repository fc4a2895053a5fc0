"""`--model`, the one engine-related option that is not an `EngineSpec` field (pipeline/engines/spec.py):
commands name the model beside the engine options generated from EngineSpec."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

ModelOption = Annotated[
    Optional[str],
    typer.Option(
        "--model", help="'default' (SmolLM2-135M-Instruct, offline), a local path, an HF id, or the served model name."
    ),
]
