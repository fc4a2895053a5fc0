"""The store's schema: ordered migrations (a file made by any older version upgrades on open) and views.

Tables hold facts; views join them the way a researcher queries them. Views are recreated whenever
their definition changes, so they are never part of a migration. README.md documents every column.
"""

from __future__ import annotations

import hashlib

import duckdb

# Each migration is (version, description, statements). Never edit a released migration: add one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "problems, trajectories, runs, imports",
        [
            """CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
            """CREATE TABLE problem (
                id VARCHAR PRIMARY KEY,
                source VARCHAR NOT NULL,
                source_key VARCHAR,
                domain VARCHAR NOT NULL DEFAULT 'math',
                subject VARCHAR,
                difficulty INTEGER,
                question VARCHAR NOT NULL,
                question_hash VARCHAR NOT NULL,
                answer VARCHAR,
                answer_kind VARCHAR NOT NULL DEFAULT 'math',
                solution VARCHAR,
                choices VARCHAR[],
                split VARCHAR,
                tags VARCHAR[],
                meta JSON,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE trajectory (
                id VARCHAR PRIMARY KEY,
                problem_id VARCHAR NOT NULL,
                text VARCHAR NOT NULL,
                thought VARCHAR,
                solution VARCHAR,
                format_style VARCHAR,
                format_flags VARCHAR[],
                extracted VARCHAR,
                verdict VARCHAR NOT NULL DEFAULT 'unverified',
                verdict_reason VARCHAR,
                verifier_version VARCHAR,
                harness_pred VARCHAR,
                harness_correct BOOLEAN,
                n_tokens INTEGER,
                n_chars INTEGER,
                thought_chars INTEGER,
                solution_chars INTEGER,
                origin VARCHAR NOT NULL,
                model VARCHAR,
                run_id VARCHAR,
                iteration INTEGER,
                sample_index INTEGER,
                sampling JSON,
                finish_reason VARCHAR,
                seconds DOUBLE,
                status VARCHAR NOT NULL DEFAULT 'pending',
                source_file VARCHAR,
                source_line INTEGER,
                meta JSON,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE run (
                id VARCHAR PRIMARY KEY,
                kind VARCHAR NOT NULL,
                args JSON,
                state VARCHAR NOT NULL DEFAULT 'queued',
                pid INTEGER,
                host VARCHAR,
                log_path VARCHAR,
                progress JSON,
                started TIMESTAMP,
                ended TIMESTAMP,
                error VARCHAR,
                parent VARCHAR
            )""",
            """CREATE TABLE import_log (
                path VARCHAR NOT NULL,
                sha256 VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,
                format VARCHAR,
                rows_read INTEGER,
                rows_added INTEGER,
                rows_skipped INTEGER,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
        ],
    ),
    (
        2,
        "curation: filter flags, perplexity, pairs, datasets, models, evals",
        [
            """CREATE TABLE flag (
                trajectory_id VARCHAR NOT NULL,
                rule VARCHAR NOT NULL,
                reason VARCHAR,
                params JSON,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (trajectory_id, rule)
            )""",
            """CREATE TABLE perplexity (
                trajectory_id VARCHAR NOT NULL,
                scorer VARCHAR NOT NULL,
                part VARCHAR NOT NULL DEFAULT 'full',
                mean_nll DOUBLE NOT NULL,
                ppl DOUBLE NOT NULL,
                n_tokens INTEGER,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (trajectory_id, scorer, part)
            )""",
            """CREATE TABLE pair (
                id VARCHAR PRIMARY KEY,
                problem_id VARCHAR NOT NULL,
                chosen_id VARCHAR NOT NULL,
                rejected_id VARCHAR NOT NULL,
                part VARCHAR NOT NULL DEFAULT 'full',
                status VARCHAR NOT NULL DEFAULT 'pending',
                rule VARCHAR,
                meta JSON,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE dataset (
                name VARCHAR PRIMARY KEY,
                parent VARCHAR,
                kind VARCHAR NOT NULL DEFAULT 'sft',
                recipe JSON,
                n_members INTEGER,
                note VARCHAR,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE dataset_member (
                dataset VARCHAR NOT NULL,
                member_id VARCHAR NOT NULL,
                inherited BOOLEAN NOT NULL DEFAULT false,
                PRIMARY KEY (dataset, member_id)
            )""",
            """CREATE TABLE model (
                id VARCHAR PRIMARY KEY,
                path VARCHAR NOT NULL,
                base VARCHAR,
                parent VARCHAR,
                dataset VARCHAR,
                method VARCHAR,
                recipe JSON,
                metrics JSON,
                run_id VARCHAR,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE eval_result (
                model VARCHAR NOT NULL,
                benchmark VARCHAR NOT NULL,
                metric VARCHAR NOT NULL,
                value DOUBLE NOT NULL,
                n INTEGER,
                run_id VARCHAR,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
        ],
    ),
    (
        3,
        "notes, tags and the undoable event log",
        [
            """CREATE SEQUENCE note_seq START 1""",
            """CREATE TABLE note (
                id BIGINT PRIMARY KEY DEFAULT nextval('note_seq'),
                target_kind VARCHAR NOT NULL,
                target_id VARCHAR NOT NULL,
                text VARCHAR NOT NULL,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE tag (
                target_kind VARCHAR NOT NULL,
                target_id VARCHAR NOT NULL,
                tag VARCHAR NOT NULL,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (target_kind, target_id, tag)
            )""",
            """CREATE SEQUENCE event_seq START 1""",
            """CREATE TABLE event (
                id BIGINT PRIMARY KEY,
                ts TIMESTAMP NOT NULL DEFAULT current_timestamp,
                action VARCHAR NOT NULL,
                target_kind VARCHAR NOT NULL,
                field VARCHAR NOT NULL,
                n INTEGER NOT NULL,
                detail VARCHAR,
                actor VARCHAR,
                state VARCHAR NOT NULL DEFAULT 'done'
            )""",
            """CREATE TABLE event_item (
                event_id BIGINT NOT NULL,
                target_id VARCHAR NOT NULL,
                before VARCHAR,
                after VARCHAR
            )""",
        ],
    ),
    (
        4,
        "full-text search token index (store/search_index.py)",
        [
            # Which trajectories are indexed, under a dense document number (1, 2, ... in indexing order).
            """CREATE TABLE search_doc (
                doc BIGINT NOT NULL,
                trajectory_id VARCHAR NOT NULL
            )""",
            # One row per (indexing batch, token): the sorted doc numbers of the batch's trajectories with it.
            """CREATE TABLE search_posting (
                token VARCHAR NOT NULL,
                docs BIGINT[] NOT NULL
            )""",
        ],
    ),
    (
        5,
        "per-token surprise, overthinking metrics, step labels (store/token_nll.py, store/step_labels.py)",
        [
            # One row per (trajectory, scorer, part) scored with `still2 score --tokens`: the NLL of each
            # response token and where it ends in the scored response text (store/token_nll.py).
            """CREATE TABLE token_nll (
                trajectory_id VARCHAR NOT NULL,
                scorer VARCHAR NOT NULL,
                part VARCHAR NOT NULL DEFAULT 'full',
                n_tokens INTEGER NOT NULL,
                text_chars INTEGER NOT NULL,
                nll BLOB NOT NULL,
                token_chars BLOB NOT NULL,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (trajectory_id, scorer, part)
            )""",
            # `still2 metrics`: where the correct answer first appears in the thought, what follows it,
            # and how often the thought re-checks itself.
            """CREATE TABLE trajectory_metrics (
                trajectory_id VARCHAR PRIMARY KEY,
                thought_chars INTEGER,
                first_correct_char INTEGER,
                first_correct_step INTEGER,
                first_correct_how VARCHAR,
                chars_after_correct INTEGER,
                tokens_after_correct INTEGER,
                thought_tokens INTEGER,
                tokenizer VARCHAR,
                rechecks INTEGER NOT NULL,
                recheck_counts JSON,
                gold VARCHAR,
                version VARCHAR NOT NULL,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            # The first wrong step of a rollout, marked by a curator (undoable: store/curation.py).
            """CREATE TABLE step_label (
                trajectory_id VARCHAR PRIMARY KEY,
                first_wrong_step INTEGER NOT NULL,
                n_steps INTEGER NOT NULL,
                actor VARCHAR,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
        ],
    ),
    (
        6,
        "decontamination: structured flag detail (matched benchmark and span); rows a dataset build excluded",
        [
            # e.g. {"benchmark": "math500", "benchmark_problem_id": ..., "span": [start, end], ...}
            """ALTER TABLE flag ADD COLUMN detail JSON""",
            # {exclusion name: {group (e.g. benchmark): rows removed}}, written by `dataset build`.
            """ALTER TABLE dataset ADD COLUMN excluded JSON""",
        ],
    ),
    (
        7,
        "evaluation protocol: what every eval result was measured under, and its standard error",
        [
            f"ALTER TABLE eval_result ADD COLUMN {column}"
            for column in (
                "stderr DOUBLE",  # standard error of the value over problems
                "protocol VARCHAR",  # greedy | sampled | custom
                "prompt VARCHAR",  # still | cot | none | custom:<hash>
                "engine VARCHAR",
                "engine_version VARCHAR",
                "dtype VARCHAR",
                "max_new_tokens INTEGER",
                "seed INTEGER",
                "temperature DOUBLE",
                "top_p DOUBLE",
                "samples INTEGER",  # k samples per problem
            )
        ],
    ),
    (
        8,
        "verdict provenance: answer source and policy, LLM judge columns, accepted verdicts",
        [
            # where the verifier read the answer (box, anchor, bare, statement, choice, last_number, none)
            # and under which answer policy (strict, default, harness)
            "ALTER TABLE trajectory ADD COLUMN answer_source VARCHAR",
            "ALTER TABLE trajectory ADD COLUMN answer_policy VARCHAR",
            # the rule that decided the verdict (exact, numeric, math_verify, no_answer, cut_off, timeout ...)
            "ALTER TABLE trajectory ADD COLUMN verdict_rule VARCHAR",
            # a second opinion from `still2 judge`: correct | incorrect | unsure, the judge model, one line why
            "ALTER TABLE trajectory ADD COLUMN judge_verdict VARCHAR",
            "ALTER TABLE trajectory ADD COLUMN judge_model VARCHAR",
            "ALTER TABLE trajectory ADD COLUMN judge_reason VARCHAR",
            # who decided `verdict` when a curator accepted another opinion (harness | judge); NULL: the
            # verifier. `verifier_verdict` keeps the verifier's own verdict while another one is accepted.
            "ALTER TABLE trajectory ADD COLUMN verdict_by VARCHAR",
            "ALTER TABLE trajectory ADD COLUMN verifier_verdict VARCHAR",
            "ALTER TABLE eval_result ADD COLUMN answer_policy VARCHAR",
        ],
    ),
    (
        9,
        "every LLM judge's opinion: one row per (trajectory, judge model), backfilled from the judge columns",
        [
            # `still2 judge` writes one opinion per (row, model); a run with another model adds its own and
            # trajectory.judge_* show the latest. `mode`: undecided | audit (NULL: backfilled from v8).
            """CREATE TABLE judge_opinion (
                trajectory_id VARCHAR NOT NULL,
                judge_model VARCHAR NOT NULL,
                verdict VARCHAR NOT NULL,
                reason VARCHAR,
                mode VARCHAR,
                created TIMESTAMP NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (trajectory_id, judge_model)
            )""",
            # v8 kept one opinion per row (the last run's); its time was not recorded, so it gets the upgrade's
            """INSERT INTO judge_opinion (trajectory_id, judge_model, verdict, reason)
               SELECT id, coalesce(judge_model, 'unknown'), judge_verdict, judge_reason
               FROM trajectory WHERE judge_verdict IS NOT NULL""",
        ],
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

VIEWS: dict[str, str] = {
    # One row per trajectory with its problem, latest perplexity (full and thought-only), filter flags.
    "trajectories": """
        SELECT t.id, t.problem_id, p.source, p.domain, p.difficulty, p.question, p.answer AS gold,
               p.answer_kind, t.model, t.origin, t.run_id, t.iteration, t.sample_index,
               t.verdict, t.verdict_reason, t.verdict_rule, t.extracted, t.answer_source, t.answer_policy,
               t.verdict_by,
               CASE WHEN t.verdict_by IS NULL THEN t.verdict ELSE t.verifier_verdict END AS our_verdict,
               t.judge_verdict, t.judge_model, t.judge_reason, t.harness_correct, t.harness_pred,
               t.n_tokens, t.n_chars, t.thought_chars, t.solution_chars,
               ppl_full.ppl AS ppl, ppl_full.scorer AS ppl_scorer, ppl_thought.ppl AS thought_ppl,
               coalesce(f.flags, []::VARCHAR[]) AS flags, t.format_style, t.format_flags,
               t.status, t.finish_reason, t.created, t.text, t.thought, t.solution
        FROM trajectory t
        LEFT JOIN problem p ON p.id = t.problem_id
        LEFT JOIN (
            SELECT trajectory_id, arg_max(ppl, created) AS ppl, arg_max(scorer, created) AS scorer
            FROM perplexity WHERE part = 'full' GROUP BY trajectory_id
        ) ppl_full ON ppl_full.trajectory_id = t.id
        LEFT JOIN (
            SELECT trajectory_id, arg_max(ppl, created) AS ppl
            FROM perplexity WHERE part = 'thought' GROUP BY trajectory_id
        ) ppl_thought ON ppl_thought.trajectory_id = t.id
        LEFT JOIN (
            SELECT trajectory_id, list(rule ORDER BY rule) AS flags FROM flag GROUP BY trajectory_id
        ) f ON f.trajectory_id = t.id
    """,
    # Pass rate per problem over rollouts (explore + distill; eval and import kept apart).
    "problem_stats": """
        SELECT p.id AS problem_id, p.source, p.domain, p.difficulty, p.split,
               count(t.id) FILTER (WHERE t.origin IN ('explore', 'distill')) AS rollouts,
               count(t.id) FILTER (WHERE t.origin IN ('explore', 'distill') AND t.verdict = 'correct')
                   AS correct,
               count(t.id) AS trajectories,
               count(t.id) FILTER (WHERE t.verdict = 'correct') AS correct_any,
               CASE WHEN count(t.id) FILTER (WHERE t.origin IN ('explore', 'distill')) = 0 THEN NULL
                    ELSE count(t.id) FILTER (WHERE t.origin IN ('explore', 'distill')
                                             AND t.verdict = 'correct')::DOUBLE
                         / count(t.id) FILTER (WHERE t.origin IN ('explore', 'distill')) END
                   AS pass_rate,
               max(t.iteration) AS last_iteration
        FROM problem p LEFT JOIN trajectory t ON t.problem_id = p.id
        GROUP BY ALL
    """,
    # Curation progress per run (and per origin for imports).
    "curation_progress": """
        SELECT coalesce(run_id, origin) AS run, origin,
               count(*) AS trajectories,
               count(*) FILTER (WHERE status = 'approved') AS approved,
               count(*) FILTER (WHERE status = 'rejected') AS rejected,
               count(*) FILTER (WHERE status = 'pending') AS pending
        FROM trajectory GROUP BY ALL
    """,
    # DPO pairs with both sides' verdicts and perplexities.
    "pairs": """
        SELECT pr.id, pr.problem_id, pr.part, pr.status, pr.rule,
               c.id AS chosen_id, c.verdict AS chosen_verdict, c.ppl AS chosen_ppl,
               c.thought_ppl AS chosen_thought_ppl, c.n_tokens AS chosen_tokens,
               r.id AS rejected_id, r.verdict AS rejected_verdict, r.ppl AS rejected_ppl,
               r.thought_ppl AS rejected_thought_ppl, r.n_tokens AS rejected_tokens, pr.created
        FROM pair pr
        JOIN trajectories c ON c.id = pr.chosen_id
        JOIN trajectories r ON r.id = pr.rejected_id
    """,
}

_VIEWS_HASH = hashlib.sha1("".join(f"{k}\n{v}" for k, v in sorted(VIEWS.items())).encode()).hexdigest()


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """0 for an empty file, else the schema version recorded in ``meta``."""
    if not _has_meta(conn):
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return _version_number(row[0]) if row else 0


def _version_number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        from store.connection import StoreError

        raise StoreError(
            f"the store's meta table is damaged: schema_version is {value!r}, not a number "
            "(restore the store from a copy)"
        ) from None


def _refuse_foreign(conn: duckdb.DuckDBPyConnection) -> None:
    """A file with tables but no meta table is not ours (or lost its meta): never migrate over it."""
    tables = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchone()[0]
    if tables:
        from store.connection import StoreError

        raise StoreError(
            "this DuckDB file has tables but no still2 meta table: it is not a still2 store, "
            "or its meta table was dropped (restore it from a copy)"
        )


def _has_meta(conn: duckdb.DuckDBPyConnection) -> bool:
    # A failing query would abort the caller's transaction, so look the table up instead.
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' "
            "AND table_name = 'meta'"
        ).fetchone()[0]
    )


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        from store.connection import StoreError

        raise StoreError(f"store schema v{version} is newer than this still2 (v{SCHEMA_VERSION}): upgrade still2tui")


def needs_setup(conn: duckdb.DuckDBPyConnection, upto: int = SCHEMA_VERSION) -> bool:
    if not _has_meta(conn):
        return True
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'views_hash')").fetchall())
    version = _version_number(rows.get("schema_version", 0))
    _refuse_newer(version)
    if version < upto:
        return True
    return upto == SCHEMA_VERSION and rows.get("views_hash") != _VIEWS_HASH


def migrate(conn: duckdb.DuckDBPyConnection, upto: int = SCHEMA_VERSION) -> list[int]:
    """Apply pending migrations (inside the caller's transaction); returns the versions applied."""
    version = current_version(conn)
    if version == 0 and not _has_meta(conn):
        _refuse_foreign(conn)
    _refuse_newer(version)
    applied = []
    for number, _description, statements in MIGRATIONS:
        if number <= version or number > upto:
            continue
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(number)])
        applied.append(number)
    if upto == SCHEMA_VERSION:
        for name, sql in VIEWS.items():
            conn.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('views_hash', ?)", [_VIEWS_HASH])
    return applied
