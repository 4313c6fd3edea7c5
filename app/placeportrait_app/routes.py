"""URL state: the address bar holds the view, so a link reproduces it.

Scheme (every query value optional; defaults fill the gaps)::

    /                              the map
    /ward/<code>                   the map and the ward's portrait
    /compare?wards=<code>,<code>   the map and wards side by side, with their authorities
    ?set=<boundary set>            which boundary set (default: the app's)
    &indicator=<id>                an indicator id, ``dimension:<id>`` or ``summary:<id>``
    &la=<parent code>              only the wards of one local authority
    &period=<year>                 the set as it stood then (default: latest)

Every value is checked against the store's known values; an unknown one gives a clear
message and the nearest sensible view, never a traceback. Pure functions: no Dash here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlencode

from placeportrait.errors import PlacePortraitError
from placeportrait_app.fmt import short

MAX_COMPARE = 6
MAX_VALUE_LENGTH = 200  # longer query values are refused outright
VIEWS = ("map", "ward", "compare")


class InvalidStateError(PlacePortraitError):
    """A callback was sent state the page itself could never have sent (forged or stale)."""

    message = "This view's state was not recognised; reload the page to start again."

    def __init__(self, detail: str):
        super().__init__(self.message)
        self.detail = detail  # for the log only: it may quote what a stranger sent


DEFAULT_METRIC = "summary:mean_shortfall"
LATEST = "latest"


@dataclass(frozen=True)
class SetCatalog:
    """What a URL may name within one boundary set."""

    name: str
    metrics: Mapping[str, str]  # metric id -> label, in menu order
    wards: Mapping[str, str]  # code -> name
    authorities: Mapping[str, str]  # parent code -> label
    periods: Mapping[str, str] = field(default_factory=lambda: {LATEST: "Latest"})

    @property
    def default_metric(self) -> str | None:
        """The map opens on each ward's own summary (mean shortfall of its social
        indicators), never on a value copied from its authority."""
        if DEFAULT_METRIC in self.metrics:
            return DEFAULT_METRIC
        return next(iter(self.metrics), None)


@dataclass(frozen=True)
class Known:
    sets: tuple[str, ...]
    default_set: str | None
    catalog: Callable[[str], SetCatalog]


@dataclass
class ViewState:
    view: str = "map"  # map | ward | compare
    set: str | None = None
    indicator: str | None = None
    la: str | None = None
    ward: str | None = None
    wards: list[str] = field(default_factory=list)
    period: str = LATEST
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"view": self.view, "set": self.set, "indicator": self.indicator, "la": self.la,
                "ward": self.ward, "wards": list(self.wards), "period": self.period}


def _query(search: str | None) -> dict[str, str]:
    parsed = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    return {key: values[-1].strip() for key, values in parsed.items() if values}


def _ward_label(catalog: SetCatalog, code: str) -> str:
    return f"{catalog.wards.get(code) or code} ({code})"


def parse(pathname: str | None, search: str | None, known: Known) -> ViewState:
    """Turn a path and query string into a validated state, with messages for the user."""
    state = ViewState()
    query = _query(search)
    too_long = [k for k, v in query.items() if len(v) > MAX_VALUE_LENGTH]
    for key in too_long:
        state.messages.append(f"Ignored the {short(key, 20)!r} value in the address: it is too long.")
        del query[key]

    if not known.sets:
        state.messages.append("The store has no boundary sets yet: load some with "
                              "`placeportrait boundaries load` or run `placeportrait demo`.")
        return state

    # -- boundary set
    wanted_set = query.get("set")
    if wanted_set and wanted_set in known.sets:
        state.set = wanted_set
    else:
        state.set = known.default_set or known.sets[0]
        if wanted_set:
            state.messages.append(
                f"There is no boundary set {short(wanted_set)!r} in this store (known: "
                f"{', '.join(known.sets)}). Showing {state.set!r} instead.")
    catalog = known.catalog(state.set)

    # -- what the map shows
    wanted = query.get("indicator")
    if wanted and wanted in catalog.metrics:
        state.indicator = wanted
    else:
        state.indicator = catalog.default_metric
        if wanted:
            instead = (f"Showing {catalog.metrics[state.indicator]!r} instead." if state.indicator
                       else "This set has no scored indicators yet.")
            state.messages.append(
                f"There is no indicator {short(wanted)!r} in boundary set {state.set!r}. {instead}")

    # -- local authority filter
    la = query.get("la")
    if la:
        if la in catalog.authorities:
            state.la = la
        else:
            state.messages.append(
                f"There is no local authority {short(la)!r} in boundary set {state.set!r}. "
                "Showing every ward.")

    # -- when
    period = query.get("period")
    if period and period != LATEST:
        if period in catalog.periods:
            state.period = period
        else:
            state.messages.append(
                f"There is no period {short(period)!r} in boundary set {state.set!r} (years "
                f"with a series: {', '.join(p for p in catalog.periods if p != LATEST) or 'none'}"
                "). Showing the latest.")

    # -- the view
    path = "/" + unquote(pathname or "").strip("/")
    parts = [p for p in path.split("/") if p]
    if not parts or parts == ["map"]:
        state.view = "map"
    elif parts[0] == "ward" and len(parts) == 2:
        code = parts[1].strip()
        if code in catalog.wards:
            state.view, state.ward = "ward", code
        else:
            state.messages.append(
                f"There is no ward with code {short(code)!r} in boundary set {state.set!r}. "
                "Find a ward by name or code with the search box.")
    elif parts[0] == "compare" and len(parts) == 1:
        state.view = "compare"
        raw = [c.strip() for c in query.get("wards", "").split(",") if c.strip()]
        seen: list[str] = []
        for code in raw:
            if code in seen:
                continue
            if code not in catalog.wards:
                state.messages.append(
                    f"There is no ward with code {short(code)!r} in boundary set {state.set!r}; "
                    "it is left out of the comparison.")
                continue
            seen.append(code)
        if len(seen) > MAX_COMPARE:
            state.messages.append(f"At most {MAX_COMPARE} wards can be compared at once: "
                                  f"showing the first {MAX_COMPARE}.")
            seen = seen[:MAX_COMPARE]
        state.wards = seen
    else:
        state.messages.append(f"There is no page {short(path)!r}. Showing the map.")
    return state


def to_url(state: ViewState | dict) -> tuple[str, str]:
    """The (pathname, search) of a state: what the address bar shows and a link reproduces."""
    s = state.as_dict() if isinstance(state, ViewState) else state
    query = {}
    if s.get("set"):
        query["set"] = s["set"]
    if s.get("indicator"):
        query["indicator"] = s["indicator"]
    if s.get("la"):
        query["la"] = s["la"]
    if s.get("period") and s["period"] != LATEST:
        query["period"] = s["period"]
    if s.get("view") == "ward" and s.get("ward"):
        path = f"/ward/{s['ward']}"
    elif s.get("view") == "compare":
        path = "/compare"
        if s.get("wards"):
            query["wards"] = ",".join(s["wards"])
    else:
        path = "/"
    search = "?" + urlencode(query, safe=",:") if query else ""
    return path, search


def toggle_compare(state: ViewState, code: str) -> ViewState:
    """Add a ward to the comparison, or take it out if it is there already."""
    if code in state.wards:
        state.wards = [c for c in state.wards if c != code]
    elif len(state.wards) < MAX_COMPARE:
        state.wards = [*state.wards, code]
    else:
        state.messages.append(f"At most {MAX_COMPARE} wards can be compared at once; "
                              "remove one first.")
    return state


def _text_or_none(value, what: str, allowed=None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise InvalidStateError(f"{what} is not a short text")
    if allowed is not None and value not in allowed:
        raise InvalidStateError(f"{what} is not known")
    return value


def _ward_codes(value, what: str, catalog: SetCatalog) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_COMPARE:
        raise InvalidStateError(f"{what} is not a list of at most {MAX_COMPARE} wards")
    return [_text_or_none(code, what, catalog.wards) for code in value]


def check_input(value, what: str) -> str | None:
    """A control's value as the browser sent it: a short text or nothing."""
    return _text_or_none(value, what)


def check_state(data, known: Known) -> dict:
    """The map or panel state a callback was sent, checked as a URL is: a dict whose set,
    indicator, authority and wards the store knows, with at most ``MAX_COMPARE`` wards.

    Dash lets a client send any JSON as a callback's state, so nothing in it is trusted.
    Raises :class:`InvalidStateError` for anything the page could not have sent.
    """
    if not isinstance(data, dict):
        raise InvalidStateError("state is not an object")
    name = _text_or_none(data.get("set"), "set", known.sets)
    if name is None:
        raise InvalidStateError("state names no boundary set")
    catalog = known.catalog(name)
    view = data.get("view") or "map"
    if view not in VIEWS:
        raise InvalidStateError("view is not known")
    version = data.get("version")
    if version is not None and not isinstance(version, (str, int, float)):
        raise InvalidStateError("version is not a scalar")
    return {
        **{k: data[k] for k in ("version",) if k in data},
        "view": view, "set": name,
        "indicator": _text_or_none(data.get("indicator"), "indicator", catalog.metrics),
        "la": _text_or_none(data.get("la"), "la", catalog.authorities),
        "ward": _text_or_none(data.get("ward"), "ward", catalog.wards),
        "wards": _ward_codes(data.get("wards"), "wards", catalog),
        "period": _text_or_none(data.get("period"), "period", catalog.periods) or LATEST,
        "highlight": _ward_codes(data.get("highlight"), "highlight", catalog),
    }
