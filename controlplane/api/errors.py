"""The one error shape for bad objects: a list of (field path, reason).

Kubernetes reports every problem in an object at once, each with the JSON path
of the field (`spec.containers[0].image: required`), so a user fixes a
manifest in one round. Parsing, validation and the API server all speak this
shape; the API server turns InvalidError into INVALID_ARGUMENT.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    path: str    # JSON names and indices: spec.template.spec.containers[0].image
    reason: str  # what is wrong, for a person: "required", "must be an integer"

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class InvalidError(Exception):
    """An object was rejected; `errors` lists every problem found."""

    def __init__(self, kind: str, name: str, errors: list[FieldError]):
        self.kind = kind
        self.name = name
        self.errors = list(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        details = "; ".join(str(e) for e in self.errors)
        return f'{self.kind or "object"} "{self.name}" is invalid: {details}'


class ManifestError(ValueError):
    """A manifest file could not be read as YAML objects; the message names the document."""
