"""The job form built from the real CLI's schema: choices with no default start blank and stay out of the
command line, a chosen engine goes in, and a command's positional argument is passed as one."""

from __future__ import annotations

import sys

import pytest
from textual.app import App
from textual.widgets import Checkbox, Select

from still2tui.components.job_form import JobForm
from still2tui.jobs import PipelineCli

pytestmark = pytest.mark.asyncio


class FormApp(App):
    def __init__(self, command):
        super().__init__()
        self.command, self.argv = command, "not dismissed"

    def on_mount(self) -> None:
        self.push_screen(JobForm(self.command), self.done)

    def done(self, argv) -> None:
        self.argv = argv


def _commands(tmp_path) -> dict:
    return {
        c.name: c
        for c in PipelineCli([sys.executable, "-m", "pipeline"], str(tmp_path / "s.duckdb"), timeout=120).schema()
    }


async def test_sft_and_eval_forms_from_the_cli_schema(tmp_path):
    commands = _commands(tmp_path)
    app = FormApp(commands["sft"])
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        assert isinstance(form, JobForm)
        assert form.query_one("#f-recipe", Select).value is Select.NULL  # recipe-backed: blank, not a default
        form.query_one("#f-dataset").value = "D1"
        form.query_one("#f-recipe", Select).value = "cpu-tiny"
        form.query_one("#f-use_system", Checkbox).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.argv == ["sft", "D1", "--recipe", "cpu-tiny", "--no-system"]

    app = FormApp(commands["sft"])  # a recipe-backed two-way flag: blank (the recipe's), on, or off
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        bf16 = form.query_one("#f-bf16", Select)
        assert bf16.value is Select.NULL
        form.query_one("#f-dataset").value = "D1"
        bf16.value = "off"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.argv == ["sft", "D1", "--fp32"]

    app = FormApp(commands["eval"])
    async with app.run_test(size=(160, 48)) as pilot:
        form = app.screen
        engine = form.query_one("#f-engine", Select)
        assert engine.value == "transformers"
        engine.value = "openai"
        form.query_one("#f-benchmark").value = "math500 aime24"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.argv == ["eval", "--benchmark", "math500", "--benchmark", "aime24", "--engine", "openai"]

    app = FormApp(commands["iterate"])
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        assert form.query_one("#f-engine", Select).value is Select.NULL  # the recipe decides
        form.query_one("#f-engine", Select).value = "vllm"
        form.query_one("#f-engine_args").value = "max_model_len=4096"
        form.query_one("#f-score", Checkbox).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.argv == ["iterate", "--engine", "vllm", "--engine-opt", "max_model_len=4096", "--no-score"]
