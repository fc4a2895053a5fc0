"""Dataset cards and `dataset push`: the card's facts come from the store; a push to a local Hub-API server
(tests/hub_stub.py, through HF_ENDPOINT) loads back with `datasets.load_dataset` row for row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.datasets import DatasetRecipe, build_dataset
from pipeline.datasets.card import card_facts, render_card
from pipeline.datasets.hub import branch_name, export_folder
from pipeline.filters import run_filters
from store.ingest import add_problems, add_trajectories
from store.trajectory_format import parse_response, to_still
from tests.hub_stub import HubStub

REPO = Path(__file__).resolve().parents[2]
BENCH_Q = "Find the number of ordered pairs $(x, y)$ of integers with $x^2 + y^2 = 25$ and $x > 0$."


def _fill(store):
    """Train problems (one copies a benchmark), a benchmark, flagged and clean rollouts, D0 and its child D1."""
    problems = [
        {
            "id": f"gen:{i}",
            "source": "gen",
            "question": f"What is {i} + {i}?",
            "question_hash": f"h{i}",
            "answer": str(2 * i),
            "domain": "math" if i % 3 else "science",
            "difficulty": 1 + i % 4,
            "split": "train",
        }
        for i in range(12)
    ]
    problems.append(
        {
            "id": "copy:1",
            "source": "scraped",
            "question": "Problem 3. " + BENCH_Q,
            "question_hash": "c1",
            "answer": "4",
            "domain": "math",
            "difficulty": 5,
            "split": "train",
        }
    )
    problems.append(
        {
            "id": "math500:q",
            "source": "math500",
            "question": BENCH_Q,
            "question_hash": "b1",
            "answer": "4",
            "domain": "math",
            "difficulty": None,
            "split": None,
        }
    )
    rows = []
    for i, p in enumerate(problems[:-1]):
        for k in range(2):
            text = to_still(
                "Let me think.\n\n" + " ".join(["step"] * (30 + 10 * i)) + f"\n\nSo it is {p['answer']}.",
                f"The answer is \\boxed{{{p['answer']}}}.",
            )
            parsed = parse_response(text)
            rows.append(
                {
                    "id": f"t{i}-{k}",
                    "problem_id": p["id"],
                    "text": text,
                    "thought": parsed.thought,
                    "solution": parsed.solution,
                    "format_style": parsed.style,
                    "verdict": "correct",
                    "verifier_version": "test-1",
                    "origin": "distill" if i < 6 else "explore",
                    "model": "teacher" if i < 6 else "m1",
                    "run_id": "run-d" if i < 6 else "run-e",
                    "iteration": 0 if i < 6 else 1,
                    "sample_index": k,
                    "n_tokens": 40 + 10 * i,
                }
            )
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, rows)
        conn.execute(
            "INSERT INTO run (id, kind, args, state) VALUES ('run-d', 'distill', '{\"engine\": \"openai\", "
            "\"model\": \"teacher\"}', 'done'), ('run-e', 'explore', '{\"engine\": \"transformers\", "
            '"model": "m1"}\', \'done\')'
        )
    run_filters(store, ["contamination", "duplicate"])
    build_dataset(store, "D0", DatasetRecipe(origins=["distill"], exclude_flags=[]), note="distilled seed")
    build_dataset(store, "D1", DatasetRecipe(parent="D0", origins=["explore"], exclude_flags=[], max_per_problem=1))


def test_card_states_recipe_lineage_filters_decontamination_and_lengths(store, tmp_path):
    _fill(store)
    info = export_folder(store, "D1", tmp_path / "out", shape="prompt-completion", license="apache-2.0")
    readme = (tmp_path / "out" / "README.md").read_text()
    _, header, body = readme.split("---", 2)
    meta = yaml.safe_load(header)
    assert meta["license"] == "apache-2.0" and meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}
    ]
    assert {"reasoning", "math", "science"} <= set(meta["tags"])
    table = pq.read_table(tmp_path / "out" / "data" / "train-00000-of-00001.parquet")
    assert table.num_rows == info["rows"] and table.column_names == ["prompt", "completion"]
    facts = card_facts(store, "D1")
    # D0: 6 distilled problems x 2 rollouts; D1 adds one explored rollout per clean problem (the copy is left out)
    assert facts["summary"]["n_members"] == info["rows"] == 12 + 6
    assert facts["summary"]["excluded"] == {"contaminated": {"math500": 2}}  # both rollouts of the copy
    recipe_json = body.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(recipe_json) == facts["summary"]["recipe"] and json.loads(recipe_json)["parent"] == "D0"
    assert "Parent version: `D0`" in body and "| run-e | explore | transformers | m1 | done |" in body
    assert "| contaminated | math500 | 2 |" in body and "math500 (1 problems)" in body
    assert "| contamination | 2 | 0 |" in body and "question matches math500" in body  # both rollouts of the copy
    assert "| test-1 | default | correct | 18 |" in body
    lengths = facts["lengths"]
    assert lengths["n"] == 18 and lengths["tokens_max"] == 40 + 10 * 11
    assert f"| math | {facts['summary']['domains'][0]['count']} |" in body


def _env(hub, token, home=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(home or hub.home))
    if token:
        env["HF_TOKEN"] = token
    return env


def _still2(args, env):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )


# A user's load_dataset in a process of its own. It ends with os._exit once the rows are printed: a CI run
# saw this process abort in the library's interpreter teardown ("terminate called without an active
# exception", SIGABRT) after loading the 18 rows, which says nothing about what was pushed.
LOAD = """
import json, os, sys
import datasets
ds = datasets.load_dataset(sys.argv[1], revision=sys.argv[2], split="train")
print(json.dumps(ds.to_list()), flush=True)
os._exit(0)
"""


def test_push_round_trips_through_a_local_hub(store, db_path, tmp_path):
    _fill(store)
    store.close()
    with HubStub(token="hf_secret") as hub:
        hub.home = tmp_path / "hf-home"
        env = _env(hub, "hf_secret")
        pushed = _still2(["dataset", "push", "D1", "lab/still2-d1", "--private", "--db", str(db_path), "--json"], env)
        assert pushed.returncode == 0, pushed.stderr
        info = json.loads(pushed.stdout)
        assert info["revision"] == "D1" and set(info["commits"]) == {"D1", "main"}
        repo = hub.state.repos[("dataset", "lab/still2-d1")]
        assert repo.private and repo.branches["D1"] == info["commits"]["D1"]
        assert hub.state.validated and hub.state.validated[-1]["configs"][0]["config_name"] == "default"
        # load back with the datasets library, as a reader would, and compare with a local export
        local = export_folder(store, "D1", tmp_path / "local")
        expected = pq.read_table(tmp_path / "local" / "data" / "train-00000-of-00001.parquet").to_pylist()
        for revision in ("D1", "main"):
            loaded = subprocess.run(
                [sys.executable, "-c", LOAD, "lab/still2-d1", revision],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert loaded.returncode == 0, loaded.stderr
            assert json.loads(loaded.stdout) == expected and len(expected) == local["rows"]
        card = repo.commits[repo.branches["D1"]]["files"]["README.md"].decode()
        assert 'load_dataset("lab/still2-d1", revision="D1", split="train")' in card
        # a second version goes to its own branch; the first stays as it was
        with_parent = _still2(["dataset", "push", "D0", "lab/still2-d1", "--no-main", "--db", str(db_path)], env)
        assert with_parent.returncode == 0, with_parent.stderr
        assert repo.branches["D1"] == info["commits"]["D1"] and "D0" in repo.branches
        assert repo.branches["main"] == info["commits"]["main"]
        # no token, a wrong token, a private repo read without a token: clear failures
        assert (
            "no Hub token" in _still2(["dataset", "push", "D1", "lab/x", "--db", str(db_path)], _env(hub, None)).stderr
        )
        bad = _still2(["dataset", "push", "D1", "lab/x", "--db", str(db_path)], _env(hub, "wrong"))
        assert bad.returncode == 1 and "401" in bad.stderr
        anonymous = subprocess.run(
            [sys.executable, "-c", LOAD, "lab/still2-d1", "D1"],
            env=_env(hub, None, tmp_path / "fresh-home"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert anonymous.returncode != 0


def test_branch_names_are_valid_git_refs():
    assert branch_name("D1") == "D1" and branch_name("my set v2") == "my-set-v2"
    assert branch_name("a..b") == "a-b" and branch_name("../x") == "x"


@pytest.mark.parametrize("shape", ["messages", "raw"])
def test_render_card_without_repo_has_no_load_snippet(store, shape):
    _fill(store)
    text = render_card(card_facts(store, "D0"), shape=shape)
    assert "load_dataset" not in text and f"TRL's `{shape}` shape" in text
    assert "No parent version" in text
