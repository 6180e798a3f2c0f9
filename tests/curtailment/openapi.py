"""A validator for the part of OpenAPI 3.0 schemas the OpenADR 3 spec uses.

It understands `$ref`, `allOf`/`anyOf`/`oneOf`, `type`, `nullable`, `required`, `properties`,
`items`, `enum`, string lengths and patterns, numeric bounds and the `date-time` format.
"""

from __future__ import annotations

from collections.abc import Mapping
import copy
from datetime import datetime
from pathlib import Path
import re
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

SPEC_PATH = Path(__file__).with_name("openadr3-3.1.0.yaml")

_TYPES: Mapping[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
}


def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as file:
        spec: dict[str, Any] = yaml.safe_load(file)
    return spec


def spec_301(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The 3.1.0 spec with 3.0.1's target shape: `{type, values}` instead of a string."""
    variant = copy.deepcopy(dict(spec))
    variant["components"]["schemas"]["target"] = {"$ref": "#/components/schemas/valuesMap"}
    return variant


class Validator:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec

    def resolve(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def response_schema(self, path: str, method: str, status: int) -> Any | None:
        operation = self.spec["paths"][path][method.lower()]
        response = operation["responses"].get(str(status))
        if response is None:
            raise AssertionError(f"{method} {path}: status {status} is not in the spec")
        if "$ref" in response:
            response = self.resolve(response["$ref"])
        content = response.get("content", {}).get("application/json")
        return None if content is None else content["schema"]

    def parameter_schema(self, path: str, method: str, name: str) -> Any:
        operation = self.spec["paths"][path][method.lower()]
        for parameter in operation.get("parameters", []):
            if parameter["name"] == name:
                return parameter["schema"]
        raise AssertionError(f"{method} {path} has no parameter {name}")

    def errors(self, value: Any, schema: Any, where: str = "$") -> list[str]:
        if "$ref" in schema:
            return self.errors(value, self.resolve(schema["$ref"]), where)
        if value is None:
            return [] if schema.get("nullable") else [f"{where}: null is not allowed"]
        found: list[str] = []
        for part in schema.get("allOf", []):
            found += self.errors(value, part, where)
        for key in ("anyOf", "oneOf"):
            if key in schema and all(self.errors(value, part, where) for part in schema[key]):
                found.append(f"{where}: matches none of {key}")
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not in {schema['enum']}")
        kind = schema.get("type")
        if kind is not None and not self._is_type(value, kind):
            return [*found, f"{where}: {value!r} is not {kind}"]
        if isinstance(value, dict):
            found += self._object(value, schema, where)
        elif isinstance(value, list):
            found += [
                error
                for index, item in enumerate(value)
                for error in self.errors(item, schema.get("items", {}), f"{where}[{index}]")
            ]
        elif isinstance(value, str):
            found += self._string(value, schema, where)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found += self._number(value, schema, where)
        return found

    @staticmethod
    def _is_type(value: Any, kind: str) -> bool:
        if kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, _TYPES[kind])

    def _object(self, value: dict[str, Any], schema: Any, where: str) -> list[str]:
        found = [
            f"{where}: missing {key}" for key in schema.get("required", []) if key not in value
        ]
        for key, subschema in schema.get("properties", {}).items():
            if key in value:
                found += self.errors(value[key], subschema, f"{where}.{key}")
        return found

    @staticmethod
    def _string(value: str, schema: Any, where: str) -> list[str]:
        found = []
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                found.append(f"{where}: {value!r} is not a date-time")
            else:
                if parsed.tzinfo is None and not value.startswith("0001-01-01"):
                    found.append(f"{where}: {value!r} has no UTC offset")
        return found

    @staticmethod
    def _number(value: float, schema: Any, where: str) -> list[str]:
        found = []
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema:
            limit = schema["maximum"]
            if value > limit or (schema.get("exclusiveMaximum") and value == limit):
                found.append(f"{where}: above {limit}")
        return found
