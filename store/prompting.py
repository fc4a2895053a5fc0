"""How a problem becomes a chat prompt: the STILL-2 system prompt and the question (with A-D options)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def still2_system_prompt() -> str:
    """The STILL-2 / Sky-T1 system prompt as published (section 2.2.2 of the report)."""
    return resources.files("store").joinpath("data/still2_system_prompt.txt").read_text("utf-8").strip()


def render_question(question: str, choices: list[str] | None = None) -> str:
    if not choices:
        return question
    options = "\n".join(f"{'ABCDEFGH'[i]}) {c}" for i, c in enumerate(choices))
    return f"{question}\n\n{options}"


BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def chat_prompt(
    question: str,
    choices: list[str] | None = None,
    system_prompt: str | None = None,
    *,
    use_system: bool = True,
    instruction: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages for a problem; ``system_prompt=None`` means the STILL-2 prompt.

    ``instruction`` is appended to the question (e.g. BOXED_INSTRUCTION, as Qwen2.5-Math's eval does).
    """
    messages = []
    if use_system:
        messages.append({"role": "system", "content": system_prompt or still2_system_prompt()})
    user = render_question(question, choices)
    if instruction:
        user = f"{user}\n{instruction}"
    messages.append({"role": "user", "content": user})
    return messages
