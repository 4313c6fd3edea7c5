"""Thresholds, their baselines and their sources, and a council's own overrides.

Every threshold record carries a citation so that a score can say which threshold it
was made with. The built-in records here are those of Fanning & Raworth (2025),
"Doughnut of social and planetary boundaries: 2000-2022"; indicator plugins bring their
own defaults in the same form. A council replaces any of them per indicator in a YAML
file::

    name: Trafford net-zero path
    thresholds:
      co2_per_capita: {threshold: 2.3, baseline: 0, citation: "Trafford Carbon Neutral Action Plan 2020"}

:func:`apply_thresholds` then fills ``threshold``, ``baseline`` and
``threshold_source`` on a tidy table before :func:`placeportrait.doughnut.score_table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from placeportrait import regular_files
from placeportrait.errors import InputError

TOP_LEVEL_KEYS = ("name", "description", "thresholds")
ENTRY_KEYS = ("threshold", "baseline", "citation", "note")


class ThresholdError(InputError, ValueError):
    """A threshold record or override file is unusable; the message names file and key."""


@dataclass(frozen=True)
class Threshold:
    """One indicator's threshold.

    Attributes
    ----------
    threshold : float
        The value b at which ``ratio = (v - a) / (b - a)`` is 1: the social foundation
        or the ecological ceiling.
    baseline : float or None
        The value a at which the ratio is 0 (0 for most indicators; 100 for a share of
        people deprived with threshold 0; a pre-industrial value for some planetary
        boundaries). ``None`` only in an override, meaning "keep the default's
        baseline" (0 for an indicator with no default).
    citation : str
        Where the threshold comes from.
    """

    threshold: float
    baseline: float | None = 0.0
    citation: str = ""


@dataclass(frozen=True)
class ThresholdSet:
    """A named set of threshold overrides loaded from one file."""

    name: str
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    path: Path | None = None

    @property
    def source_label(self) -> str:
        """What ``threshold_source`` says after ``override:``: the file name, else the set name."""
        return self.path.name if self.path is not None else self.name


def deprivation_share(citation: str) -> Threshold:
    """Threshold for a share of people deprived, in percent: threshold 0, baseline 100.

    Then ``ratio = 1 - share / 100`` and ``shortfall = share / 100``.
    """
    return Threshold(threshold=0.0, baseline=100.0, citation=citation)


def implied_polarity(ring: str, threshold: float, baseline: float = 0.0) -> str:
    """Which direction of the raw value is better, as the threshold and baseline imply.

    The ratio ``(v - a) / (b - a)`` rises with ``v`` when ``b > a``. In the social ring a
    higher ratio is better; in the ecological ring a lower one is. So a social indicator
    with ``b > a`` is ``"higher_is_better"`` and an ecological one ``"lower_is_better"``;
    ``b < a`` flips both (a share deprived: a = 100, b = 0, lower is better). Use it to
    check that a declared polarity agrees with a threshold record.
    """
    if ring not in ("social", "ecological"):
        raise ThresholdError(
            f"implied_polarity: ring must be 'social' or 'ecological', got {ring!r}"
        )
    if threshold == baseline:
        raise ThresholdError("implied_polarity: threshold equals baseline; no direction is implied")
    rises = threshold > baseline
    return "higher_is_better" if rises == (ring == "social") else "lower_is_better"


_FR2025 = 'Fanning & Raworth (2025) "Doughnut of social and planetary boundaries: 2000-2022"'

#: The global planetary-boundary records of Fanning & Raworth (2025). Five use a
#: non-zero baseline: the pre-industrial state the ratio is measured from.
FANNING_RAWORTH_2025_GLOBAL: dict[str, Threshold] = {
    "co2_ppm": Threshold(350.0, 280.0, f"{_FR2025}; baseline 280 ppm pre-industrial"),
    "erf_wm2": Threshold(1.0, 0.0, _FR2025),
    "omega_a": Threshold(
        2.75, 3.44, f"{_FR2025}; baseline 3.44 pre-industrial (Rockström et al.)"
    ),
    "chemicalsMt_Hzd": Threshold(60.0, 0.0, _FR2025),
    "phosphorusMt": Threshold(6.2, 0.0, _FR2025),
    "nitrogenMt": Threshold(62.0, 0.0, _FR2025),
    "interhemAOD": Threshold(
        0.1, 0.03, f"{_FR2025}; baseline 0.03 pre-industrial (Richardson et al.)"
    ),
    "blueDev": Threshold(10.2, 0.0, _FR2025),
    "soilDev": Threshold(11.1, 0.0, _FR2025),
    "forestAreaMKM2": Threshold(
        47.9, 63.87, f"{_FR2025}; baseline 63.87 million km2 original forest"
    ),
    "extinction1900": Threshold(10.0, 0.0, _FR2025),
    "hanppGtC": Threshold(5.59, 0.0, _FR2025),
    "totalOzone": Threshold(
        276.0, 290.0, f"{_FR2025}; baseline 290 DU pre-industrial (Rockström et al.)"
    ),
}

#: Fanning & Raworth's (2025) per-capita footprint boundaries (2017 population).
FANNING_RAWORTH_2025_PER_CAPITA: dict[str, Threshold] = {
    "co2_footprint": Threshold(0.95, 0.0, f"{_FR2025}; t CO2 per capita"),
    "P_footprint": Threshold(0.85, 0.0, f"{_FR2025}; kg P per capita"),
    "N_footprint": Threshold(8.5, 0.0, f"{_FR2025}; kg N per capita"),
    "blueH2O_footprint": Threshold(384.0, 0.0, f"{_FR2025}; m3 blue water per capita"),
    "species_footprint": Threshold(0.51, 0.0, f"{_FR2025}; MSA-loss ha per capita"),
    "hanpp_footprint": Threshold(1.47, 0.0, f"{_FR2025}; t C per capita"),
}

#: Fanning & Raworth's (2025) social indicators, all shares of people deprived (%).
FANNING_RAWORTH_2025_SOCIAL: dict[str, Threshold] = {
    name: deprivation_share(f"{_FR2025}; share of people deprived, foundation 0 %")
    for name in (
        "foodInsecurity",
        "undernourishment",
        "UHCindex",
        "under5death",
        "adultLiteracy",
        "secondarySchool",
        "societalPoverty",
        "youthNEET",
        "drinkingH2O",
        "sanitation",
        "energyAccess",
        "energyIndoor",
        "internet",
        "publicTrans",
        "urbanSlums",
        "genderGapIndex",
        "racialInequality",
        "palma",
        "socialSupport",
        "govRegimes",
        "controlCorruption",
        "homicideOver5",
    )
}


# ------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that refuses a key given twice, which plain YAML silently overwrites."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def load_overrides(path: str | Path) -> ThresholdSet:
    """Read a council's threshold overrides from a YAML file.

    The file has an optional ``name`` (default: the file's stem), an optional
    ``description`` and ``thresholds``: a mapping from indicator id to
    ``{threshold: number, baseline: number (optional), citation: text, note: text
    (optional)}``. An omitted baseline keeps the default's baseline.

    Raises
    ------
    ValueError
        One line naming the file and the key at fault: missing file, invalid YAML, a
        key given twice, unknown keys, missing or non-numeric values, or a threshold
        equal to its baseline.
    """
    path = Path(path)
    try:
        regular_files.check_input(path, "threshold file")
        text = path.read_text(encoding="utf-8")
    except InputError as exc:
        raise ThresholdError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ThresholdError(f"{path}: cannot read threshold file ({exc})") from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ThresholdError(f"{path}: not valid YAML{where}: {problem}") from None

    if not isinstance(document, dict):
        raise ThresholdError(
            f"{path}: expected a mapping with keys 'name' and 'thresholds', "
            f"got {type(document).__name__}"
        )
    unknown = [str(k) for k in document if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise ThresholdError(
            f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(TOP_LEVEL_KEYS)}"
        )
    name = document.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ThresholdError(f"{path}: name: must be non-empty text")
    if "thresholds" not in document:
        raise ThresholdError(f"{path}: missing key 'thresholds'")
    entries = document["thresholds"]
    if not isinstance(entries, dict) or not entries:
        raise ThresholdError(f"{path}: thresholds: must be a non-empty mapping of indicator ids")

    thresholds: dict[str, Threshold] = {}
    for indicator, entry in entries.items():
        key = f"thresholds.{indicator}"
        if not isinstance(indicator, str):
            raise ThresholdError(f"{path}: {key}: indicator ids must be text")
        if not isinstance(entry, dict):
            raise ThresholdError(
                f"{path}: {key}: expected a mapping like {{threshold: 2.3, citation: ...}}, "
                f"got {entry!r}"
            )
        unknown = [str(k) for k in entry if k not in ENTRY_KEYS]
        if unknown:
            raise ThresholdError(
                f"{path}: {key}: unknown key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(ENTRY_KEYS)}"
            )
        if "threshold" not in entry:
            raise ThresholdError(f"{path}: {key}: missing 'threshold'")
        for field_name in ("threshold", "baseline"):
            if field_name in entry and not _is_number(entry[field_name]):
                raise ThresholdError(
                    f"{path}: {key}.{field_name}: must be a finite number, "
                    f"got {entry[field_name]!r}"
                )
        citation = entry.get("citation")
        if not isinstance(citation, str) or not citation.strip():
            raise ThresholdError(
                f"{path}: {key}.citation: required, say where the threshold comes from"
            )
        threshold = float(entry["threshold"])
        baseline = float(entry["baseline"]) if "baseline" in entry else None
        if baseline is not None and baseline == threshold:
            raise ThresholdError(
                f"{path}: {key}: threshold equals baseline ({threshold:g}); "
                "the ratio would be undefined"
            )
        thresholds[indicator] = Threshold(threshold, baseline, citation.strip())
    return ThresholdSet(name=name.strip(), thresholds=thresholds, path=path)


# ------------------------------------------------------------------------ applying


def _as_threshold(indicator: str, record: object) -> Threshold:
    if isinstance(record, Threshold):
        return record
    if isinstance(record, Mapping):
        unknown = [str(k) for k in record if k not in ENTRY_KEYS]
        if unknown or "threshold" not in record:
            raise ThresholdError(
                f"default threshold for {indicator!r}: expected keys threshold, baseline, "
                f"citation; got {', '.join(map(str, record)) or 'none'}"
            )
        values = {k: record[k] for k in ("threshold", "baseline") if k in record}
        if not all(_is_number(v) for v in values.values()):
            raise ThresholdError(
                f"default threshold for {indicator!r}: threshold and baseline must be numbers"
            )
        return Threshold(
            float(record["threshold"]),
            float(record.get("baseline", 0.0)),
            str(record.get("citation", "")),
        )
    raise ThresholdError(
        f"default threshold for {indicator!r}: expected a Threshold or a mapping, got {record!r}"
    )


def apply_thresholds(
    df: pd.DataFrame,
    defaults: Mapping[str, Threshold | Mapping],
    overrides: ThresholdSet | str | Path | None = None,
    *,
    on_missing: str = "raise",
) -> pd.DataFrame:
    """Fill ``threshold``, ``baseline`` and ``threshold_source`` for every row.

    Parameters
    ----------
    df : DataFrame
        Has an ``indicator`` column. Existing ``threshold``, ``baseline`` and
        ``threshold_source`` columns are replaced.
    defaults : mapping
        Indicator id to :class:`Threshold` (or a mapping with ``threshold``,
        ``baseline``, ``citation``).
    overrides : ThresholdSet, path or None
        A council's overrides (a path is read with :func:`load_overrides`). An override
        wins over the default for its indicator; an omitted baseline keeps the
        default's. Overrides may add indicators that have no default.
    on_missing : {"raise", "nan"}
        What to do with indicators that have neither: raise ``ValueError`` naming them
        (default), or leave NaN so that :func:`score_table` reports ``no data``.

    Returns
    -------
    DataFrame
        A copy with ``threshold``, ``baseline`` and ``threshold_source``: the default's
        citation, or ``"<citation>; override: <file name>"`` for an overridden indicator.
    """
    if on_missing not in ("raise", "nan"):
        raise ThresholdError(
            f"apply_thresholds: on_missing must be 'raise' or 'nan', got {on_missing!r}"
        )
    if "indicator" not in df.columns:
        raise ThresholdError("apply_thresholds: missing column indicator")
    if isinstance(overrides, (str, Path)):
        overrides = load_overrides(overrides)
    chosen = {name: _as_threshold(name, record) for name, record in defaults.items()}
    override_records = dict(overrides.thresholds) if overrides is not None else {}

    table: dict[str, tuple[float, float, str]] = {}
    for name in pd.unique(df["indicator"].dropna()):
        default = chosen.get(name)
        override = override_records.get(name)
        if override is not None:
            if override.baseline is not None:
                baseline = override.baseline
            else:
                baseline = (
                    default.baseline
                    if default is not None and default.baseline is not None
                    else 0.0
                )
            source = f"{override.citation}; override: {overrides.source_label}"
            table[name] = (override.threshold, baseline, source)
        elif default is not None:
            baseline = default.baseline if default.baseline is not None else 0.0
            table[name] = (default.threshold, baseline, default.citation)

    missing = sorted({str(n) for n in pd.unique(df["indicator"].dropna()) if n not in table})
    if missing and on_missing == "raise":
        raise ThresholdError(
            f"apply_thresholds: no threshold for indicator(s) {', '.join(missing)}; "
            "add them to the defaults or an override file"
        )

    out = df.copy()
    indicator = out["indicator"]
    out["threshold"] = indicator.map({k: v[0] for k, v in table.items()}).astype("float64")
    out["baseline"] = indicator.map({k: v[1] for k, v in table.items()}).astype("float64")
    out["threshold_source"] = indicator.map({k: v[2] for k, v in table.items()})
    return out
