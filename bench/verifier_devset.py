"""Verifier dev set: build it (`--build`) and report accuracy / false positives / false negatives per category,
for the dev part (tuned on) and the frozen test part (never tuned on), with false positives listed one by one.

    python bench/verifier_devset.py                 # report both parts
    python bench/verifier_devset.py --build         # regenerate the dev part from ../shared/data + the cases below
    python bench/verifier_devset.py --show-errors   # every false negative too
    python bench/verifier_devset.py --policy strict # under another answer policy

Files: tests/data/verifier_devset.jsonl (dev), tests/data/verifier_devset_test.jsonl (frozen test: written once,
its sha256 is checked by tests/unit/test_verifier_devset.py; `--build` never rewrites it), and
tests/data/verifier_devset_smollm2.jsonl (58 real SmolLM2 rollouts of the BENCHMARKS exploration, seed 11, 48 and
160 new tokens, labelled by hand: correct iff the response is finished and its final stated answer equals the gold;
split dev/test by a hash of the question; frozen like the test file).
Rows: {gold, pred, kind, expected, category, note, split[, finish_reason]}. Labels are judged by hand
(trajectories: by reading the final answer of each output; cut-off outputs are never correct) or by
construction (variants). No row is copied from another grader's unit tests.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEVSET = ROOT / "tests" / "data" / "verifier_devset.jsonl"
TESTSET = ROOT / "tests" / "data" / "verifier_devset_test.jsonl"
SMOLLM2 = ROOT / "tests" / "data" / "verifier_devset_smollm2.jsonl"
SHARED = ROOT / ".." / "shared" / "data"

# (gold, pred, kind, expected, category, note)
HAND: list[tuple[str, str, str, bool, str, str]] = [
    # trailing punctuation
    ("\\frac{1}{3}", "$\\frac13.$", "math", True, "punct", "math-verify miss: period inside math"),
    ("5", "The answer is $5$.", "math", True, "punct", ""),
    ("5", "\\boxed{5.}", "math", True, "punct", ""),
    ("-2", "$-2$,", "math", True, "punct", ""),
    ("\\sqrt{2}", "\\sqrt{2}.", "math", True, "punct", ""),
    ("3", "3!", "math", False, "punct", "factorial is not punctuation? 3! = 6"),
    ("12", "\\boxed{12}\\.", "math", True, "punct", ""),
    ("7", "$7;$", "math", True, "punct", ""),
    ("(1,2)", "(1,2).", "math", True, "punct", ""),
    ("8", "\\boxed{9.}", "math", False, "punct", ""),
    # mixed numbers
    ("\\frac{40}{9}", "4 4/9", "math", True, "mixed_number", "math-verify miss"),
    ("\\frac{40}{9}", "4\\frac{4}{9}", "math", True, "mixed_number", ""),
    ("4\\frac{4}{9}", "\\frac{40}{9}", "math", True, "mixed_number", ""),
    ("2\\frac{1}{4}", "2.25", "math", True, "mixed_number", ""),
    ("2\\frac{1}{4}", "\\frac{9}{4}", "math", True, "mixed_number", ""),
    ("-1\\frac{1}{2}", "-\\frac{3}{2}", "math", True, "mixed_number", ""),
    ("\\frac{40}{9}", "4 5/9", "math", False, "mixed_number", ""),
    ("\\frac{16}{9}", "4\\frac{4}{9}", "math", False, "mixed_number", "mixed, not a product"),
    ("6\\frac{3}{4}", "6 3/4", "math", True, "mixed_number", ""),
    ("6\\frac{3}{4}", "6.75", "math", True, "mixed_number", ""),
    ("6\\frac{3}{4}", "7", "math", False, "mixed_number", ""),
    # currency and units
    ("10", "\\$10", "math", True, "units", "math-verify miss"),
    ("10", "$\\$10.00$", "math", True, "units", ""),
    ("1.50", "\\$1.50", "math", True, "units", ""),
    ("18", "\\$18 dollars", "math", True, "units", ""),
    ("10", "\\$11", "math", False, "units", ""),
    ("12", "12\\text{ inches}", "math", True, "units", ""),
    ("12", "12 \\text{cm}^2", "math", True, "units", ""),
    ("5", "5 \\mbox{ meters}", "math", True, "units", ""),
    ("24", "24 minutes", "math", True, "units", ""),
    ("24", "25 minutes", "math", False, "units", ""),
    ("6", "6\\text{ square units}", "math", True, "units", ""),
    ("90", "90 \\text{ mph}", "math", True, "units", ""),
    ("4", "4 \\text{ km}", "math", True, "units", ""),
    ("4", "5 \\text{ km}", "math", False, "units", ""),
    ("20\\text{ cm}", "20", "math", True, "units", "units on the gold"),
    ("40", "40 ways", "math", True, "units", ""),
    # \text wrappers
    ("\\text{odd}", "odd", "math", True, "text_wrapper", ""),
    ("\\text{Monday}", "\\textbf{Monday}", "math", True, "text_wrapper", ""),
    ("\\text{even}", "\\text{odd}", "math", False, "text_wrapper", ""),
    ("\\text{(C)}", "(C)", "math", True, "text_wrapper", ""),
    ("\\text{Evelyn}", "Evelyn", "math", True, "text_wrapper", ""),
    ("\\text{Evelyn}", "\\text{Angela}", "math", False, "text_wrapper", ""),
    ("5", "\\text{5}", "math", True, "text_wrapper", ""),
    ("\\text{neither}", "\\text{neither}", "math", True, "text_wrapper", ""),
    ("\\text{neither}", "\\text{even}", "math", False, "text_wrapper", ""),
    ("5", "\\mathrm{5}", "math", True, "text_wrapper", ""),
    # percent
    ("25\\%", "25", "math", True, "percent", "percent sign omitted"),
    ("25", "25\\%", "math", True, "percent", "gold without the sign"),
    ("25\\%", "0.25", "math", True, "percent", "gold percent implies the fraction is fine"),
    ("0.25", "25\\%", "math", True, "percent", "25% is 0.25"),
    ("25", "0.25", "math", False, "percent", "no percent anywhere"),
    ("50\\%", "0.5\\%", "math", False, "percent", ""),
    ("12.5\\%", "12.5", "math", True, "percent", ""),
    ("12.5\\%", "\\frac{1}{8}", "math", True, "percent", ""),
    ("10\\%", "11\\%", "math", False, "percent", ""),
    ("33\\frac{1}{3}\\%", "33\\frac{1}{3}", "math", True, "percent", ""),
    ("20", "20 percent", "math", True, "percent", ""),
    # intervals vs inequalities
    ("(-\\infty, 3)", "x < 3", "math", True, "interval", ""),
    ("x<3", "(-\\infty,3)", "math", True, "interval", ""),
    ("[2, 5)", "[2,5)", "math", True, "interval", ""),
    ("[2, 5)", "(2, 5]", "math", False, "interval", ""),
    ("[2, 5)", "[2, 5]", "math", False, "interval", ""),
    ("(-\\infty, 3) \\cup (4, \\infty)", "(-\\infty,3)\\cup(4,\\infty)", "math", True, "interval", ""),
    ("(-\\infty, 3) \\cup (4, \\infty)", "(4, \\infty) \\cup (-\\infty, 3)", "math", True, "interval", ""),
    ("(-\\infty, 3) \\cup (4, \\infty)", "(-\\infty, 3]", "math", False, "interval", ""),
    ("[1, \\infty)", "x \\ge 1", "math", True, "interval", ""),
    ("[1, \\infty)", "x > 1", "math", False, "interval", ""),
    ("(0, 1]", "0 < x \\le 1", "math", True, "interval", ""),
    ("x \\in [2, 5)", "[2, 5)", "math", True, "interval", ""),
    ("[-2, 7]", "[-2,7]", "math", True, "interval", ""),
    ("(-\\infty,-2)\\cup(-2,\\infty)", "(-\\infty,-2)\\cup(-2,\\infty)", "math", True, "interval", ""),
    ("(-\\infty,-2)\\cup(-2,\\infty)", "\\mathbb{R}", "math", False, "interval", ""),
    # sets vs tuples, ordered answers
    ("(1, 2)", "(2, 1)", "math", False, "set_tuple", "ordered pair: order matters"),
    ("(3, -1)", "(3,-1)", "math", True, "set_tuple", ""),
    ("(3, -1)", "\\left( 3, -1 \\right)", "math", True, "set_tuple", ""),
    ("\\{1, 2\\}", "\\{2, 1\\}", "math", True, "set_tuple", "sets are unordered"),
    ("1, 2", "2, 1", "math", True, "set_tuple", "list of solutions"),
    ("1, 2, 3", "3", "math", False, "set_tuple", "math-verify extracts only the last number of a list"),
    ("3", "1, 2, 3", "math", False, "set_tuple", ""),
    ("-2, 1", "1, -2", "math", True, "set_tuple", ""),
    ("-2, 1", "x = -2, x = 1", "math", True, "set_tuple", ""),
    ("-2, 1", "-2", "math", False, "set_tuple", ""),
    ("(2, 3, 4)", "(2, 4, 3)", "math", False, "set_tuple", ""),
    ("(2, 3, 4)", "(2,3,4)", "math", True, "set_tuple", ""),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", "math", True, "set_tuple", ""),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{3})", "math", False, "set_tuple", ""),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(\\frac{\\pi}{2}, 3)", "math", False, "set_tuple", ""),
    ("1,2,3,4", "1, 2, 3, 4", "math", True, "set_tuple", ""),
    ("1,2,3,4", "1, 2, 3", "math", False, "set_tuple", ""),
    # matrices and vectors
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "math", True, "matrix", ""),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}", "math", False, "matrix", ""),
    (
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}",
        "math",
        True,
        "matrix",
        "",
    ),
    (
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}",
        "math",
        False,
        "matrix",
        "transpose",
    ),
    (
        "\\begin{pmatrix}-\\frac{7}{4}&-2\\\\4&\\frac{1}{4}\\end{pmatrix}",
        "\\begin{pmatrix}-1.75&-2\\\\4&0.25\\end{pmatrix}",
        "math",
        True,
        "matrix",
        "",
    ),
    (
        "\\begin{pmatrix} 1/2 \\\\ 0 \\end{pmatrix}",
        "\\begin{pmatrix} \\frac{1}{2} \\\\ 0 \\end{pmatrix}",
        "math",
        True,
        "matrix",
        "",
    ),
    (
        "\\begin{pmatrix} 1 \\\\ 2 \\\\ 3 \\end{pmatrix}",
        "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
        "math",
        False,
        "matrix",
        "",
    ),
    (
        "\\begin{pmatrix} 0 & 0 \\\\ 0 & 0 \\end{pmatrix}",
        "\\begin{pmatrix} 0 & 0 \\\\ 0 & 0 \\end{pmatrix}",
        "math",
        True,
        "matrix",
        "",
    ),
    # equations and assignments
    ("3", "x=3", "math", True, "equation", ""),
    ("x=3", "3", "math", True, "equation", ""),
    ("3", "x = 4", "math", False, "equation", ""),
    ("y = 2x + 3", "y=2x+3", "math", True, "equation", ""),
    ("y = 2x + 3", "y = 3 + 2x", "math", True, "equation", ""),
    ("y = 2x + 3", "y = 2x - 3", "math", False, "equation", ""),
    ("2x + 3", "y = 2x + 3", "math", True, "equation", ""),
    ("x^2 + y^2 = 25", "y^2 + x^2 = 25", "math", True, "equation", ""),
    ("x^2 + y^2 = 25", "x^2 + y^2 = 5", "math", False, "equation", ""),
    ("k = 5", "5", "math", True, "equation", ""),
    ("\\theta = \\frac{\\pi}{4}", "\\frac{\\pi}{4}", "math", True, "equation", ""),
    ("2x - y = 1", "y = 2x - 1", "math", True, "equation", "same line rearranged"),
    # thousands separators
    ("1000", "1,000", "math", True, "thousands", ""),
    ("1000000", "1{,}000{,}000", "math", True, "thousands", ""),
    ("12345", "12,345", "math", True, "thousands", ""),
    ("1000", "1\\,000", "math", True, "thousands", ""),
    ("1000", "1,001", "math", False, "thousands", ""),
    ("2.5", "2,5", "math", False, "thousands", "not a thousands group: a list"),
    ("1234.5", "1,234.5", "math", True, "thousands", ""),
    # scientific notation
    ("1500", "1.5 \\times 10^3", "math", True, "scientific", ""),
    ("1500", "1.5\\times10^{3}", "math", True, "scientific", ""),
    ("0.00015", "1.5 \\times 10^{-4}", "math", True, "scientific", ""),
    ("1500", "1.5e3", "math", True, "scientific", ""),
    ("1500", "1.5 \\times 10^4", "math", False, "scientific", ""),
    ("10^{6}", "1000000", "math", True, "scientific", ""),
    ("6.02 \\times 10^{23}", "6.02\\cdot 10^{23}", "math", True, "scientific", ""),
    ("6.02 \\times 10^{23}", "6.03\\times 10^{23}", "math", False, "scientific", ""),
    # fraction spellings
    ("\\frac{1}{2}", "\\dfrac{1}{2}", "math", True, "frac", ""),
    ("\\frac{1}{2}", "\\tfrac12", "math", True, "frac", ""),
    ("\\frac{1}{2}", "1/2", "math", True, "frac", ""),
    ("\\frac{1}{2}", "0.5", "math", True, "frac", ""),
    ("\\frac{1}{2}", "\\frac{2}{4}", "math", True, "frac", ""),
    ("\\frac{1}{2}", "\\frac{1}{3}", "math", False, "frac", ""),
    ("-\\frac{1}{2}", "\\frac{-1}{2}", "math", True, "frac", ""),
    ("-\\frac{1}{2}", "{-\\frac{1}{2}}", "math", True, "frac", ""),
    ("-\\frac{1}{2}", "\\frac{1}{2}", "math", False, "frac", ""),
    ("\\frac{3}{4}", "\\frac34", "math", True, "frac", ""),
    ("\\frac{a}{b}", "a/b", "math", True, "frac", ""),
    ("\\frac{7}{2}", "3.5", "math", True, "frac", ""),
    ("\\frac{7}{2}", "3.6", "math", False, "frac", ""),
    # degrees
    ("30^\\circ", "30", "math", True, "degrees", ""),
    ("30", "30^{\\circ}", "math", True, "degrees", ""),
    ("30", "30°", "math", True, "degrees", ""),
    ("30", "30 degrees", "math", True, "degrees", ""),
    ("30^\\circ", "31^\\circ", "math", False, "degrees", ""),
    ("\\frac{\\pi}{6}", "30^\\circ", "math", False, "degrees", "radians asked: degrees not accepted"),
    ("45", "\\boxed{45^\\circ}", "math", True, "degrees", ""),
    ("120^\\circ", "120", "math", True, "degrees", ""),
    # radicals in different forms
    ("2\\sqrt{2}", "\\sqrt{8}", "math", True, "radicals", ""),
    ("2\\sqrt{2}", "2 \\sqrt 2", "math", True, "radicals", ""),
    ("2\\sqrt{2}", "2\\sqrt2", "math", True, "radicals", ""),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", "math", True, "radicals", ""),
    ("\\frac{\\sqrt{2}}{2}", "\\sqrt{2}/2", "math", True, "radicals", ""),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt{3}}{2}", "math", False, "radicals", ""),
    ("3\\sqrt{3}", "\\sqrt{27}", "math", True, "radicals", ""),
    ("3\\sqrt{3}", "\\sqrt{26}", "math", False, "radicals", ""),
    ("\\sqrt[3]{8}", "2", "math", True, "radicals", ""),
    ("2+\\sqrt{3}", "\\sqrt{3}+2", "math", True, "radicals", ""),
    ("2+\\sqrt{3}", "2-\\sqrt{3}", "math", False, "radicals", ""),
    ("\\frac{1+\\sqrt{5}}{2}", "\\frac{\\sqrt{5}+1}{2}", "math", True, "radicals", ""),
    ("\\frac{1+\\sqrt{5}}{2}", "1.618034", "math", True, "radicals", "decimal to 6 places"),
    ("\\frac{1+\\sqrt{5}}{2}", "1.62", "math", False, "radicals", "too coarse"),
    ("4\\sqrt{3}", "4\\sqrt{3}\\text{ cm}^2", "math", True, "radicals", ""),
    # decimals and tolerance
    ("\\frac{1}{3}", "0.333333", "math", True, "decimal", "6 places"),
    ("\\frac{1}{3}", "0.3333", "math", False, "decimal", "4 places: not the exact value"),
    ("0.5", "0.50", "math", True, "decimal", ""),
    ("2", "2.0", "math", True, "decimal", ""),
    ("2", "2.00001", "math", False, "decimal", ""),
    ("3.14", "\\pi", "math", False, "decimal", ""),
    ("\\pi", "3.14", "math", False, "decimal", ""),
    ("\\pi", "3.141593", "math", True, "decimal", ""),
    ("0.1", ".1", "math", True, "decimal", ""),
    ("-0.25", "-\\frac{1}{4}", "math", True, "decimal", ""),
    ("1.23", "1.230", "math", True, "decimal", ""),
    ("1.23", "1.24", "math", False, "decimal", ""),
    ("100", "99.9999999", "math", True, "decimal", "equal after rounding to 6 places (math-verify semantics)"),
    ("100", "99.99999", "math", False, "decimal", "differs at the 6th place"),
    # tiny values (math-verify false positive)
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}", "math", False, "tiny", "math-verify says equal"),
    ("\\frac{1}{2004!}", "\\frac{1}{2004!}", "math", True, "tiny", ""),
    ("\\frac{1}{2004!}", "0", "math", False, "tiny", ""),
    ("\\frac{1}{2004!}", "0.0", "math", False, "tiny", ""),
    ("10^{-20}", "10^{-21}", "math", False, "tiny", ""),
    ("10^{-20}", "0", "math", False, "tiny", ""),
    ("2^{-100}", "\\frac{1}{2^{100}}", "math", True, "tiny", ""),
    ("10^{-20}", "1e-20", "math", True, "tiny", ""),
    ("0.000001", "0.000002", "math", False, "tiny", ""),
    ("\\frac{1}{10^{9}}", "0", "math", False, "tiny", ""),
    # symbolic expressions
    ("x^2+2x+1", "(x+1)^2", "math", True, "symbolic", ""),
    ("x^2+2x+1", "(x-1)^2", "math", False, "symbolic", ""),
    ("y-3x", "-3x+y", "math", True, "symbolic", ""),
    ("\\frac{n(n+1)}{2}", "\\frac{n^2+n}{2}", "math", True, "symbolic", ""),
    ("\\frac{n(n+1)}{2}", "\\frac{n^2-n}{2}", "math", False, "symbolic", ""),
    ("2\\pi", "2 \\pi", "math", True, "symbolic", ""),
    ("6\\pi", "18.849556", "math", True, "symbolic", ""),
    ("\\ln 2", "\\ln(2)", "math", True, "symbolic", "natural log"),
    ("e^{2}", "e^2", "math", True, "symbolic", ""),
    ("\\binom{5}{2}", "10", "math", True, "symbolic", ""),
    ("5!", "120", "math", True, "symbolic", ""),
    ("\\log_2 8", "3", "math", True, "symbolic", ""),
    ("\\sin(\\pi/6)", "\\frac{1}{2}", "math", True, "symbolic", ""),
    ("a^2b", "ba^2", "math", True, "symbolic", ""),
    ("a^2b", "ab^2", "math", False, "symbolic", ""),
    ("1+i", "i+1", "math", True, "symbolic", "complex"),
    ("1+i", "1-i", "math", False, "symbolic", "complex"),
    ("3+4i", "4i+3", "math", True, "symbolic", "complex"),
    ("-1", "i^2", "math", True, "symbolic", "complex"),
    ("x", "y", "math", False, "symbolic", ""),
    ("f(x)=x^2", "x^2", "math", True, "symbolic", ""),
    # multiple choice (GPQA style)
    ("C", "The answer is (C).", "mc", True, "mc_letter", ""),
    ("C", "\\boxed{C}", "mc", True, "mc_letter", ""),
    ("C", "\\boxed{\\text{C}}", "mc", True, "mc_letter", ""),
    ("C", "\\boxed{\\textbf{(C)}}", "mc", True, "mc_letter", "math-verify miss: \\textbf"),
    ("C", "\\textbf{C}", "mc", True, "mc_letter", ""),
    ("C", "Answer: C", "mc", True, "mc_letter", ""),
    ("C", "Answer: D", "mc", False, "mc_letter", ""),
    ("C", "**Answer:** (C) 4.5 eV", "mc", True, "mc_letter", ""),
    ("C", "the correct answer is c.", "mc", True, "mc_letter", "lowercase, unambiguous"),
    ("C", "(c)", "mc", True, "mc_letter", ""),
    ("B", "The final answer is B", "mc", True, "mc_letter", ""),
    ("B", "The final answer is B. Wait, no, A is too small.", "mc", True, "mc_letter", ""),
    ("A", "I think the answer is a bit larger than expected", "mc", False, "mc_letter", "'a' is a word"),
    ("A", "Answer: Carbon", "mc", False, "mc_letter", "a word, not a letter"),
    ("D", "\\boxed{D) 12}", "mc", True, "mc_letter", ""),
    ("D", "\\boxed{D. 12}", "mc", True, "mc_letter", ""),
    ("(D)", "D", "mc", True, "mc_letter", "gold with parentheses"),
    ("\\text{(B)}", "B", "mc", True, "mc_letter", "gold with \\text"),
    ("B", "C", "mc", False, "mc_letter", ""),
    (
        "B",
        "<|begin_of_thought|>\n\nMaybe B or C.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe correct option is C.\n\n<|end_of_solution|>",
        "mc",
        False,
        "mc_letter",
        "solution section decides",
    ),
    (
        "C",
        "<|begin_of_thought|>\n\nMaybe B or C.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe correct option is C.\n\n<|end_of_solution|>",
        "mc",
        True,
        "mc_letter",
        "",
    ),
    (
        "A",
        "<|begin_of_thought|>\n\nLet me think about option A and option B",
        "mc",
        False,
        "mc_letter",
        "truncated, no answer",
    ),
    ("B", "Option B", "mc", True, "mc_letter", ""),
    ("C", "\\boxed{(C)}", "mc", True, "mc_letter", ""),
    ("C", "\\boxed{\\mathrm{C}}", "mc", True, "mc_letter", ""),
    # AIME integers
    ("025", "\\boxed{25}", "int", True, "int_aime", "leading zeros"),
    ("25", "\\boxed{025}", "int", True, "int_aime", ""),
    ("073", "The final answer is 73.", "int", True, "int_aime", ""),
    ("073", "\\boxed{37}", "int", False, "int_aime", ""),
    ("000", "\\boxed{0}", "int", True, "int_aime", ""),
    ("25", "\\boxed{25.0}", "int", True, "int_aime", ""),
    ("25", "\\boxed{25.5}", "int", False, "int_aime", ""),
    ("25", "\\boxed{\\frac{50}{2}}", "int", True, "int_aime", ""),
    ("204", "\\boxed{204 \\text{ minutes}}", "int", True, "int_aime", ""),
    ("33", "33", "int", True, "int_aime", "bare"),
    ("33", "\\boxed{3}", "int", False, "int_aime", ""),
    # extraction from full outputs
    (
        "5",
        "<|begin_of_thought|>\n\nLet me try 4. Then \\boxed{4}? No.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nSo the result is \\(\\boxed{5}\\).\n\n<|end_of_solution|>",
        "math",
        True,
        "extraction",
        "solution box wins over thought box",
    ),
    (
        "4",
        "<|begin_of_thought|>\n\nLet me try 4. Then \\boxed{4}? No.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nSo the result is \\(\\boxed{5}\\).\n\n<|end_of_solution|>",
        "math",
        False,
        "extraction",
        "",
    ),
    ("\\frac{1}{2}", "Thus the answer is \\boxed{\\frac{1}{2}}.", "math", True, "extraction", ""),
    (
        "\\{1, 2\\}",
        "The set is \\boxed{\\{1, 2\\}} and more",
        "math",
        True,
        "extraction",
        "brace matching with escaped braces",
    ),
    (
        "\\{1, 2\\}",
        "The set is \\boxed{\\{1, 3\\}} and more",
        "math",
        False,
        "extraction",
        "brace matching with escaped braces",
    ),
    ("2", "\\fbox{2}", "math", True, "extraction", ""),
    ("2", "\\boxed 2", "math", True, "extraction", "box without braces"),
    ("2", "First \\boxed{3}, corrected: \\boxed{2}", "math", True, "extraction", "last box"),
    ("3", "First \\boxed{3}, corrected: \\boxed{2}", "math", False, "extraction", ""),
    (
        "2, 3",
        "The solutions are $x = \\boxed{2}$ and $x=\\boxed{3}$",
        "math",
        True,
        "extraction",
        "two boxes for a two-part gold (issue 13: was labelled last-box-only)",
    ),
    ("2, 3", "The solutions are \\boxed{2}, \\boxed{3}", "math", True, "extraction", "adjacent boxes joined"),
    (
        "18",
        "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips.\n#### 18",
        "math",
        True,
        "extraction",
        "GSM8K-style pred",
    ),
    ("72", "She sold 48 + 24 = 72 clips altogether.\nThe answer is 72.", "math", True, "extraction", ""),
    (
        "72",
        "Final Answer: The final answer is $72$. I hope it is correct.",
        "math",
        True,
        "extraction",
        "minerva format",
    ),
    ("72", "Final Answer: The final answer is $73$. I hope it is correct.", "math", False, "extraction", ""),
    ("\\frac{3}{4}", "**Final Answer**\n\n\\[\\frac{3}{4}\\]", "math", True, "extraction", ""),
    ("12", "Answer: 12", "math", True, "extraction", ""),
    ("12", "The answer is: $12$", "math", True, "extraction", ""),
    ("12", "Answer: 12 apples", "math", True, "extraction", ""),
    (
        "12",
        "I computed many things: 3, 7, 12 and then stopped because the text was",
        "math",
        False,
        "extraction",
        "no anchor in prose: no last-number fallback",
    ),
    (
        "10",
        "<|begin_of_thought|>\n\nSo the sum is 10, let me double check by computing 4+6=10 and",
        "math",
        False,
        "extraction",
        "truncated thought: no answer",
    ),
    (
        "10",
        "<|begin_of_thought|>\n\nSo the answer is 10. But wait, I should check" + " the other case again." * 20,
        "math",
        False,
        "extraction",
        "tentative answer in a truncated thought",
    ),
    (
        "10",
        "<|begin_of_thought|>\n\nwork\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe sum is 4 + 6, so the answer is 10.",
        "math",
        True,
        "extraction",
        "solution without end tag still counts",
    ),
    ("10", "<think>\nfine\n</think>\nThe answer is $\\boxed{10}$", "math", True, "extraction", "R1 think tags"),
    ("\\frac{1}{2}", "$\\frac{1}{2}$", "math", True, "extraction", "bare latex with delimiters"),
    ("\\frac{1}{2}", "\\frac{1}{2}", "math", True, "extraction", "bare latex without delimiters"),
    ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\dfrac{\\sqrt{3}}{2}}", "math", True, "extraction", ""),
    ("5", "", "math", False, "extraction", "empty output"),
    ("5", "\\boxed{}", "math", False, "extraction", "empty box"),
    ("5", "\\boxed{5", "math", False, "extraction", "unclosed box: truncated, not an answer"),
    # gold given as a worked solution
    (
        "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
        "72",
        "math",
        True,
        "gold_solution",
        "GSM8K rationale",
    ),
    ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "\\boxed{24}", "math", False, "gold_solution", ""),
    (
        "He pays 3*400=<<3*400=1200>>1200.\n#### 1,200",
        "1200",
        "math",
        True,
        "gold_solution",
        "thousands in the rationale",
    ),
    (
        "We have $r = \\sqrt{0^2 + 3^2} = 3.$ Therefore, the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
        "(3,\\frac{\\pi}{2})",
        "math",
        True,
        "gold_solution",
        "MATH solution",
    ),
    (
        "We have $r = 3.$ Therefore, the answer is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
        "3",
        "math",
        False,
        "gold_solution",
        "",
    ),
    ("The value is $\\boxed{5}$.", "The value is \\boxed{5}", "math", True, "gold_solution", ""),
    # pathological inputs
    ("1", "\\boxed{9^{9^{9^{9}}}}", "math", False, "pathological", "power tower"),
    ("1", "9^{9^{9^{9}}}", "math", False, "pathological", ""),
    ("2", "\\boxed{" + "{" * 3000 + "2" + "}" * 3000 + "}", "math", False, "pathological", "deep braces"),
    ("2", "\\boxed{\\frac{1}{0}}", "math", False, "pathological", "division by zero"),
    ("2", "\\boxed{\\frac{}{}}", "math", False, "pathological", "invalid latex"),
    ("2", "\\boxed{\\sqrt{}}", "math", False, "pathological", "invalid latex"),
    ("2", "\\boxed{\\begin{pmatrix}}", "math", False, "pathological", "invalid latex"),
    ("2", "\\boxed{\\x00\\xff\\ufffd}", "math", False, "pathological", "garbage"),
    ("2", "\\boxed{" + "x+" * 400 + "x}", "math", False, "pathological", "long sum"),
    ("2", "\\boxed{10^{10^{10}}}", "math", False, "pathological", ""),
    ("\\infty", "\\infty", "math", True, "pathological", ""),
    ("\\infty", "-\\infty", "math", False, "pathological", ""),
    ("0", "\\boxed{0/0}", "math", False, "pathological", ""),
    # common answer forms, written by us (no row is copied from any grader's test suite: the held-out
    # measure of the verifier comes from such suites)
    ("10\\%", "0.1", "math", True, "common_forms", "percent on the gold"),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", "math", True, "common_forms", ""),
    ("1,2,3", "\\{1,2,3\\}", "math", True, "common_forms", "list vs set"),
    ("-\\frac{1}{2}", "-0.5", "math", True, "common_forms", ""),
    ("a+b", "b+a", "math", True, "common_forms", ""),
    ("\\text{yes}", "yes", "math", True, "common_forms", ""),
    ("\\text{yes}", "no", "math", False, "common_forms", ""),
    ("5\\sqrt{2}", "\\sqrt{50}", "math", True, "common_forms", ""),
    ("\\text{B}", "B", "math", True, "common_forms", ""),
    ("\\pm 2", "2, -2", "math", True, "common_forms", ""),
    ("\\pm 2", "2", "math", False, "common_forms", ""),
    ("\\sqrt{2}", "sqrt(2)", "math", True, "common_forms", "plain text"),
    ("2\\sqrt{2}", "sqrt(8)", "math", True, "common_forms", "plain text"),
    ("\\frac{\\pi}{2}", "pi/2", "math", True, "common_forms", "plain text"),
    ("x^2", "x**2", "math", True, "common_forms", "plain text"),
    ("10", "10.0", "math", True, "common_forms", ""),
    (".5", "1/2", "math", True, "common_forms", ""),
    ("2", "2 and 3", "math", False, "common_forms", ""),
    ("2, 3", "2 \\text{ and } 3", "math", True, "common_forms", ""),
    ("2,3", "x=2 \\text{ or } x=3", "math", True, "common_forms", ""),
    ("(-\\infty,3]", "x \\le 3", "math", True, "common_forms", ""),
    ("(-\\infty,3]", "x \\leq 3", "math", True, "common_forms", ""),
    ("0.1", "10\\%", "math", True, "common_forms", ""),
    ("5", "05", "math", True, "common_forms", ""),
    ("-5", "- 5", "math", True, "common_forms", ""),
    ("3", "+3", "math", True, "common_forms", ""),
    ("2", "\\text{two}", "math", True, "common_forms", "a number word for a number (issue 13: was labelled not equal)"),
    ("\\$5.00", "5", "math", True, "common_forms", ""),
    ("\\text{(A)}", "A", "math", True, "common_forms", ""),
    ("\\frac{1}{3}", "0.\\overline{3}", "math", True, "common_forms", "repeating decimal"),
    ("\\frac{1}{7}", "0.\\overline{142857}", "math", True, "common_forms", "repeating decimal"),
    ("\\frac{1}{3}", "0.\\overline{6}", "math", False, "common_forms", "repeating decimal"),
    ("\\left[ \\frac{1}{2}, 1 \\right)", "[1/2,1)", "math", True, "common_forms", ""),
    ("\\{3,4\\}", "(3,4)", "math", False, "common_forms", "set vs ordered pair"),
    ("(3,4)", "\\{3,4\\}", "math", False, "common_forms", "ordered pair vs set"),
    ("\\{3\\}", "3", "math", True, "common_forms", ""),
    ("1-2i", "-2i+1", "math", True, "common_forms", "complex"),
    ("\\frac{5}{2}", "2 1/2", "math", True, "common_forms", "mixed number"),
    ("\\frac{5}{2}", "2\\tfrac{1}{2}", "math", True, "common_forms", "mixed number"),
    ("\\frac{1}{4}", "25\\%", "math", True, "common_forms", ""),
    ("x\\in[-1,1]", "[-1,1]", "math", True, "common_forms", ""),
    ("[-1,1]", "-1\\le x\\le 1", "math", True, "common_forms", ""),
    ("x+y", "x+z", "math", False, "common_forms", ""),
    ("-3", "3", "math", False, "common_forms", ""),
    ("0", "-0", "math", True, "common_forms", ""),
    ("9", "3^2", "math", True, "common_forms", ""),
    ("10", "\\sqrt{100}", "math", True, "common_forms", ""),
    ("100", "100^{\\text{th}}", "math", True, "common_forms", "ordinal"),
    ("\\text{Devon}", "Devon", "math", True, "common_forms", ""),
    ("(3,4)", "3,4", "math", True, "common_forms", "pair written without parentheses"),
    ("13", "13\\%", "math", True, "common_forms", "percent sign on the prediction only"),
]


# ---- issue 13: statements, cut-off responses, number words, MC prose, several boxes, number formats ----
SKY_TEMPLATE = (
    "<|begin_of_thought|>\n\n{thought}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n{sol}\n\n<|end_of_solution|>"
)
LONG = (
    "Let me work through this carefully, one step at a time, and check each intermediate result "
    "before moving on to the next part of the problem. "
) * 3


def sky(thought, sol):
    return SKY_TEMPLATE.format(thought=thought, sol=sol)


# Dev part: tuned on.
DEV_NEW = [
    # closing statements (issue 13's own examples, and their near misses)
    (
        "24",
        LONG
        + "360 = 2^3 * 3^2 * 5, so the count is (3+1)(2+1)(1+1).\n\nTherefore, the number of positive divisors of 360 is 24.",
        "math",
        True,
        "statement",
        "",
    ),
    ("24", LONG + "Therefore, the number of positive divisors of 360 is 26.", "math", False, "statement", ""),
    ("7", LONG + "The circle has area 49π, so r^2 = 49.\n\nSo the radius is 7 cm.", "math", True, "statement", ""),
    ("12", LONG + "Trying again with the second equation.\n\nI keep getting m = 12.", "math", True, "statement", ""),
    ("2000", LONG + "Adding the three meals: 600 + 700 + 700 = 2000 calories.", "math", True, "statement", ""),
    (
        "\\frac{10}{9}",
        LONG + "Putting it together, the answer is $\\frac{10}{9}$.",
        "math",
        True,
        "statement",
        "anchor",
    ),
    ("(-\\infty, -2]", LONG + "Hence $t \\leq -2$ is the solution set.", "math", True, "statement", ""),
    (
        "\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}",
        LONG + "The inverse is $\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}$.",
        "math",
        True,
        "statement",
        "",
    ),
    ("z \\neq 4", LONG + "So we get $z \\neq 4$.", "math", True, "statement", ""),
    (
        "50",
        sky(
            "Carlos has $43.",
            "So the price is at most 50 dollars.\n\nTherefore, the original price of the most expensive shoes Carlos can afford is indeed $50.",
        ),
        "math",
        True,
        "statement",
        "Sky-T1 amc23 idx 30 shape",
    ),
    ("8", LONG + "So the final count is 8 and we are done.", "math", True, "statement", ""),
    ("8", LONG + "The sum of the digits is 8. Hope it helps.", "math", True, "statement", ""),
    ("3", LONG + "We need 3 more boxes than yesterday.", "math", False, "statement", "no copula: not read"),
    (
        "5",
        LONG + "So x = 5.\n\nLet me double check: 2 * 5 = 10, which matches the total.",
        "math",
        False,
        "statement",
        "the last stated value is 10",
    ),
    ("\\frac{1}{2}", LONG + "The probability is $\\frac{1}{2}$, which is 50%.", "math", True, "statement", ""),
    ("3, 5", LONG + "The solutions are $x = 3$ and $x = 5$.", "math", True, "statement", ""),
    ("3, 5", LONG + "The solutions are $x = 3$ and $x = 6$.", "math", False, "statement", ""),
    # added after the first run of the frozen test part showed these gaps (see BENCHMARKS.md)
    (
        "36",
        LONG + "In total, Maria baked 36 cookies for the party.",
        "math",
        True,
        "statement",
        "concluding sentence, one value",
    ),
    ("7", LONG + "So the polygon has seven sides.", "math", True, "statement", "concluding sentence, number word"),
    ("5", LONG + "Therefore, 5 apples cost $10.", "math", False, "statement", "two values: none is read"),
    ("10", LONG + "Therefore, 5 apples cost $10.", "math", False, "statement", "two values: none is read"),
    ("\\frac{2}{3}", LONG + "Solving for $y$, we obtain $y = \\frac{2}{3}$.", "math", True, "statement", "we obtain"),
    ("4", LONG + "Thus Tom has four times as many cards as Ann.", "math", False, "statement", "a comparison"),
    # the examples as short predictions (a sentence, not a bare answer), with near misses
    ("(-\\infty, -2]", "Hence $t \\leq -2$ is the solution set.", "math", True, "statement", "short"),
    ("(-\\infty, -2]", "Hence $t \\leq 2$ is the solution set.", "math", False, "statement", "short"),
    (
        "\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}",
        "The inverse is $\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}$.",
        "math",
        True,
        "statement",
        "short",
    ),
    (
        "\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}",
        "The inverse is not $\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}$.",
        "math",
        False,
        "statement",
        "negated",
    ),
    ("7", "So the radius is 7 cm.", "math", True, "statement", "short"),
    ("7", "So the radius is 8 cm.", "math", False, "statement", "short"),
    ("5", "So the answer is not 5.", "math", False, "statement", "negated"),
    ("5", "Therefore, x is not 5.", "math", False, "statement", "negated"),
    ("12", "I keep getting m = 12.", "math", True, "statement", "short"),
    ("9", "is 9", "math", True, "statement", "short"),
    (
        "37",
        LONG + "This is a combination of the usual rules. The equation should be $6 \\times 5 + 7$.",
        "math",
        False,
        "statement",
        "SmolLM2 restates the question (real rollout, shortened)",
    ),
    (
        "22",
        LONG + "In the context of 4 + 8 + 10, the equation is $4 + 8 + 10 = 22$.",
        "math",
        True,
        "statement",
        "SmolLM2 (real rollout)",
    ),
    ("22", LONG + "So the sum is 4 + 8 + 10.", "math", False, "statement", "unevaluated"),
    ("5", LONG + "So the answer is 5, not 6.", "math", True, "statement", "a correction after the value"),
    ("6", LONG + "So the answer is 5, not 6.", "math", False, "statement", ""),
    # cut-off
    ("24", LONG + "So far the count is 24 and I need to check whether", "math", False, "cut_off", ""),
    (
        "5",
        "<|begin_of_thought|>\n\nThe sum is 5.\n\nSo the answer is 5.",
        "math",
        False,
        "cut_off",
        "unterminated thought",
    ),
    (
        "10",
        "<|begin_of_thought|>\n\nwork\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThe sum is 4 + 6, so the answer is 10.",
        "math",
        True,
        "cut_off",
        "solution without end tag, finished sentence",
    ),
    # number words
    ("3", LONG + "There are three such numbers.", "math", True, "number_words", ""),
    ("3", LONG + "So the answer is three.", "math", True, "number_words", ""),
    ("24", LONG + "Therefore, there are twenty-four arrangements.", "math", True, "number_words", ""),
    ("4", LONG + "There are three such numbers.", "math", False, "number_words", ""),
    ("105", LONG + "The total is one hundred and five.", "math", True, "number_words", ""),
    ("\\text{three}", "\\boxed{3}", "math", True, "number_words", "word gold"),
    ("5", LONG + "She needs five more stickers than Tom.", "math", False, "number_words", "comparison"),
    # multiple choice in prose
    (
        "B",
        LONG + "Comparing the options, A is too small and C overshoots, so I'd go with B.",
        "mc",
        True,
        "mc_prose",
        "",
    ),
    ("D", LONG + "Checking each: it must be D, not A.", "mc", True, "mc_prose", ""),
    ("A", LONG + "Checking each: it must be D, not A.", "mc", False, "mc_prose", ""),
    ("C", LONG + 'Answer: "C"', "mc", True, "mc_prose", ""),
    ("C", LONG + "C holds because the derivative is positive everywhere.", "mc", True, "mc_prose", ""),
    ("A", LONG + "C holds because the derivative is positive everywhere.", "mc", False, "mc_prose", ""),
    ("B", LONG + "I would not go with B; the right one is D.", "mc", False, "mc_prose", "negated"),
    (
        "A",
        LONG + "It is A good idea to check every option once more.",
        "mc",
        False,
        "mc_prose",
        "article, not a letter",
    ),
    (
        "D",
        LONG + "Option B looks tempting but fails the second test; it must be D.",
        "mc",
        True,
        "mc_prose",
        "a mention of an option is no anchor",
    ),
    ("B", LONG + "Option B looks tempting but fails the second test; it must be D.", "mc", False, "mc_prose", ""),
    ("D", LONG + "Of all the choices, D is correct since it is the only even one.", "mc", True, "mc_prose", ""),
    ("A", LONG + "Of all the choices, A is not correct, and D is.", "mc", False, "mc_prose", ""),
    # several boxes
    ("(2,5), (0,1)", "\\boxed{(2,5)} for part (a) and \\boxed{(0,1)} for part (b).", "math", True, "multi_box", ""),
    ("(2,5), (0,1)", "\\boxed{(2,5)} for part (a) and \\boxed{(0,2)} for part (b).", "math", False, "multi_box", ""),
    ("3, 5", "The first root is \\boxed{3} and the second is \\boxed{5}.", "math", True, "multi_box", ""),
    ("5", "Try \\boxed{3}. Then the final is \\boxed{5}.", "math", True, "multi_box", ""),
    ("3, 5", "We get \\boxed{1} at first, then \\boxed{3} and finally \\boxed{5}.", "math", True, "multi_box", ""),
    ("3, 5", "Only \\boxed{5} works.", "math", False, "multi_box", ""),
    # number formats
    ("12345", "\\boxed{12,\\! 345}", "math", True, "number_format", ""),
    ("12345", "\\boxed{12\\,345}", "math", True, "number_format", ""),
    ("3.5", LONG + "The price is 3,50 €.", "math", True, "number_format", ""),
    ("3.5", "\\boxed{3,50}", "math", False, "number_format", "could be a list"),
    ("\\frac{6001}{3}", "\\boxed{2 000 1/3}", "math", True, "number_format", ""),
    ("\\frac{6001}{3}", "\\boxed{2 000}", "math", False, "number_format", ""),
    ("1500", "\\boxed{1,500 €}", "math", True, "number_format", "thousands with currency"),
    # near misses
    ("1, 2, 3", "\\boxed{1, 2, 3, \\ldots}", "math", False, "near_miss", "ellipsis"),
    ("1, 2, 3, \\ldots", "\\boxed{1, 2, 3}", "math", False, "near_miss", ""),
    ("1, 2, 3, \\ldots", "\\boxed{1, 2, 3, \\dots}", "math", True, "near_miss", ""),
    ("1, 2, 3, \\ldots", "\\boxed{1, 2, 3, ...}", "math", True, "near_miss", ""),
    ("\\frac{7}{2}", "\\boxed{3\n\\frac{1}{2}}", "math", False, "near_miss", "newline"),
    ("\\frac{7}{2}", "\\boxed{3\n1/2}", "math", False, "near_miss", "newline"),
    ("3\\frac{1}{2}", "\\boxed{3 \\frac{1}{2}}", "math", True, "near_miss", ""),
    ("\\frac{7}{2}", "$3$\n$\\frac{1}{2}$", "math", False, "near_miss", "two lines of bare formulas"),
    # huge numbers
    ("7", "\\boxed{10^{4301}}", "math", False, "huge_numbers", ""),
    ("10^{9999}", "1e9999", "math", True, "huge_numbers", ""),
    ("1", "\\boxed{1e4400}", "math", False, "huge_numbers", ""),
    ("1e9999", "\\boxed{9.99\\times10^{9999}}", "math", False, "huge_numbers", ""),
]

# Frozen test part: written before the code that reads statements and number formats was run, and never
# tuned on. Its file is written once (see TESTSET); changing these rows needs --refreeze and a note why.
TEST_HAND = [
    # closing statements of finished responses
    ("9", LONG + "After simplifying, $3^2 = 9$, so the value of the expression is 9.", "math", True, "statement", ""),
    (
        "36",
        LONG + "Multiplying the two factors gives 4 · 9 = 36.\n\nThus the area of the rectangle is 36 square units.",
        "math",
        True,
        "statement",
        "",
    ),
    (
        "\\frac{3}{4}",
        LONG + "Dividing both sides by 4, we find that $x = \\frac{3}{4}$.",
        "math",
        True,
        "statement",
        "",
    ),
    ("15", LONG + "So the total number of handshakes equals 15.", "math", True, "statement", ""),
    ("15", LONG + "So the total number of handshakes equals 16.", "math", False, "statement", "wrong value"),
    ("\\sqrt{2}", LONG + "Therefore the length of the diagonal is $\\sqrt{2}$ units.", "math", True, "statement", ""),
    (
        "80",
        LONG + "Altogether, Sam ran 80 miles during the week.",
        "math",
        True,
        "statement",
        "no copula: a human credits it",
    ),
    ("\\frac{1}{4}", LONG + "The probability that both coins land heads is 1/4.", "math", True, "statement", ""),
    ("120", LONG + "Hence there are $5! = 120$ ways to arrange the books.", "math", True, "statement", ""),
    (
        "120",
        LONG + "Hence there are $5! = 120$ ways to arrange the books, but we need the circular ones: $4! = 24$.",
        "math",
        False,
        "statement",
        "final value is 24",
    ),
    (
        "42",
        sky(
            "Trying a few values, 40 is too small and 44 too big.",
            "Checking the remaining case, the number of marbles is 42.",
        ),
        "math",
        True,
        "statement",
        "Sky-T1 layout without a box",
    ),
    (
        "42",
        sky("Trying a few values, 42 looks right.", "Checking the remaining case, the number of marbles is 41."),
        "math",
        False,
        "statement",
        "solution decides over thought",
    ),
    ("-3", LONG + "Substituting back, the slope of the line is $-3$.", "math", True, "statement", ""),
    ("(2, -1)", LONG + "So the solution of the system is $(x, y) = (2, -1)$.", "math", True, "statement", ""),
    ("7", LONG + "So the remainder is 7. I hope this helps!", "math", True, "statement", "pleasantry after"),
    ("7", LONG + "So the remainder is 7. Let me know if you need anything else.", "math", True, "statement", ""),
    (
        "7",
        LONG + "The remainder is 7 when n = 10, and it is 3 when n = 11.",
        "math",
        False,
        "statement",
        "last value stated is 11 (ambiguous response)",
    ),
    ("25", LONG + "We can see that 5^2 = 25, so the square of 5 is 25.", "math", True, "statement", ""),
    ("1000", LONG + "The total cost comes to $1000.", "math", True, "statement", "currency dollar"),
    ("1000", LONG + "The total cost comes to $1200.", "math", False, "statement", "currency dollar"),
    (
        "2",
        LONG + "There are 2 real roots and 3 complex ones, so the equation",
        "math",
        False,
        "cut_off",
        "ends mid-sentence",
    ),
    # anchors followed by a sentence
    ("4", LONG + "**Final Answer:** The minimum value is 4.", "math", True, "anchor_sentence", ""),
    ("(1, -2)", LONG + "Final answer: the point of intersection is $(1, -2)$.", "math", True, "anchor_sentence", ""),
    (
        "\\frac{1}{6}",
        LONG + "Answer: The probability is $\\frac{1}{6}$, since only one face works.",
        "math",
        True,
        "anchor_sentence",
        "",
    ),
    (
        "\\frac{1}{6}",
        LONG + "Answer: The probability is $\\frac{1}{5}$, since one of five faces works.",
        "math",
        False,
        "anchor_sentence",
        "",
    ),
    ("x \\ge 3", LONG + "Final Answer: Hence $x \\geq 3$ is the solution set.", "math", True, "anchor_sentence", ""),
    # cut-off responses
    ("9", LONG + "First compute 3^2 = 9. Then we need to subtract the", "math", False, "cut_off", "mid-sentence"),
    ("12", "<think>\nLet me see, 3 * 4 = 12. So the answer is 12.", "math", False, "cut_off", "unterminated thought"),
    ("12", "<think>\n3*4=12\n</think>\n\nThe product is 12.", "math", True, "statement", "finished think layout"),
    (
        "12",
        "<|begin_of_thought|>\n\n"
        + LONG
        + "So the product is \\boxed{12} I think, but let me check the other case where",
        "math",
        False,
        "cut_off",
        "box in an unterminated thought",
    ),
    ("5", LONG + "Therefore, the count is 5 because each of the", "math", False, "cut_off", ""),
    # number words
    ("7", LONG + "The answer is seven.", "math", True, "number_words", ""),
    ("11", LONG + "In total, the number of teams is eleven.", "math", True, "number_words", ""),
    ("11", LONG + "In total, the number of teams is twelve.", "math", False, "number_words", ""),
    ("21", LONG + "So there are twenty-one handshakes.", "math", True, "number_words", ""),
    ("300", LONG + "The library holds three hundred books.", "math", True, "number_words", "verb holds"),
    (
        "3",
        LONG + "Therefore, Tom has three times as many apples as Ann.",
        "math",
        False,
        "number_words",
        "comparison, not a value",
    ),
    ("2", LONG + "So the equation has two real solutions.", "math", True, "number_words", "verb has"),
    # multiple choice in prose
    ("B", LONG + "Between the four, B is correct because it keeps the ratio fixed.", "mc", True, "mc_prose", ""),
    ("D", LONG + "So I'll choose D.", "mc", True, "mc_prose", ""),
    ("A", LONG + "Option A fails the test, so the answer must be C.", "mc", False, "mc_prose", ""),
    ("C", LONG + 'The answer: "C"', "mc", True, "mc_prose", ""),
    ("E", LONG + "It has to be E, since the others are negative.", "mc", True, "mc_prose", ""),
    ("B", LONG + "I pick option B.", "mc", True, "mc_prose", ""),
    (
        "B",
        LONG + "I would not pick B here; D matches all three conditions, so D it is.",
        "mc",
        False,
        "mc_prose",
        "negated",
    ),
    (
        "A",
        LONG + "A is a tempting choice but the numbers say otherwise, so it should be C.",
        "mc",
        False,
        "mc_prose",
        "",
    ),
    # several boxes for a several-part gold
    ("(1,2), (3,4)", "Part (a): $\\boxed{(1,2)}$. Part (b): $\\boxed{(3,4)}$.", "math", True, "multi_box", ""),
    ("(1,2), (3,4)", "Part (a): $\\boxed{(1,2)}$. Part (b): $\\boxed{(3,5)}$.", "math", False, "multi_box", ""),
    ("2, 7", "The smaller root is $\\boxed{2}$, and the larger root is $\\boxed{7}$.", "math", True, "multi_box", ""),
    (
        "2, 7",
        "First I guessed $\\boxed{3}$, but the roots are $\\boxed{2}$ and $\\boxed{8}$.",
        "math",
        False,
        "multi_box",
        "",
    ),
    (
        "7",
        "The smaller root is $\\boxed{2}$, and the larger root is $\\boxed{7}$.",
        "math",
        True,
        "multi_box",
        "single gold: last box",
    ),
    # number formats
    ("1000000", "\\boxed{1\\,000\\,000}", "math", True, "number_format", ""),
    ("23456", "\\boxed{23,\\!456}", "math", True, "number_format", ""),
    ("2.75", LONG + "The total is 2,75 €.", "math", True, "number_format", "decimal comma with currency"),
    ("275", LONG + "The total is 2,75 €.", "math", False, "number_format", ""),
    ("\\frac{3001}{2}", "\\boxed{1 500 1/2}", "math", True, "number_format", "mixed number with a thousands space"),
    ("1500", "\\boxed{1 500}", "math", True, "number_format", ""),
    ("2.5", "\\boxed{2,5}", "math", False, "number_format", "could be a list"),
    ("4.5", "\\boxed{4{,}5}", "math", False, "number_format", "ambiguous without a unit"),
    # near misses (false-positive traps)
    ("2, 4, 6, 8", "\\boxed{2, 4, 6, 8, \\ldots}", "math", False, "near_miss", "ellipsis"),
    ("2, 4, 6, 8, \\ldots", "\\boxed{2, 4, 6, 8}", "math", False, "near_miss", "ellipsis on gold"),
    ("2, 4, 6, 8, \\ldots", "\\boxed{2, 4, 6, 8, \\dots}", "math", True, "near_miss", "both continue"),
    ("2\\frac{1}{4}", "\\boxed{2\n\\frac{1}{4}}", "math", False, "near_miss", "newline, not a mixed number"),
    ("\\frac{9}{4}", "$2$\n$\\frac{1}{4}$", "math", False, "near_miss", "two lines"),
    ("2\\frac{1}{4}", "\\boxed{2\\frac{1}{4}}", "math", True, "near_miss", ""),
    (
        "10",
        LONG + "We have 10 apples and 4 pears, and we need to find the total number of fruits.",
        "math",
        False,
        "near_miss",
        "a finished sentence that states no result",
    ),
    ("6", LONG + "Is the answer 6?", "math", False, "near_miss", "a question"),
    # huge and tiny numbers
    ("1", "\\boxed{0.3\\times10^{-8574}}", "math", False, "huge_numbers", ""),
    ("10^{5000}", "\\boxed{10^{5000}}", "math", True, "huge_numbers", ""),
    ("7", "The answer is 1e5000.", "math", False, "huge_numbers", ""),
    ("1e9999", "\\boxed{10^{9999}}", "math", True, "huge_numbers", ""),
    ("7", "\\boxed{" + "9" * 5000 + "}", "math", False, "huge_numbers", "5,000-digit literal"),
]


def _variants_equal(ans: str, rng: random.Random) -> list[tuple[str, str]]:
    """Equivalent presentations of a MATH answer (as model outputs would write it)."""
    out = [
        (f"So the final answer is $\\boxed{{{ans}}}$.", "boxed in a sentence"),
        (
            f"<|begin_of_thought|>\n\nwork\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nThus the answer is \\( \\boxed{{{ans}}} \\)\n\n<|end_of_solution|>",
            "Sky-T1 output",
        ),
    ]
    alt = ans.replace("\\frac", "\\dfrac") if "\\frac" in ans else None
    if alt:
        out.append((f"\\boxed{{{alt}}}", "dfrac"))
    elif re.fullmatch(r"-?\d+", ans):
        out.append((f"The final answer is ${ans}$.", "anchored"))
    else:
        out.append((f"${ans}$.", "bare with trailing period"))
    return out


def _perturb(ans: str, rng: random.Random) -> str | None:
    """A non-equivalent answer: one digit changed (MATH answers are in lowest terms, so this changes the value)."""
    digits = [m.start() for m in re.finditer(r"\d", ans)]
    if not digits:
        return None
    k = digits[-1]
    d = int(ans[k])
    nd = (d + 1 + rng.randrange(8)) % 10
    if nd == d:
        nd = (d + 1) % 10
    return ans[:k] + str(nd) + ans[k + 1 :]


# Answers where one changed digit may still be equivalent or is otherwise not a clean negative.
_SKIP_PERTURB = re.compile(r"\^\{?\d|\\log|_\d|\\sqrt\[|\\text|\\begin|\\circ|\\infty|[a-z]\^|\\pi")

TRAJ_LABELS = {
    # judged by reading each output: the boxed answer in the solution section against gt; outputs cut at
    # the length limit (no <|end_of_solution|>, no box) have no answer and are not correct.
    "aime24": None,
    "amc23": None,
}


def _traj_rows() -> list[dict]:
    rows = []
    for fname, key, kind in (
        ("trajectories_skyt1_32b_aime24.jsonl", "aime24", "int"),
        ("trajectories_skyt1_14b_amc23.jsonl", "amc23", "math"),
    ):
        for line in open(SHARED / "trajectories" / fname, encoding="utf-8"):
            r = json.loads(line)
            text = r["code"][0]
            box = None
            sol = text.split("<|begin_of_solution|>")[-1] if "<|end_of_solution|>" in text else None
            if sol is not None:
                m = list(re.finditer(r"\\boxed\{([^{}]*)\}", sol))
                box = m[-1].group(1) if m else None
            # hand judgement: the only outputs with a final answer are the finished ones; all of them box a
            # plain integer (amc23 idx 2 writes 45^\circ for gold 45, judged correct)
            expected = box is not None and re.sub(r"\^\\circ|\s", "", box).lstrip("0") == r["gt"].lstrip("0")
            note = f"idx {r['idx']}; harness pred {r['pred'][0]!r} score {r['score'][0]}; "
            note += f"final box {box!r}" if box is not None else "truncated, no final answer"
            rows.append(dict(gold=r["gt"], pred=text, kind=kind, expected=expected, category=f"traj_{key}", note=note))
    return rows


def build() -> list[dict]:
    rng = random.Random(20241122)
    rows: list[dict] = []
    rows += _traj_rows()
    math500 = [json.loads(l) for l in open(SHARED / "benchmarks" / "math500.jsonl", encoding="utf-8")]
    picked = rng.sample(math500, 150)
    for p in picked:
        ans = p["answer"]
        for pred, note in _variants_equal(ans, rng):
            rows.append(
                dict(
                    gold=ans,
                    pred=pred,
                    kind="math",
                    expected=True,
                    category="math500_equiv",
                    note=f"{p['unique_id']}: {note}",
                )
            )
        if not _SKIP_PERTURB.search(ans):
            bad = _perturb(ans, rng)
            if bad is not None and bad != ans:
                rows.append(
                    dict(
                        gold=ans,
                        pred=f"The final answer is $\\boxed{{{bad}}}$.",
                        kind="math",
                        expected=False,
                        category="math500_wrong",
                        note=f"{p['unique_id']}: one digit changed",
                    )
                )
    # MATH solutions as gold (worked solution with \boxed)
    for p in picked[:40]:
        rows.append(
            dict(
                gold=p["solution"],
                pred=f"\\boxed{{{p['answer']}}}",
                kind="math",
                expected=True,
                category="gold_solution",
                note=f"{p['unique_id']}: gold is the full solution",
            )
        )
    gsm = [json.loads(l) for l in open(SHARED / "benchmarks" / "gsm8k_test.jsonl", encoding="utf-8")]
    for g in rng.sample(gsm, 40):
        final = g["answer"].split("####")[-1].strip().replace(",", "")
        n = int(final)
        rows.append(
            dict(
                gold=g["answer"],
                pred=f"The answer is {n:,}.",
                kind="math",
                expected=True,
                category="gsm8k",
                note="rationale gold, thousands separator in pred",
            )
        )
        rows.append(
            dict(
                gold=g["answer"],
                pred=f"So she has $\\boxed{{{n + rng.choice([1, -1, 10])}}}$ left.",
                kind="math",
                expected=False,
                category="gsm8k",
                note="off by a bit",
            )
        )
    aime = [json.loads(l) for l in open(SHARED / "benchmarks" / "aime24.jsonl", encoding="utf-8")]
    for a in aime:
        rows.append(
            dict(
                gold=a["answer"],
                pred=f"Therefore $m+n = \\boxed{{{int(a['answer'])}}}$.",
                kind="int",
                expected=True,
                category="int_aime",
                note=f"aime24 id {a['id']}: zero-padded gold",
            )
        )
        rows.append(
            dict(
                gold=a["answer"],
                pred=f"\\boxed{{{int(a['answer']) + 1}}}",
                kind="int",
                expected=False,
                category="int_aime",
                note=f"aime24 id {a['id']}",
            )
        )
    for g, p, k, e, c, n in HAND + DEV_NEW:
        rows.append(dict(gold=g, pred=p, kind=k, expected=e, category=c, note=n))
    for r in rows:
        r["split"] = "dev"
    return rows


def build_test() -> list[dict]:
    return [
        dict(gold=g, pred=p, kind=k, expected=e, category=c, note=n, split="test") for g, p, k, e, c, n in TEST_HAND
    ]


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def load(split: str | None = None) -> list[dict]:
    """Rows of the dev set (split "dev"), the frozen test set ("test"), or both (None)."""
    rows = _read(DEVSET) + _read(TESTSET) + _read(SMOLLM2)
    for r in rows:
        r.setdefault("split", "dev")
    return [r for r in rows if split is None or r["split"] == split]


def evaluate(rows: list[dict], workers: int | None = None, timeout: float = 5.0, policy: str = "default"):
    from pipeline.verifier import grade_many

    t0 = time.monotonic()
    verdicts = grade_many(
        [(r["gold"], r["pred"], r["kind"], r.get("finish_reason")) for r in rows],
        workers=workers,
        timeout=timeout,
        policy=policy,
    )
    secs = time.monotonic() - t0
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "ok": 0, "fp": 0, "fn": 0})
    errors = []
    for r, v in zip(rows, verdicts):
        s = stats[r["category"]]
        s["n"] += 1
        if v.equal == r["expected"]:
            s["ok"] += 1
        else:
            s["fp" if v.equal else "fn"] += 1
            errors.append((r, v))
    return stats, errors, verdicts, secs


def report(stats, errors, secs, show_errors: bool, title: str = "") -> dict:
    total = {"n": 0, "ok": 0, "fp": 0, "fn": 0}
    if title:
        print(f"\n== {title}")
    print(f"{'category':18} {'n':>5} {'acc':>7} {'FP':>4} {'FN':>4}")
    for cat in sorted(stats):
        s = stats[cat]
        for k in total:
            total[k] += s[k]
        print(f"{cat:18} {s['n']:5d} {100 * s['ok'] / s['n']:6.1f}% {s['fp']:4d} {s['fn']:4d}")
    acc = total["ok"] / max(1, total["n"])
    print(f"{'TOTAL':18} {total['n']:5d} {100 * acc:6.1f}% {total['fp']:4d} {total['fn']:4d}   ({secs:.1f} s)")
    for r, v in errors:
        if not (v.equal or show_errors):
            continue
        kind = "FALSE POSITIVE" if v.equal else "false negative"
        print(
            f"\n[{kind}] {r['category']}: {r['note']}\n  gold={r['gold'][:120]!r}\n  pred={r['pred'][-160:]!r}\n"
            f"  extracted={v.extracted!r} source={v.answer_source} gold_x={v.gold!r} rule={v.rule} "
            f"reason={v.reason}"
        )
    return {"accuracy": acc, **total}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="regenerate tests/data/verifier_devset.jsonl first")
    ap.add_argument("--refreeze", action="store_true", help="also rewrite the frozen test file (say why in the commit)")
    ap.add_argument("--show-errors", action="store_true", help="list false negatives too (false positives always are)")
    ap.add_argument("--policy", default="default", help="answer policy: strict, default or harness")
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", action="store_true", help="print the totals as JSON at the end")
    args = ap.parse_args()
    if args.build:
        rows = build()
        DEVSET.parent.mkdir(parents=True, exist_ok=True)
        with open(DEVSET, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} rows to {DEVSET.relative_to(ROOT)}")
        if args.refreeze or not TESTSET.exists():
            test = build_test()
            with open(TESTSET, "w", encoding="utf-8") as fh:
                for r in test:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            print(f"wrote {len(test)} rows to {TESTSET.relative_to(ROOT)} (frozen)")
    out = {}
    fp = 0
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        rows = load(split)
        stats, errors, _, secs = evaluate(rows, workers=args.workers, policy=args.policy)
        title = {"dev": "dev part (tuned on)", "test": "frozen test part (never tuned on)"}[split]
        out[split] = {
            "per_category": stats,
            "total": report(stats, errors, secs, args.show_errors, f"{title}, policy {args.policy}"),
        }
        fp += out[split]["total"]["fp"]
    if args.json:
        print(json.dumps(out))
    return 0 if fp == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
