"""The error every run and tryjob action raises, with the gRPC code adapters pass on."""

from cvproto.codes import Code
from cvproto.validation import InvalidMessage


class ActionError(Exception):
    def __init__(self, code: Code, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(error: InvalidMessage) -> ActionError:
    return ActionError(Code.INVALID_ARGUMENT, str(error))
