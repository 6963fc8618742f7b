"""Chinese word segmentation for search (rjieba: the jieba model, in Rust; ADR 0010).

Chinese has no spaces between words, so both the stored text and the query are cut into words
before the full-text index sees them: ``segment`` gives the words of a text separated by
spaces, which PostgreSQL's ``simple`` configuration and SQLite FTS5's ``unicode61`` tokenizer
then index word by word.

A query is cut the same way (``query_words``) and becomes a full-text query for either database
(``pg_tsquery``, ``fts5_query``); matches are highlighted here, in Python, so that both
databases show the same marks (``highlight``, ``excerpt``). The SQL is in
``xuexi/content/selectors.py``, the indexes in migration ``0002_search``.
"""

from __future__ import annotations

import re

import rjieba
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

_KEEP = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of ``text`` for indexing: jieba's search mode (long words and the shorter words
    inside them, so 社会主义 is found by 社会 as well), lower-cased, punctuation dropped."""
    return [
        word.lower() for word in rjieba.cut_for_search(text) if word.strip() and _KEEP.search(word)
    ]


def segment(*texts: str) -> str:
    """The texts' words, space-separated, ready for the index."""
    return " ".join(word for text in texts if text for word in words(text))


# --- queries ---------------------------------------------------------------------------------
#
# A query is cut as the stored text was, so that each of its words is a word of the index, and
# asks for all of them (AND). While a person types, the end of his query is unfinished, and
# jieba cuts it otherwise than the same characters inside a longer text; these rules keep the
# results following him (a test types titles character by character):
#
# - the last word is matched as a prefix (乡 finds 乡村振兴);
# - so is a single Chinese character anywhere (黄河流 is cut 黄 | 河流, and 黄 finds 黄河);
# - a long word whose characters are all covered by shorter words of the query is not asked
#   for itself, its parts are (the index of 中华人民共和国 holds 中华, 华人 and 人民, but not
#   中华人民, which ends the query 中华人民共).
#
# The query strings are handed to the database as parameters: the quoting below only keeps the
# full-text syntax of each engine literal.

MAX_QUERY_LENGTH = 50

# A letter or a digit (CJK characters included): what both tokenizers keep. Words without one
# ("_", "%") are not in either index, so a query made only of them searches for nothing.
_ALNUM = re.compile(r"[^\W_]")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _covered(word: str, others: list[str]) -> bool:
    """Whether shorter words among ``others`` cover every character of ``word``."""
    covered: set[int] = set()
    for part in others:
        if len(part) < len(word):
            at = word.find(part)
            while at != -1:
                covered.update(range(at, at + len(part)))
                at = word.find(part, at + 1)
    return len(covered) == len(word)


def query_words(query: str) -> list[str]:
    """The words that ``query`` asks for (the rules above), each once, in the order typed: the
    word being typed stays last. Empty when the query holds nothing that could be indexed (only
    punctuation or symbols)."""
    found = [word for word in words(query) if _ALNUM.search(word)]
    found = list(reversed(dict.fromkeys(reversed(found))))  # the last occurrence of each
    return [word for word in found if not _covered(word, found)]


def is_prefix(terms: list[str], index: int) -> bool:
    """Whether ``terms[index]`` is matched as the start of a word (the rules above)."""
    term = terms[index]
    return index == len(terms) - 1 or (len(term) == 1 and bool(_CJK.match(term)))


def pg_tsquery(terms: list[str]) -> str:
    """The text of a PostgreSQL ``to_tsquery('simple', …)`` asking for all ``terms``. Each term
    is quoted, so PostgreSQL's parser splits it exactly as it split the stored word (``5.2%``,
    ``foo-bar``) and no character of it is an operator."""
    quoted = []
    for index, term in enumerate(terms):
        text = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
        quoted.append(text + ":*" if is_prefix(terms, index) else text)
    return " & ".join(quoted)


def fts5_query(terms: list[str]) -> str:
    """The text of an SQLite FTS5 ``MATCH`` asking for all ``terms``: each a quoted string (a
    phrase when ``unicode61`` splits it further, as it split the stored word), so that no
    character of it is FTS5 syntax."""
    quoted = []
    for index, term in enumerate(terms):
        text = '"' + term.replace('"', '""') + '"'
        quoted.append(text + " *" if is_prefix(terms, index) else text)
    return " AND ".join(quoted)


# --- highlighting ----------------------------------------------------------------------------


def term_pattern(terms: list[str]) -> re.Pattern[str]:
    """A pattern finding ``terms`` in text, longest first (社会主义 before 社会), ignoring case.
    Latin words and numbers match from a word boundary, and whole unless matched as a prefix:
    "ai" marks "AI大模型" but not "maintain"."""
    alternatives = []
    for index, term in sorted(enumerate(terms), key=lambda pair: -len(pair[1])):
        piece = re.escape(term)
        if _ASCII_ALNUM.match(term[0]):
            piece = r"(?<![A-Za-z0-9])" + piece
        if _ASCII_ALNUM.match(term[-1]) and not is_prefix(terms, index):
            piece += r"(?![A-Za-z0-9])"
        alternatives.append(piece)
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern[str]) -> SafeString:
    """``text`` HTML-escaped, with the matches of ``pattern`` wrapped in ``<mark>`` (adjacent
    ones in one: <mark>乡村振兴</mark>): the only markup in the result is the marks added
    here."""
    spans: list[list[int]] = []
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        if spans and spans[-1][1] == match.start():
            spans[-1][1] = match.end()
        else:
            spans.append([match.start(), match.end()])
    marked = SafeString()
    position = 0
    for start, end in spans:
        marked += escape(text[position:start])
        marked += format_html("<mark>{}</mark>", text[start:end])
        position = end
    return marked + escape(text[position:])


def excerpt(text: str, pattern: re.Pattern[str], width: int = 80) -> SafeString:
    """About ``width`` characters of ``text`` (whitespace folded) around the first match of
    ``pattern`` — from its start when nothing matches — highlighted, with "…" where cut."""
    text = " ".join(text.split())
    match = pattern.search(text)
    # A little context before the match, and no short window at the end of the text.
    start = max(0, match.start() - width // 4) if match else 0
    start = max(0, min(start, len(text) - width))
    end = start + width
    before = SafeString("…" if start > 0 else "")
    after = SafeString("…" if end < len(text) else "")
    return before + highlight(text[start:end], pattern) + after
