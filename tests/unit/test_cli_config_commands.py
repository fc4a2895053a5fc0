"""The pipeline commands' options come from their config dataclasses: help, choices and defaults in
`--help`, in `still2 jobs schema` (the TUI's job form) and in what the command receives are the fields'."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.curation_cmds import FilterConfig
from pipeline.cli.schema import cli_schema
from pipeline.datasets.recipe import PARTS, DatasetRecipe
from pipeline.engines.base import ENGINE_KINDS
from pipeline.engines.spec import EngineSpec
from pipeline.explore.config import AnswerPolicyName, ExploreConfig
from pipeline.explore.selection import MODES, ProblemSelection
from pipeline.options import field_help
from pipeline.pairs.config import PairOptions
from pipeline.scoring.config import ScoreConfig


@pytest.fixture(scope="module")
def schema() -> dict[str, dict[str, dict]]:
    return {c["name"]: {p["name"]: p for p in c["params"]} for c in cli_schema()["commands"]}


def _help(words: list[str]) -> str:
    out = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "400", "TERM": "dumb", "NO_COLOR": "1"})
    assert out.exit_code == 0, out.output
    return " ".join(out.output.split())  # rich wraps and pads; compare word runs


def _option_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata and f.metadata.get("cli", True)]


@pytest.mark.parametrize("command", ["explore", "distill"])
def test_explore_and_distill_options_are_the_config_fields(schema, command):
    params = schema[command]
    for cls in (ExploreConfig, ProblemSelection, EngineSpec):
        for f in _option_fields(cls):
            assert params[f.name]["help"] == field_help(cls, f.name), (command, f.name)
    text = _help([command])
    assert field_help(ExploreConfig, "want_correct") in text
    assert params["engine"]["type"] == "choice" and params["engine"]["choices"] == list(ENGINE_KINDS)
    assert params["mode"]["flag"] == "--problems" and params["mode"]["choices"] == list(MODES)
    assert params["answer_policy"]["choices"] == [m.value for m in AnswerPolicyName]
    assert params["use_system"]["flag"] == "--no-system" and params["use_system"]["default"] is False
    assert params["system_prompt"]["flag"] == "--prompt-file" and params["system_prompt"]["type"] == "path"


def test_distill_keeps_its_own_defaults(schema):
    assert (schema["explore"]["max_rollouts"]["default"], schema["explore"]["want_correct"]["default"]) == (20, 1)
    assert (schema["distill"]["max_rollouts"]["default"], schema["distill"]["want_correct"]["default"]) == (4, 4)


def test_answer_policy_choices_are_the_verifiers_policies():
    from pipeline.verifier.policy import POLICIES

    assert [m.value for m in AnswerPolicyName] == list(POLICIES)


def test_a_wrong_engine_is_refused_with_the_choices():
    out = CliRunner().invoke(app, ["explore", "--engine", "nope"])
    assert out.exit_code != 0 and "transformers" in out.output


@pytest.mark.parametrize(
    "command, cls",
    [("score", ScoreConfig), ("filter", FilterConfig), ("dataset build", DatasetRecipe), ("pairs build", PairOptions)],
)
def test_curation_options_are_the_config_fields(schema, command, cls):
    params = schema[command]
    fields = _option_fields(cls)
    assert fields and {f.name for f in fields} <= set(params)
    for f in fields:
        assert params[f.name]["help"] == f.metadata["help"], (command, f.name)
    text = _help(command.split())
    for f in fields:
        assert " ".join(f.metadata["help"].split()) in text, (command, f.name)


def test_curation_choices_and_recipe_defaults(schema):
    assert schema["score"]["engine"]["choices"] == list(ENGINE_KINDS)
    assert schema["score"]["part"]["choices"] == ["full", "thought", "both"]
    assert schema["pairs build"]["part"]["choices"] == list(PARTS)
    build = schema["dataset build"]
    assert build["ppl_part"]["choices"] == list(PARTS)
    # recipe-backed: nothing on the command line by default, the recipe's default shown
    assert build["hard_pass_rate"]["default"] is None and build["hard_pass_rate"]["shown_default"] == "0.5"
    assert build["correct_only"]["flag"] in ("--correct-only", "--any-verdict")


def test_dataset_build_flags_override_the_recipe_file(tmp_path):
    import json

    db = tmp_path / "s.duckdb"
    assert CliRunner().invoke(app, ["init", "--db", str(db)]).exit_code == 0
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"min_thought_chars": 5, "origins": ["distill"], "seed": 3}))
    out = CliRunner().invoke(
        app,
        [
            "dataset",
            "build",
            "d1",
            "--recipe",
            str(recipe),
            "--db",
            str(db),
            "--json",
            "--origins",
            "explore, distill",
            "--domain-mix",
            "math=1",
            "--ppl-part",
            "thought",
            "--any-verdict",
        ],
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)["recipe"]
    assert got["min_thought_chars"] == 5 and got["seed"] == 3  # from the file
    assert got["origins"] == ["explore", "distill"] and got["domain_mix"] == {"math": 1.0}
    assert got["ppl_part"] == "thought" and got["correct_only"] is False
    bad = CliRunner().invoke(app, ["dataset", "build", "d2", "--db", str(db), "--domain-mix", "math"])
    assert bad.exit_code != 0 and "DOMAIN=RATIO" in bad.output


def _form_command(name: str):
    """The TUI's view of a command (still2tui/jobs.Command) built from the real schema."""
    from still2tui.jobs import Command, Param

    (cmd,) = [c for c in cli_schema()["commands"] if c["name"] == name]
    return Command(
        name, cmd["help"], [Param(**{k: p[k] for k in Param.__dataclass_fields__ if k in p}) for p in cmd["params"]]
    )


def test_a_job_form_round_trips_to_the_config(monkeypatch, tmp_path):
    """Values chosen in the TUI's form become argv (still2tui.jobs.to_argv) that the command parses back into
    the same config: choices as strings, --no-system turning use_system off, distill's own defaults kept."""
    from pipeline.cli import explore_cmds
    from still2tui.jobs import to_argv

    seen = []
    monkeypatch.setattr(explore_cmds, "run_generation", lambda *args, **kw: seen.append(args))
    form = _form_command("distill")
    argv = to_argv(
        form,
        {
            "engine": "openai",
            "base_url": "http://h/v1",
            "mode": "hardest",
            "use_system": True,
            "answer_policy": "strict",
            "temperature": 0.0,
        },
    )
    assert "--no-system" in argv and argv[argv.index("--problems") + 1] == "hardest"
    out = CliRunner().invoke(app, [*argv, "--db", str(tmp_path / "s.duckdb")])
    assert out.exit_code == 0, out.output
    origin, _db, sampling, selection, engine, *_ = seen[0]
    assert origin == "distill" and engine.engine.value == "openai" and engine.base_url == "http://h/v1"
    assert selection.mode == "hardest" and sampling.use_system is False and sampling.answer_policy == "strict"
    assert (sampling.max_rollouts, sampling.want_correct, sampling.temperature) == (4, 4, 0.0)
    assert type(sampling.answer_policy) is str and type(selection.mode) is str  # plain values in run ids


def test_pairs_build_form_round_trips(monkeypatch, tmp_path):
    import pipeline.pairs
    from pipeline.pairs.build import PairReport
    from still2tui.jobs import to_argv

    seen = []

    def fake_build(store, opts):
        seen.append(opts)
        return PairReport("s", opts.part, 0, 0, 0, 0)

    monkeypatch.setattr(pipeline.pairs, "build_pairs", fake_build)
    db = tmp_path / "s.duckdb"
    assert CliRunner().invoke(app, ["init", "--db", str(db)]).exit_code == 0
    argv = to_argv(
        _form_command("pairs build"),
        {"part": "thought", "skip_flags": "repetition, too_short", "allow": "eval", "max_per_problem": 2},
    )
    assert argv[:2] == ["pairs", "build"]  # a subcommand's words are separate arguments
    out = CliRunner().invoke(app, [*argv, "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert seen[0] == PairOptions(
        part="thought", max_per_problem=2, skip_flags=["repetition", "too_short"], allow=["eval"]
    )
