"""sft, dpo, eval, iterate and judge take their options from their config dataclasses: the help a user reads,
the jobs schema the TUI's forms are built from and the values the trainer gets all come from the fields
(recipe < --config file < --set < flags)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.options import cli_fields
from pipeline.cli.schema import cli_schema
from pipeline.engines.spec import EngineSpec
from pipeline.evaluation.report import ReportOptions
from pipeline.evaluation.run import EvalConfig
from pipeline.judge import JudgeConfig
from pipeline.loop.config import IterateConfig, iterate_config
from pipeline.training.config import DPOTrainConfig, SFTTrainConfig, TrainResult

runner = CliRunner()
COMMANDS = {
    "sft": [SFTTrainConfig],
    "dpo": [DPOTrainConfig],
    "eval": [EvalConfig, EngineSpec],
    "iterate": [IterateConfig],
    "judge": [JudgeConfig, EngineSpec],
    "report": [ReportOptions],
}


def _params(command: str) -> dict:
    root = typer.main.get_command(app)
    return {p.name: p for p in root.commands[command].params}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_and_its_help_come_from_the_dataclass(command):
    params = _params(command)
    fields = [f for cls in COMMANDS[command] for f in cli_fields(cls)]
    assert fields, command
    for f in fields:
        assert f.name in params, f"{command}: no option for {f.name}"
        assert params[f.name].help == f.metadata["help"]  # the same text, not a copy that can drift


def test_flag_names_and_aliases_are_kept():
    params = _params("sft")
    assert params["learning_rate"].opts == ["--lr", "--learning-rate"]
    assert params["bf16"].opts == ["--bf16"] and params["bf16"].secondary_opts == ["--fp32"]
    assert params["from_model"].opts == ["--from"]
    assert params["system_prompt"].opts == ["--prompt-file"] and params["use_system"].opts == ["--no-system"]
    dpo = _params("dpo")
    assert {"where", "part", "sft_part", "beta", "sft_weight", "variant", "overlength"} <= set(dpo)


@pytest.fixture
def captured(db_path, monkeypatch):
    """A store, and run_sft / run_dpo replaced by a recorder (the CLI's parsing is what is under test)."""
    from store import Store

    Store(db_path).init()
    seen: list = []

    def fake(store, cfg, **_):
        seen.append(cfg)
        return TrainResult(
            "m", "/tmp/m", "p", "b", cfg.dataset, "sft", {"steps": 1, "train_loss": 1.0, "seconds": 0.1}, "r"
        )

    monkeypatch.setattr("pipeline.training.sft.run_sft", fake)
    monkeypatch.setattr("pipeline.training.dpo.run_dpo", fake)
    return db_path, seen


def test_sft_recipe_then_config_file_then_set_then_flags(captured, tmp_path):
    db, seen = captured
    prompt = tmp_path / "p.txt"
    prompt.write_text("Think.\n")
    cfg_file = tmp_path / "train.toml"
    cfg_file.write_text('epochs = 1.5\nlearning_rate = 1e-4\nmax_steps = 7\nlr_scheduler = "linear"\n')
    out = runner.invoke(
        app,
        [
            "sft",
            "D1",
            "--db",
            str(db),
            "--recipe",
            "cpu-tiny",
            "--config",
            str(cfg_file),
            "--set",
            "lr=2e-5",
            "--set",
            "max_steps=9",
            "--max-steps",
            "3",
            "--no-system",
            "--lora-target-modules",
            "q_proj, v_proj",
            "--prompt-file",
            str(prompt),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    cfg = seen[0]
    assert isinstance(cfg, SFTTrainConfig) and cfg.dataset == "D1" and cfg.recipe == "cpu-tiny"
    assert cfg.per_device_batch_size == 4 and cfg.bf16 is False  # the recipe's
    assert cfg.epochs == 1.5 and cfg.lr_scheduler == "linear"  # the file's, over the recipe's
    assert cfg.learning_rate == 2e-5  # --set (by its flag name) over the file
    assert cfg.max_steps == 3  # the flag over --set and the file
    assert cfg.use_system is False and cfg.lora_target_modules == ["q_proj", "v_proj"]
    assert cfg.system_prompt == "Think."
    assert json.loads(out.stdout)["model_id"] == "m"


def test_sft_defaults_without_recipe_and_bad_values_refused(captured):
    db, seen = captured
    assert runner.invoke(app, ["sft", "D1", "--db", str(db)]).exit_code == 0
    assert dataclasses.replace(seen[0], dataset=None) == SFTTrainConfig()
    bad = runner.invoke(app, ["sft", "D1", "--db", str(db), "--set", "nonsense=1"])
    assert bad.exit_code != 0 and "nonsense" in bad.output
    bad = runner.invoke(app, ["sft", "D1", "--db", str(db), "--overlength", "chop"])
    assert bad.exit_code != 0 and "chop" in bad.output
    assert len(seen) == 1


def test_dpo_variant_sets_parts_unless_given(captured):
    db, seen = captured
    assert runner.invoke(app, ["dpo", "P1", "--db", str(db), "--variant", "thought+sft"]).exit_code == 0
    assert (seen[0].part, seen[0].sft_part, seen[0].learning_rate) == ("thought", "full", 5e-7)
    assert (
        runner.invoke(
            app, ["dpo", "P1", "--db", str(db), "--variant", "thought+sft", "--set", "sft_part=none"]
        ).exit_code
        == 0
    )
    assert seen[1].sft_part == "none"
    out = runner.invoke(app, ["dpo", "--db", str(db)])
    assert out.exit_code != 0 and "--where" in out.output


def test_schema_offers_choices_from_the_fields():
    commands = {c["name"]: {p["name"]: p for p in c["params"]} for c in cli_schema()["commands"]}
    sft = commands["sft"]
    assert sft["recipe"]["type"] == "choice" and sft["recipe"]["choices"] == ["still2-paper", "cpu-tiny"]
    assert sft["overlength"]["choices"] == ["error", "drop", "truncate"]
    assert sft["overlength"]["shown_default"] == "error" and sft["learning_rate"]["shown_default"] == "1e-05"
    assert sft["learning_rate"]["help"] == "Learning rate."
    assert commands["dpo"]["variant"]["choices"] == ["full", "full+sft", "thought", "thought+sft"]
    assert commands["dpo"]["learning_rate"]["shown_default"] == "5e-07"


def test_eval_builds_its_config_and_engine_from_the_fields(db_path, monkeypatch, tmp_path):
    from store import Store

    Store(db_path).init()
    seen = []
    monkeypatch.setattr("pipeline.cli.train_cmds.run_eval_cmd", lambda *a: seen.append(a))
    out = runner.invoke(
        app,
        [
            "eval",
            "-b",
            "toy",
            "--db",
            str(db_path),
            "--model",
            "m",
            "--engine",
            "openai",
            "--base-url",
            "http://h/v1",
            "--protocol",
            "sampled",
            "--samples",
            "toy=3",
            "--no-system",
            "--answer-policy",
            "strict",
            "--max-new-tokens",
            "16",
        ],
    )
    assert out.exit_code == 0, out.output
    _, model, engine, benchmarks, config, _ = seen[0]
    assert (model, benchmarks) == ("m", ["toy"])
    assert engine == EngineSpec(engine="openai", base_url="http://h/v1")
    assert config == EvalConfig(
        protocol="sampled", samples={"toy": 3}, use_system=False, answer_policy="strict", max_new_tokens=16
    )
    assert runner.invoke(app, ["eval", "-b", "toy", "--db", str(db_path)]).exit_code == 0
    assert seen[1][4] == EvalConfig() and seen[1][2] == EngineSpec()
    for bad in (["--protocol", "best"], ["--samples", "toy=0"], ["--engine", "gpt"], ["--prompt", "x"]):
        out = runner.invoke(app, ["eval", "-b", "toy", "--db", str(db_path), *bad])
        assert out.exit_code != 0 and bad[1] in out.output, bad
    assert len(seen) == 2


def test_schema_lists_the_engine_as_a_choice():
    commands = {c["name"]: {p["name"]: p for p in c["params"]} for c in cli_schema()["commands"]}
    engine = commands["eval"]["engine"]
    assert engine["type"] == "choice" and engine["choices"] == ["transformers", "vllm", "openai"]
    assert engine["default"] == "transformers" and engine["flag"] == "--engine"
    assert commands["eval"]["protocol"]["choices"] == ["greedy", "sampled"]
    assert commands["eval"]["answer_policy"]["default"] == "default"


def test_iterate_recipe_file_set_flags_and_options_added_to_the_recipes(db_path, monkeypatch, tmp_path):
    seen = []

    def fake_iterate(store, cfg, on_step=None):
        seen.append(cfg)
        return {"loop": cfg.loop_name(), "ran_steps": [], "skipped_steps": [], "rounds": []}

    monkeypatch.setattr("pipeline.loop.iterate.iterate", fake_iterate)
    cfg_file = tmp_path / "loop.json"
    cfg_file.write_text(json.dumps({"rounds": 3, "want_correct": 2, "max_rollouts": 6}))
    out = runner.invoke(
        app,
        [
            "iterate",
            "--db",
            str(db_path),
            "--recipe",
            "cpu-tiny",
            "--config",
            str(cfg_file),
            "--set",
            "max_rollouts=5",
            "--max-rollouts",
            "7",
            "--engine",
            "vllm",
            "--engine-opt",
            "max_model_len=2048",
            "--engine-opt",
            "tensor_parallel_size=2",
            "--teacher-opt",
            "base_url=http://h/v1",
            "--train-opt",
            "max_steps=20",
            "--filter-rules",
            "repetition, too_long",
            "--no-score",
            "--system",
            "-b",
            "toy",
            "--dpo-variant",
            "thought",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    cfg = seen[0]
    expected = iterate_config(
        "cpu-tiny",
        rounds=3,
        want_correct=2,
        max_rollouts=7,
        engine="vllm",
        filter_rules=["repetition", "too_long"],
        score=False,
        use_system=True,
        benchmarks=["toy"],
        dpo_variant="thought",
    )
    assert cfg == expected.merged(
        engine_args={"tensor_parallel_size": 2, "engine_opt": ["max_model_len=2048"]},
        teacher_args={"base_url": "http://h/v1"},
        train_overrides={"max_steps": 20},
    )
    assert cfg.engine_args == {"batch_size": 32, "tensor_parallel_size": 2, "engine_opt": ["max_model_len=2048"]}
    assert type(cfg.engine) is str and cfg.use_system is True  # --system over the recipe's False
    assert runner.invoke(app, ["iterate", "--db", str(db_path), "--json"]).exit_code == 0
    assert seen[1] == IterateConfig()
    bad = runner.invoke(app, ["iterate", "--db", str(db_path), "--method", "ppo"])
    assert bad.exit_code != 0 and "ppo" in bad.output
    table = runner.invoke(app, ["iterate", "--recipe-table"])
    assert table.exit_code == 0 and table.stdout.startswith("| stage |") and len(seen) == 2


def test_iterate_schema_offers_engines_and_methods():
    commands = {c["name"]: {p["name"]: p for p in c["params"]} for c in cli_schema()["commands"]}
    it = commands["iterate"]
    assert it["engine"]["type"] == "choice" and it["engine"]["choices"] == ["transformers", "vllm", "openai"]
    assert it["engine"]["default"] is None and it["engine"]["shown_default"] == "transformers"  # recipe-backed
    assert it["teacher_engine"]["shown_default"] == "openai" and it["method"]["choices"] == ["sft", "dpo"]
    assert it["engine_args"]["flag"] == "--engine-opt" and it["engine_args"]["multiple"]
    assert "want_correct" not in it  # set by a recipe, --config or --set only
    report = commands["report"]
    assert report["table"]["choices"] == ["2", "3", "4"] and report["table"]["default"] == "2"
    assert report["format"]["choices"] == ["markdown", "md", "latex", "csv", "json"]


def test_judge_takes_its_batch_from_the_engine_options(db_path, monkeypatch):
    from store import Store

    Store(db_path).init()
    seen = []

    class Engine:
        model_id = "judge-model"

        def close(self):
            pass

    monkeypatch.setattr(EngineSpec, "build", lambda self, model: (seen.append(self), Engine())[1])
    monkeypatch.setattr(
        "pipeline.judge.judge",
        lambda store, eng, cfg, on_batch=None: (
            seen.append(cfg),
            {
                "judged": 0,
                "mode": "undecided",
                "model": eng.model_id,
                "correct": 0,
                "incorrect": 0,
                "unsure": 0,
                "disagree_with_verdict": 0,
            },
        )[1],
    )
    out = runner.invoke(app, ["judge", "--db", str(db_path), "--audit", "5", "--overwrite", "--json"])
    assert out.exit_code == 0, out.output
    spec, cfg = seen
    assert spec == EngineSpec(batch_size=8)  # judge's own default, not EngineSpec's 32
    assert cfg == JudgeConfig(audit=5, overwrite=True, batch=8)
    assert runner.invoke(app, ["judge", "--db", str(db_path), "--tail-chars", "10"]).exit_code != 0  # min 100


def test_report_options(db_path, monkeypatch):
    from store import Store

    Store(db_path).init()
    seen = []
    monkeypatch.setattr("pipeline.evaluation.report.report_data", lambda store, **kw: seen.append(kw) or {})
    monkeypatch.setattr("pipeline.evaluation.report.other_table", lambda *a: seen.append(a[0]) or "t\n")
    out = runner.invoke(
        app,
        [
            "report",
            "--db",
            str(db_path),
            "--table",
            "3",
            "--format",
            "md",
            "-b",
            "aime24",
            "--model",
            "M1",
            "--allow-mixed-protocols",
        ],
    )
    assert out.exit_code == 0, out.output
    assert seen == [
        {"metric": "accuracy", "backbone": None, "models": ["M1"], "benchmarks": ["aime24"], "allow_mixed": True},
        3,
    ]
    assert runner.invoke(app, ["report", "--db", str(db_path), "--table", "5"]).exit_code != 0
    assert runner.invoke(app, ["report", "--db", str(db_path), "--format", "html"]).exit_code != 0
