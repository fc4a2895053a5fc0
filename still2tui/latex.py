"""LaTeX in traces shown as Unicode text (pylatexenc), and Markdown that keeps ``\\(`` ``\\)``.

Only the math is converted: ``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]`` and ``\\boxed{...}``;
the prose around it is left exactly as written. pylatexenc does the conversion (Greek letters,
operators, ``\\sqrt``, accents, ``\\text``); a few macros it renders ambiguously in plain text are
given readable forms here (``\\frac{a+b}{2}`` -> ``(a+b)/2``, ``\\binom{n}{k}`` -> ``C(n,k)``,
``\\pmod{5}`` -> `` (mod 5)``, ``x^{10}`` -> ``x¹⁰``, ``\\sqrt{3}`` -> ``√3``, ``\\implies`` -> ``⟹``, ``\\overline{z}`` -> ``z̅``), and
the space written after an operator macro or before an operator is kept (LaTeX drops it and spaces
operators itself: ``\\theta = 30`` reads ``θ = 30``, not ``θ= 30``). A segment pylatexenc cannot parse is
kept as written. Results are cached per segment (traces repeat the same expressions many times).
"""

from __future__ import annotations

import re
from functools import lru_cache

MATH = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$([^$\n]+?)\$|\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", re.S
)
SUPERSCRIPT = str.maketrans("0123456789+-=()nix", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣ")
SUBSCRIPT = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_SUP = re.compile(r"\^\{([0-9+\-=()nix]{1,8})\}|\^([0-9])")
_SUB = re.compile(r"_\{([0-9+\-=()]{1,8})\}|_([0-9])")
_GROUPED = re.compile(r"([_^])\{([^{}]+)\}")  # what has no Unicode sub/superscript: x_(n+1), x^(a+b)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
# The space after a control word, which LaTeX drops (its math spacing puts one back around operators):
# kept before an operator ("\\theta = 30" would read "θ= 30") and after an operator or relation macro
# ("a \\cdot b" would read "a ·b"); "\\pi r" stays "πr".
_SPACED_MACRO = re.compile(r"\\([A-Za-z]+)(\s+)(?=([^\s{\[^_]))")
_OPERATOR_CHARS = set("=+-<>*/|:,;!")
_OPERATOR_MACROS = {
    "cdot",
    "times",
    "div",
    "pm",
    "mp",
    "in",
    "notin",
    "ni",
    "leq",
    "le",
    "geq",
    "ge",
    "neq",
    "ne",
    "approx",
    "equiv",
    "sim",
    "simeq",
    "cong",
    "propto",
    "subset",
    "subseteq",
    "supset",
    "supseteq",
    "cup",
    "cap",
    "to",
    "rightarrow",
    "leftarrow",
    "Rightarrow",
    "Leftarrow",
    "leftrightarrow",
    "Leftrightarrow",
    "implies",
    "iff",
    "mid",
    "parallel",
    "perp",
    "wedge",
    "vee",
    "land",
    "lor",
    "oplus",
    "otimes",
    "circ",
    "ast",
    "setminus",
    "mapsto",
    "quad",
    "qquad",
    "cdots",
    "ldots",
    "dots",
    "forall",
    "exists",
    "therefore",
    "because",
    # functions, which LaTeX also spaces ("\\sin \\theta": "sin θ")
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "log",
    "ln",
    "exp",
    "lim",
    "max",
    "min",
    "det",
    "gcd",
    "lcm",
}
_EXTRA_SYMBOLS = {
    "implies": "⟹",
    "iff": "⟺",
    "land": "∧",
    "lor": "∨",
    "therefore": "∴",
    "because": "∵",
    "lt": "<",
    "gt": ">",
}


def _simple(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.√πα-ω′]+", text))


@lru_cache(maxsize=1)
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
    from pylatexenc.latexwalker import get_default_latex_context_db as walker_db
    from pylatexenc.macrospec import MacroSpec

    def args(n, l2tobj) -> list[str]:
        return [l2tobj.nodelist_to_text([a]).strip() if a is not None else "" for a in n.nodeargd.argnlist]

    def frac(n, l2tobj) -> str:
        num, den = args(n, l2tobj)[-2:]
        return f"{num if _simple(num) else '(' + num + ')'}/{den if _simple(den) else '(' + den + ')'}"

    def binom(n, l2tobj) -> str:
        a, b = args(n, l2tobj)[-2:]
        return f"C({a},{b})"

    def sqrt(n, l2tobj) -> str:
        index, radicand = (args(n, l2tobj) + ["", ""])[:2]
        root = {"": "√", "3": "∛", "4": "∜"}.get(index, f"{index}√")
        return root + (radicand if _simple(radicand) else f"({radicand})")

    def overline(n, l2tobj) -> str:  # a conjugate or a repeating decimal; pylatexenc drops the bar
        arg = args(n, l2tobj)[-1]
        return "".join(c + "\u0305" for c in arg) if len(arg) <= 4 and arg.isalnum() else f"‾({arg})"

    def pmod(n, l2tobj) -> str:
        return f" (mod {args(n, l2tobj)[-1]})"

    text_db = get_default_latex_context_db().filter_context()
    text_db.add_context_category(
        "still2",
        prepend=True,
        macros=[
            MacroTextSpec(name, simplify_repl=fn)
            for name, fn in (
                ("frac", frac),
                ("dfrac", frac),
                ("tfrac", frac),
                ("cfrac", frac),
                ("binom", binom),
                ("dbinom", binom),
                ("tbinom", binom),
                ("pmod", pmod),
                ("sqrt", sqrt),
                ("overline", overline),
            )
        ]
        + [MacroTextSpec(name, simplify_repl=text) for name, text in _EXTRA_SYMBOLS.items()],
    )
    parse_db = walker_db().filter_context()
    parse_db.add_context_category(
        "still2",
        prepend=True,
        macros=[MacroSpec(name, "{{") for name in ("frac", "dfrac", "tfrac", "cfrac", "binom", "dbinom", "tbinom")]
        + [MacroSpec("pmod", "{")],
    )
    return LatexNodes2Text(latex_context=text_db, math_mode="text", strict_latex_spaces=False), parse_db


@lru_cache(maxsize=20_000)
def math_to_unicode(latex: str) -> str:
    """One math expression (without its delimiters) as Unicode text; as written if it cannot be parsed."""
    from pylatexenc.latexwalker import LatexWalker

    source = _SUP.sub(lambda m: (m[1] or m[2]).translate(SUPERSCRIPT), latex)
    source = _SUB.sub(lambda m: (m[1] or m[2]).translate(SUBSCRIPT), source)
    source = source.replace("^\\circ", "°").replace("^{\\circ}", "°")
    source = _GROUPED.sub(lambda m: f"{m[1]}({m[2]})" if len(m[2]) > 1 else f"{m[1]}{m[2]}", source)
    source = source.replace("%", r"\%")  # a comment in LaTeX; here it is a percent sign
    converter, parse_db = _converter()

    def keep_space(m: re.Match) -> str:
        if m[1] not in _OPERATOR_MACROS and m[3] not in _OPERATOR_CHARS:
            return m[0]
        spec = parse_db.get_macro_spec(m[1])
        takes_args = spec is not None and getattr(spec.args_parser, "argspec", None)
        return m[0] if takes_args else f"\\{m[1]}{{}}{m[2]}"

    source = _SPACED_MACRO.sub(keep_space, source)
    try:
        nodes, _, _ = LatexWalker(source, latex_context=parse_db, tolerant_parsing=False).get_latex_nodes()
        out = converter.nodelist_to_text(nodes)
    except Exception:  # pylatexenc raises its own errors for malformed input: show the source
        return latex
    return " ".join(out.split()) if out.strip() else latex


def to_unicode(text: str) -> str:
    """The text with every math segment converted (prose untouched)."""
    if "$" not in text and "\\" not in text:
        return text
    return MATH.sub(
        lambda m: (
            math_to_unicode(next(g for g in m.groups() if g is not None))
            if not m.group(0).startswith("\\boxed")
            else "⟦" + math_to_unicode(m.group(5)) + "⟧"
        ),
        text,
    )


def escape_markdown(text: str) -> str:
    """Text that Markdown shows exactly as written (backslashes and other specials escaped)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_source(text: str, latex: bool = True) -> str:
    """Markdown for a solution: math converted to Unicode (and escaped so Markdown keeps it), or, with
    ``latex=False``, every backslash kept (Markdown would read ``\\(`` as an escaped parenthesis)."""
    out, last = [], 0
    for m in MATH.finditer(text):
        out.append(text[last : m.start()].replace("\\", "\\\\"))
        out.append(escape_markdown(to_unicode(m.group(0))) if latex else m.group(0).replace("\\", "\\\\"))
        last = m.end()
    out.append(text[last:].replace("\\", "\\\\"))
    return "".join(out)
