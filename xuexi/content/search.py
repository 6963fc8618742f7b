"""Chinese word segmentation for search (rjieba: the jieba model, in Rust; ADR 0010).

Chinese has no spaces between words, so both the stored text and the query are cut into words
before the full-text index sees them: ``segment`` gives the words of a text separated by
spaces, which PostgreSQL's ``simple`` configuration and SQLite FTS5's ``unicode61`` tokenizer
then index word by word.
"""

from __future__ import annotations

import re

import rjieba

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
