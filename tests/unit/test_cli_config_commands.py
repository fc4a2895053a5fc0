"""The pipeline commands' options come from their config dataclasses: help, choices and defaults in
`--help`, in `still2 jobs schema` (the TUI's job form) and in what the command receives are the fields'."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.schema import cli_schema
from pipeline.engines.base import ENGINE_KINDS
from pipeline.engines.spec import EngineSpec
from pipeline.explore.config import AnswerPolicyName, ExploreConfig
from pipeline.explore.selection import MODES, ProblemSelection
from pipeline.options import field_help


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
