"""The doughnut model: its dimensions, its two rings and the four City Portrait lenses.

The social foundation has 12 dimensions and the ecological ceiling 9 (Raworth 2017,
*Doughnut Economics*). Every dimension has a stable snake_case id, used in data and
URLs, and a display label. A council can add dimensions of its own (a "local
dimension", e.g. ``green_space`` in the social ring) either by registering it once per
process with :func:`register_local_dimension` or, without global state, by passing
``extra=`` to the lookup helpers and to :func:`placeportrait.doughnut.score_dimensions`.

The four lenses are those of the City Portrait method (Doughnut Economics Action Lab,
2020, *Creating City Portraits*): local-social, local-ecological, global-social and
global-ecological.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from placeportrait.errors import UnknownNameError

SOCIAL = "social"
ECOLOGICAL = "ecological"
RINGS = (SOCIAL, ECOLOGICAL)

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


class UnknownDimensionError(UnknownNameError, ValueError):
    """A dimension or lens id that the model does not know, or an invalid definition."""


@dataclass(frozen=True)
class Dimension:
    """One dimension of the doughnut.

    Attributes
    ----------
    id : str
        Stable snake_case identifier, e.g. ``"income_and_work"``.
    label : str
        Display label, e.g. ``"Income and work"``.
    ring : str
        ``"social"`` (social foundation) or ``"ecological"`` (ecological ceiling).
    local : bool
        True for a dimension a council added; False for Raworth's 21.
    """

    id: str
    label: str
    ring: str
    local: bool = False


@dataclass(frozen=True)
class Lens:
    """One of the four City Portrait lenses.

    Attributes
    ----------
    id : str
        ``"local-social"``, ``"local-ecological"``, ``"global-social"`` or
        ``"global-ecological"``.
    scope : str
        ``"local"`` (the place itself) or ``"global"`` (the place's effect on people
        and planet elsewhere).
    ring : str
        The ring whose dimensions the lens looks through.
    question : str
        The question the lens asks, with "this place" standing for the place's name.
    """

    id: str
    label: str
    scope: str
    ring: str
    question: str


SOCIAL_FOUNDATION: tuple[Dimension, ...] = tuple(
    Dimension(id_, label, SOCIAL)
    for id_, label in (
        ("food", "Food"),
        ("water", "Water"),
        ("health", "Health"),
        ("education", "Education"),
        ("income_and_work", "Income and work"),
        ("peace_and_justice", "Peace and justice"),
        ("political_voice", "Political voice"),
        ("social_equity", "Social equity"),
        ("gender_equality", "Gender equality"),
        ("housing", "Housing"),
        ("networks", "Networks"),
        ("energy", "Energy"),
    )
)

ECOLOGICAL_CEILING: tuple[Dimension, ...] = tuple(
    Dimension(id_, label, ECOLOGICAL)
    for id_, label in (
        ("climate_change", "Climate change"),
        ("ocean_acidification", "Ocean acidification"),
        ("chemical_pollution", "Chemical pollution"),
        ("nitrogen_and_phosphorus_loading", "Nitrogen and phosphorus loading"),
        ("freshwater_withdrawals", "Freshwater withdrawals"),
        ("land_conversion", "Land conversion"),
        ("biodiversity_loss", "Biodiversity loss"),
        ("air_pollution", "Air pollution"),
        ("ozone_layer_depletion", "Ozone layer depletion"),
    )
)

BUILT_IN_DIMENSIONS: tuple[Dimension, ...] = SOCIAL_FOUNDATION + ECOLOGICAL_CEILING

LENSES: tuple[Lens, ...] = (
    Lens(
        "local-social",
        "Local social",
        "local",
        SOCIAL,
        "What would it mean for the people of this place to thrive?",
    ),
    Lens(
        "local-ecological",
        "Local ecological",
        "local",
        ECOLOGICAL,
        "What would it mean for this place to thrive within its natural habitat?",
    ),
    Lens(
        "global-social",
        "Global social",
        "global",
        SOCIAL,
        "What would it mean for this place to respect the wellbeing of people worldwide?",
    ),
    Lens(
        "global-ecological",
        "Global ecological",
        "global",
        ECOLOGICAL,
        "What would it mean for this place to respect the health of the whole planet?",
    ),
)

_BUILT_IN_BY_ID = {d.id: d for d in BUILT_IN_DIMENSIONS}
BUILT_IN_IDS = frozenset(_BUILT_IN_BY_ID)
_LENSES_BY_ID = {lens.id: lens for lens in LENSES}

# Process-wide registry of council dimensions; functions also take ``extra=`` so that
# library users and tests need not touch global state.
_local_dimensions: dict[str, Dimension] = {}


def _check_ring(ring: str, what: str) -> None:
    if ring not in RINGS:
        raise UnknownDimensionError(f"{what}: ring must be 'social' or 'ecological', got {ring!r}")


def local_dimension(id: str, label: str, ring: str) -> Dimension:
    """Define (without registering) a council's own dimension.

    Use the result in ``extra=`` arguments. Raises ``ValueError`` if the id is not
    snake_case, clashes with one of Raworth's 21 dimensions, or the ring is unknown.
    """
    if not isinstance(id, str) or not _ID_PATTERN.match(id):
        raise UnknownDimensionError(
            f"local dimension id {id!r} must be snake_case, e.g. 'green_space'"
        )
    if id in _BUILT_IN_BY_ID:
        raise UnknownDimensionError(
            f"local dimension id {id!r} is already a built-in {_BUILT_IN_BY_ID[id].ring} "
            "dimension; choose another id"
        )
    if not isinstance(label, str) or not label.strip():
        raise UnknownDimensionError(f"local dimension {id!r}: label must be a non-empty string")
    _check_ring(ring, f"local dimension {id!r}")
    return Dimension(id, label.strip(), ring, local=True)


def register_local_dimension(id: str, label: str, ring: str) -> Dimension:
    """Register a council's own dimension for the rest of the process.

    Registering the same definition twice is harmless; registering a different
    label or ring under an existing id raises ``ValueError``.

    Examples
    --------
    >>> register_local_dimension("green_space", "Access to green space", "social")
    Dimension(id='green_space', label='Access to green space', ring='social', local=True)
    """
    dimension = local_dimension(id, label, ring)
    existing = _local_dimensions.get(id)
    if existing is not None and existing != dimension:
        raise UnknownDimensionError(
            f"local dimension {id!r} is already registered as {existing.label!r} "
            f"({existing.ring}); unregister it first"
        )
    _local_dimensions[id] = dimension
    return dimension


def unregister_local_dimension(id: str) -> None:
    """Forget a registered local dimension (no error if it was not registered)."""
    _local_dimensions.pop(id, None)


def clear_local_dimensions() -> None:
    """Forget every registered local dimension."""
    _local_dimensions.clear()


def all_dimensions(extra: Iterable[Dimension] | None = None) -> tuple[Dimension, ...]:
    """Raworth's 21 dimensions, then registered local ones, then ``extra``.

    Raises ``ValueError`` if an ``extra`` dimension reuses an id with another definition.
    """
    known: dict[str, Dimension] = dict(_BUILT_IN_BY_ID)
    for dimension in (*_local_dimensions.values(), *(extra or ())):
        if not isinstance(dimension, Dimension):
            raise UnknownDimensionError(
                f"extra dimensions must be Dimension objects (see local_dimension()), "
                f"got {dimension!r}"
            )
        existing = known.get(dimension.id)
        if existing is not None and existing != dimension:
            raise UnknownDimensionError(
                f"dimension {dimension.id!r} is defined twice: as {existing.label!r} "
                f"({existing.ring}) and {dimension.label!r} ({dimension.ring})"
            )
        known[dimension.id] = dimension
    return tuple(known.values())


def dimensions_by_id(extra: Iterable[Dimension] | None = None) -> dict[str, Dimension]:
    """All known dimensions keyed by id (see :func:`all_dimensions`)."""
    return {d.id: d for d in all_dimensions(extra)}


def dimensions_in_ring(
    ring: str, extra: Iterable[Dimension] | None = None
) -> tuple[Dimension, ...]:
    """The known dimensions of one ring, in model order."""
    _check_ring(ring, "dimensions_in_ring")
    return tuple(d for d in all_dimensions(extra) if d.ring == ring)


def get_dimension(id: str, extra: Iterable[Dimension] | None = None) -> Dimension:
    """Look a dimension up by id.

    Raises
    ------
    ValueError
        Naming the unknown id and listing the known ones.
    """
    known = dimensions_by_id(extra)
    try:
        return known[id]
    except (KeyError, TypeError):
        raise UnknownDimensionError(
            f"unknown dimension {id!r}; known dimensions: {', '.join(known)}"
        ) from None


def check_dimensions(ids: Iterable[str], extra: Iterable[Dimension] | None = None) -> None:
    """Raise ``ValueError`` naming every id in ``ids`` that is not a known dimension."""
    known = dimensions_by_id(extra)
    unknown = sorted({str(i) for i in ids if i not in known})
    if unknown:
        raise UnknownDimensionError(
            f"unknown dimension(s): {', '.join(unknown)}; register council dimensions "
            "with register_local_dimension() or pass them as extra="
        )


def extra_for(found: Iterable[tuple[str, str]], stored: Iterable[Dimension] = ()) -> tuple[Dimension, ...]:
    """The council dimensions to pass as ``extra=`` when drawing data from a store.

    ``found`` holds the (dimension, ring) pairs in the data; ``stored`` the dimensions the
    store recorded (``Store.read_local_dimensions``). Each found dimension that is neither
    Raworth's nor registered in this process is taken from ``stored``, or, for data loaded
    before dimensions were recorded, named after its id ("mobility" gives "Mobility").
    """
    known = dimensions_by_id()
    by_id = {d.id: d for d in stored}
    extra: dict[str, Dimension] = {}
    for dim, ring in found:
        if dim in known or dim in extra or ring not in RINGS:
            continue
        try:
            extra[dim] = by_id.get(dim) or local_dimension(
                dim, str(dim).replace("_", " ").capitalize(), ring)
        except UnknownDimensionError:
            continue
    return tuple(extra.values())


def dimension_rings(extra: Iterable[Dimension] | None = None) -> dict[str, str]:
    """Map every known dimension id to its ring."""
    return {d.id: d.ring for d in all_dimensions(extra)}


def dimension_labels(extra: Iterable[Dimension] | None = None) -> dict[str, str]:
    """Map every known dimension id to its display label."""
    return {d.id: d.label for d in all_dimensions(extra)}


def get_lens(id: str) -> Lens:
    """Look a City Portrait lens up by id, raising ``ValueError`` if unknown."""
    try:
        return _LENSES_BY_ID[id]
    except (KeyError, TypeError):
        raise UnknownDimensionError(
            f"unknown lens {id!r}; known lenses: {', '.join(_LENSES_BY_ID)}"
        ) from None


def lens_for(scope: str, ring: str) -> Lens:
    """The lens with the given scope (``"local"``/``"global"``) and ring."""
    _check_ring(ring, "lens_for")
    return get_lens(f"{scope}-{ring}")
