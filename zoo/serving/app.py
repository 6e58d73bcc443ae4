"""The web app of `python -m zoo serve`: a Starlette app around one `zoo.inference` Predictor.

    GET  /          the web page (static/index.html: pick or drop a painting)
    GET  /health    {"status": "ok"}
    GET  /model     model name, tasks and class names, input size, backend/runtime
    POST /predict   multipart field `image` -> the JSON `zoo predict` prints for one image
    POST /explain   multipart field `image` [?task=artist|movement] -> heatmap PNG
    GET  /similar   ?id=IMAGE_ID&k=10 -> closest works (needs --embeddings FILE)
    POST /similar   multipart field `image` [?k=10] -> closest works (keras runtime)

Concurrency: the model is called from ONE worker thread (`ModelWorker`), never on the event
loop; /predict requests that arrive together are run as one batch (micro-batching), the rest
queue. Uploads: the body is counted while it streams and cut off at --max-body-mb (413);
decoding goes through `data_tools.decode.load_image` (training's own decode). Every bad
upload is a 4xx JSON `{"error": "..."}`.
"""

import asyncio
import threading
from concurrent.futures import Future
from pathlib import Path
from queue import Empty, Queue

import numpy as np

from zoo.inference.predictor import in_batches

STATIC = Path(__file__).with_name("static")
MAX_BATCH = 8


class UploadError(Exception):
    """A bad request: `status` and a one-line message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class TooLarge(Exception):
    pass


class ModelWorker:
    """Runs every model call on one thread. `predict(pixels)` micro-batches: requests that
    are waiting when the thread becomes free go through the model together (up to MAX_BATCH,
    padded to a power of two so compiled backends see few shapes). `call(fn)` runs any
    other model work (explain, embed) on the same thread, in turn."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.jobs: Queue = Queue()
        threading.Thread(target=self._loop, name="model-worker", daemon=True).start()

    def predict(self, pixels: np.ndarray) -> Future:
        future = Future()
        self.jobs.put(("predict", pixels, future))
        return future

    def call(self, fn, *args) -> Future:
        future = Future()
        self.jobs.put(("call", (fn, args), future))
        return future

    def _loop(self):
        while True:
            jobs = [self.jobs.get()]
            while len(jobs) < MAX_BATCH:
                try:
                    jobs.append(self.jobs.get_nowait())
                except Empty:
                    break
            batch = [j for j in jobs if j[0] == "predict"]
            if batch:
                self._run_batch(batch)
            for _, (fn, args), future in (j for j in jobs if j[0] == "call"):
                try:
                    future.set_result(fn(*args))
                except Exception as exc:  # handed to the waiting request
                    future.set_exception(exc)

    def _run_batch(self, jobs):
        pixels = np.stack([j[1] for j in jobs])
        try:  # padded to a power of two: compiled backends see few batch shapes
            out = in_batches(self.predictor.predict, pixels, 1 << (len(jobs) - 1).bit_length())
        except Exception as exc:
            for _, _, future in jobs:
                future.set_exception(exc)
            return
        for i, (_, _, future) in enumerate(jobs):
            future.set_result({name: v[i] for name, v in out.items()})


def _decode(data: bytes, size) -> np.ndarray:
    """Upload bytes -> pixels through `load_image`; a bad image is an UploadError (413 for an
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


def runtime_backend(predictor) -> str:
    """What runs the model: the Keras backend, or the artifact's runtime library."""
    return getattr(predictor, "backend", None) or {"onnx": "onnxruntime"}.get(predictor.runtime, predictor.runtime)


def create_app(predictor, *, index=None, max_body: int = 20 * 2**20, top_k: int = 5):
    """The Starlette app around a `zoo.inference.Predictor`; `index`: a `zoo.similar.Index`
    for /similar (POST needs a predictor that can `embed`, i.e. the keras runtime)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from zoo.explain import class_heads, explain_pixels, render_png
    from zoo.inference.prediction import prediction_json

    worker = ModelWorker(predictor)

    async def upload(request) -> tuple[str, bytes]:
        """The `image` field of a multipart body, read under the size limit."""
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise UploadError(415, f"send the painting as multipart/form-data field 'image', "
                                   f"not {ctype or 'no content type'}")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            raise UploadError(413, f"body of {int(length)} bytes exceeds the {max_body} byte limit")
        if length == "0":
            raise UploadError(400, "empty body: send the painting as multipart field 'image'")
        limited = Request(request.scope, _limited(request.receive, max_body))
        try:
            form = await limited.form(max_files=1, max_fields=8)
        except TooLarge:
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

    async def pixels_of(request):
        name, data = await upload(request)
        loop = asyncio.get_running_loop()
        return name, await loop.run_in_executor(None, _decode, data, predictor.image_size)

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def model_info(request):
        tasks = {t.name: {"kind": "regression"} if t.is_regression else
                 {"kind": "classification", "class_names": list(t.classes)} for t in predictor.label_space.tasks}
        return JSONResponse({"name": predictor.name, "tasks": tasks, "input_size": list(predictor.image_size),
                             "runtime": predictor.runtime, "backend": runtime_backend(predictor),
                             "similar": index is not None, "top_k": top_k})

    async def predict(request):
        name, pixels = await pixels_of(request)
        outputs = await asyncio.wrap_future(worker.predict(pixels))
        return JSONResponse({"image": name, **prediction_json(outputs, predictor.label_space, top_k)})

    async def explain(request):
        task = request.query_params.get("task", "artist")
        if task not in class_heads(predictor):
            raise UploadError(400, f"task={task}: no such classification head; "
                                   f"use one of {', '.join(class_heads(predictor))}")
        name, pixels = await pixels_of(request)
        explanation = await asyncio.wrap_future(worker.call(explain_pixels, predictor, pixels, task))
        loop = asyncio.get_running_loop()
        png = await loop.run_in_executor(None, render_png, pixels, explanation, name)
        return Response(png, media_type="image/png")

    def k_of(request) -> int:
        k = request.query_params.get("k", "10")
        if not k.isdigit() or not 1 <= int(k) <= 100:
            raise UploadError(400, f"k={k}: expected an integer 1..100")
        return int(k)

    async def similar(request):
        if index is None:
            raise UploadError(404, "no embeddings loaded: start the server with --embeddings FILE")
        k = k_of(request)
        if request.method == "GET":
            image_id = request.query_params.get("id")
            if not image_id:
                raise UploadError(400, "GET /similar needs ?id=IMAGE_ID (or POST an image)")
            try:
                vector = index.vector_of(image_id)
            except KeyError:
                raise UploadError(404, f"id={image_id}: not in the embeddings file") from None
            return JSONResponse({"query": image_id, "results": index.closest(vector, k, exclude=image_id)})
        if not hasattr(predictor, "embed"):
            raise UploadError(400, "POST /similar needs --runtime keras; use GET /similar?id=...")
        name, pixels = await pixels_of(request)
        vector = await asyncio.wrap_future(worker.call(predictor.embed, pixels[None]))
        return JSONResponse({"query": name, "results": index.closest(vector[0], k)})

    async def page(request):
        return FileResponse(STATIC / "index.html")

    async def upload_error(request, exc: UploadError):
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    async def http_error(request, exc: HTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/health", health),
            Route("/model", model_info),
            Route("/predict", predict, methods=["POST"]),
            Route("/explain", explain, methods=["POST"]),
            Route("/similar", similar, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={UploadError: upload_error, HTTPException: http_error},
    )
