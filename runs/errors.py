"""The error every run and tryjob action raises, with the gRPC-style code adapters pass on."""

from enum import StrEnum

from cvproto.validation import InvalidMessage


class Code(StrEnum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAVAILABLE = "UNAVAILABLE"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    INTERNAL = "INTERNAL"


class ActionError(Exception):
    def __init__(self, code: Code, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(error: InvalidMessage) -> ActionError:
    return ActionError(Code.INVALID_ARGUMENT, str(error))
