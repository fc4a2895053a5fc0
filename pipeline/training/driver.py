"""The flow every training command follows: resolve, run row, train with progress, save, register.

The trainer-specific part (building the TRL trainer) is a callable passed in by `sft.py` / `dpo.py`.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from pipeline.training.common import (
    default_model_id,
    load_tokenizer,
    output_dir,
    prepare_output,
    progress_callback,
    save_trained,
    train_metrics,
    trainer_kwargs,
)
from pipeline.training.config import TrainCommon, TrainResult
from pipeline.training.hardware import decide_precision, is_main_process
from pipeline.training.lengths import check_lengths
from pipeline.training.lineage import ModelRef, load_path, register
from pipeline.training.runs import start_run
from store import runs
from store.store import Store

# (start model folder, tokenizer, common TRL kwargs, precision, rows to train on) -> a TRL trainer
MakeTrainer = Callable[[str, Any, dict[str, Any], Any, list[dict[str, Any]]], Any]


def _quiet(trainer) -> None:
    """Keep stdout for --json: the Trainer's PrinterCallback prints every log dict there."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def run_training(
    store: Store,
    cfg: TrainCommon,
    method: str,
    *,
    start: ModelRef,
    dataset: str | None,
    rows: list[dict[str, Any]],
    ids: list[str],
    make_trainer: MakeTrainer,
    show_progress: bool = True,
    extra_recipe: dict[str, Any] | None = None,
) -> TrainResult | None:
    """Train, save and register; returns the result on the main process, None on the others.

    Rows longer than `cfg.max_length` are found first (pipeline.training.lengths) and handled as
    `cfg.overlength` says; the count goes into the model's recipe."""
    import warnings

    from pipeline.jobs.progress import JobProgress

    # TRL 1.16 reads model.is_gradient_checkpointing, which transformers 5.2x deprecates: the library's to fix
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    main = is_main_process()
    precision = decide_precision(cfg.bf16, cfg.gradient_checkpointing)
    model_id = cfg.name or default_model_id(method, dataset, cfg, start)
    out = output_dir(store, cfg, model_id)
    recipe = {**cfg.to_dict(), **(extra_recipe or {}), "precision": precision.to_dict(), "from": start.id}
    run_id = start_run(store, method, {"model": model_id, "config": recipe}) if main else None
    try:
        start_path = load_path(start)
        prepare_output(out)
        tokenizer = load_tokenizer(start_path)
        rows, lengths = check_lengths(tokenizer, rows, ids, cfg.max_length, cfg.overlength)
        recipe["lengths"] = lengths.to_dict()
        if not rows:
            raise ValueError(
                f"no training example is within max_length {cfg.max_length} "
                f"(longest {lengths.longest} tokens): raise --max-length"
            )
        trainer = make_trainer(start_path, tokenizer, trainer_kwargs(cfg, precision, out), precision, rows)
        _quiet(trainer)
        if len(trainer.train_dataset) == 0:
            raise ValueError(
                f"no training example left after tokenizing with max_length {cfg.max_length} "
                "(prompts alone fill it): raise --max-length"
            )
        started = time.monotonic()
        with JobProgress(f"{method} {model_id}", None, enabled_bar=show_progress and main) as bar:
            if main:
                trainer.add_callback(progress_callback(bar))
            output = trainer.train()
        metrics = train_metrics(output, started, len(rows))
        info = {
            "id": model_id,
            "method": method,
            "from": start.id,
            "base": start.base,
            "dataset": dataset,
            "metrics": metrics,
            "recipe": recipe,
        }
        if not save_trained(trainer, tokenizer, cfg, start_path, out, precision, info):
            return None
        register(
            store,
            model_id=model_id,
            path=str(out),
            base=start.base,
            parent=start.id,
            dataset=dataset,
            method=method,
            recipe=recipe,
            metrics=metrics,
            run_id=run_id,
        )
        runs.end(store, run_id, "done", progress={"model": model_id, **metrics})
        return TrainResult(
            model_id=model_id,
            path=str(out),
            parent=start.id,
            base=start.base,
            dataset=dataset,
            method=method,
            metrics=metrics,
            run_id=run_id,
        )
    except BaseException as exc:
        if main and run_id:
            runs.end(store, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
