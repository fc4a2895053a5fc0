"""`still2 dpo`: TRL DPOTrainer, from M_1 by default, reference = the start model, with the report's variants.

The DPO term aligns `part` of the response (thought = cut after <|end_of_thought|>, or full); the SFT
term (weight `sft_weight`) covers `sft_part` of the chosen response: full (thought and solution, as
Table 4's caption says), thought, or none. When both parts agree, TRL computes both terms
(loss_type=["sigmoid", "sft"] or ["sigmoid"]). When they differ (DPO on the thought, SFT on the whole
response: Table 4's "Thought, SFT" row), `SplitPartsDPOTrainer` adds the SFT term itself from one
more forward pass over prompt + the chosen response's `sft_part`.
"""

from __future__ import annotations

from pipeline.training.common import load_model, peft_config
from pipeline.training.config import DPOTrainConfig, TrainResult
from pipeline.training.data import dpo_rows
from pipeline.training.driver import run_training
from pipeline.training.hardware import is_main_process
from pipeline.training.lineage import ModelRef, first_sft, resolve
from store.store import Store


def start_model(store: Store, cfg: DPOTrainConfig) -> ModelRef:
    if cfg.from_model:
        return resolve(store, cfg.from_model, register=is_main_process())
    root = resolve(store, cfg.base).base if cfg.base else None
    m1 = first_sft(store, root)
    if m1 is None:
        where = f"in the lineage of {root}" if root else "in the store"
        raise ValueError(f"no SFT model {where} to start DPO from (M_1): run `still2 sft` first or pass --from")
    return m1


def split_parts(rows: list[dict]) -> bool:
    """True when the SFT term covers another part than DPO aligns (rows carry `sft_chosen`)."""
    return bool(rows) and "sft_chosen" in rows[0]


def loss_settings(cfg: DPOTrainConfig, rows: list[dict] | None = None) -> dict:
    """What the loss is, as recorded with the model: TRL's loss types plus which part each term sees."""
    parts = {"dpo_part": cfg.part or "per pair", "sft_part": cfg.sft_part if cfg.sft_active else "none"}
    if cfg.sft_active and not split_parts(rows or []):
        return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, cfg.sft_weight], **parts}
    if cfg.sft_active:
        return {"loss_type": ["sigmoid"], "extra_sft_weight": cfg.sft_weight, **parts}
    return {"loss_type": ["sigmoid"], **parts}


def _trl_loss(settings: dict) -> dict:
    return {k: settings[k] for k in ("loss_type", "loss_weights") if k in settings}


def split_parts_trainer_class():
    """DPOTrainer whose SFT term sees another part of the chosen response than its DPO term."""
    import torch
    import torch.nn.functional as F
    from trl import DPOTrainer
    from trl.trainer.utils import pad

    class SplitPartsDPOTrainer(DPOTrainer):
        def __init__(self, *args, sft_weight: float, **kwargs):
            self.sft_weight = sft_weight
            super().__init__(*args, **kwargs)
            inner = self.data_collator
            pad_id = self.processing_class.pad_token_id
            max_length = self.args.max_length

            def collate(examples):
                batch = inner(examples)
                seqs = [e["prompt_ids"] + e["sft_ids"] for e in examples]
                masks = [[0] * len(e["prompt_ids"]) + [1] * len(e["sft_ids"]) for e in examples]
                if max_length is not None:
                    seqs, masks = [s[:max_length] for s in seqs], [m[:max_length] for m in masks]
                batch["sft_input_ids"] = pad(
                    [torch.tensor(s) for s in seqs], padding_value=pad_id, padding_side="right"
                )
                batch["sft_attention_mask"] = pad(
                    [torch.ones(len(s), dtype=torch.long) for s in seqs], padding_value=0, padding_side="right"
                )
                batch["sft_completion_mask"] = pad(
                    [torch.tensor(m, dtype=torch.long) for m in masks], padding_value=0, padding_side="right"
                )
                return batch

            self.data_collator = collate

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)

            def sft_ids(example):
                ids = processing_class.apply_chat_template(example["prompt"] + example["sft_chosen"], tokenize=True)
                ids = ids["input_ids"] if hasattr(ids, "keys") else ids
                n = len(example["prompt_ids"])
                if ids[:n] != example["prompt_ids"]:
                    raise ValueError("the prompt does not tokenize as a prefix of prompt + SFT completion")
                return {"sft_ids": ids[n:]}

            return dataset.map(sft_ids)

        def _set_signature_columns_if_needed(self):
            super()._set_signature_columns_if_needed()
            if "sft_ids" not in self._signature_columns:
                self._signature_columns = [*self._signature_columns, "sft_ids"]

        def _compute_loss(self, model, inputs, return_outputs):
            ids = inputs.pop("sft_input_ids")
            attention = inputs.pop("sft_attention_mask")
            completion = inputs.pop("sft_completion_mask")
            result = super()._compute_loss(model, inputs, return_outputs)
            loss = result[0] if return_outputs else result
            logits = model(input_ids=ids, attention_mask=attention, use_cache=False).logits[:, :-1]
            mask = completion[:, 1:].bool()
            logps = torch.gather(F.log_softmax(logits.float(), dim=-1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            sft_loss = -logps[mask].mean()
            mode = "train" if self.model.training else "eval"
            self._metrics[mode]["sft_loss"].append(self.accelerator.gather_for_metrics(sft_loss.detach()).mean().item())
            loss = loss + self.sft_weight * sft_loss
            return (loss, result[1]) if return_outputs else loss

    return SplitPartsDPOTrainer


def build_dpo_trainer(cfg: DPOTrainConfig, rows: list[dict], path: str, tokenizer, common: dict, precision):
    """The DPOTrainer (separate so a test can inspect its tokenized data without training)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    settings = loss_settings(cfg, rows)
    args = DPOConfig(**common, beta=cfg.beta, **_trl_loss(settings))
    kwargs = dict(
        model=load_model(path, precision),
        ref_model=None,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config(cfg),
    )
    if split_parts(rows) and cfg.sft_active:
        return split_parts_trainer_class()(**kwargs, sft_weight=cfg.sft_weight)
    return DPOTrainer(**kwargs)


def run_dpo(store: Store, cfg: DPOTrainConfig, *, show_progress: bool = True) -> TrainResult | None:
    cfg.validate()
    rows, ids = dpo_rows(
        store,
        dataset=cfg.dataset,
        where=cfg.where,
        part=cfg.part,
        system_prompt=cfg.system_prompt,
        use_system=cfg.use_system,
        sft_part=cfg.sft_part if cfg.sft_active else None,
        with_ids=True,
    )
    start = start_model(store, cfg)

    def make_trainer(path, tokenizer, common, precision, kept_rows):
        return build_dpo_trainer(cfg, kept_rows, path, tokenizer, common, precision)

    return run_training(
        store,
        cfg,
        "dpo",
        start=start,
        dataset=cfg.dataset,
        rows=rows,
        ids=ids,
        make_trainer=make_trainer,
        show_progress=show_progress,
        extra_recipe={"pairs": len(rows), **loss_settings(cfg, rows)},
    )
