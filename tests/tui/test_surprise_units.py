"""Token surprise mapped onto the thought steps (still2tui/surprise.py), with hand-made token rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from still2tui.surprise import locate_steps, step_surprise
from store.token_nll import TokenNll, decode, encode
from store.trajectory_format import parse_response, to_still

TEXT = to_still("Short one.\n\nA much longer second step with many words in it.\n\nOdd.", "$\\boxed{1}$")


def tokens_for(text: str, nll_of) -> TokenNll:
    """One token per character run up to a space; ``nll_of(start)`` gives each token's NLL."""
    import re

    found = list(re.finditer(r"\S+\s*", text))
    nll, chars = encode([nll_of(m.start()) for m in found], [m.end() for m in found])
    return decode(nll, chars, len(text))


def test_steps_are_located_in_order_and_get_their_tokens():
    steps = parse_response(TEXT).steps
    ranges = locate_steps(TEXT, steps)
    assert [TEXT[a:b] for a, b in ranges] == steps
    second = ranges[1]
    surprise = step_surprise(
        {"text": TEXT}, steps, "s", "full", tokens_for(TEXT, lambda at: 3.0 if second[0] <= at < second[1] else 0.5)
    )
    assert surprise.mean[1] == pytest.approx(3.0, abs=1e-2) and surprise.mean[0] == pytest.approx(0.5, abs=1e-2)
    assert surprise.peak() == 1 and surprise.ranking()[0] == 1
    spans = surprise.token_spans(1)
    assert "".join(steps[1][a:b] for a, b, _ in spans).replace(" ", "") == steps[1].replace(" ", "")
    assert all(v == pytest.approx(3.0, abs=1e-2) for _, _, v in spans)


def test_the_spike_is_the_step_that_raises_the_perplexity_most_not_the_longest_or_the_peak():
    steps = parse_response(TEXT).steps
    (a0, b0), (a1, b1), (a2, b2) = locate_steps(TEXT, steps)
    # the long step is a little surprising, the one-word step very: the long one moves the mean more
    nll = lambda at: 2.0 if a1 <= at < b1 else 6.0 if a2 <= at < b2 else 0.2  # noqa: E731
    s = step_surprise({"text": TEXT}, steps, "s", "full", tokens_for(TEXT, nll))
    assert s.peak() == 1  # the one-word step (6 nats) has fewer than 3 tokens: not a peak
    without = s.ppl_without()
    whole = math.exp(float(s.tokens.nll.mean()))
    assert s.ppl == pytest.approx(whole) and all(w < whole for w in without[1:])
    assert s.spike() == int(np.argmin(without)) == 1


def test_a_text_changed_since_scoring_gives_no_mapping():
    steps = parse_response(TEXT).steps
    tokens = tokens_for(TEXT, lambda at: 1.0)
    assert step_surprise({"text": TEXT + " more"}, steps, "s", "full", tokens) is None
