"""Options generated from config dataclasses: flags, help, choices, bounds, overrides, --config and --set.

No `from __future__ import annotations` here: the commands below are built inside functions, and their
annotations use local values, which string annotations could not resolve.
"""

import json
from dataclasses import dataclass, field
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli.options import Fields, config_command
from pipeline.engines.spec import EngineKind, EngineSpec
from pipeline.options import Choice, comma_list, opt


class Colour(Choice):
    red = "red"
    blue = "blue"


class Shape(Choice):
    round = "round"
    square = "square"


@dataclass
class Toy:
    rounds: int = field(default=3, metadata=opt("How many rounds.", min=1))
    colour: Colour = field(default=Colour.red, metadata=opt("Which colour."))
    lr: float | None = field(default=None, metadata=opt("Learning rate.", "--lr", "--learning-rate"))
    greedy: bool = field(default=False, metadata=opt("Greedy decoding."))
    tags: list[str] = field(default_factory=list, metadata=opt("Comma-separated tags.", parse=comma_list, cli_type=str))
    shape: str = field(default="round", metadata=opt("Which shape.", choices=Shape))
    use_x: bool = field(default=True, metadata=opt("Leave x out.", "--no-x", negate=True))
    internal: str = "set by code"


def _app(**spec_kwargs) -> tuple[typer.Typer, list]:
    seen: list = []
    app = typer.Typer()

    @app.command()
    @config_command
    def run(toy: Annotated[Toy, Fields(**spec_kwargs)], engine: EngineSpec, name: str = "x") -> None:
        seen.append((toy, engine, name))

    @app.command()
    def other() -> None:  # a second command so that `run` keeps its name
        pass

    return app, seen


def test_defaults_flags_and_types():
    app, seen = _app()
    out = CliRunner().invoke(
        app,
        [
            "run",
            "--rounds",
            "5",
            "--colour",
            "blue",
            "--learning-rate",
            "0.1",
            "--greedy",
            "--tags",
            "a, b,,c",
            "--engine",
            "openai",
            "--base-url",
            "http://h/v1",
        ],
    )
    assert out.exit_code == 0, out.output
    toy, engine, name = seen[0]
    assert toy == Toy(rounds=5, colour=Colour.blue, lr=0.1, greedy=True, tags=["a", "b", "c"])
    assert toy.colour == "blue" and engine.engine is EngineKind.openai and name == "x"
    assert engine.options() == {"base_url": "http://h/v1", "api_key_env": "OPENAI_API_KEY", "concurrency": 8}
    out = CliRunner().invoke(app, ["run"])
    assert out.exit_code == 0 and seen[1][0] == Toy() and seen[1][1] == EngineSpec()


def test_help_bounds_and_choices_come_from_the_field():
    app, _ = _app()
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert "How many rounds." in out.output and "--learning-rate" in out.output
    assert "internal" not in out.output  # no option metadata: not on the command line
    assert runner.invoke(app, ["run", "--rounds", "0"]).exit_code != 0
    bad = runner.invoke(app, ["run", "--colour", "green"])
    assert bad.exit_code != 0 and "green" in bad.output


def test_per_command_defaults_replace_the_fields():
    app, seen = _app(defaults={"rounds": 4})
    assert CliRunner().invoke(app, ["run"]).exit_code == 0
    assert seen[0][0] == Toy(rounds=4)
    out = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert "[default: 4]" in out.output


def test_overrides_mode_passes_only_given_values():
    app, seen = _app(overrides=True)
    out = CliRunner().invoke(app, ["run", "--rounds", "7"])
    assert out.exit_code == 0, out.output
    assert seen[0][0] == {"rounds": 7}


def test_config_file_and_set_with_flags_winning(tmp_path):
    app, seen = _app(config_file=True)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"rounds": 9, "colour": "blue", "lr": 0.5}))
    out = CliRunner().invoke(app, ["run", "--config", str(cfg), "--set", "lr=0.25", "--rounds", "2"])
    assert out.exit_code == 0, out.output
    assert seen[0][0] == Toy(rounds=2, colour=Colour.blue, lr=0.25)
    assert seen[0][0].colour is Colour.blue  # file values take the field's type
    bad = CliRunner().invoke(app, ["run", "--set", "nope=1"])
    assert bad.exit_code != 0 and "nope" in bad.output


@dataclass
class Clash:
    batch_size: int = field(default=1, metadata=opt("Effective batch."))


def test_an_option_declared_twice_is_refused():
    def cmd(a: Clash, b: EngineSpec) -> None:
        pass

    with pytest.raises(TypeError, match="batch_size"):
        config_command(cmd)


def test_str_field_with_choices_and_a_negating_flag():
    app, seen = _app()
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--shape", "square", "--no-x"])
    assert out.exit_code == 0, out.output
    toy = seen[0][0]
    assert toy.shape == "square" and type(toy.shape) is str and toy.use_x is False
    assert runner.invoke(app, ["run"]).exit_code == 0 and seen[1][0].use_x is True  # not given: the default
    assert runner.invoke(app, ["run", "--shape", "oval"]).exit_code != 0
    app, seen = _app(overrides=True)
    assert runner.invoke(app, ["run", "--no-x"]).exit_code == 0 and seen[0][0] == {"use_x": False}
    assert runner.invoke(app, ["run"]).exit_code == 0 and seen[1][0] == {}


def test_set_accepts_flag_names_as_keys(tmp_path):
    app, seen = _app(config_file=True)
    out = CliRunner().invoke(app, ["run", "--set", "learning_rate=0.5", "--set", "shape=square"])
    assert out.exit_code == 0, out.output
    assert seen[0][0].lr == 0.5 and seen[0][0].shape == "square"
