"""Turning chat messages into prompt tokens the same way in every local engine (generation and scoring)."""

from __future__ import annotations

from typing import Any

from pipeline.engines.base import Messages


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def continues_assistant(messages: Messages) -> bool:
    """A message list ending with an assistant turn asks the model to continue that turn (a prefix)."""
    return bool(messages) and messages[-1].get("role") == "assistant"


def render_prompt(tokenizer: Any, messages: Messages) -> str:
    """The prompt text: the tokenizer's chat template with the generation prompt appended.

    When the last message is an assistant turn, the prompt ends inside it (continue_final_message), so
    the model continues that text: how `still2 complete` has a solution written after a given thought.
    A tokenizer without a template (a base model) gets the message contents joined by blank lines.
    """
    prefix = continues_assistant(messages)
    if has_chat_template(tokenizer):
        if prefix:
            return tokenizer.apply_chat_template(messages, continue_final_message=True, tokenize=False)
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    joined = "\n\n".join(str(m.get("content", "")) for m in messages)
    return joined if prefix else joined + "\n\n"


def encode_prompt(tokenizer: Any, messages: Messages) -> list[int]:
    # A chat template writes the special tokens (BOS etc.) itself.
    text = render_prompt(tokenizer, messages)
    ids = tokenizer(text, add_special_tokens=not has_chat_template(tokenizer))["input_ids"]
    if not ids:
        raise ValueError("empty prompt: nothing to condition on")
    return list(ids)


def encode_pair(tokenizer: Any, prompt: Messages, response: str) -> tuple[list[int], list[int]]:
    """Prompt ids and response ids for scoring, tokenized separately so the response tokens are well defined."""
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"] if response else []
    return encode_prompt(tokenizer, prompt), list(response_ids)
