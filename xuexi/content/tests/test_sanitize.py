"""Bodies keep what an article needs and lose everything that could run (known XSS payloads)."""

from __future__ import annotations

import pytest

from xuexi.content.sanitize import body_text, sanitize_body

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="/media/a.png" onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<p onmouseover="alert(1)">hover</p>',
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<<script>alert(1)//<</script>",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_nothing_that_can_run_survives(payload: str) -> None:
    clean = sanitize_body(payload).lower()
    for marker in (
        "<script",
        "javascript:",
        "vbscript:",
        "data:",
        " on",
        "<iframe",
        "<svg",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<style",
        "<input",
        "<details",
    ):
        assert marker not in clean, (payload, clean)


def test_article_markup_survives() -> None:
    raw = (
        "<h2>标题</h2><p>第一段<strong>重点</strong><em>强调</em></p>"
        "<blockquote>引文</blockquote><ul><li>一</li><li>二</li></ul>"
        '<figure><img src="/media/uploads/a.png" alt="图" width="640">'
        "<figcaption>说明</figcaption></figure>"
        '<table><tr><td colspan="2">表格</td></tr></table>'
        '<p><a href="https://www.example.cn/x">链接</a></p>'
    )
    clean = sanitize_body(raw)
    for kept in (
        "<h2>标题</h2>",
        "<strong>重点</strong>",
        "<blockquote>",
        "<li>一</li>",
        '<img src="/media/uploads/a.png" alt="图" width="640">',
        "<figcaption>",
        'colspan="2"',
        'href="https://www.example.cn/x"',
        'rel="noopener noreferrer"',
    ):
        assert kept in clean


def test_remote_and_relative_tricks_lose_their_image_source() -> None:
    for src in (
        "https://cdn.example.com/x.png",
        "//evil.example/x.png",
        "/media//evil/x.png",
        "/static/x.png",
        "x.png",
    ):
        assert "src=" not in sanitize_body(f'<img src="{src}">')


def test_body_text_reads_the_words_between_tags() -> None:
    clean = sanitize_body("<h2>一</h2><p>二 &amp; 三</p><ul><li>四</li></ul>")
    assert body_text(clean).split("\n") == ["一", "二 & 三", "四"]
