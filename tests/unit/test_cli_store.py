"""The still2 CLI's store commands end to end through Typer's runner: init, import, export, sql, stats, problems."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_init_is_idempotent_and_reports_version(db_path):
    first = json.loads(run("init", "--db", str(db_path), "--json").stdout)
    second = json.loads(run("init", "--db", str(db_path), "--json").stdout)
    assert first["created"] is True and second["created"] is False
    assert first["schema_version"] == second["schema_version"] == first["latest_version"]


def test_db_from_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("STILL2_DB", str(db))
    run("problems", "generate", "--kind", "arithmetic", "-n", "3")
    assert db.exists()


def test_import_stats_sql_export(db_path, shared_data, tmp_path):
    db = str(db_path)
    out = run(
        "import",
        str(shared_data / "benchmarks" / "amc23.jsonl"),
        str(shared_data / "trajectories" / "trajectories_skyt1_14b_amc23.jsonl"),
        "--db",
        db,
        "--json",
    )
    reports = json.loads(out.stdout)
    assert [(r["kind"], r["added"]) for r in reports] == [("problems", 40), ("trajectories", 40)]

    stats = json.loads(run("stats", "--db", db, "--json").stdout)
    assert (stats["problems"], stats["trajectories"]) == (40, 40)
    assert stats["trajectories_by_origin"][0]["origin"] == "eval"

    rows = json.loads(
        run("sql", "SELECT count(*) AS n FROM trajectories WHERE harness_correct", "--db", db, "--json").stdout
    )
    assert rows == [{"n": 22}]

    refused = run("sql", "DELETE FROM trajectory", "--db", db, ok=False)
    assert refused.exit_code == 1 and "not a read" in refused.output and "--write" in refused.output
    assert json.loads(run("stats", "--db", db, "--json").stdout)["trajectories"] == 40

    target = tmp_path / "sft.jsonl"
    # Sky-T1 outputs are evaluation outputs on a benchmark (AMC23): they leave the store only when named.
    run("export", str(target), "--db", db, "--where", "harness_correct")
    assert target.read_text() == ""
    run("export", str(target), "--db", db, "--where", "harness_correct", "--allow", "eval,test")
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 22
    roles = [m["role"] for m in lines[0]["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert "<|begin_of_thought|>" in lines[0]["messages"][2]["content"]

    pc = tmp_path / "pc.parquet"
    run("export", str(pc), "--db", db, "--shape", "prompt-completion", "--no-system", "--allow", "eval,test")
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(pc), split="train")
    assert len(ds) == 40 and ds.column_names == ["prompt", "completion"]
    assert ds[0]["prompt"][0]["role"] == "user" and ds[0]["completion"][0]["role"] == "assistant"

    hf = tmp_path / "hf_problems"
    run("export", str(hf), "--db", db, "--what", "problems")
    assert len(datasets.load_from_disk(str(hf))) == 40


def test_import_error_exit_code_and_message(db_path, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem": "Q", "answer": "1"}\n{"problem": "Q2"}\n')
    result = run("problems", "add", str(bad), "--db", str(db_path), ok=False)
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "nothing imported" in result.output
    ok = run("problems", "add", str(bad), "--db", str(db_path), "--skip-bad", "--json")
    assert json.loads(ok.stdout)[0]["skipped"] == [{"line": 2, "error": ok_error(ok)}]


def ok_error(result) -> str:
    return json.loads(result.stdout)[0]["skipped"][0]["error"]


def test_problems_generate_is_deterministic_and_listed(tmp_path):
    a, b = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    for db in (a, b):
        run("problems", "generate", "--kind", "mixed", "--difficulty", "2", "-n", "12", "--seed", "3", "--db", db)
    q = "SELECT id, question, answer FROM problem ORDER BY id"
    assert json.loads(run("sql", q, "--db", a, "--json").stdout) == json.loads(
        run("sql", q, "--db", b, "--json").stdout
    )
    again = json.loads(
        run(
            "problems",
            "generate",
            "--kind",
            "mixed",
            "--difficulty",
            "2",
            "-n",
            "12",
            "--seed",
            "3",
            "--db",
            a,
            "--json",
        ).stdout
    )
    assert (again["generated"], again["added"]) == (12, 0)
    listed = json.loads(run("problems", "list", "--db", a, "--json", "--limit", "100").stdout)
    assert len(listed) == 12 and all(p["rollouts"] == 0 for p in listed)


def test_unknown_generator_kind_is_a_clear_error(db_path):
    result = run("problems", "generate", "--kind", "nope", "--db", str(db_path), ok=False)
    assert result.exit_code == 1 and "arithmetic" in result.output


@pytest.mark.parametrize("cmd", [["stats"], ["sql", "select 1"], ["export", "x.jsonl"]])
def test_missing_store_is_an_error_not_a_new_file(tmp_path, cmd):
    db = tmp_path / "nope.duckdb"
    result = run(*cmd, "--db", str(db), ok=False)
    assert result.exit_code == 1 and "no store" in result.output
    assert not db.exists()


def test_an_engine_failure_is_one_line_not_a_traceback(db_path, monkeypatch):
    """An unreachable server (EngineError from any command) ends as `error: engine: ...` with exit code 1."""
    from pipeline.engines.base import EngineError
    from pipeline.engines.spec import EngineSpec

    assert (
        runner.invoke(
            app, ["problems", "generate", "--kind", "arithmetic", "-n", "2", "--split", "test", "--db", str(db_path)]
        ).exit_code
        == 0
    )

    def unreachable(self, model):
        raise EngineError("POST http://127.0.0.1:9/v1/chat/completions failed after 6 attempts")

    monkeypatch.setattr(EngineSpec, "build", unreachable)
    result = runner.invoke(
        app, ["eval", "--db", str(db_path), "--engine", "openai", "--model", "m", "-b", "gen-arithmetic-d2-s0:test"]
    )
    assert result.exit_code == 1, result.output
    assert "error: engine: POST http://127.0.0.1:9" in result.output and "Traceback" not in result.output
