"""Article bodies, sanitised on the way in with nh3 (the ammonia HTML sanitiser).

What survives is what an article needs: paragraphs, headings, emphasis, lists, quotes, tables,
figures with images, and links. No script, style, frame, form or event handler survives, nor
any ``javascript:``/``data:`` URL. Images must come from this site (``/media/…``): the platform
runs inside closed networks, and a remote image would leak who reads what. Links may point to
``http(s)`` addresses and open with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "blockquote", "ul", "ol", "li", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "span",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
CLEAN_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template"}
IMAGE_PREFIX = "/media/"


def _keep(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(IMAGE_PREFIX) and "//" not in value else None
    if attribute in {"width", "height", "colspan", "rowspan"}:
        return value if value.isdigit() and len(value) <= 4 else None
    return value


def sanitize_body(raw: str) -> str:
    """The body as it may be stored and served."""
    return nh3.clean(
        raw,
        tags=TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_keep,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    ).strip()


_BLOCK_END = re.compile(r"</(p|h[2-4]|li|blockquote|figcaption|tr|td|th)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def body_text(clean: str) -> str:
    """The readable text of a sanitised body (for search, summaries and word counts)."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", clean))
    return re.sub(r"\n\s*\n+", "\n", html.unescape(text)).strip()
