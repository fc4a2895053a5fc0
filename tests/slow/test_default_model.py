"""The real default model: GGUF -> safetensors conversion into a fresh cache, reload, a short greedy answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_default_model_converts_caches_and_answers(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("gguf")
    from pipeline.engines import SamplingParams, default_model, make_engine
    from pipeline.engines.default_model import MARKER, ensure_default_model, is_complete

    monkeypatch.setenv("STILL2_CACHE", str(tmp_path))
    path = ensure_default_model()
    assert path == tmp_path / "models" / "SmolLM2-135M-Instruct" and is_complete(path)
    assert (path / MARKER).is_file()
    assert not [p for p in path.parent.iterdir() if p.is_dir() and p != path]  # no leftover tmp dirs

    def convert_again(*_args):
        raise AssertionError("the cached model was converted a second time")

    monkeypatch.setattr(default_model, "convert_gguf", convert_again)
    assert ensure_default_model() == path  # second call only checks the cache

    with make_engine("transformers", "default") as engine:
        assert engine.model_id == str(path)
        assert sum(p.numel() for p in engine.model.parameters()) == pytest.approx(134.5e6, rel=0.01)
        question = [{"role": "user", "content": "What is 2+3?"}]
        result = engine.generate([question], SamplingParams(temperature=0, max_new_tokens=24))[0]
        answer = result.completions[0]
        assert answer.text.strip() and answer.n_tokens > 0
        assert any(ch.isalnum() for ch in answer.text)
        print(f"\nSmolLM2 says: {answer.text!r}")
        scores = engine.score([question], [answer.text])[0]
        assert scores.n_tokens > 0 and 1.0 <= scores.perplexity() < 50  # its own greedy answer is likely
