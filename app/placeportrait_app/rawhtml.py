"""Static HTML sent as one component instead of hundreds.

Dash's renderer (4.x) wraps every component in a React wrapper subscribed to the Redux
store. When a callback replaces a subtree, each new wrapper dispatches an action on mount,
and every subscribed wrapper re-runs its selector for each action. So the cost of
showing N new components grows with N², and a ward portrait's tables (about 850 ``html``
components) took seconds of JavaScript on every ward click.

The tables, the ward list and the sources footer have no callback inputs inside them, so
they are built as ``html`` components as before (the accessible structure is in
:mod:`placeportrait_app.tables`), then serialised here, escaped, into one HTML string and
shown by :class:`RawHtml`: a tiny React component (defined in :data:`SCRIPT`, loaded by the
page template) that sets it as its ``innerHTML``. Links made with ``dcc.Link`` keep
navigating inside the app (``history.pushState`` and Dash's ``_dashprivate_pushstate``
event, as ``dcc.Link`` does), so the URL still holds the state and no page reloads.
"""

from __future__ import annotations

import html as _html
import re
import typing

from dash import dcc
from dash.development.base_component import Component

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SKIP = {"children", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state", "key",
        "setProps"}
RENAME = {"className": "class", "htmlFor": "for"}
SAFE_HREF = re.compile(r"^(https?://|/|#|\?|mailto:)", re.IGNORECASE)
CAMEL = re.compile(r"[A-Z]")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_:.-]*$")

# Loaded between Dash's scripts (which define window.React) and the renderer.
SCRIPT = """
(function () {
  var React = window.React;
  function RawHtml(props) {
    var ref = React.useRef(null);
    function onClick(event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey
          || event.shiftKey || event.altKey || !event.target.closest) { return; }
      var link = event.target.closest("a[data-dash-link]");
      if (!link || !ref.current || !ref.current.contains(link)) { return; }
      event.preventDefault();
      window.history.pushState({}, "", link.getAttribute("href"));
      window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
      window.scrollTo(0, 0);
    }
    return React.createElement("div", {
      id: props.id, className: props.className, ref: ref, onClick: onClick,
      dangerouslySetInnerHTML: {__html: props.html || ""}
    });
  }
  window.placeportrait_app = Object.assign(window.placeportrait_app || {}, {RawHtml: RawHtml});
})();
"""


class RawHtml(Component):
    """A ``<div>`` holding HTML made by :func:`to_html` (never untrusted markup).

    Keyword arguments: ``html`` (str), ``id``, ``className``."""

    _children_props: typing.List[str] = []
    _base_nodes = ["children"]
    _namespace = "placeportrait_app"
    _type = "RawHtml"

    def __init__(self, html: str = "", id=None, className=None, **kwargs):  # noqa: A002
        self._prop_names = ["id", "className", "html"]
        self._valid_wildcard_attributes = []
        self.available_properties = ["id", "className", "html"]
        self.available_wildcard_properties = []
        args = {"html": html}
        if id is not None:
            args["id"] = id
        if className is not None:
            args["className"] = className
        super().__init__(**args)


def _css(style: dict) -> str:
    return "; ".join(CAMEL.sub(lambda m: "-" + m.group(0).lower(), k) + f": {v}"
                     for k, v in style.items() if v is not None)


def _attributes(component: Component, props: dict) -> str:
    out = []
    for key, value in props.items():
        if key in SKIP or value is None or value is False or not NAME.match(key):
            continue
        name = RENAME.get(key, key.lower() if not key.startswith(("aria-", "data-")) else key)
        if key == "style" and isinstance(value, dict):
            value = _css(value)
        elif key == "href":
            value = str(value)
            if not SAFE_HREF.match(value.strip()):
                continue
        if value is True:
            out.append(f" {name}")
        else:
            out.append(f' {name}="{_html.escape(str(value), quote=True)}"')
    if isinstance(component, dcc.Link):
        out.append(" data-dash-link")
    return "".join(out)


def to_html(node) -> str:
    """Serialise ``html`` components, ``dcc.Link``, strings and numbers (and lists of them),
    escaping every text and attribute. Anything else is an error: it would need Dash."""
    if node is None or node is False or node is True:
        return ""
    if isinstance(node, (list, tuple)):
        return "".join(to_html(n) for n in node)
    if isinstance(node, str):
        return _html.escape(node, quote=False)
    if isinstance(node, (int, float)):
        return _html.escape(str(node), quote=False)
    if isinstance(node, dcc.Link):
        tag = "a"
    elif isinstance(node, Component) and node._namespace == "dash_html_components":
        tag = node._type.lower()
    else:
        raise TypeError(f"cannot serialise {type(node).__name__} to static HTML")
    props = node.to_plotly_json()["props"]
    if isinstance(node, dcc.Link):
        props = {k: props.get(k) for k in ("id", "className", "style", "title", "href")}
    attrs = _attributes(node, props)
    if tag in VOID:
        return f"<{tag}{attrs}>"
    return f"<{tag}{attrs}>{to_html(getattr(node, 'children', None))}</{tag}>"


def freeze(node, **kwargs) -> RawHtml:
    """``node`` (static ``html`` components) as one :class:`RawHtml`."""
    return RawHtml(html=to_html(node), **kwargs)
