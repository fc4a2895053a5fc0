"""An R1-like teacher over the OpenAI chat API, for trying `distill` and `iterate --teacher` without a GPU.

It answers like DeepSeek's API: the thought in `reasoning_content`, the final answer in `content`. Questions
with a `$...$` arithmetic expression (`still2 problems generate --kind arithmetic`) get a worked chain, one
operation per step; "What is A times B?" / "What is A plus B?" get a three-step thought. Serves on
127.0.0.1 (the tests' StubServer) until killed and writes its base URL to the file given:

  .venv/bin/python bench/stub_teacher.py /tmp/url &
  still2 distill --engine openai --model stub-model --base-url $(cat /tmp/url) --source gen-arithmetic-d1-s1
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from self_improve import _reduce_once, _render, _tokens  # noqa: E402

from tests.unit.test_engines_openai import StubServer  # noqa: E402


def reply(question: str, k: int) -> tuple[str, str]:
    """(content, reasoning_content) of rollout k."""
    expression = re.search(r"\$(.+?)\$", question)
    if expression:
        expr = expression.group(1)
        tokens, chain = _tokens(expr), [expr]
        while len(tokens) > 1:
            tokens, computed = _reduce_once(tokens)
            if computed:
                chain.append(_render(tokens))
        answer = chain[-1]
        steps = "\n\n".join(f"Step {i}: {a} = {b}." for i, (a, b) in enumerate(zip(chain, chain[1:]), 1))
        return (
            f"The value of ${expr}$ is $\\boxed{{{answer}}}$.",
            f"I need to evaluate {expr}.\n\n{steps}\n\nSo the value is {answer}.",
        )
    a, b = (int(x) for x in re.findall(r"\d+", question)[:2])
    answer = a * b if "times" in question else a + b
    return (
        f"The result is $\\boxed{{{answer}}}$.",
        f"Let me work out: {question}\n\nRollout {k}: I compute carefully.\n\nSo it is {answer}.",
    )


def main() -> None:
    with StubServer(reply=reply) as stub:
        Path(sys.argv[1]).write_text(stub.url)
        print(stub.url, flush=True)
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()
