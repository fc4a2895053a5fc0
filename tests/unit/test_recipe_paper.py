"""still2-paper: every value the report gives is set, ours are marked, README shows exactly the generated
tables, and the lengths agree so nothing generated is cut by the trainer."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.loop.config import iterate_config
from pipeline.loop.iterate import stage_table
from pipeline.loop.paper import PROMPT_ALLOWANCE, STILL2_PAPER, recipe_table
from pipeline.training.config import recipe_config

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"README has no {name} block"
    return match.group(1)


def test_readme_tables_are_the_generated_ones():
    assert _block("recipe") == recipe_table(), "README: paste `still2 iterate --recipe-table` between the markers"
    assert _block("stages") == stage_table()
    printed = CliRunner().invoke(app, ["iterate", "--recipe-table"])
    assert printed.exit_code == 0 and printed.stdout == recipe_table()


def test_the_report_values_are_what_the_configs_get():
    loop = iterate_config("still2-paper")
    sft = recipe_config("sft", "still2-paper")
    dpo = recipe_config("dpo", "still2-paper")
    assert loop.model == "Qwen/Qwen2.5-32B-Instruct"  # §2.2.2
    assert (loop.max_rollouts, loop.want_correct) == (20, 1)  # §3.2, §2.3.1
    assert (sft.learning_rate, sft.batch_size) == (1e-5, 96)  # §2.2.2
    assert loop.benchmarks == ["math500", "aime24", "gpqa"] and loop.eval_max_new_tokens == 32768  # §3.1
    assert loop.ppl_top_percent and loop.pool_mode == "unsolved"  # perplexity selection on, hard pool
    assert (dpo.variant, dpo.part, dpo.sft_part) == ("thought", "thought", "none")  # Table 2 = Table 4 row 3
    for setting in STILL2_PAPER:  # every setting that names a config field lands in that config
        target = {"sft": sft, "dpo": dpo}.get(setting.scope, loop)
        if setting.field == "filter_rules":  # the report's rules come first, ours after them
            assert getattr(target, setting.field)[: len(setting.value)] == setting.value
        elif hasattr(target, setting.field):
            assert getattr(target, setting.field) == setting.value, setting.field
        assert setting.report or setting.why or setting.ours


def test_ours_are_marked_and_the_report_values_are_cited():
    ours = {s.field for s in STILL2_PAPER if s.ours}
    assert {"epochs", "max_length", "warmup_ratio", "lr_scheduler", "beta", "temperature"} <= ours
    assert not {"learning_rate", "batch_size"} & {s.field for s in STILL2_PAPER if s.ours and s.scope == "sft"}
    rows = recipe_table().splitlines()[2:]
    assert len(rows) == len(STILL2_PAPER)
    for s, row in zip(STILL2_PAPER, rows):
        assert f"| `{s.field}` |" in row
        assert ("not in the report (ours)" in row) == s.ours
        assert s.ours or "| report: " in row


def test_lengths_agree_nothing_generated_is_cut_by_training():
    loop = iterate_config("still2-paper")
    for kind in ("sft", "dpo"):
        cfg = recipe_config(kind, "still2-paper")
        assert cfg.max_length >= loop.max_new_tokens + PROMPT_ALLOWANCE
        assert cfg.overlength == "error"
    assert "too_long" in loop.filter_rules
