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

Each layout is a registered ``TrajectoryLayout`` (name, detection test, row mapper, default origin) in
``TRAJECTORY_LAYOUTS``, like the filter rules in ``pipeline/filters/base.RULES``: a new layout is one
mapper function and one ``register_layout`` line below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from store.formats.errors import RowError
from store.formats.readers import Source
from store.formats.values import answer_text, verdict

RESPONSE_KEYS = (
    "combined_text",
    "code",
    "messages",
    "conversations",
    "response",
    "completion",
    "output",
    "generation",
    "model_output",
)


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


@dataclass(frozen=True)
class Row:
    """One source row as a layout's mapper sees it: the data, the columns chosen by --field, and what
    every layout reads the same way (gold answer, domain, model)."""

    line: int
    data: dict[str, Any]
    question_keys: tuple[str, ...]
    response_keys: tuple[str, ...]
    gold: str | None
    domain: str | None
    model: str | None

    def record(self, question: str, text: str, **kw: Any) -> RawTrajectory:
        return RawTrajectory(self.line, question, text, self.gold, self.domain, model=self.model, **kw)


@dataclass(frozen=True)
class TrajectoryLayout:
    """A trajectory file layout: how to recognise it from the first row's keys and map a row.

    `map_row` returns the row's trajectories, or a message saying why the row is refused.
    """

    name: str
    detect: Callable[[set[str]], bool]
    map_row: Callable[[Row], "list[RawTrajectory] | str"]
    origin: str = "import"  # the origin of its trajectories unless --origin says otherwise


TRAJECTORY_LAYOUTS: dict[str, TrajectoryLayout] = {}
FALLBACK_LAYOUT = "prompt-response"


def register_layout(layout: TrajectoryLayout) -> TrajectoryLayout:
    """Add a layout; detection tries layouts in registration order (the fallback last)."""
    if layout.name in TRAJECTORY_LAYOUTS:
        raise ValueError(f"trajectory layout {layout.name} registered twice")
    TRAJECTORY_LAYOUTS[layout.name] = layout
    return layout


def detect_layout(keys: set[str]) -> str:
    for layout in TRAJECTORY_LAYOUTS.values():
        if layout.name != FALLBACK_LAYOUT and layout.detect(keys):
            return layout.name
    return FALLBACK_LAYOUT


def get_layout(name: str) -> TrajectoryLayout:
    try:
        return TRAJECTORY_LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown trajectory layout {name!r}; known: {', '.join(TRAJECTORY_LAYOUTS)}") from None


_ROLE = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
    "model": "assistant",
    "chatgpt": "assistant",
}


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


def _still2(row: Row) -> list[RawTrajectory] | str:
    q, text = row.data.get("question"), row.data.get("combined_text")
    if not isinstance(q, str) or not isinstance(text, str):
        return "STILL-2 row needs string fields question and combined_text"
    return [row.record(q, text)]


def _skyt1(row: Row) -> list[RawTrajectory] | str:
    data = row.data
    q, codes = data.get("question"), data.get("code")
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(q, str) or not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return "Sky-T1 row needs question (string) and code (list of strings)"
    if not codes:
        return "Sky-T1 row has no responses (code is an empty list)"
    preds = data.get("pred") if isinstance(data.get("pred"), list) else []
    scores = data.get("score") if isinstance(data.get("score"), list) else []
    return [
        row.record(
            q,
            code,
            sample_index=i,
            extras={
                "harness_pred": None if i >= len(preds) or preds[i] is None else str(preds[i]),
                "harness_correct": None if i >= len(scores) else verdict(scores[i], f"score[{i}]"),
                "source_idx": data.get("idx"),
            },
        )
        for i, code in enumerate(codes)
    ]


def _conversation(row: Row, turns: list[tuple[str, str]] | None, *turn_lists: Any) -> list[RawTrajectory] | str:
    if not turns:
        return "messages must be a list of {role, content} (or ShareGPT {from, value}) objects"
    users = [c for r, c in turns if r == "user"]
    answers = [c for r, c in turns if r == "assistant"]
    if not users or not answers:
        return "conversation needs at least one user and one assistant turn"
    return [row.record(users[0], answers[-1], reasoning=_reasoning(row.data, *turn_lists))]


def _messages(row: Row) -> list[RawTrajectory] | str:
    turns = row.data.get("messages", row.data.get("conversations"))
    return _conversation(row, _turns(turns), turns, row.data.get("completion"))


def _prompt_completion(row: Row) -> list[RawTrajectory] | str:
    prompt, completion = row.data.get("prompt"), row.data.get("completion")
    prompt_turns = [("user", prompt)] if isinstance(prompt, str) else _turns(prompt)
    completion_turns = [("assistant", completion)] if isinstance(completion, str) else _turns(completion)
    turns = None if prompt_turns is None or completion_turns is None else prompt_turns + completion_turns
    return _conversation(row, turns, row.data.get("messages", row.data.get("conversations")), completion)


def _prompt_response(row: Row) -> list[RawTrajectory] | str:
    q, text = _first(row.data, row.question_keys), _first(row.data, row.response_keys)
    if not isinstance(q, str) or not isinstance(text, str):
        return (
            f"row needs a question ({'/'.join(row.question_keys)}) and a response "
            f"({'/'.join(row.response_keys)}); use --field question=COL --field response=COL"
        )
    return [row.record(q, text, reasoning=_reasoning(row.data))]


# Detection order: the first layout whose test matches the first row's keys; prompt-response otherwise.
register_layout(TrajectoryLayout("still2", lambda keys: "combined_text" in keys, _still2, origin="distill"))
register_layout(TrajectoryLayout("skyt1", lambda keys: {"code", "question"} <= keys, _skyt1, origin="eval"))
register_layout(TrajectoryLayout("messages", lambda keys: bool(keys & {"messages", "conversations"}), _messages))
register_layout(
    TrajectoryLayout("prompt-completion", lambda keys: {"prompt", "completion"} <= keys, _prompt_completion)
)
register_layout(TrajectoryLayout(FALLBACK_LAYOUT, lambda keys: True, _prompt_response))


def map_trajectory_rows(
    source: Source, *, layout: str | None = None, field_map: dict[str, str] | None = None
) -> tuple[list[RawTrajectory], list[RowError], str]:
    field_map = field_map or {}
    errors = list(source.errors)
    if not source.rows:
        return [], errors, layout or FALLBACK_LAYOUT
    layout = layout or detect_layout(set(source.rows[0].data))
    mapper = get_layout(layout).map_row
    q_keys = (
        (field_map["question"],)
        if "question" in field_map
        else ("question", "prompt", "problem", "instruction", "input")
    )
    r_keys = (
        (field_map["response"],)
        if "response" in field_map
        else ("response", "output", "generation", "answer_text", "model_output", "completion")
    )
    out: list[RawTrajectory] = []
    for row in source.rows:
        data = row.data
        gold = data.get(field_map["answer"]) if "answer" in field_map else _gold(data)
        result = mapper(
            Row(
                row.line,
                data,
                q_keys,
                r_keys,
                answer_text(gold, "gold answer"),
                data.get("domain") if isinstance(data.get("domain"), str) else None,
                data.get("model") if isinstance(data.get("model"), str) else None,
            )
        )
        if isinstance(result, str):
            errors.append(RowError(source.path, row.line, result))
        else:
            out.extend(result)
    return out, errors, layout
