"""Map rows of trajectory files to (question, response, extras), auto-detecting the known layouts.

* ``still2``    - STILL-2 release: ``question``, ``combined_text`` [, ``domain``]   (origin distill)
* ``skyt1``     - Qwen2.5-Math / Sky-T1 eval outputs: ``question``, ``code`` (list of responses),
                  ``gt``, ``pred`` (list), ``score`` (list of harness verdicts)  (origin eval; one
                  trajectory per element of ``code``; the harness verdict is kept apart from ours)
* ``messages``  - ``messages`` [{role, content}] or ShareGPT ``conversations`` [{from, value}]
* ``prompt-completion`` - TRL layouts: ``prompt`` + ``completion`` as strings or message lists
* ``prompt-response``   - ``prompt``/``question``/``problem``/``instruction`` + ``response``/``output``/
                  ``generation``/``answer_text``

A reasoning the record keeps apart from the answer (``reasoning_content`` or ``reasoning``, on the row
or on the last assistant message) is read into ``RawTrajectory.reasoning``; the importer makes it the
thought of the STILL layout (``store.trajectory_format.with_reasoning``).

Gold answers are read when present (``gt``, ``answer``, ``gold``) to create problems that are not
in the store yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.formats.errors import RowError
from store.formats.readers import Source
from store.formats.values import answer_text, verdict

RESPONSE_KEYS = ("combined_text", "code", "messages", "conversations", "response", "completion",
                 "output", "generation", "model_output")


@dataclass
class RawTrajectory:
    line: int
    question: str
    text: str
    gold: str | None = None
    domain: str | None = None
    sample_index: int = 0
    model: str | None = None
    reasoning: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def is_trajectory_file(keys: set[str]) -> bool:
    return bool(keys & set(RESPONSE_KEYS))


def detect_layout(keys: set[str]) -> str:
    if "combined_text" in keys:
        return "still2"
    if "code" in keys and "question" in keys:
        return "skyt1"
    if keys & {"messages", "conversations"}:
        return "messages"
    if "prompt" in keys and "completion" in keys:
        return "prompt-completion"
    return "prompt-response"


_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
         "system": "system", "model": "assistant", "chatgpt": "assistant"}


def _turns(value: Any) -> list[tuple[str, str]] | None:
    if not isinstance(value, list):
        return None
    turns = []
    for turn in value:
        if not isinstance(turn, dict):
            return None
        role = _ROLE.get(str(turn.get("role", turn.get("from", ""))).lower())
        content = turn.get("content", turn.get("value"))
        if role is None or not isinstance(content, str):
            return None
        turns.append((role, content))
    return turns


REASONING_KEYS = ("reasoning_content", "reasoning")


def _reasoning(data: dict[str, Any], *turn_lists: Any) -> str | None:
    """The split-out reasoning of a record: a row field, else a field of its last assistant message."""
    for key in REASONING_KEYS:
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key]
    for turns in turn_lists:
        if not isinstance(turns, list):
            continue
        for turn in reversed(turns):
            if isinstance(turn, dict) and _ROLE.get(str(turn.get("role", turn.get("from", ""))).lower()) == "assistant":
                for key in REASONING_KEYS:
                    if isinstance(turn.get(key), str) and turn[key].strip():
                        return turn[key]
                break
    return None


def _gold(data: dict[str, Any]) -> str | None:
    from store.formats.problems import canonical_answer

    for key in ("gt", "gold", "answer", "ground_truth_answer", "final_answer"):
        if data.get(key) not in (None, "", "None"):
            return canonical_answer(data[key], key)
    return None


def _first(data: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if isinstance(data.get(key), (str, list)) and data.get(key):
            return data[key]
    return None


def map_trajectory_rows(source: Source, *, layout: str | None = None,
                        field_map: dict[str, str] | None = None) -> tuple[list[RawTrajectory], list[RowError], str]:
    field_map = field_map or {}
    errors = list(source.errors)
    if not source.rows:
        return [], errors, layout or "prompt-response"
    layout = layout or detect_layout(set(source.rows[0].data))
    q_keys = (field_map["question"],) if "question" in field_map else (
        "question", "prompt", "problem", "instruction", "input")
    r_keys = (field_map["response"],) if "response" in field_map else (
        "response", "output", "generation", "answer_text", "model_output", "completion")
    out: list[RawTrajectory] = []
    for row in source.rows:
        data = row.data
        gold = data.get(field_map["answer"]) if "answer" in field_map else _gold(data)
        gold = answer_text(gold, "gold answer")
        domain = data.get("domain") if isinstance(data.get("domain"), str) else None
        model = data.get("model") if isinstance(data.get("model"), str) else None

        def bad(msg: str) -> None:
            errors.append(RowError(source.path, row.line, msg))

        if layout == "still2":
            q, text = data.get("question"), data.get("combined_text")
            if not isinstance(q, str) or not isinstance(text, str):
                bad("STILL-2 row needs string fields question and combined_text")
                continue
            out.append(RawTrajectory(row.line, q, text, gold, domain, model=model))
        elif layout == "skyt1":
            q, codes = data.get("question"), data.get("code")
            if isinstance(codes, str):
                codes = [codes]
            if not isinstance(q, str) or not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                bad("Sky-T1 row needs question (string) and code (list of strings)")
                continue
            if not codes:
                bad("Sky-T1 row has no responses (code is an empty list)")
                continue
            preds = data.get("pred") if isinstance(data.get("pred"), list) else []
            scores = data.get("score") if isinstance(data.get("score"), list) else []
            for i, code in enumerate(codes):
                extras = {"harness_pred": None if i >= len(preds) or preds[i] is None else str(preds[i]),
                          "harness_correct": None if i >= len(scores) else verdict(scores[i], f"score[{i}]"),
                          "source_idx": data.get("idx")}
                out.append(RawTrajectory(row.line, q, code, gold, domain, sample_index=i, model=model,
                                         extras=extras))
        elif layout in ("messages", "prompt-completion"):
            if layout == "messages":
                turns = _turns(data.get("messages", data.get("conversations")))
            else:
                prompt, completion = data.get("prompt"), data.get("completion")
                prompt_turns = [("user", prompt)] if isinstance(prompt, str) else _turns(prompt)
                completion_turns = [("assistant", completion)] if isinstance(completion, str) else _turns(completion)
                turns = None if prompt_turns is None or completion_turns is None else prompt_turns + completion_turns
            if not turns:
                bad("messages must be a list of {role, content} (or ShareGPT {from, value}) objects")
                continue
            users = [c for r, c in turns if r == "user"]
            answers = [c for r, c in turns if r == "assistant"]
            if not users or not answers:
                bad("conversation needs at least one user and one assistant turn")
                continue
            out.append(RawTrajectory(row.line, users[0], answers[-1], gold, domain, model=model,
                                     reasoning=_reasoning(data, data.get("messages", data.get("conversations")),
                                                          data.get("completion"))))
        else:
            q, text = _first(data, q_keys), _first(data, r_keys)
            if not isinstance(q, str) or not isinstance(text, str):
                bad(f"row needs a question ({'/'.join(q_keys)}) and a response ({'/'.join(r_keys)}); "
                    "use --field question=COL --field response=COL")
                continue
            out.append(RawTrajectory(row.line, q, text, gold, domain, model=model, reasoning=_reasoning(data)))
    return out, errors, layout
