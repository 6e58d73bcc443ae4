"""Uploads to the server: the multipart `image` field read under a size limit, decoded
like training does (`data_tools.decode.load_image`); every bad upload is an `UploadError`
(a 4xx status and a one-line message for the client)."""


class UploadError(Exception):
    """A bad request: `status` and a one-line message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class TooLarge(Exception):
    pass


DRAIN_BYTES = 256 * 2**20  # the most of an oversized body read (and dropped) so its client sees the 413


async def _drain(receive, budget: int = DRAIN_BYTES) -> None:
    """Read and drop the rest of a request body, at most `budget` bytes. A server that answers
    and closes while the client still writes leaves unread bytes, and the kernel then resets
    the connection: the client sees "connection reset", never the 413. Hand-written: neither
    Starlette nor uvicorn has a lingering close."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def decode(data: bytes, size):
    """Upload bytes -> float32 (H, W, 3) pixels; a bad image is an UploadError (413 for an
    image over the decoder's pixel limit, i.e. a decompression bomb; 422 otherwise)."""
    from data_tools.decode import BadImage, load_image

    try:
        return load_image(data, size)
    except BadImage as exc:
        raise UploadError(413 if "too many pixels" in str(exc) else 422, str(exc)) from None


def _limited(receive, limit: int):
    """An ASGI `receive` that raises TooLarge once more than `limit` body bytes came in."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge
        return message

    return wrapped


def _check_headers(request, max_body: int) -> None:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise UploadError(415, f"send the painting as multipart/form-data field 'image', "
                               f"not {ctype or 'no content type'}")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_body:
        raise UploadError(413, f"body of {int(length)} bytes exceeds the {max_body} byte limit")
    if length == "0":
        raise UploadError(400, "empty body: send the painting as multipart field 'image'")


async def read_image_field(request, max_body: int) -> tuple[str, bytes]:
    """(file name, bytes) of the `image` field of a multipart body, read under `max_body`."""
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    try:
        _check_headers(request, max_body)
    except UploadError as exc:
        if exc.status == 413:
            await _drain(request.receive)
        raise
    limited = Request(request.scope, _limited(request.receive, max_body))
    try:
        form = await limited.form(max_files=1, max_fields=8)
    except TooLarge:
        await _drain(request.receive)
        raise UploadError(413, f"body exceeds the {max_body} byte limit") from None
    except HTTPException as exc:
        raise UploadError(400, f"malformed multipart body: {exc.detail}") from None
    field = form.get("image")
    if field is None or isinstance(field, str):
        raise UploadError(400, "missing file field 'image' in the multipart form")
    data = await field.read()
    await form.close()
    if not data:
        raise UploadError(400, "the 'image' field is empty")
    return field.filename or "upload", data
