"""Multiple-choice rows with their options in a column (layout ``choices``), for the science and puzzle
domains: RiddleSense / CommonsenseQA / ARC on the Hub (``choices: {"label": [...], "text": [...]}``,
``answerKey``, 5-way or 4-way), ARC / OpenBookQA files (``question: {"stem", "choices": [{"text", "label"}]}``), MMLU-style (``choices: [...]``, ``answer`` an index) and plain files (``choices: [...]``,
``answer`` a letter or the correct option's text). Options keep their order and get letters A, B, C, ...;
the answer becomes the letter (answer_kind 'mc'). GPQA's CSV (options in separate columns) is the ``gpqa``
layout of problems.py.
"""

from __future__ import annotations

from typing import Any

LETTERS = "ABCDEFGH"
MAX_CHOICES = 5  # the mc verifier extracts letters A-E


class ChoiceRowError(ValueError):
    pass


def _choices_of(row: dict[str, Any]) -> Any:
    question = row.get("question")
    if isinstance(question, dict) and "choices" in question:  # ARC / OpenBookQA original files
        return question["choices"]
    return row.get("choices")


def detect_choice_layout(keys: set[str], first: dict[str, Any]) -> bool:
    return (
        "question" in keys
        and isinstance(_choices_of(first), (list, dict))
        and bool(keys & {"answerKey", "answer", "label"})
    )


def _options(choices: Any) -> tuple[list[str], list[str]]:
    """(labels, texts) in the file's order."""
    if isinstance(choices, dict):
        texts = [str(t) for t in choices.get("text") or []]
        labels = [str(x) for x in choices.get("label") or []] or list(LETTERS[: len(texts)])
        if len(labels) != len(texts):
            raise ChoiceRowError(f"{len(labels)} choice labels but {len(texts)} choice texts")
        return labels, texts
    if isinstance(choices, list):
        texts = [str(c.get("text")) if isinstance(c, dict) else str(c) for c in choices]
        labels = [str(c.get("label")) for c in choices if isinstance(c, dict) and c.get("label")]
        return (labels if len(labels) == len(texts) else list(LETTERS[: len(texts)])), texts
    raise ChoiceRowError("choices must be a list or {label, text}")


def map_choice_row(row: dict[str, Any]) -> dict[str, Any]:
    """question, choices (list of option texts), answer (letter) and the original label for one row."""
    question = row.get("question")
    if isinstance(question, dict):  # ARC / OpenBookQA: {"stem": ..., "choices": [...]}
        question = question.get("stem")
    if not isinstance(question, str) or not question.strip():
        raise ChoiceRowError("no question text")
    labels, texts = _options(_choices_of(row))
    if not 2 <= len(texts) <= MAX_CHOICES:
        raise ChoiceRowError(f"{len(texts)} choices (expected 2 to {MAX_CHOICES}: the verifier reads letters A-E)")
    if any(not t.strip() for t in texts):
        raise ChoiceRowError("an empty choice")
    key = row.get("answerKey", row.get("answer", row.get("label")))
    if isinstance(key, bool) or key is None or key == "":
        raise ChoiceRowError("no answer (answerKey, answer or label)")
    if isinstance(key, int):
        index = key
    elif str(key).strip() in labels:
        index = labels.index(str(key).strip())
    elif str(key).strip() in texts:
        index = texts.index(str(key).strip())
    elif str(key).strip().isdigit() and not any(lbl.isdigit() for lbl in labels):
        index = int(str(key).strip())
    else:
        raise ChoiceRowError(f"answer {key!r} is neither a label ({', '.join(labels)}), an index nor a choice")
    if not 0 <= index < len(texts):
        raise ChoiceRowError(f"answer index {index} out of range for {len(texts)} choices")
    return {
        "question": question.strip(),
        "choices": texts,
        "answer": LETTERS[index],
        "meta": {"answer_label": labels[index], "choice_labels": labels}
        if labels != list(LETTERS[: len(texts)])
        else {},
    }
