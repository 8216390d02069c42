"""How the wire format (marshmallow) reads in the OpenAPI document, where apispec alone falls
short: a field holding one of several shapes, and rules across a schema's fields.

A union is named once in ``components/schemas`` (``OneOf(..., component="Condition")``) and
each shape is its own component, so a recursive grammar is a handful of ``$ref``s instead of
a tree inlined at every use. A schema whose ``validates_schema`` checks fields together says
so to the document with ``Meta.json_schema`` (e.g. "count, points or both"), so a client or a
fuzzer generating from the document sends what the validator accepts.
"""

from __future__ import annotations

from collections.abc import Callable

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import fields


class OneOf(fields.Field):
    """An object in one of ``variants()`` shapes (schema classes, named lazily so a grammar can
    contain itself). Loading checks it is an object and keeps it as given: which shape, and what
    is wrong with it, is for the feature's own validator, whose errors point at the clause."""

    default_error_messages = {"invalid": "Not a valid mapping type."}

    def __init__(
        self, variants: Callable[[], list[type]], *, component: str, about: str = "", **kwargs
    ):
        super().__init__(**kwargs)
        self.variants = variants
        self.component = component
        self.about = about

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        return value


class Converter(OpenAPIConverter):
    def init_attribute_functions(self):
        super().init_attribute_functions()
        self.attribute_functions.append(self.one_of2properties)

    def one_of2properties(self, field, **kwargs) -> dict:
        """A ``$ref`` to the union's component, which is ``anyOf`` the variants' components
        (registered on first use; the name is taken before the variants are resolved, so a
        variant may contain the union again)."""
        if not isinstance(field, OneOf):
            return {}
        schemas = self.spec.components.schemas
        if field.component not in schemas:
            about = {"description": field.about} if field.about else {}
            self.spec.components.schema(field.component, about)
            schemas[field.component]["anyOf"] = [
                self.resolve_nested_schema(variant) for variant in field.variants()
            ]
        ref = {"$ref": f"#/components/schemas/{field.component}"}
        if field.allow_none:
            return {"anyOf": [ref, {"type": "null"}]}
        return ref

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        jsonschema.update(getattr(getattr(schema, "Meta", None), "json_schema", {}))
        return jsonschema


class Plugin(MarshmallowPlugin):
    Converter = Converter
