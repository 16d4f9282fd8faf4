"""Request decoding: bytes that are no valid message, or that carry fields we do not know, are refused.

grpc answers an exception raised by a request deserializer with UNKNOWN
naming the Python class, so a decoder here never raises: it returns the
ApiError (INVALID_ARGUMENT) in place of the message, and the method aborts with
it once the caller is authenticated: UndecodableRequests does that for every
method with a single request (and wraps the deserializers of the services we
did not write, health's), service.py for the messages of a request stream.

Unknown fields: protobuf keeps the fields of a message it does not know and
writes them back out, so an object sent with field 99 would be stored with
it, unseen. Refusing them by number ("unknown field 99 in spec") is what
refusing an unknown YAML field by name is for a manifest. The common case
costs two ByteSize() calls in the C runtime; the walk that names the field
runs only when there is one.
"""
import inspect

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from controlplane.apiserver import errors


def decoder(message_class):
    """A request deserializer for `message_class`: the message, or the ApiError refusing the bytes."""
    type_name = message_class.DESCRIPTOR.full_name

    def decode(data: bytes) -> Message | errors.ApiError:
        message = message_class()
        try:
            message.ParseFromString(data)
        except DecodeError as e:
            reason = str(e).rpartition(": ")[2] if ": " in str(e) else "malformed wire format"
            return errors.invalid(f"request: not a valid {type_name} message ({reason})")
        size = message.ByteSize()
        message.DiscardUnknownFields()
        if message.ByteSize() != size:
            return errors.invalid(unknown_field(message_class.FromString(data)))
        return message
    return decode


def unknown_field(message: Message, path: str = "") -> str | None:
    """'unknown field N in <path>' for the first unknown field in `message` or below it, else None."""
    numbers = sorted({field.field_number for field in UnknownFieldSet(message)})
    if numbers:
        return f"unknown field {numbers[0]} in {path or message.DESCRIPTOR.name}"
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        where = f"{path}.{field.json_name}" if path else field.json_name
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type != FieldDescriptor.TYPE_MESSAGE:
                continue
            children = ((f"{where}[{key}]", value[key]) for key in value)
        elif field.is_repeated:
            children = ((f"{where}[{i}]", item) for i, item in enumerate(value))
        else:
            children = ((where, value),)
        for child_path, child in children:
            found = unknown_field(child, child_path)
            if found:
                return found
    return None


class UndecodableRequests(grpc.aio.ServerInterceptor):
    """Every method with a single request aborts with its decoder's refusal; other services' deserializers
    (health's) are wrapped to refuse undecodable bytes the same way.

    The kinds' services decode with decoder() (which also refuses unknown
    fields); a deserializer that already returns an ApiError passes it through.
    The wrapped handler is made once per method and kept (the handlers a method
    finds never change while the server runs; checked by identity all the same).
    """

    def __init__(self):
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        kept = self._wrapped.get(details.method)
        if kept is None or kept[0] is not handler:
            kept = self._wrapped[details.method] = (handler, self._wrap(handler, details.method))
        return kept[1]

    @staticmethod
    def _wrap(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        parse = handler.request_deserializer

        def deserialize(data: bytes):
            try:
                return parse(data)
            except DecodeError:
                return errors.invalid(f"request: not a valid request message for {method}")
        if handler.unary_unary:
            return handler._replace(request_deserializer=deserialize, unary_unary=_refusing(handler.unary_unary))
        return handler._replace(request_deserializer=deserialize, unary_stream=_refusing(handler.unary_stream))


def _refusing(behavior):
    """`behavior`, but aborting with the decoder's refusal when it stands in for the request."""
    if inspect.isasyncgenfunction(behavior):
        async def stream(request, context):
            if isinstance(request, errors.ApiError):
                await context.abort(request.code, request.message)
            async for item in behavior(request, context):
                yield item
        return stream

    async def call(request, context):
        if isinstance(request, errors.ApiError):
            await context.abort(request.code, request.message)
        return await behavior(request, context)
    return call
