"""Grading: extraction, then the fast paths (canonical strings, plain numbers, choice letters) in-process,
then the symbolic comparison in the worker pool under a hard timeout; results are cached."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterable

from . import verdict as R
from .extract import KINDS, choice_letter, extract_answer, extract_gold
from .guards import refuse_reason
from .normalize import canon, shape, split_assignment
from .numbers import numbers_equal, show, to_number
from .pool import get_pool
from .verdict import Verdict

CACHE_SIZE = 100_000
_cache: OrderedDict[tuple[str, str], tuple[bool, str, str]] = OrderedDict()


def _short(s: str | None, n: int = 80) -> str:
    if s is None:
        return "None"
    return s if len(s) <= n else s[: n - 3] + "..."


def _cache_get(key):
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
    return hit


def _cache_put(key, value) -> None:
    _cache[key] = value
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


def clear_cache() -> None:
    _cache.clear()


def _fast(gc: str, pc: str) -> tuple[bool, str, str] | None:
    """Decide from canonical strings alone, or None to go symbolic."""
    if gc == pc:
        return True, R.EXACT, f"exact: {_short(pc)} == {_short(gc)}"
    ng, np_ = to_number(gc), to_number(pc)
    if ng is not None and np_ is not None:
        eq = numbers_equal(ng, np_)
        return eq, R.NUMERIC, f"numeric: {show(np_)} {'==' if eq else '!='} {show(ng)}"
    gs, ps = shape(gc), shape(pc)
    if {gs, ps} == {"set", "tuple"}:
        return False, R.STRUCTURE, f"structure: a {ps} is not a {gs} ({_short(pc)} vs {_short(gc)})"
    ga, pa = split_assignment(gc), split_assignment(pc)
    if pa and not ga and "=" not in gc:
        return _fast(gc, pa[1])
    if ga and not pa and "=" not in pc:
        return _fast(ga[1], pc)
    if ga and pa and ga[0] == pa[0]:
        return _fast(ga[1], pa[1])
    return None


class _Prepared:
    __slots__ = ("verdict", "key", "pred", "gold")

    def __init__(self, verdict=None, key=None, pred=None, gold=None):
        self.verdict = verdict
        self.key = key
        self.pred = pred
        self.gold = gold


def _prepare(gold, pred_text, kind: str) -> _Prepared:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    gold_s = gold if isinstance(gold, str) else ("" if gold is None else _num_to_str(gold))
    pred_s = pred_text if isinstance(pred_text, str) else ("" if pred_text is None else str(pred_text))
    gx = extract_gold(gold_s, kind)
    if kind == "mc" and gx is not None and choice_letter(gx) == gx:
        px = extract_answer(pred_s, "mc")
        if px is None:
            return _Prepared(Verdict(False, None, gx, "no_answer: no choice letter found in the prediction", R.NO_ANSWER))
        eq = px == gx
        return _Prepared(Verdict(eq, px, gx, f"mc_letter: {px} {'==' if eq else '!='} {gx}", R.MC_LETTER))
    px = extract_answer(pred_s, "int" if kind == "int" else "math")
    if gx is None:
        return _Prepared(Verdict(False, px, None, "no_answer: the gold has no answer", R.NO_ANSWER))
    if px is None:
        return _Prepared(Verdict(False, None, gx, "no_answer: no \\boxed{} or final-answer statement found", R.NO_ANSWER))
    for who, s in (("prediction", px), ("gold", gx)):
        why = refuse_reason(s)
        if why:
            return _Prepared(Verdict(False, px, gx, f"unparseable: {who} {why}", R.UNPARSEABLE))
    gc, pc = canon(gx), canon(px)
    if not pc:
        return _Prepared(Verdict(False, px, gx, "no_answer: the extracted answer is empty", R.NO_ANSWER))
    fast = _fast(gc, pc)
    if fast is not None:
        return _Prepared(Verdict(fast[0], px, gx, fast[2], fast[1]))
    for who, s in (("prediction", pc), ("gold", gc)):
        why = refuse_reason(s)
        if why:
            return _Prepared(Verdict(False, px, gx, f"unparseable: {who} {why}", R.UNPARSEABLE))
    return _Prepared(key=(gc, pc), pred=px, gold=gx)


def _num_to_str(x) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def grade_many(
    items: Iterable[tuple[str, str, str]],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
) -> list[Verdict]:
    """Grade (gold, pred_text, kind) items; order preserved. `progress(n)` gets the number finished so far."""
    items = list(items)
    prepared: list[_Prepared] = []
    for it in items:
        gold, pred = it[0], it[1]
        kind = it[2] if len(it) > 2 and it[2] else "math"
        prepared.append(_prepare(gold, pred, kind))
    out: list[Verdict | None] = [p.verdict for p in prepared]
    done = sum(v is not None for v in out)

    waiting: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(prepared):
        if p.verdict is not None:
            continue
        hit = _cache_get(p.key)
        if hit is not None:
            out[i] = Verdict(hit[0], p.pred, p.gold, hit[2], hit[1])
            done += 1
        else:
            waiting.setdefault(p.key, []).append(i)
    if progress is not None:
        progress(done)

    if waiting:
        keys = list(waiting)
        counter = [done]

        def on_done(j: int, res) -> None:
            equal, rule, reason = res
            if rule not in (R.TIMEOUT, R.ERROR):
                _cache_put(keys[j], res)
            for i in waiting[keys[j]]:
                out[i] = Verdict(bool(equal), prepared[i].pred, prepared[i].gold, reason, rule)
            counter[0] += len(waiting[keys[j]])
            if progress is not None:
                progress(counter[0])

        get_pool(workers).run(keys, timeout, on_done)
    return out  # type: ignore[return-value]


def grade(gold: str, pred_text: str, kind: str = "math", *, timeout: float = 5.0) -> Verdict:
    """Grade one prediction (full model output or bare answer) against a gold answer or worked solution."""
    return grade_many([(gold, pred_text, kind)], timeout=timeout)[0]
