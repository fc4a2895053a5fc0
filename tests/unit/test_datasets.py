"""Dataset versions: recipe selection (flags, lengths, perplexity, mixes, quotas), determinism, lineage, export, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.datasets import DatasetRecipe, build_dataset, dataset_summary, export_dataset, member_ids
from pipeline.datasets.quota import allocate
from pipeline.filters import run_filters
from store.importer import import_trajectories
from store.ingest import add_problems, add_trajectories, upsert
from store.trajectory_format import to_still

runner = CliRunner()
DOMAINS = {"math": 6, "code": 3, "science": 3}  # problems per domain


def synthetic(store):
    """12 problems over 3 domains; per problem 4 rollouts (3 correct on even problems = easy, 1 on odd = hard)."""
    problems, trajectories, ppl = [], [], []
    for domain, n in DOMAINS.items():
        for k in range(n):
            pid = f"{domain}-{k}"
            problems.append(
                {
                    "id": pid,
                    "source": "syn",
                    "domain": domain,
                    "difficulty": k % 5,
                    "question": f"Question {pid}?",
                    "question_hash": pid,
                    "answer": "1",
                }
            )
            for j in range(4):
                tid = f"{pid}-t{j}"
                correct = j < (3 if k % 2 == 0 else 1)
                thought = f"Thinking about {pid}, attempt {j}. " * (20 + 10 * j)
                trajectories.append(
                    {
                        "id": tid,
                        "problem_id": pid,
                        "text": to_still(thought, f"So $\\boxed{{{1 if correct else 2}}}$."),
                        "thought": thought.strip(),
                        "solution": f"So $\\boxed{{{1 if correct else 2}}}$.",
                        "format_style": "still",
                        "origin": "explore",
                        "model": f"M{j % 2}",
                        "run_id": f"run-{j % 2}",
                        "iteration": j % 2,
                        "verdict": "correct" if correct else "incorrect",
                    }
                )
                ppl.append(
                    {
                        "trajectory_id": tid,
                        "scorer": "S",
                        "part": "full",
                        "mean_nll": 0.1 * (j + k),
                        "ppl": 1.0 + j + 0.1 * k,
                        "n_tokens": 100,
                    }
                )
    with store.write() as conn:
        add_problems(conn, problems)
        add_trajectories(conn, trajectories)
        upsert(conn, "perplexity", ppl)
    return store


@pytest.fixture
def syn(store):
    return synthetic(store)


@pytest.fixture
def real(store, shared_data):
    # Imported as teacher outputs (origin distill): as evaluation outputs (the Sky-T1 default) they would
    # stay out of every dataset unless included by name (see test_default_build_leaks_no_eval_or_test_row).
    for name in ("trajectories_skyt1_14b_amc23.jsonl", "trajectories_skyt1_32b_aime24.jsonl"):
        import_trajectories(store, str(shared_data / "trajectories" / name), origin="distill")
    with store.write() as conn:  # what `still2 verify` would decide; the harness labels stand in for it here
        conn.execute("UPDATE trajectory SET verdict = CASE WHEN harness_correct THEN 'correct' ELSE 'incorrect' END")
    run_filters(store, ["format", "repetition", "too_short"])
    return store


def test_built_twice_from_same_store_and_recipe_is_identical(real):
    recipe = DatasetRecipe(min_thought_chars=2000, max_per_problem=1, seed=7)
    a = build_dataset(real, "d1", recipe)
    b = build_dataset(real, "d2", DatasetRecipe.from_dict(json.loads(recipe.to_json())))
    with real.read() as conn:
        assert member_ids(conn, "d1") == member_ids(conn, "d2") == a.selection.ids == b.selection.ids
        correct_unflagged = conn.execute(
            "SELECT count(*) FROM trajectories WHERE verdict = 'correct' AND len(flags) = 0 AND thought_chars >= 2000"
        ).fetchone()[0]
        stored = json.loads(conn.execute("SELECT recipe FROM dataset WHERE name = 'd1'").fetchone()[0])
    assert a.size == correct_unflagged == 29
    assert stored == recipe.to_dict() and stored["seed"] == 7


def test_flag_exclusion_and_verdict(real):
    everything = build_dataset(real, "any", DatasetRecipe(correct_only=False, exclude_flags=[]))
    only_format = build_dataset(real, "nofmt", DatasetRecipe(correct_only=False, exclude_flags=["format"]))
    assert (everything.size, only_format.size) == (70, 43)
    with pytest.raises(ValueError, match="exists"):
        build_dataset(real, "any", DatasetRecipe())
    assert build_dataset(real, "any", DatasetRecipe(), replace=True).size == 30


def test_parent_members_are_inherited_and_not_selected_again(syn):
    d0 = build_dataset(syn, "D0", DatasetRecipe(iteration_max=0))
    d1 = build_dataset(syn, "D1", DatasetRecipe(parent="D0"))
    with syn.read() as conn:
        rows = conn.execute("SELECT member_id, inherited FROM dataset_member WHERE dataset = 'D1'").fetchall()
    inherited = {m for m, inh in rows if inh}
    assert inherited == set(d0.selection.ids) and d1.inherited == d0.size == 19
    assert d1.size == 26 and not inherited & set(d1.selection.ids)
    with pytest.raises(ValueError, match="parent dataset 'nope' does not exist"):
        build_dataset(syn, "D2", DatasetRecipe(parent="nope"))


def test_perplexity_top_percent_per_domain(syn):
    result = build_dataset(syn, "ppl", DatasetRecipe(ppl_scorer="S", ppl_top_percent=25))
    # 26 correct: math 12, code 7, science 7 -> top 25% = 3 + 2 + 2, the highest perplexity of each domain.
    assert result.size == 7
    with syn.read() as conn:
        rows = conn.execute("""SELECT v.domain, min(px.ppl) FROM dataset_member m JOIN trajectories v ON v.id = m.member_id
                               JOIN perplexity px ON px.trajectory_id = v.id WHERE m.dataset = 'ppl' GROUP BY 1""").fetchall()
        floor = dict(
            conn.execute("""SELECT p.domain, max(px.ppl) FROM trajectory t JOIN problem p ON p.id = t.problem_id
                                     JOIN perplexity px ON px.trajectory_id = t.id WHERE t.verdict = 'correct'
                                     GROUP BY 1""").fetchall()
        )
    assert {d for d, _ in rows} == set(DOMAINS)
    assert all(low >= 2.0 for _, low in rows) and all(floor[d] >= low for d, low in rows)
    with pytest.raises(ValueError, match="needs ppl_scorer"):
        DatasetRecipe(ppl_top_percent=10)


def test_domain_mix_hard_ratio_size_and_seed(syn):
    mixed = build_dataset(
        syn, "mix", DatasetRecipe(domain_mix={"math": 0.5, "code": 0.25, "science": 0.25}, size=8, seed=1)
    )
    assert {k: v["taken"] for k, v in mixed.selection.strata.items()} == {"math": 4, "code": 2, "science": 2}
    # hard = pass rate < 0.5: odd problems (1 of 4 correct) -> 5 hard correct, 21 normal correct.
    hard = build_dataset(syn, "hard", DatasetRecipe(hard_ratio=0.5))
    assert {k: v["taken"] for k, v in hard.selection.strata.items()} == {"hard": 5, "normal": 5}
    capped = build_dataset(syn, "cap", DatasetRecipe(max_per_problem=1, correct_only=False))
    assert capped.size == 12
    other_seed = build_dataset(
        syn, "mix2", DatasetRecipe(domain_mix={"math": 0.5, "code": 0.25, "science": 0.25}, size=8, seed=2)
    )
    same_seed = build_dataset(
        syn, "mix3", DatasetRecipe(domain_mix={"math": 0.5, "code": 0.25, "science": 0.25}, size=8, seed=1)
    )
    assert same_seed.selection.ids == mixed.selection.ids != other_seed.selection.ids


def test_allocate_follows_ratios_and_caps():
    assert allocate({"a": 10, "b": 10}, {"a": 0.7, "b": 0.3}, 10) == {"a": 7, "b": 3}
    assert allocate({"a": 10, "b": 1}, {"a": 0.5, "b": 0.5}, None) == {"a": 1, "b": 1}
    assert allocate({"a": 2, "b": 10}, {"a": 0.5, "b": 0.5}, 10) == {"a": 2, "b": 5}
    assert allocate({"a": 5, "c": 5}, {"a": 1.0}, None) == {"a": 5, "c": 0}


def test_show_table3_layout_difficulty_and_lineage(syn):
    build_dataset(syn, "D0", DatasetRecipe(iteration_max=0))
    build_dataset(syn, "D1", DatasetRecipe(parent="D0"))
    s = dataset_summary(syn, "D1")
    assert s["n_members"] == 26 and s["ancestors"] == ["D0"]
    by_domain = {d["domain"]: d for d in s["domains"]}
    assert {d: v["count"] for d, v in by_domain.items()} == {"math": 12, "code": 7, "science": 7}
    assert s["total"]["count"] == 26 and s["total"]["inherited"] == 19
    assert by_domain["math"]["avg_thought_chars"] > 0 and by_domain["math"]["avg_solution_chars"] > 0
    assert {(r["origin"], r["run_id"], r["model"], r["iteration"]): r["count"] for r in s["lineage"]} == {
        ("explore", "run-0", "M0", 0): 19,
        ("explore", "run-1", "M1", 1): 7,
    }
    assert sum(r["count"] for r in s["difficulty"] if r["level"] == "hard") == 5


def test_export_messages_and_prompt_completion(syn, tmp_path):
    build_dataset(syn, "D", DatasetRecipe(domains=["code"]))
    n = export_dataset(syn, "D", tmp_path / "d.jsonl")
    rows = [json.loads(line) for line in open(tmp_path / "d.jsonl")]
    assert n == len(rows) == 7
    assert [m["role"] for m in rows[0]["messages"]] == ["system", "user", "assistant"]
    assert rows[0]["messages"][2]["content"].startswith("<|begin_of_thought|>")
    export_dataset(syn, "D", tmp_path / "d.parquet", shape="prompt-completion")
    import pyarrow.parquet as pq

    assert set(pq.read_table(tmp_path / "d.parquet").column_names) == {"prompt", "completion"}


def test_recipe_file_flags_and_errors(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"min_thought_chars": 500, "domain_mix": {"math": 1}}))
    recipe = DatasetRecipe.from_file(path).updated(seed=3, min_thought_chars=None)
    assert (recipe.min_thought_chars, recipe.seed, recipe.domain_mix) == (500, 3, {"math": 1})
    path.write_text(json.dumps({"min_chars": 5}))
    with pytest.raises(ValueError, match="unknown recipe field"):
        DatasetRecipe.from_file(path)


def test_cli_dataset_build_list_show_export(syn, db_path, tmp_path):
    db = str(db_path)
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"domain_mix": {"math": 0.5, "code": 0.5}, "seed": 4}))
    out = runner.invoke(app, ["dataset", "build", "A", "--db", db, "--recipe", str(recipe), "--size", "6", "--json"])
    assert out.exit_code == 0, out.output
    built = json.loads(out.stdout)
    assert built["size"] == 6 and built["recipe"]["size"] == 6 and built["recipe"]["seed"] == 4
    again = runner.invoke(app, ["dataset", "build", "B", "--db", db, "--recipe", str(recipe), "--size", "6", "--json"])
    with syn.read() as conn:
        assert member_ids(conn, "A") == member_ids(conn, "B")
    assert again.exit_code == 0
    child = runner.invoke(
        app,
        [
            "dataset",
            "build",
            "C",
            "--db",
            db,
            "--parent",
            "A",
            "--domains",
            "science",
            "--exclude-flags",
            "",
            "--max-per-problem",
            "1",
        ],
    )
    assert child.exit_code == 0, child.output
    listing = json.loads(runner.invoke(app, ["dataset", "list", "--db", db, "--json"]).stdout)
    assert [(d["name"], d["parent"], d["n_members"]) for d in listing] == [
        ("A", None, 6),
        ("B", None, 6),
        ("C", "A", 9),
    ]
    shown = runner.invoke(app, ["dataset", "show", "C", "--db", db])
    assert shown.exit_code == 0 and "Table 3" in shown.output and "science" in shown.output and "run-0" in shown.output
    exported = runner.invoke(app, ["dataset", "export", "C", str(tmp_path / "c.jsonl"), "--db", db, "--json"])
    assert json.loads(exported.stdout)["rows"] == 9
    bad = runner.invoke(app, ["dataset", "build", "E", "--db", db, "--ppl-top-percent", "10"])
    assert bad.exit_code == 1 and "needs ppl_scorer" in bad.output
