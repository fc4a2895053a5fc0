"""Grading: extraction, then the fast paths (canonical strings, plain numbers, choice letters) in-process,
then the symbolic comparison in the worker pool under a hard timeout; results are cached."""

from __future__ import annotations

import re
import signal
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, Iterable

from . import verdict as R
from .evaluate import evaluate, identity, number_value, same_equation, values_equal
from .evaluate import show as show_value
from .extract import KINDS, choice_letter, extract, extract_gold
from .guards import MAX_ANSWER_CHARS, refuse_reason
from .normalize import canon, shape, split_assignment
from .numbers import numbers_equal, show, to_number
from .policy import BOX, NONE, AnswerPolicy, get_policy
from .pool import get_pool
from .statements import number_words_value, prose_words
from .structures import interval_union, matrix_cells, split_top
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
    va = a[1] if a[0] == "val" else _num_value(a[1])
    vb = b[1] if b[0] == "val" else _num_value(b[1])
    if va is None or vb is None:  # percents: only the numbers path reads them
        return False
    return values_equal(va, vb)


def _num_value(n):
    """A plain number as an evaluator Value (no text round trip: huge integers never meet str())."""
    if n.percent:
        return None
    return number_value(n.value.numerator, n.value.denominator, n.inexact)


def _show_scalar(a) -> str:
    return _short(show(a[1]) if a[0] == "num" else show_value(a[1]), 40)


def _elements(s: str, kind: str) -> list[str]:
    if kind == "set":
        s = s[2:-2]
    elif kind == "tuple":
        s = s[1:-1]
    return [e.strip() for e in split_top(s, ",")]


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

    eq = (
        len(gi) == len(pi)
        and all(any(same(x, y) for y in pi) for x in gi)
        and all(any(same(y, x) for x in gi) for y in pi)
    )
    return eq, R.NUMERIC, f"numeric: intervals {'equal' if eq else 'differ'} ({_short(pc)} vs {_short(gc)})"


def _has_relation(s: str) -> bool:
    return any(op in s for op in ("<", ">", "\\le", "\\ge"))


def _without_ellipsis(s: str) -> str:
    return re.sub(r",?\\ldots,?", ",", s).strip(",")


def _fast(gc: str, pc: str) -> tuple[bool, str, str] | None:
    """Decide from canonical strings alone, or None to go symbolic."""
    if gc == pc:
        return True, R.EXACT, f"exact: {_short(pc)} == {_short(gc)}"
    if "\\ldots" in gc or "\\ldots" in pc:
        if ("\\ldots" in gc) != ("\\ldots" in pc):
            return (
                False,
                R.STRUCTURE,
                f"structure: only one side goes on with an ellipsis ({_short(pc)} vs {_short(gc)})",
            )
        gc, pc = _without_ellipsis(gc), _without_ellipsis(pc)
        if not gc or not pc:
            return False, R.STRUCTURE, "structure: an ellipsis alone"
        if gc == pc:
            return True, R.EXACT, f"exact: {_short(pc)} == {_short(gc)} (both go on with an ellipsis)"
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
    if {gs, ps} == {"tuple", "other"}:
        other = pc if ps == "other" else gc
        if to_number(other) is not None:  # "(3, \frac{\pi}{2})" against "3": a pair is never a number
            return False, R.STRUCTURE, f"structure: a {ps} is not a {gs} ({_short(pc)} vs {_short(gc)})"
    ga, pa = split_assignment(gc), split_assignment(pc)
    if pa and not ga and "=" not in gc:
        return _fast(gc, pa[1])
    if ga and not pa and "=" not in pc:
        return _fast(ga[1], pc)
    if ga and pa and ga[0] == pa[0]:
        return _fast(ga[1], pa[1])
    if gc.count("=") == 1 and pc.count("=") == 1 and not _has_relation(gc + pc) and "%" not in gc + pc:
        if same_equation(tuple(gc.split("=")), tuple(pc.split("="))):
            return True, R.IDENTITY, f"identity: {_short(pc)} is {_short(gc)} rearranged (sample points)"
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
    __slots__ = ("verdict", "key", "pred", "gold", "source")

    def __init__(self, verdict=None, key=None, pred=None, gold=None, source=NONE):
        self.verdict = verdict
        self.key = key
        self.pred = pred
        self.gold = gold
        self.source = source


def _prose(px: str) -> bool:
    """An extracted answer made of two or more words ("So the answer is not 5"): a parser that picks a number out
    of it would judge the sentence, not the answer."""
    return len(prose_words(px)) >= 2


def _parts_for_gold(gc: str, ex) -> str | None:
    """Several boxes for a several-part gold: "\\boxed{(2,5)} for (a) and \\boxed{(0,1)} for (b)" read as the
    list of the last k boxes when the gold lists k >= 2 answers and the last box alone holds fewer."""
    if ex.source != BOX or len(ex.boxes) < 2 or shape(gc) != "list":
        return None
    k = len(_elements(gc, "list"))
    if k < 2 or len(ex.boxes) < k:
        return None
    last = canon(ex.boxes[-1]) if len(ex.boxes[-1]) <= MAX_ANSWER_CHARS else ""
    if last and shape(last) == "list" and len(_elements(last, "list")) >= k:
        return None
    parts = ex.boxes[-k:]
    if any(not p.strip() for p in parts):
        return None
    return ", ".join(p.strip() for p in parts)


def _number_words(gc: str, pc: str) -> tuple[str, str]:
    """A number written in words on one side ("three") against a number on the other becomes digits."""
    if to_number(gc) is not None and _WORDS.match(pc):
        v = number_words_value(pc)
        if v is not None:
            return gc, str(v)
    if to_number(pc) is not None and _WORDS.match(gc):
        v = number_words_value(gc)
        if v is not None:
            return str(v), pc
    return gc, pc


def _prepare(gold, pred_text, kind: str, policy=None, finish_reason: str | None = None) -> _Prepared:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    gold_s = gold if isinstance(gold, str) else ("" if gold is None else _num_to_str(gold))
    pred_s = pred_text if isinstance(pred_text, str) else ("" if pred_text is None else _num_to_str(pred_text))
    if gold_s is None or pred_s is None:
        return _Prepared(Verdict(False, None, None, "unparseable: a number too long to read", R.UNPARSEABLE))
    gx = extract_gold(gold_s, kind)
    if kind == "mc" and gx is not None and choice_letter(gx) == gx:
        ex = extract(pred_s, "mc", policy, finish_reason)
        px = ex.answer
        if px is None:
            if ex.cut_off:
                return _Prepared(Verdict(False, None, gx, ex.cut_off, R.CUT_OFF))
            return _Prepared(
                Verdict(False, None, gx, "no_answer: no choice letter found in the prediction", R.NO_ANSWER)
            )
        eq = px == gx
        return _Prepared(Verdict(eq, px, gx, f"mc_letter: {px} {'==' if eq else '!='} {gx}", R.MC_LETTER, ex.source))
    ex = extract(pred_s, "int" if kind == "int" else "math", policy, finish_reason)
    px, src = ex.answer, ex.source
    if gx is None:
        return _Prepared(Verdict(False, px, None, "no_answer: the gold has no answer", R.NO_ANSWER, src))
    if px is None:
        if ex.cut_off:
            return _Prepared(Verdict(False, None, gx, ex.cut_off, R.CUT_OFF))
        return _Prepared(
            Verdict(
                False, None, gx, "no_answer: no \\boxed{}, final-answer anchor or closing statement found", R.NO_ANSWER
            )
        )
    for who, s in (("prediction", px), ("gold", gx)):
        why = refuse_reason(s)
        if why:
            return _Prepared(Verdict(False, px, gx, f"unparseable: {who} {why}", R.UNPARSEABLE, src))
    gc = canon(gx)
    parts = _parts_for_gold(gc, ex)
    if parts is not None and not refuse_reason(parts):
        px = parts
    pc = canon(px)
    if not pc:
        return _Prepared(Verdict(False, px, gx, "no_answer: the extracted answer is empty", R.NO_ANSWER, src))
    gc, pc = _number_words(gc, pc)
    if _prose(px):
        return _Prepared(
            Verdict(False, px, gx, "unparseable: the extracted answer is prose, not mathematics", R.UNPARSEABLE, src)
        )
    fast = _fast(gc, pc)
    if fast is not None:
        return _Prepared(Verdict(fast[0], px, gx, fast[2], fast[1], src))
    for who, s in (("prediction", pc), ("gold", gc)):
        why = refuse_reason(s)
        if why:
            return _Prepared(Verdict(False, px, gx, f"unparseable: {who} {why}", R.UNPARSEABLE, src))
    return _Prepared(key=(gc, pc), pred=px, gold=gx, source=src)


# An integer given as a number (not text) longer than this is refused: its decimal text would need
# Python's str(int), which refuses 4,300 digits.
MAX_INT_BITS = 13_000


def _num_to_str(x) -> str | None:
    """A gold or prediction given as a JSON number, as text; None for an integer too long to write out."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return None if x.bit_length() > MAX_INT_BITS else str(x)
    return str(x)


class _ReadDeadline(BaseException):
    """Raised by SIGALRM when reading one item's answer overruns its time limit (main thread only)."""


def _on_alarm(signum, frame):
    raise _ReadDeadline()


@contextmanager
def _alarm_handler():
    """Install the read-deadline handler for this call when a hard per-item limit is possible here: the
    main thread of a process whose interval timer is free. Yields whether it is in force."""
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield False
        return
    old = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _prepare_within(item, policy, timeout: float, alarm: bool) -> _Prepared:
    gold, pred = item[0], item[1]
    kind = item[2] if len(item) > 2 and item[2] else "math"
    finish_reason = item[3] if len(item) > 3 else None
    if not alarm:
        return _prepare(gold, pred, kind, policy, finish_reason)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return _prepare(gold, pred, kind, policy, finish_reason)
    except _ReadDeadline:
        return _Prepared(Verdict(False, None, None, f"timeout: reading the answer exceeded {timeout:.1f} s", R.TIMEOUT))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def grade_many(
    items: Iterable[tuple],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
    policy: str | AnswerPolicy | None = None,
) -> list[Verdict]:
    """Grade (gold, pred_text, kind[, finish_reason]) items of any registered kind (`kinds.KINDS`) under an
    answer policy (policy.POLICIES; default "default"); order preserved. `progress(n)` gets the number
    finished so far."""
    from .kinds import grade_by_kind

    return grade_by_kind(items, workers=workers, timeout=timeout, progress=progress, policy=policy)


def grade_answers(
    items: Iterable[tuple],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    progress: Callable[[int], None] | None = None,
    policy: str | AnswerPolicy | None = None,
) -> list[Verdict]:
    """The grader of the answer kinds math, int and mc: (gold, pred_text, kind[, finish_reason]) items under
    an answer policy, order preserved. `timeout` bounds each item twice: reading its answer (in-process, hard
    in the main thread) and its symbolic comparison (worker process)."""
    items = list(items)
    pol = get_policy(policy)
    for it in items:
        kind = it[2] if len(it) > 2 and it[2] else "math"
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    with _alarm_handler() as alarm:
        prepared = [_prepare_within(it, pol, timeout, alarm) for it in items]
    out: list[Verdict | None] = [p.verdict for p in prepared]
    done = sum(v is not None for v in out)

    waiting: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(prepared):
        if p.verdict is not None:
            continue
        hit = _cache_get(p.key)
        if hit is not None:
            out[i] = Verdict(hit[0], p.pred, p.gold, hit[2], hit[1], p.source)
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
                out[i] = Verdict(bool(equal), prepared[i].pred, prepared[i].gold, reason, rule, prepared[i].source)
            counter[0] += len(waiting[keys[j]])
            if progress is not None:
                progress(counter[0])

        get_pool(workers).run(keys, timeout, on_done)
    return out  # type: ignore[return-value]


def grade(
    gold: str,
    pred_text: str,
    kind: str = "math",
    *,
    timeout: float = 5.0,
    policy: str | AnswerPolicy | None = None,
    finish_reason: str | None = None,
) -> Verdict:
    """Grade one prediction (full model output or bare answer) against a gold answer or worked solution."""
    return grade_many([(gold, pred_text, kind, finish_reason)], timeout=timeout, policy=policy)[0]
