"""Call the app's callbacks over HTTP, as the browser does (for benchmarks and tests).

``CallbackClient(app).call("map.figure", {"map-state.data": state}, {"map-shown.data": None})``
posts to ``/_dash-update-component`` with the Flask test client and returns the decoded
response, its raw size and its gzipped size.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass


@dataclass
class CallResult:
    status: int
    response: dict
    raw_bytes: int
    gzip_bytes: int
    seconds: float

    def output(self, prop: str):
        """The value for ``"component.property"`` in the response (None if not updated)."""
        component, name = prop.rsplit(".", 1)
        return self.response.get("response", {}).get(component, {}).get(name)


class CallbackClient:
    def __init__(self, app):
        self.app = app
        self.client = app.server.test_client()
        self.url = app.config.requests_pathname_prefix + "_dash-update-component"
        self.client.get(app.config.requests_pathname_prefix)  # first request runs Dash's setup

    def _spec(self, first_output: str):
        for key, spec in self.app.callback_map.items():
            outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
            if str(outputs[0]).strip("<>`").split("`")[-1] == first_output or key == first_output \
                    or key.startswith(f"..{first_output}..."):
                return key, spec, outputs
        raise KeyError(f"no callback whose first output is {first_output}")

    def call(self, first_output: str, inputs: dict, state: dict | None = None,
             changed: list[str] | None = None) -> CallResult:
        key, spec, outputs = self._spec(first_output)
        state = state or {}

        def props(items, values):
            return [{"id": i["id"], "property": i["property"],
                     "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

        body = {
            "output": key,
            "outputs": [{"id": o.component_id, "property": o.component_property} for o in outputs]
            if isinstance(spec["output"], list) else
            {"id": outputs[0].component_id, "property": outputs[0].component_property},
            "inputs": props(spec["inputs"], inputs),
            "state": props(spec["state"], state),
            "changedPropIds": changed if changed is not None else list(inputs),
        }
        start = time.perf_counter()
        response = self.client.post(self.url, json=body, headers={"Accept-Encoding": "identity"})
        seconds = time.perf_counter() - start
        raw = response.get_data()
        if response.status_code == 204:  # PreventUpdate / nothing to update
            return CallResult(204, {}, 0, 0, seconds)
        return CallResult(response.status_code, json.loads(raw), len(raw),
                          len(gzip.compress(raw, 6)), seconds)
