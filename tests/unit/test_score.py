"""`still2 score`: perplexity per (trajectory, scorer, part) with a tiny random model, matching a plain HF loop."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still

pytestmark = pytest.mark.slow

TEXTS = [
    to_still("Two plus two.\n\nThat is four.", "$\\boxed{4}$"),
    to_still("Add them: 2 + 2 = 4.", "The answer is $\\boxed{4}$."),
    "<|begin_of_thought|>\n\nno end of thought here",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from pipeline.engines.tiny_model import make_tiny_model

    return str(make_tiny_model(tmp_path_factory.mktemp("tiny")))


@pytest.fixture
def scored_store(store):
    with store.write() as conn:
        add_problems(
            conn, [{"id": "p", "source": "t", "question": "What is 2 + 2?", "question_hash": "p", "answer": "4"}]
        )
        add_trajectories(
            conn,
            [
                {
                    "id": f"t{i}",
                    "problem_id": "p",
                    "text": t,
                    "origin": "explore",
                    "thought": parse_response(t).thought,
                    "solution": parse_response(t).solution,
                    "format_style": "still",
                }
                for i, t in enumerate(TEXTS)
            ],
        )
    return store


def plain_nll(model_dir: str, question: str, response: str) -> float:
    """Reference: one unbatched forward pass with transformers, loss over the response tokens only."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from store.prompting import chat_prompt

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    prompt = tok(
        tok.apply_chat_template(chat_prompt(question), add_generation_prompt=True, tokenize=False),
        add_special_tokens=False,
    )["input_ids"]
    resp = tok(response, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = model(torch.tensor([prompt + resp])).logits[0, len(prompt) - 1 : -1]
    return float(torch.nn.functional.cross_entropy(logits.float(), torch.tensor(resp)))


def test_score_both_parts_fills_tokens_matches_reference_and_resumes(scored_store, tiny, db_path):
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "score",
            "--db",
            str(db_path),
            "--model",
            tiny,
            "--part",
            "both",
            "--scorer",
            "tiny",
            "--batch-size",
            "2",
            "--device",
            "cpu",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["selected"] == 3 and report["scored"] == {"full": 3, "thought": 2}
    with scored_store.read() as conn:
        rows = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                "SELECT trajectory_id, part, mean_nll, ppl, n_tokens FROM perplexity WHERE scorer = 'tiny'"
            ).fetchall()
        }
        n_tokens = dict(conn.execute("SELECT id, n_tokens FROM trajectory").fetchall())
        view = dict(conn.execute("SELECT id, thought_ppl FROM trajectories").fetchall())
    assert set(rows) == {("t0", "full"), ("t1", "full"), ("t2", "full"), ("t0", "thought"), ("t1", "thought")}
    for (tid, part), (nll, ppl, n) in rows.items():
        assert ppl == pytest.approx(math.exp(nll)) and n > 0
        if part == "full":
            assert n_tokens[tid] == n
    assert view["t0"] == rows[("t0", "thought")][1] and view["t2"] is None
    assert rows[("t0", "full")][0] == pytest.approx(plain_nll(tiny, "What is 2 + 2?", TEXTS[0]), rel=1e-3)
    thought = TEXTS[1][: TEXTS[1].index("<|end_of_thought|>") + len("<|end_of_thought|>")]
    assert rows[("t1", "thought")][0] == pytest.approx(plain_nll(tiny, "What is 2 + 2?", thought), rel=1e-3)
    again = json.loads(
        runner.invoke(
            app, ["score", "--db", str(db_path), "--model", tiny, "--part", "both", "--scorer", "tiny", "--json"]
        ).stdout
    )
    assert again["selected"] == 0


def test_score_tokens_keeps_each_tokens_nll_and_span(scored_store, tiny, db_path):
    """--tokens: per-token NLLs whose mean is the stored mean NLL, spans that tile the scored text and
    match the tokenizer's own tokens; rows scored before without tokens are scored again."""
    from transformers import AutoTokenizer

    from store import token_nll

    runner = CliRunner()
    base = ["score", "--db", str(db_path), "--model", tiny, "--scorer", "tiny", "--device", "cpu", "--json"]
    assert runner.invoke(app, base).exit_code == 0
    with scored_store.read() as conn:
        assert conn.execute("SELECT count(*) FROM token_nll").fetchone()[0] == 0
    out = runner.invoke(app, [*base, "--tokens"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["selected"] == 3  # scored before, but without tokens
    tok = AutoTokenizer.from_pretrained(tiny)
    with scored_store.read() as conn:
        for tid, text in zip(("t0", "t1", "t2"), TEXTS):
            scorer, part, tokens = token_nll.read(conn, tid)
            mean_nll, n = conn.execute(
                "SELECT mean_nll, n_tokens FROM perplexity WHERE trajectory_id = ?", [tid]
            ).fetchone()
            assert (scorer, part, tokens.n_tokens, tokens.text_chars) == ("tiny", "full", n, len(text))
            assert float(tokens.nll.mean()) == pytest.approx(mean_nll, rel=2e-3)  # float16 rounding only
            pieces = [text[s:e] for s, e in zip(tokens.starts, tokens.ends)]
            assert "".join(pieces) == text[: tokens.ends[-1]] and text[tokens.ends[-1] :].strip() == ""
            ids = tok(text, add_special_tokens=False)["input_ids"]
            assert [tok.decode([i]) for i in ids][-3:] == pieces[-3:]
            first, end = tokens.tokens_in(text.index("<|end_of_thought|>") if tid != "t2" else 0, len(text))
            assert 0 <= first < end == n
    again = runner.invoke(app, [*base, "--tokens"])
    assert json.loads(again.stdout)["selected"] == 0
