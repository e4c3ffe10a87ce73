"""Declaring a pRPC service: its descriptor, one handler per method, auth and observers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from prpc.codes import Code
from prpc.errors import PrpcError
from prpc.formats import Encoded, Format
from prpc.headers import Metadata, MetadataValue, encode_metadata

Handler = Callable[[Message, "CallContext"], Message | Encoded]
Authenticate = Callable[["CallContext"], Any]
# Method name -> the largest request body (on the wire and after gunzip) it accepts, in bytes.
RequestLimit = Callable[[str], int]


@runtime_checkable
class CallObserver(Protocol):
    """Told about every call that reached a declared method, whatever its outcome.

    `code` is the status answered (OK on success); `duration_seconds` runs from the start of
    request processing to the response being ready. Called after the handler's transaction
    committed or rolled back; an observer that raises is logged and otherwise ignored.

    An observer whose `in_transaction` attribute is true is told of a successful call inside
    the handler's transaction instead, once the response is ready and before the commit: what
    it writes commits with the call's own writes, in one transaction. If it raises there, the
    call is rolled back and answered INTERNAL, and every observer is told so afterwards.
    """

    def on_call_finished(
        self, context: CallContext, code: Code | int, duration_seconds: float
    ) -> None: ...


@dataclass
class CallContext:
    """What a handler (and `authenticate`, and observers) know about the call.

    `metadata` holds the request headers other than the protocol's own, keys lower-cased
    (so `metadata.first("authorization")`). `deadline` is on the `time.monotonic()` clock,
    None when the client sent no X-Prpc-Grpc-Timeout; `timeout` is the client's value in
    seconds. `principal` is what the service's `authenticate` hook returned (None before it
    ran, or without a hook).
    """

    service: str
    method: str
    metadata: Metadata = field(default_factory=Metadata)
    remote_addr: str = ""
    timeout: float | None = None
    deadline: float | None = None
    principal: Any = None
    request_format: Format | None = None
    response_format: Format | None = None
    http_request: HttpRequest | None = field(default=None, repr=False)
    response_headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def full_method(self) -> str:
        """`/package.Service/Method`, the gRPC spelling of the method."""
        return f"/{self.service}/{self.method}"

    def time_remaining(self) -> float | None:
        """Seconds until the deadline (negative once passed), None without a deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def deadline_exceeded(self) -> bool:
        remaining = self.time_remaining()
        return remaining is not None and remaining <= 0

    def check_deadline(self) -> None:
        """Raises DEADLINE_EXCEEDED if the deadline has passed: for long handlers to call
        between steps, so they stop early instead of finishing work that is rolled back."""
        if self.deadline_exceeded():
            raise PrpcError(Code.DEADLINE_EXCEEDED, "request deadline exceeded")

    def set_response_metadata(self, key: str, *values: MetadataValue) -> None:
        """Sends `key: values` as a response header (on success and on error).

        Keys ending in `-bin` take bytes, sent base64-encoded. Protocol headers (Content-Type,
        X-Prpc-*, Access-Control-*, ...) cannot be set: ValueError.
        """
        name, value = encode_metadata(key, values)
        self.response_headers[name] = value


def unimplemented(request: Message, context: CallContext) -> Message:
    """A handler for a method the service declares but does not implement (yet)."""
    raise PrpcError(Code.UNIMPLEMENTED, f"method {context.full_method} is not implemented")


@dataclass(frozen=True)
class Method:
    """One method of a service, with its message classes resolved from the descriptor."""

    descriptor: MethodDescriptor
    handler: Handler
    request_class: type[Message]
    response_class: type[Message]

    @property
    def name(self) -> str:
        return self.descriptor.name


class Service:
    """A protobuf service served over pRPC.

    `handlers` maps every method name of `descriptor` to `handler(request, context) ->
    response` (the response message, or `prpc.Encoded` holding its encoding); a method
    missing from it, or a name the descriptor lacks, is an ImproperlyConfigured error at
    declaration (use `prpc.unimplemented` to declare a method that answers UNIMPLEMENTED).
    `authenticate(context)` runs from the headers, before the body is read (a client without
    credentials cannot hold a thread by sending its body slowly), and returns the principal
    (stored in `context.principal`) or raises PrpcError, typically UNAUTHENTICATED or
    PERMISSION_DENIED. `max_request_bytes(method_name)`, if given, is the body limit of each
    method (the server-wide PRPC_MAX_REQUEST_BYTES still caps it). `observers` are told
    about every call to a declared method, including those refused by the protocol or by
    `authenticate` (calls to unknown methods are answered before any service is chosen and
    are not observed).

    Each handler runs inside `transaction.atomic()`: raising rolls its writes back, and so
    does returning after the client's deadline (answered DEADLINE_EXCEEDED; see prpc.views).
    The methods named in `outside_transaction` run without it and commit as they go (for a
    handler that calls another service and must hold no transaction meanwhile); their
    in-transaction observers are told in a transaction of their own.
    """

    def __init__(
        self,
        descriptor: ServiceDescriptor,
        handlers: Mapping[str, Handler],
        *,
        authenticate: Authenticate | None = None,
        observers: Iterable[CallObserver] = (),
        max_request_bytes: RequestLimit | None = None,
        outside_transaction: Iterable[str] = (),
    ) -> None:
        if not isinstance(descriptor, ServiceDescriptor):
            raise ImproperlyConfigured(
                f"Service needs a google.protobuf ServiceDescriptor, got {type(descriptor)!r}"
            )
        self.descriptor = descriptor
        self.name: str = descriptor.full_name
        declared = [method.name for method in descriptor.methods]
        unknown = sorted(set(handlers) - set(declared))
        if unknown:
            raise ImproperlyConfigured(
                f"pRPC service {self.name}: handlers given for unknown methods {unknown}; "
                f"it declares {declared}"
            )
        missing = [name for name in declared if name not in handlers]
        if missing:
            raise ImproperlyConfigured(
                f"pRPC service {self.name}: no handler for {missing}; give one per method "
                "(prpc.unimplemented for a method that should answer UNIMPLEMENTED)"
            )
        not_callable = sorted(name for name, handler in handlers.items() if not callable(handler))
        if not_callable:
            raise ImproperlyConfigured(
                f"pRPC service {self.name}: handlers for {not_callable} are not callable"
            )
        if authenticate is not None and not callable(authenticate):
            raise ImproperlyConfigured(f"pRPC service {self.name}: authenticate is not callable")
        self.authenticate = authenticate
        if max_request_bytes is not None and not callable(max_request_bytes):
            raise ImproperlyConfigured(
                f"pRPC service {self.name}: max_request_bytes is not callable"
            )
        self.max_request_bytes = max_request_bytes
        self.outside_transaction = frozenset(outside_transaction)
        unknown_methods = sorted(self.outside_transaction - set(declared))
        if unknown_methods:
            raise ImproperlyConfigured(
                f"pRPC service {self.name}: outside_transaction names unknown methods "
                f"{unknown_methods}"
            )
        self.observers: tuple[CallObserver, ...] = tuple(observers)
        for observer in self.observers:
            if not callable(getattr(observer, "on_call_finished", None)):
                raise ImproperlyConfigured(
                    f"pRPC service {self.name}: observer {observer!r} has no on_call_finished"
                )
        self.methods: dict[str, Method] = {
            method.name: Method(
                descriptor=method,
                handler=handlers[method.name],
                request_class=message_factory.GetMessageClass(method.input_type),
                response_class=message_factory.GetMessageClass(method.output_type),
            )
            for method in descriptor.methods
        }

    def __repr__(self) -> str:
        return f"Service({self.name}, methods={list(self.methods)})"
