"""Serve the judge stub of tests/unit/test_verifier_judge.py (an OpenAI-compatible endpoint on 127.0.0.1
that says "correct" when the end of the response contains the reference answer as a number or word),
so `still2 judge --engine openai --base-url URL --model stub-model` can be run by hand (`--model contrary`
says the opposite: a second judge that disagrees with the first):

    .venv/bin/python bench/judge_stub.py &          # prints the URL, serves until killed
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_verifier_judge import JudgeStub  # noqa: E402

if __name__ == "__main__":
    with JudgeStub() as stub:
        print(stub.url, flush=True)
        while True:
            time.sleep(3600)
