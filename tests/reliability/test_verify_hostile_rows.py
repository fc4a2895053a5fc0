"""Items 2 and 3 through the store: a stored trajectory whose answer is a number of over 4,300 digits, or
2.28 MB of box spam, used to crash `still2 verify` on the same batch at every rerun (explore and eval call
the same code). Now every rerun finishes, each row with a verdict, under the per-item timeout."""

from __future__ import annotations

import json
import time

from typer.testing import CliRunner

from pipeline.cli import app
from tests.reliability.bad_inputs import skyt1_line

cli = CliRunner()
STILL = (
    "<|begin_of_thought|>\n\nstep one\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n{body}\n\n<|end_of_solution|>"
)
HOSTILE = {
    "huge power": ("7", "\\boxed{10^{4301}}"),
    "huge exponent": ("7", "\\boxed{1e4400}"),
    "tiny number": ("1", "\\boxed{0.3\\times10^{-8574}}"),
    "equal huge": ("1e9999", "\\boxed{10^{9999}}"),
    "open boxes": ("1", "\\boxed{" * 326_000),  # 2.28 MB: 173 s with --timeout 1 before
    "closed boxes": ("1", "\\boxed{1}" * 200_000),
}


def test_verify_reruns_finish_over_huge_numbers_and_box_spam(tmp_path):
    src = tmp_path / "hostile.jsonl"
    src.write_text(
        "".join(
            skyt1_line(f"Question: {name}?", [STILL.format(body=pred)], gt=gold)
            for name, (gold, pred) in HOSTILE.items()
        ),
        encoding="utf-8",
    )
    db = str(tmp_path / "s.duckdb")
    assert cli.invoke(app, ["import", str(src), "--db", db]).exit_code == 0
    for _ in range(2):  # a rerun used to crash on the same batch again
        t0 = time.monotonic()
        result = cli.invoke(app, ["verify", "--db", db, "--timeout", "1", "--workers", "1", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["verified"] == len(HOSTILE)
        assert time.monotonic() - t0 < len(HOSTILE) * (1 + 8) + 60  # does not hang (generous on a loaded machine)
    query = "SELECT p.question, t.verdict, t.verdict_reason FROM trajectory t JOIN problem p ON p.id = t.problem_id"
    rows = json.loads(cli.invoke(app, ["sql", query, "--db", db, "--json"]).stdout)
    verdicts = {r["question"].removeprefix("Question: ").rstrip("?"): r["verdict"] for r in rows}
    assert verdicts == {
        "huge power": "incorrect",
        "huge exponent": "incorrect",
        "tiny number": "incorrect",
        "equal huge": "correct",
        "open boxes": "incorrect",
        "closed boxes": "incorrect",
    }
    assert all(r["verdict_reason"] for r in rows)
