"""Grading: extraction, then the fast paths (canonical strings, plain numbers, choice letters) in-process,
then the symbolic comparison in the worker pool under a hard timeout; results are cached."""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Callable, Iterable

from . import verdict as R
from .extract import KINDS, choice_letter, extract_answer, extract_gold
from .guards import refuse_reason
from .structures import interval_union, matrix_cells
from .normalize import canon, shape, split_assignment
from .evaluate import evaluate, identity, values_equal
from .evaluate import show as show_value
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


def _scalar(s: str):
    """A plain number or an evaluable constant expression: (kind, value) or None."""
    n = to_number(s)
    if n is not None:
        return ("num", n)
    v = evaluate(s)
    if v is not None:
        return ("val", v)
    return None


def _scalars_equal(a, b) -> bool:
    if a[0] == "num" and b[0] == "num":
        return numbers_equal(a[1], b[1])
    va = a[1] if a[0] == "val" else evaluate(_num_latex(a[1]))
    vb = b[1] if b[0] == "val" else evaluate(_num_latex(b[1]))
    if va is None or vb is None:  # percents: only the numbers path reads them
        return False
    return values_equal(va, vb)


def _num_latex(n) -> str:
    v = n.value
    txt = f"\\frac{{{v.numerator}}}{{{v.denominator}}}" if v.denominator != 1 else str(v.numerator)
    if n.inexact:
        txt = f"({txt})*1.0"
    return txt if not n.percent else txt + "%"  # '%' makes evaluate() refuse: percent stays numeric-only


def _show_scalar(a) -> str:
    return _short(show(a[1]) if a[0] == "num" else show_value(a[1]), 40)


def _elements(s: str, kind: str) -> list[str]:
    if kind == "set":
        s = s[2:-2]
    elif kind == "tuple":
        s = s[1:-1]
    out, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(s[start:i])
            start = i + 1
    out.append(s[start:])
    return [e.strip() for e in out]


def _fast_structures(gc: str, pc: str, gs: str, ps: str):
    """Tuples, intervals, lists and sets whose elements are all constants, compared element by element."""
    if gs == "other" and ps == "other":
        return None
    ge = _elements(gc, gs) if gs != "other" else [gc]
    pe = _elements(pc, ps) if ps != "other" else [pc]
    gv = [_scalar(e) for e in ge]
    pv = [_scalar(e) for e in pe]
    if any(v is None for v in gv) or any(v is None for v in pv):
        return None
    if gs == "tuple" and ps == "tuple":
        if (gc[0], gc[-1]) != (pc[0], pc[-1]):
            return False, R.STRUCTURE, f"structure: brackets differ ({pc[0]}..{pc[-1]} vs {gc[0]}..{gc[-1]})"
        if len(gv) != len(pv):
            return False, R.STRUCTURE, f"structure: {len(pv)} components vs {len(gv)}"
        for i, (a, b) in enumerate(zip(gv, pv)):
            if not _scalars_equal(a, b):
                return False, R.NUMERIC, f"numeric: component {i + 1}: {_show_scalar(b)} != {_show_scalar(a)}"
        return True, R.NUMERIC, f"numeric: all {len(gv)} components equal"
    if "tuple" in (gs, ps):
        return None  # "(3,4)" vs "3,4": let math-verify decide
    # unordered: "1, 2", "\{1, 2\}" or a single value
    def covered(xs, ys):
        return all(any(_scalars_equal(x, y) for y in ys) for x in xs)

    eq = covered(gv, pv) and covered(pv, gv)
    if not (gs == "set" and ps == "set") and len(gv) != len(pv):
        eq = False  # a list keeps multiplicities: "1, 1" is not "1"
    what = "same elements" if eq else "different elements"
    return eq, R.NUMERIC, f"numeric: {what} ({_short(pc)} vs {_short(gc)})"


_WORDS = re.compile(r"^[A-Za-z]{3,}(?: [A-Za-z]+)*$")  # a text answer ("odd", "Monday"), not a product
_LETTER_RUN = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")  # words inside an expression: not single-letter variables
_NEG_INF = None
_POS_INF = None


def _infinities():
    global _NEG_INF, _POS_INF
    if _NEG_INF is None:
        _NEG_INF, _POS_INF = _scalar("-\\infty"), _scalar("\\infty")
    return _NEG_INF, _POS_INF


def _fast_matrix(gc: str, pc: str):
    gm, pm = matrix_cells(gc), matrix_cells(pc)
    if gm is None or pm is None:
        return None
    if (len(gm), len(gm[0])) != (len(pm), len(pm[0])):
        return False, R.STRUCTURE, f"structure: {len(pm)}x{len(pm[0])} matrix vs {len(gm)}x{len(gm[0])}"
    for i, (gr, pr) in enumerate(zip(gm, pm)):
        for j, (ge, pe) in enumerate(zip(gr, pr)):
            a, b = _scalar(ge), _scalar(pe)
            if a is None or b is None:
                return None
            if not _scalars_equal(a, b):
                return False, R.NUMERIC, f"numeric: matrix entry ({i + 1},{j + 1}): {pe} != {ge}"
    return True, R.NUMERIC, f"numeric: all {len(gm) * len(gm[0])} matrix entries equal"


def _fast_intervals(gc: str, pc: str):
    lo, hi = _infinities()
    gi = interval_union(gc, _scalar, lo, hi)
    pi = interval_union(pc, _scalar, lo, hi)
    if gi is None or pi is None:
        return None
    if gi and pi and not (len(gi) > 1 or len(pi) > 1 or _has_relation(gc) or _has_relation(pc)):
        return None  # two "(a,b)": the tuple path reads them (could be points)

    def same(x, y):
        return x[1] == y[1] and x[3] == y[3] and _scalars_equal(x[0], y[0]) and _scalars_equal(x[2], y[2])

    eq = len(gi) == len(pi) and all(any(same(x, y) for y in pi) for x in gi) and all(
        any(same(y, x) for x in gi) for y in pi
    )
    return eq, R.NUMERIC, f"numeric: intervals {'equal' if eq else 'differ'} ({_short(pc)} vs {_short(gc)})"


def _has_relation(s: str) -> bool:
    return any(op in s for op in ("<", ">", "\\le", "\\ge"))


def _fast(gc: str, pc: str) -> tuple[bool, str, str] | None:
    """Decide from canonical strings alone, or None to go symbolic."""
    if gc == pc:
        return True, R.EXACT, f"exact: {_short(pc)} == {_short(gc)}"
    ng, np_ = to_number(gc), to_number(pc)
    if ng is not None and np_ is not None:
        eq = numbers_equal(ng, np_)
        return eq, R.NUMERIC, f"numeric: {_short(show(np_), 40)} {'==' if eq else '!='} {_short(show(ng), 40)}"
    if _WORDS.match(gc) and _WORDS.match(pc):
        eq = gc.lower() == pc.lower()
        return eq, R.EXACT, f"exact: text {_short(pc)} {'==' if eq else '!='} {_short(gc)} (case-insensitive)"
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
    if "\\begin" in gc and "\\begin" in pc:
        return _fast_matrix(gc, pc)
    if "%" not in gc + pc:
        iv = _fast_intervals(gc, pc)
        if iv is not None:
            return iv
    if gs == "other" and ps == "other":
        a, b = _scalar(gc), _scalar(pc)
        if a is not None and b is not None and "%" not in gc + pc:
            eq = _scalars_equal(a, b)
            return eq, R.NUMERIC, f"numeric: {_show_scalar(b)} {'==' if eq else '!='} {_show_scalar(a)}"
        if "%" not in gc + pc and not _LETTER_RUN.search(gc + " " + pc):
            same = identity(gc, pc)
            if same is not None:
                verb = "agree" if same else "differ"
                return same, R.IDENTITY, f"identity: {_short(pc)} and {_short(gc)} {verb} at sample points"
        return None
    if "%" in gc + pc:
        return None
    return _fast_structures(gc, pc, gs, ps)


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
    """Grade (gold, pred_text, kind) items of any registered kind (`kinds.KINDS`); order preserved.
    `progress(n)` gets the number finished so far."""
    from .kinds import grade_by_kind

    return grade_by_kind(items, workers=workers, timeout=timeout, progress=progress)


def grade_answers(
    items: Iterable[tuple[str, str, str]],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
) -> list[Verdict]:
    """The grader of the answer kinds math, int and mc: (gold, pred_text, kind) items, order preserved."""
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
