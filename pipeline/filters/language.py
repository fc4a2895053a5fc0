"""Rule ``language_mix``: Chinese characters in an English response, or English prose in a Chinese one."""

from __future__ import annotations

import re

from pipeline.filters.base import Rule, register, snippet

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
LATIN = re.compile(r"[A-Za-z]")
# Math and LaTeX commands are written in Latin letters in any language; they are not "English".
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]|\\[A-Za-z]+|\b[A-Za-z]\b", re.S)
_TAGS = re.compile(r"<\|(?:begin|end)_of_(?:thought|solution)\|>|</?think>")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}(?:\s+[A-Za-z]{2,})*")


def language_of(question: str | None, threshold: float = 0.2) -> str:
    """'zh' when CJK characters are more than ``threshold`` of the question's letters, else 'en'."""
    if not question:
        return "en"
    cjk = len(CJK.findall(question))
    latin = len(LATIN.findall(_MATH.sub(" ", question)))
    return "zh" if cjk and cjk / (cjk + latin) > threshold else "en"


def check_language_mix(row: dict, p: dict) -> str | None:
    """Language mixing, judged against the question's language.

    English problem: flags when at least ``min_chars`` CJK characters (ideographs and full-width
    punctuation) occur and they exceed ``max_ratio`` of all letters. Chinese problem: flags when
    Latin letters outside math ($...$, \\(...\\), LaTeX commands, single-letter variables) exceed
    ``max_latin_ratio`` of the letters. The reason quotes the first foreign run. Real English
    thoughts hold no CJK at all, so even one Chinese sentence in a long thought should flag.
    """
    text = _TAGS.sub(" ", row.get("text") or "")
    lang = language_of(row.get("question"))
    if lang == "en":
        cjk = CJK.findall(text)
        if len(cjk) < p["min_chars"]:
            return None
        letters = len(cjk) + len(LATIN.findall(text))
        ratio = len(cjk) / max(1, letters)
        if ratio <= p["max_ratio"]:
            return None
        first = CJK_RUN.search(text)
        return (
            f"English problem, {len(cjk)} CJK characters ({ratio:.1%} of letters) in the response, "
            f'e.g. "{snippet(first.group(0), 40)}"'
        )
    prose = _MATH.sub(" ", text)
    latin = len(LATIN.findall(prose))
    cjk = len(CJK.findall(prose))
    ratio = latin / max(1, latin + cjk)
    if latin < p["min_chars"] or ratio <= p["max_latin_ratio"]:
        return None
    first = _LATIN_WORD.search(prose)
    return (
        f"Chinese problem, {latin} Latin letters outside math ({ratio:.0%} of letters) in the response, "
        f'e.g. "{snippet(first.group(0) if first else "", 40)}"'
    )


RULE = register(
    Rule(
        name="language_mix",
        check=check_language_mix,
        defaults={"max_ratio": 0.001, "min_chars": 5, "max_latin_ratio": 0.3},
        columns=("text", "question"),
    )
)
