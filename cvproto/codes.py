"""The canonical gRPC status codes (google.rpc.Code): the one vocabulary every layer reports
failures in, from the Gerrit client and the run actions to the pRPC transport that answers
them."""

import enum


class Code(enum.IntEnum):
    """The canonical gRPC status codes (names as in the gRPC spec, values on the wire)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16
