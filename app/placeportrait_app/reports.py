"""The ward report download: ``/report/<set>/<code>.<pdf|html>``, read-only.

The set and ward code must be known to the store; anything else is a 404, so no
path from the URL ever reaches the file system or the SQL. Reports are cached under the
set's data version, so a new load or score renders afresh. While the store cannot be
reached the answer is a 503 with Retry-After (``data.unavailable_response``).
"""

from __future__ import annotations

import flask

ROUTE = "report/"
FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def url(app, set_name: str, code: str, fmt: str) -> str:
    return app.get_relative_path(f"/{ROUTE}{set_name}/{code}.{fmt}")


def register(app, repo) -> None:
    prefix = app.config.routes_pathname_prefix

    @app.server.route(f"{prefix}{ROUTE}<set_name>/<code>.<fmt>")
    def placeportrait_report(set_name: str, code: str, fmt: str):
        from placeportrait.report import content, render_ward_report

        if (fmt not in FORMATS or set_name not in repo.set_names()
                or code not in set(repo.areas(set_name)["code"])):
            return flask.Response("unknown boundary set, ward or report format\n", status=404,
                                  mimetype="text/plain")
        # A report depends only on the set's data version: render each once, and read the
        # set for reports once, rather than per request (a report costs ~1 s of CPU).
        version = repo.version(set_name)
        data = repo.memo(("report-data", set_name, version),
                         lambda: content.load_set(repo.store, set_name))
        body = repo.memo(("report", set_name, version, code, fmt),
                         lambda: render_ward_report(repo.store, set_name, code, fmt, data=data))
        response = flask.Response(body, mimetype=FORMATS[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="{file_name(repo, set_name, code, fmt)}"'
        return response


def file_name(repo, set_name: str, code: str, fmt: str) -> str:
    """The same name ``placeportrait report`` gives the file (``E05015239-altrincham.pdf``)."""
    from placeportrait.report.content import report_filename

    areas = repo.areas(set_name)
    names = areas.loc[areas["code"] == code, "name"]
    name = names.iloc[0] if len(names) and isinstance(names.iloc[0], str) else code
    return report_filename(code, name, fmt)
