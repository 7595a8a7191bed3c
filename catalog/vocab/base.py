"""A string enum that carries a human label and a sourced description with each value."""

from enum import StrEnum


class DescribedEnum(StrEnum):
    """String enum whose members are declared as ``NAME = ("value", "Label", "Description")``.

    The value is what is stored and written in manifests; the label is what the workbook and the
    dashboard show; the description says what the value means and which article it rests on.
    """

    def __new__(cls, value: str, label: str = "", description: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        member.description = description
        return member

    @classmethod
    def choices(cls) -> list[str]:
        """Stored values in declaration order, for pickers and JSON Schema enums."""
        return [member.value for member in cls]
