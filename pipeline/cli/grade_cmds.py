"""`still2 grade FILE.jsonl`: grade {gold, pred, kind} rows with the answer verifier and write them back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.verify_cmds import AnswerPolicyOption, check_policy


def register(app: typer.Typer) -> None:
    @app.command("grade")
    def grade(
        file: Annotated[
            Path,
            typer.Argument(
                help='JSONL rows {"gold": ..., "pred": ..., "kind": "math"|"mc"|"int"|"code"} '
                '(optional "finish_reason": "stop"|"length").'
            ),
        ],
        out: Annotated[
            Optional[Path], typer.Option("--out", "-o", help="Write graded rows here (default: stdout).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the summary as JSON (stdout with --out, else stderr).")
        ] = False,
        timeout: Annotated[
            float,
            typer.Option(
                "--timeout",
                min=0.1,
                help="Hard time limit per row (reading the answer, and the comparison), seconds (code: per test case).",
            ),
        ] = 5.0,
        answer_policy: AnswerPolicyOption = "default",
        workers: Annotated[
            Optional[int], typer.Option("--workers", min=1, help="Worker processes (default: CPUs).")
        ] = None,
        db: Annotated[
            Optional[Path], typer.Option("--db", hidden=True, help="Accepted for uniformity; unused.")
        ] = None,
    ) -> None:
        """Grade predictions against gold answers; adds `equal`, `extracted`, `reason` and `answer_source` to every
        row."""
        import json
        import sys

        from pipeline.cli.common import err_console, fail, progress
        from pipeline.verifier import VERIFIER_VERSION, GradeInputError, grade_file

        policy = check_policy(answer_policy)
        if not file.is_file():
            raise fail(f"{file}: no such file")
        try:
            n_lines = sum(1 for line in file.open(encoding="utf-8", errors="replace") if line.strip())
        except OSError as e:
            raise fail(f"{file}: {e.strerror}") from None
        show_bar = n_lines >= 50 and sys.stderr.isatty()
        try:
            if show_bar:
                with progress() as bar:
                    task = bar.add_task("grading", total=n_lines)
                    summary = grade_file(
                        file,
                        out,
                        timeout=timeout,
                        workers=workers,
                        policy=policy,
                        progress=lambda n: bar.update(task, completed=n),
                    )
            else:
                summary = grade_file(file, out, timeout=timeout, workers=workers, policy=policy)
        except GradeInputError as e:
            raise fail(f"{e.path}, line {e.line}: {e.message}") from None
        except OSError as e:
            raise fail(f"{getattr(e, 'filename', None) or out}: {e.strerror}") from None
        summary["verifier_version"] = VERIFIER_VERSION
        if as_json:
            text = json.dumps(summary, indent=2)
            if out is not None:
                sys.stdout.write(text + "\n")
            else:
                sys.stderr.write(text + "\n")
            return
        from rich.table import Table

        table = Table(title=f"graded {file} (answer policy {summary['answer_policy']})", show_header=True)
        table.add_column("n", justify="right")
        table.add_column("equal", justify="right", style="green")
        table.add_column("not equal", justify="right", style="red")
        table.add_column("no answer", justify="right")
        table.add_column("timeouts", justify="right", style="yellow")
        table.add_column("unparseable", justify="right")
        table.add_column("cut off", justify="right")
        table.add_row(
            *(str(summary[k]) for k in ("n", "equal", "not_equal", "no_answer", "timeouts", "unparseable", "cut_off"))
        )
        con = err_console()
        con.print(table)
        con.print(
            "answer read from: " + ", ".join(f"{k} {v}" for k, v in summary["by_source"].items()), highlight=False
        )
        if out is not None:
            con.print(f"wrote {summary['n']} rows to {out} in {summary['seconds']} s", highlight=False)
