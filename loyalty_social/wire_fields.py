"""Wire-format fields marshmallow lacks."""

from marshmallow import fields


class StrictBoolean(fields.Boolean):
    """true or false only: marshmallow's Boolean also takes 0, 1, "yes" ... which the
    OpenAPI document (type: boolean) does not allow."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class WholeNumber(fields.Integer):
    """An integer; 5.0 is one too (JSON has one number type, JSON Schema agrees), but 2.5 and
    true are not: marshmallow's Integer would truncate them silently."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)
