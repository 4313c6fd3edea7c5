"""Draw a laid-out page once, then replay its drawing into every PDF that includes it.

The pages of sources, licences and methods are the same for every ward of a set. They
are laid out once per process (``_provenance_pages``), but WeasyPrint draws each page
again in every PDF, glyph by glyph in Python: about a third of the drawing time of a
ward's PDF. :func:`install` replaces such a page's ``paint`` with one that draws the page
once into a scratch stream, keeps what the drawing produced, and replays it into the
PDF's stream:

- the content operators, unchanged, as one block of bytes (pydyf joins them as it would);
- the fonts and glyphs the page uses (widths and character map), so the font subsets
  and ``/ToUnicode`` maps are exactly those of a page drawn afresh; a font the PDF does
  not have yet is added as a fresh copy of the one the drawing created;
- the transparency states (``/a1`` and the like) the operators name;
- the marked-content entries of a tagged PDF, so the structure tree is built as usual.

This works on WeasyPrint's internal drawing stream, so it is used only with the
WeasyPrint version it was written and tested for (66) and only for pages whose drawing
it can replay exactly: a page that uses images, groups, patterns, shadings or soft masks
is drawn as usual, and so is a page whose glyph widths disagree with fonts the PDF
already holds (the kerning of the recorded operators depends on them).
"""

from __future__ import annotations

import copy
import re

ENABLED = True  # tests switch it off to compare with pages drawn afresh
_ALPHA = re.compile(r"[aA][0-9.eE+-]+")


def supported() -> bool:
    try:
        import weasyprint
        from weasyprint.pdf.stream import Stream
    except ImportError:  # pragma: no cover - WeasyPrint is a dependency
        return False
    return (ENABLED and weasyprint.__version__.split(".")[0] == "66"
            and all(hasattr(Stream, name) for name in ("clone", "add_font", "marked")))


class _Uncacheable(Exception):
    """The page's drawing cannot be replayed exactly: draw it as usual."""


class _Recording:
    __slots__ = ("fonts", "ops", "states", "tags")

    def __init__(self, ops, states, fonts, tags):
        self.ops = ops  # the content operators, as one block of bytes
        self.states = states  # ExtGState name -> {"ca"/"CA": alpha}
        self.fonts = fonts  # [(key, pristine Font, widths, cmap)], in order of first use
        self.tags = tags  # [(box, marked-content entry)] or None when untagged


def install(page) -> None:
    """Make ``page`` (a ``weasyprint.Page``) draw once and replay afterwards."""
    if not supported() or "paint" in vars(page):
        return
    original = type(page).paint
    recordings: dict = {}

    def paint(stream, scale=1):
        key = (scale, stream._tags is not None)
        recording = recordings.get(key)
        if recording is None and key not in recordings:
            try:
                recording = _record(page, original, stream, scale)
            except _Uncacheable:
                recording = None
            recordings[key] = recording
        if recording is None or not _replay(recording, stream):
            original(page, stream, scale)

    page.paint = paint


def _fresh_resources(resources):
    import pydyf

    fresh = pydyf.Dictionary({name: pydyf.Dictionary() for name in
                              ("ExtGState", "XObject", "Pattern", "Shading")})
    fresh["ColorSpace"] = resources["ColorSpace"]
    return fresh


def _record(page, original, stream, scale) -> _Recording:
    """Draw ``page`` into a scratch stream shaped like ``stream`` and keep the result."""
    if stream._tags:  # marked-content ids would depend on what is already there
        raise _Uncacheable
    tagged = stream._tags is not None
    scratch = stream.clone(fonts={}, resources=_fresh_resources(stream._resources), images={},
                           tags={} if tagged else None)
    scratch._ctm_stack = list(stream._ctm_stack)
    original(page, scratch, scale)

    resources = scratch._resources
    if scratch._images or any(len(resources[name]) for name in ("XObject", "Pattern", "Shading")):
        raise _Uncacheable
    states = {}
    for name, state in resources["ExtGState"].items():
        values = dict(state)
        if not _ALPHA.fullmatch(name) or set(values) - {"ca", "CA"}:
            raise _Uncacheable  # soft masks, blend modes: objects of their own
        states[name] = values
    ops = (b"\n".join(_op_bytes(op) for op in scratch.stream),)
    fonts = []
    for key, font in scratch._fonts.items():
        pristine = copy.copy(font)  # before the PDF subsets it
        pristine.widths, pristine.cmap = {}, {}
        pristine.variations = dict(font.variations)
        pristine.tables = list(font.tables)
        fonts.append((key, pristine, dict(font.widths), dict(font.cmap)))
    tags = [(box, dict(entry)) for box, entry in scratch._tags.items()] if tagged else None
    return _Recording(ops, states, fonts, tags)


def _op_bytes(op) -> bytes:
    """One content operator as pydyf writes it: the recording is kept as one block of
    bytes, joined as pydyf joins a stream's operators."""
    import pydyf

    if isinstance(op, bytes):
        return op
    if isinstance(op, str):
        return op.encode("ascii")
    if type(op) is pydyf.Dictionary and all(type(v) is int for v in op.values()):
        return op.data  # a marked-content property list: << /MCID n >>
    raise _Uncacheable


def _replay(recording: _Recording, stream) -> bool:
    """Add the recorded drawing to ``stream``; False (and nothing added) if it would differ."""
    if (stream._tags is not None) != (recording.tags is not None) or stream._tags:
        return False
    for key, _, widths, _ in recording.fonts:
        font = stream._fonts.get(key)
        if font is not None and any(font.widths.get(g, w) != w for g, w in widths.items()):
            return False
    stream.stream.extend(recording.ops)
    states = stream._resources["ExtGState"]
    for name, values in recording.states.items():
        if name not in states:
            import pydyf

            states[name] = pydyf.Dictionary(values)
    for key, pristine, widths, cmap in recording.fonts:
        font = stream._fonts.get(key)
        if font is None:
            font = stream._fonts[key] = copy.copy(pristine)
            font.widths, font.cmap = {}, {}
            font.variations = dict(pristine.variations)
            font.tables = list(pristine.tables)
        for glyph, width in widths.items():
            font.widths.setdefault(glyph, width)
        for glyph, text in cmap.items():
            font.cmap.setdefault(glyph, text)
    if recording.tags is not None:
        for box, entry in recording.tags:
            stream._tags[box] = dict(entry)
    return True
