"""Validation of request bodies against Discord's own OpenAPI 3.1 description of its HTTP API.

Why the spec and not hand-written schemas: a schema we wrote would share our misreadings of the
docs; Discord's published description does not. OpenAPI 3.1 schemas are JSON Schema 2020-12, so
``jsonschema.Draft202012Validator`` reads them as they are. The whole spec is registered as one
resource so that its internal ``#/components/schemas/...`` references resolve; each operation's
request schema is then referenced by JSON pointer from that resource.

The spec is a preview and types snowflakes as strings only, while Discord (and its docs, e.g. the
``"id": 0`` snowflake placeholders in "Uploading Files") accepts integers as well. Such gaps are
bridged by :data:`RELAXATIONS`, an explicit list: each entry says what is rewritten before
validation and why. Every rewrite that actually happens is reported back to the caller so that a
test can see it.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord:openapi"

#: Where the snapshot is looked for: an override, the copy vendored beside this module (so a clean
#: clone in CI has it; README and LICENSE say where it comes from), then the shared workspace copy.
DEFAULT_SPEC_CANDIDATES = (
    os.environ.get("DISCORD_OPENAPI_SPEC", ""),
    str(Path(__file__).resolve().parent / "discord-api-spec" / "openapi.json"),
    str(Path(__file__).resolve().parents[3] / "shared" / "discord-api-spec" / "openapi.json"),
)


@dataclass(frozen=True)
class Relaxation:
    """One documented departure from the spec's letter, applied to a copy of the body before validation."""

    name: str
    applies_to: str
    change: str
    reason: str


RELAXATIONS: tuple[Relaxation, ...] = (
    Relaxation(
        name="integer-snowflake",
        applies_to="any value the spec types as SnowflakeType (string, pattern ^(0|[1-9][0-9]*)$)",
        change="a non-negative JSON integer becomes its decimal string",
        reason=(
            "Discord accepts snowflakes as integers or strings, and its own docs send integers: the "
            '\'Uploading Files\' example uses "attachments": [{"id": 0, ...}] as the snowflake '
            "placeholder for files[0]. discord.py sends exactly that (File.to_dict(index) -> 'id': index) "
            "and sends allowed_mentions.users/roles as integer ids (AllowedMentions.to_dict)."
        ),
    ),
    Relaxation(
        name="permission-string",
        applies_to="default_member_permissions of an application command (create, update, bulk overwrite)",
        change="a decimal string becomes the integer it spells",
        reason=(
            "The docs type default_member_permissions as '?string' (a permission bit set serialised as a "
            "string, like every permission field) while the spec snapshot types it as integer. discord.py "
            "2.7 happens to send an integer (accepted as is); a bot following the docs sends the string, "
            "which Discord accepts, so the emulator must not refuse it."
        ),
    ),
)


@dataclass(frozen=True)
class SchemaIssue:
    """One thing the spec rejects, reduced to the form Discord reports it in (a path and a code)."""

    path: tuple[str | int, ...]
    code: str
    message: str
    schema_path: str


@dataclass(frozen=True)
class AppliedRelaxation:
    """A relaxation that fired on a concrete request, so tests can see which departures were used."""

    name: str
    path: tuple[str | int, ...]
    before: Any
    after: Any


@dataclass(frozen=True)
class Operation:
    """An operation of the spec, found by method and concrete path."""

    operation_id: str
    method: str
    template: str
    params: dict[str, str]

    def request_schema_pointer(self, content_type: str) -> str | None:
        """JSON pointer of the request body schema for this content type, or None if it has no body."""
        spec = load_spec()
        body = spec["paths"][self.template][self.method].get("requestBody")
        if not body:
            return None
        content = body.get("content", {})
        if content_type not in content:
            return None
        return "/".join(
            [
                "",
                "paths",
                _escape(self.template),
                self.method,
                "requestBody",
                "content",
                _escape(content_type),
                "schema",
            ]
        )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def find_spec_path() -> Path:
    """The snapshot to validate against; failing loudly beats silently validating nothing."""
    for candidate in DEFAULT_SPEC_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "Discord's openapi.json not found; set DISCORD_OPENAPI_SPEC or restore tests/emulator/discord-api-spec/"
    )


@functools.cache
def load_spec() -> dict[str, Any]:
    """Parse the spec once per process (1.2 MB; every emulator instance shares it read-only)."""
    with find_spec_path().open(encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _registry() -> Registry:
    resource = Resource(contents=load_spec(), specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


@functools.cache
def _route_table() -> tuple[tuple[re.Pattern[str], str, int], ...]:
    """Path templates as regexes, most literal segments first so ``@original`` beats ``{message_id}``."""
    table = []
    for template in load_spec()["paths"]:
        parts = template.strip("/").split("/")
        literal = sum(1 for p in parts if not p.startswith("{"))
        regex = "^/" + "/".join(
            f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts
        )
        table.append((re.compile(regex + "$"), template, literal))
    table.sort(key=lambda row: -row[2])
    return tuple(table)


@functools.cache
def _routes_by_head() -> dict[str, tuple[tuple[re.Pattern[str], str, int], ...]]:
    """The route table split by first path segment (``interactions``, ``webhooks``, …).

    Matching every request against all 150 templates was the emulator's largest cost in a
    burst. Every template in the spec starts with a literal segment (a test checks it).
    """
    heads: dict[str, list[tuple[re.Pattern[str], str, int]]] = {}
    for row in _route_table():
        heads.setdefault(row[1].strip("/").split("/")[0], []).append(row)
    return {head: tuple(rows) for head, rows in heads.items()}


def find_operation(method: str, path: str) -> Operation | None:
    """Resolve ``POST /interactions/1/tok/callback`` to the spec's operation (template + method)."""
    method = method.lower()
    paths = load_spec()["paths"]
    head = path.strip("/").split("/")[0]
    for regex, template, _literal in _routes_by_head().get(head, ()):
        match = regex.match(path)
        if match and method in paths[template]:
            op = paths[template][method]
            return Operation(op.get("operationId", f"{method} {template}"), method, template, match.groupdict())
    return None


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    schema = {"$ref": f"{SPEC_URI}#{quote(pointer, safe='/~')}"}
    return Draft202012Validator(schema, registry=_registry())


@functools.cache
def component_validator(name: str) -> Draft202012Validator:
    """A validator for one named component schema (used for discriminated unions and tests)."""
    return _validator(f"/components/schemas/{name}")


def validate_body(
    operation: Operation, body: Any, *, multipart: bool = False
) -> tuple[list[SchemaIssue], list[AppliedRelaxation]]:
    """Validate ``body`` against the operation's request schema after applying :data:`RELAXATIONS`.

    Returns the issues (empty when valid) and the relaxations that fired. ``body`` is not mutated.
    """
    pointer = operation.request_schema_pointer("multipart/form-data" if multipart else "application/json")
    if pointer is None and multipart:
        pointer = operation.request_schema_pointer("application/json")
    if pointer is None:
        return [], []
    validator = _validator(pointer)
    _relaxed, applied, errors = relax(validator, body)
    return [_issue(e) for e in _reduce_errors(errors)], applied


def relax(validator: Draft202012Validator, body: Any) -> tuple[Any, list[AppliedRelaxation], list[ValidationError]]:
    """Apply the documented relaxations where (and only where) the schema objects to the value.

    Also returns the errors of the final, relaxed body: the last round already computed
    them, and validating a large embed twice is what limits the emulator's throughput.
    """
    body = copy.deepcopy(body)
    applied: list[AppliedRelaxation] = []
    errors: list[ValidationError] = []
    for _round in range(50):  # each round fixes at least one value; bounded in case of a pathological body
        errors = list(validator.iter_errors(body))
        fixes = [fix for error in errors for fix in _relaxable(error)]
        fixes = [f for f in fixes if _holds(body, f[1], f[2])]
        if not fixes:
            break
        seen = set()
        for name, path, before, after in fixes:
            if path in seen:
                continue
            seen.add(path)
            body = _set(body, path, after)
            applied.append(AppliedRelaxation(name, path, before, after))
    else:
        errors = list(validator.iter_errors(body))
    return body, applied, errors


def _relaxable(error: ValidationError) -> Iterator[tuple[str, tuple[str | int, ...], Any, Any]]:
    """Find type mismatches, however deep in oneOf/anyOf contexts, that a relaxation covers."""
    if error.validator == "type":
        schema = error.schema if isinstance(error.schema, dict) else {}
        instance = error.instance
        path = tuple(error.absolute_path)
        if schema.get("format") == "snowflake" and type(instance) is int and instance >= 0:
            yield ("integer-snowflake", path, instance, str(instance))
        elif (
            path
            and path[-1] == "default_member_permissions"
            and isinstance(instance, str)
            and instance.isdigit()
            and "integer" in _types(schema)
        ):
            yield ("permission-string", path, instance, int(instance))
    for sub in error.context or ():
        yield from _relaxable(sub)


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _get(body: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def _holds(body: Any, path: tuple[str | int, ...], value: Any) -> bool:
    try:
        current = _get(body, path)
    except (KeyError, IndexError, TypeError):
        return False
    return type(current) is type(value) and current == value


def _set(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    parent = _get(body, path[:-1])
    parent[path[-1]] = value
    return body


# --- Reducing jsonschema's errors to what Discord would say ----------------------------------------


def _reduce_errors(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Descend through anyOf/oneOf to the branch the body was evidently meant to match.

    jsonschema reports "not valid under any of the given schemas" at the union; Discord reports the
    field that is wrong. A branch is discarded when its errors show the body is not that branch at
    all: its discriminating ``type`` property has another value, or the JSON type differs.
    """
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            branches: dict[int, list[ValidationError]] = {}
            for sub in error.context:
                branches.setdefault(sub.schema_path[0], []).append(sub)
            plausible = {i: errs for i, errs in branches.items() if not any(_discriminates(e) for e in errs)}
            if plausible:
                best = min(plausible.values(), key=len)
                yield from _reduce_errors(best)
                continue
        yield error


def _discriminates(error: ValidationError) -> bool:
    rel = list(error.relative_path)
    if error.validator == "type" and not rel:
        return True
    if error.validator in ("enum", "const") and rel == ["type"]:
        return True
    # an "allOf: [$ref InteractionCallbackTypes]" beside an enum reports under the same path
    return error.validator in ("enum", "const") and rel[-1:] == ["type"] and len(rel) == 1


_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "maxProperties": "BASE_TYPE_MAX_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "pattern": "STRING_TYPE_REGEX",
    "minimum": "NUMBER_TYPE_MIN",
    "maximum": "NUMBER_TYPE_MAX",
    "uniqueItems": "BASE_TYPE_UNIQUE",
    "type": "BASE_TYPE_INVALID",
    "additionalProperties": "BASE_TYPE_UNKNOWN_FIELD",
}


def _issue(error: ValidationError) -> SchemaIssue:
    path: tuple[str | int, ...] = tuple(error.absolute_path)
    v, value = error.validator, error.validator_value
    if v == "required":
        missing = [p for p in value if isinstance(error.instance, dict) and p not in error.instance]
        path = (*path, missing[0]) if missing else path
        message = "This field is required"
    elif v in ("maxLength", "maxItems", "maxProperties"):
        message = f"Must be {value} or fewer in length."
    elif v in ("minLength", "minItems"):
        message = f"Must be {value} or more in length."
    elif v in ("enum", "const"):
        choices = value if isinstance(value, list) else [value]
        message = f"Value must be one of {tuple(choices)}."
    elif v == "maximum":
        message = f"int value should be less than or equal to {value}."
    elif v == "minimum":
        message = f"int value should be greater than or equal to {value}."
    else:
        message = error.message
    return SchemaIssue(
        path, _CODES.get(str(v), f"SCHEMA_{str(v).upper()}"), message, "/".join(map(str, error.schema_path))
    )
