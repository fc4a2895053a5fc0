"""Map rows of benchmark / training files to problem records, auto-detecting the known layouts.

Known layouts (see ../shared/data/SOURCES.md for the files they come from):

* ``math``      - ``problem``, ``answer`` [, ``solution``, ``subject``, ``level``, ``unique_id``/``id``]
                  (MATH-500, AIME 2024, AMC 2023 in the Qwen2.5-Math layout)
* ``prompt``    - ``prompt`` (problem + an instruction suffix), ``answer`` (QwQ's AIME 2025)
* ``gsm8k``     - ``question``, ``answer`` = rationale ending in ``#### N``
* ``gt``        - ``problem``, ``ground_truth_answer`` [, ``ground_truth_solution``] (O1-Pruner hard MATH)
* ``gpqa``      - ``Question``, ``Correct Answer``, ``Incorrect Answer 1..3`` (GPQA CSV): options are
                  shuffled into A-D with a per-row seed derived from ``--seed`` and recorded in meta
* ``generic``   - ``question``/``problem`` + ``answer``/``gold``/``gt``
* ``choices``   - ``question``, ``choices`` (list or {label, text}), ``answerKey``/``answer`` (RiddleSense,
                  CommonsenseQA, ARC, MMLU-style; 4- or 5-way): see choice_problems.py
* code layouts  - ``humaneval``, ``mbpp``, ``apps`` (APPS/TACO), ``livecodebench``, ``codecontests``,
                  ``code_io``: tests stored as the answer (answer_kind 'code'), see code_problems.py

``--field question=COL --field answer=COL ...`` overrides any detected column.

The column layouts are registered ``ProblemLayout`` objects in ``PROBLEM_LAYOUTS`` (columns, detection
test, answer kind, domain, an optional per-row ``adjust`` step), like the trajectory layouts and the
filter rules; the code and choices layouts keep their own modules.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Callable

from store.formats.choice_problems import ChoiceRowError, detect_choice_layout, map_choice_row
from store.formats.code_problems import LAYOUTS as CODE_LAYOUTS
from store.formats.code_problems import CodeRowError, detect_code_layout, map_code_row
from store.formats.errors import RowError
from store.formats.readers import Source
from store.formats.values import answer_text
from store.ids import problem_id, question_hash

FIELD_NAMES = ("question", "answer", "solution", "subject", "difficulty", "source_key", "split", "domain")

_INSTRUCTION_SUFFIXES = (
    re.compile(r"\s*Please reason step by step, and put your final answer within \\boxed\{\}\.?\s*$"),
    re.compile(r"\s*Let's think step by step and output the final answer within \\boxed\{\}\.?\s*$"),
)
_GSM8K_ANSWER = re.compile(r"####\s*(.+?)\s*$", re.S)
_LEVEL = re.compile(r"(\d+)")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass
class RowDraft:
    """A problem row being mapped: what a layout's `adjust` step may change."""

    data: dict[str, Any]
    question: str
    raw_answer: Any
    answer: str | None
    solution: Any
    choices: list[str] | None
    meta: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class ProblemLayout:
    """A problem file layout with named columns: how to recognise it, where each field is read, the
    answer kind and domain it implies, and an optional per-row step (`adjust`: changes the draft, or
    returns a message refusing the row)."""

    name: str
    columns: dict[str, tuple[str, ...]]
    detect: Callable[[set[str], dict[str, Any]], bool]
    answer_kind: str | None = None  # None: 'int' for an AIME source, else 'math'
    domain: str = "math"
    final_line: bool = False  # the answer must end in '#### N' (GSM8K); other layouts read it when present
    keep_raw_answer: bool = True  # record the raw answer in meta when the stored one differs
    adjust: Callable[[RowDraft], str | None] | None = None


PROBLEM_LAYOUTS: dict[str, ProblemLayout] = {}
FALLBACK_LAYOUT = "generic"


def register_layout(layout: ProblemLayout) -> ProblemLayout:
    """Add a layout; detection tries code layouts, then choices, then these in registration order."""
    if layout.name in PROBLEM_LAYOUTS:
        raise ValueError(f"problem layout {layout.name} registered twice")
    PROBLEM_LAYOUTS[layout.name] = layout
    return layout


def detect_layout(first_row: dict[str, Any]) -> str:
    keys = set(first_row)
    code = detect_code_layout(keys)
    if code:
        return code
    if detect_choice_layout(keys, first_row):
        return "choices"
    for layout in PROBLEM_LAYOUTS.values():
        if layout.name != FALLBACK_LAYOUT and layout.detect(keys, first_row):
            return layout.name
    return FALLBACK_LAYOUT


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row and row[name] is not None and row[name] != "":
            return row[name]
    return None


def canonical_answer(value: Any, field: str = "answer") -> str | None:
    """Strings stay as written (trimmed); numbers lose float noise (27.0 -> '27'); AIME's '025' stays
    here and is compared as an integer by the verifier (answer_kind 'int'). Objects, booleans and NaN
    raise BadValue (store/formats/values.py)."""
    return answer_text(value, field)


def _difficulty(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = _LEVEL.search(str(value))
    return int(m.group(1)) if m else None


def source_name_for(path: str) -> tuple[str, str | None]:
    """A source name and split guessed from a file name: 'gsm8k_test.jsonl' -> ('gsm8k', 'test')."""
    from pathlib import Path

    stem = Path(path.rstrip("/")).name
    for suffix in (".jsonl.gz", ".jsonl", ".json", ".parquet", ".csv", ".tsv", ".ndjson"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    m = re.match(r"^(.*?)[_-](test|train|validation|val|dev)$", stem)
    if m:
        return m.group(1), m.group(2)
    return stem, None


def _strip_instruction(row: RowDraft) -> None:
    """QwQ's AIME 2025 prompts end in a boxed-answer instruction: stored without it, recorded in meta."""
    for pattern in _INSTRUCTION_SUFFIXES:
        stripped = pattern.sub("", row.question)
        if stripped != row.question:
            row.meta["instruction_stripped"] = row.question[len(stripped) :].strip()
            row.question = stripped
            break


def _gpqa_options(row: RowDraft) -> str | None:
    """The correct and three incorrect answers shuffled into A-D with a per-row seed (recorded)."""
    data = row.data
    wrong = [data.get(f"Incorrect Answer {i}") for i in (1, 2, 3)]
    if any(w is None or str(w).strip() == "" for w in wrong):
        return "GPQA row needs Incorrect Answer 1..3"
    options = [str(row.raw_answer).strip()] + [str(w).strip() for w in wrong]
    row_seed = f"{row.seed}:{data.get('Record ID') or question_hash(row.question)}"
    order = list(range(4))
    random.Random(row_seed).shuffle(order)
    row.choices = [options[i] for i in order]
    row.answer = "ABCD"[order.index(0)]
    row.meta.update({"shuffle_seed": row_seed, "correct_text": options[0]})
    if data.get("High-level domain"):
        row.meta["high_level_domain"] = data["High-level domain"]
    return None


# Detection order (after the code and choices layouts): the first whose test matches the first row.
register_layout(
    ProblemLayout(
        "gpqa",
        {
            "question": ("Question",),
            "answer": ("Correct Answer",),
            "solution": ("Explanation",),
            "subject": ("Subdomain", "High-level domain"),
            "source_key": ("Record ID",),
            "difficulty": ("Writer's Difficulty Estimate",),
        },
        lambda keys, row: {"Question", "Correct Answer"} <= keys,
        answer_kind="mc",
        domain="science",
        keep_raw_answer=False,
        adjust=_gpqa_options,
    )
)
register_layout(
    ProblemLayout(
        "gt",
        {"question": ("problem",), "answer": ("ground_truth_answer",), "solution": ("ground_truth_solution",)},
        lambda keys, row: {"problem", "ground_truth_answer"} <= keys,
    )
)
register_layout(
    ProblemLayout(
        "prompt",
        {"question": ("prompt",), "answer": ("answer",), "source_key": ("id", "idx")},
        lambda keys, row: "prompt" in keys and "answer" in keys and not keys & {"problem", "question"},
        adjust=_strip_instruction,
    )
)
register_layout(
    ProblemLayout(
        "math",
        {
            "question": ("problem", "question"),
            "answer": ("answer",),
            "solution": ("solution",),
            "subject": ("subject", "type"),
            "difficulty": ("level",),
            "source_key": ("unique_id", "id", "idx"),
        },
        lambda keys, row: "problem" in keys and "answer" in keys,
    )
)
register_layout(
    ProblemLayout(
        "gsm8k",
        {"question": ("question",), "answer": ("answer",)},
        lambda keys, row: "question" in keys and bool(_GSM8K_ANSWER.search(str(row.get("answer", "")))),
        final_line=True,
        keep_raw_answer=False,
    )
)
register_layout(
    ProblemLayout(
        FALLBACK_LAYOUT,
        {
            "question": ("question", "problem", "prompt", "input"),
            "answer": ("answer", "gold", "gt", "final_answer", "target"),
            "solution": ("solution", "rationale"),
            "subject": ("subject",),
            "difficulty": ("difficulty", "level"),
            "source_key": ("id", "idx", "unique_id"),
            "domain": ("domain",),
            "split": ("split",),
        },
        lambda keys, row: True,
    )
)


def map_problem_rows(
    source: Source,
    *,
    source_name: str,
    layout: str | None = None,
    field_map: dict[str, str] | None = None,
    split: str | None = None,
    domain: str | None = None,
    answer_kind: str | None = None,
    difficulty: int | None = None,
    seed: int = 0,
) -> tuple[list[dict], list[RowError], str]:
    """Problem records for the store, the row errors, and the layout used."""
    field_map = field_map or {}
    unknown = set(field_map) - set(FIELD_NAMES)
    if unknown:
        raise ValueError(f"unknown --field target(s) {sorted(unknown)}; known: {', '.join(FIELD_NAMES)}")
    if not source.rows:
        return [], list(source.errors), layout or "generic"
    layout = layout or detect_layout(source.rows[0].data)
    if layout in CODE_LAYOUTS or layout == "choices":
        if field_map:
            raise ValueError(f"--field does not apply to the {layout} layout (its columns are fixed)")
        records, errors = _map_special_rows(
            source,
            layout,
            source_name=source_name,
            split=split,
            domain=domain,
            answer_kind=answer_kind,
            difficulty=difficulty,
        )
        return records, errors, layout
    if layout not in PROBLEM_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join([*PROBLEM_LAYOUTS, 'choices', *CODE_LAYOUTS])}")
    spec = PROBLEM_LAYOUTS[layout]
    columns = dict(spec.columns)
    for target, column in field_map.items():
        columns[target] = (column,)
    kind = answer_kind or spec.answer_kind or ("int" if "aime" in source_name.lower() else "math")
    default_domain = domain or spec.domain

    records: list[dict] = []
    errors = list(source.errors)
    for row in source.rows:
        data = row.data
        question = _pick(data, columns.get("question", ()))
        raw_answer = _pick(data, columns.get("answer", ()))
        if not isinstance(question, str) or not question.strip():
            errors.append(
                RowError(
                    source.path,
                    row.line,
                    f"no question (looked for {', '.join(columns['question'])}); use --field question=COLUMN",
                )
            )
            continue
        if raw_answer is None:
            errors.append(
                RowError(
                    source.path,
                    row.line,
                    f"no answer (looked for {', '.join(columns['answer'])}); use --field answer=COLUMN",
                )
            )
            continue
        meta: dict[str, Any] = {"layout": layout}
        solution = _pick(data, columns.get("solution", ()))
        answer = canonical_answer(raw_answer)
        choices = None
        if spec.final_line or (isinstance(raw_answer, str) and "####" in raw_answer):
            m = _GSM8K_ANSWER.search(str(raw_answer))
            if not m:
                errors.append(RowError(source.path, row.line, "GSM8K answer has no '#### N' final line"))
                continue
            solution = str(raw_answer)[: m.start()].strip()
            answer = m.group(1).replace(",", "").strip()
        if spec.adjust is not None:
            draft = RowDraft(data, question, raw_answer, answer, solution, choices, meta, seed)
            refused = spec.adjust(draft)
            if refused:
                errors.append(RowError(source.path, row.line, refused))
                continue
            question, answer, solution, choices = draft.question, draft.answer, draft.solution, draft.choices
        if kind == "int" and answer is not None and _INTEGER.match(answer) and len(answer) <= 4300:
            answer = str(int(answer))
        if canonical_answer(raw_answer) != answer and spec.keep_raw_answer:
            meta["raw_answer"] = canonical_answer(raw_answer)
        key = _pick(data, columns.get("source_key", ()))
        question = question.strip()
        records.append(
            {
                "id": problem_id(source_name, question),
                "source": source_name,
                "source_key": str(key) if key is not None else str(row.line),
                "domain": str(_pick(data, columns.get("domain", ())) or default_domain),
                "subject": _pick(data, columns.get("subject", ())),
                "difficulty": difficulty
                if difficulty is not None
                else _difficulty(_pick(data, columns.get("difficulty", ()))),
                "question": question,
                "question_hash": question_hash(question),
                "answer": answer,
                "answer_kind": kind,
                "solution": solution,
                "choices": choices,
                "split": split or _pick(data, columns.get("split", ())),
                "meta": {k: v for k, v in meta.items() if v is not None},
            }
        )
    return records, errors, layout


def _map_special_rows(
    source: Source,
    layout: str,
    *,
    source_name: str,
    split: str | None,
    domain: str | None,
    answer_kind: str | None,
    difficulty: int | None,
) -> tuple[list[dict], list[RowError]]:
    """Records and row errors for the code layouts and the choices layout (their own mapping modules)."""
    code = layout in CODE_LAYOUTS
    if code and answer_kind not in (None, "code"):
        raise ValueError(f"the {layout} layout holds code tests: its answer kind is 'code', not {answer_kind!r}")
    kind = "code" if code else answer_kind or "mc"
    default_domain = domain or ("code" if code else "puzzle" if "riddle" in source_name.lower() else "science")
    records: list[dict] = []
    errors = list(source.errors)
    for row in source.rows:
        try:
            mapped = map_code_row(row.data, layout) if code else map_choice_row(row.data)
        except (CodeRowError, ChoiceRowError) as e:
            errors.append(RowError(source.path, row.line, str(e)))
            continue
        question = mapped["question"]
        key = mapped.get("source_key") if code else _pick(row.data, ("id", "idx", "unique_id"))
        records.append(
            {
                "id": problem_id(source_name, question),
                "source": source_name,
                "source_key": str(key) if key is not None else str(row.line),
                "domain": str(row.data.get("domain") or default_domain) if not code else default_domain,
                "subject": mapped.get("subject") if code else _pick(row.data, ("subject", "category")),
                "difficulty": difficulty
                if difficulty is not None
                else mapped.get("difficulty")
                if code
                else _difficulty(_pick(row.data, ("difficulty", "level"))),
                "question": question,
                "question_hash": question_hash(question),
                "answer": mapped["answer"],
                "answer_kind": kind,
                "solution": mapped.get("solution"),
                "choices": mapped.get("choices"),
                "split": split or _pick(row.data, ("split",)),
                "meta": {"layout": layout, **mapped.get("meta", {})},
            }
        )
    return records, errors
