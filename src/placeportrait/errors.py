"""The project's own errors.

Every error a user can cause is one of these, carries a one-line message that names
the file, row or column at fault, and is turned into a non-zero exit by the CLI.
"""


class PlacePortraitError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    exit_code = 1


class ConfigError(PlacePortraitError):
    """The store URL or another setting is unusable."""


class StoreError(PlacePortraitError):
    """The store cannot be opened, written or is at an unexpected schema version."""


class InputError(PlacePortraitError):
    """A source file is unreadable or fails validation; nothing was written."""


class BoundaryError(InputError):
    """A boundary source is unusable (columns, codes, geometry, CRS)."""


class FetchError(PlacePortraitError):
    """A download failed; the message names the URL and the reason."""


class HarmoniseError(PlacePortraitError, ValueError):
    """A harmonisation step cannot produce honest values (CRS mismatch, bad weights)."""


class MissingGeographyError(HarmoniseError):
    """A source's geography cannot reach the boundary set: its geometry or lookup is not
    loaded. ``indicators run --all`` reports the plugin as not run rather than failed."""


class InvalidPluginError(PlacePortraitError):
    """An indicator plugin cannot be loaded or its metadata is invalid."""


class UnknownNameError(PlacePortraitError):
    """A boundary set, indicator, area code or catalogue entry does not exist."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached just now: its database server is down or restarting,
    or its file is missing or unreadable. Nothing is wrong with the request, and the same
    request works again once the store is back."""

    retry_after = 5  # seconds: the HTTP Retry-After the app sends with its 503
