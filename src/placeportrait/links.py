"""Which addresses from data and plugin metadata may become links.

A plugin's ``source.url`` or a stored ``source_url`` is text from outside: a
``javascript:`` or ``data:`` address made into a link runs when a reader clicks it. The
app, the reports and anything else that draws a link ask here first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")


def web_link(url) -> str | None:
    """``url`` if it is an absolute http(s) address with a host, else None (show it as text)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() in WEB_SCHEMES and parts.netloc and not any(c.isspace() for c in text):
        return text
    return None
