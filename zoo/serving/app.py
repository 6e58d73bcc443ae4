"""The web app of `python -m zoo serve`: a Starlette app around one `zoo.inference` Predictor.

    GET  /          the web page (static/index.html: pick or drop a painting)
    GET  /health    {"status": "ok"}
    GET  /model     model name, tasks and class names, input size, backend/runtime, calibration
                    (coverage, set method, unknown score; null for an uncalibrated model)
    POST /predict   multipart field `image` -> the JSON `zoo predict` prints for one image (with
                    the artist set, year interval and unknown verdict of a calibrated model)
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
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from zoo.inference.batching import in_batches
from zoo.serving.upload import UploadError, decode, read_image_field

STATIC = Path(__file__).with_name("static")
MAX_BATCH = 8


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


def runtime_backend(predictor) -> str:
    """What runs the model: the Keras backend, or the artifact's runtime library."""
    return getattr(predictor, "backend", None) or {"onnx": "onnxruntime"}.get(predictor.runtime, predictor.runtime)


def _calibration_summary(record: dict | None) -> dict | None:
    """What /model tells the page of a calibrated model: coverage, set method, unknown score."""
    if not record:
        return None
    return {"coverage": record["coverage"], "method": record["method"],
            "unknown_score": (record.get("unknown") or {}).get("score")}


def _k_of(request) -> int:
    k = request.query_params.get("k", "10")
    if not k.isdigit() or not 1 <= int(k) <= 100:
        raise UploadError(400, f"k={k}: expected an integer 1..100")
    return int(k)


class Routes:
    """The request handlers around one Predictor (model calls go through its ModelWorker)."""

    def __init__(self, predictor, index, max_body: int, top_k: int):
        self.predictor, self.index, self.max_body, self.top_k = predictor, index, max_body, top_k
        self.worker = ModelWorker(predictor)

    async def pixels_of(self, request):
        name, data = await read_image_field(request, self.max_body)
        loop = asyncio.get_running_loop()
        return name, await loop.run_in_executor(None, decode, data, self.predictor.image_size)

    async def health(self, request):
        return JSONResponse({"status": "ok"})

    async def model_info(self, request):
        p = self.predictor
        tasks = {t.name: {"kind": "regression"} if t.is_regression else
                 {"kind": "classification", "class_names": list(t.classes)} for t in p.label_space.tasks}
        return JSONResponse({"name": p.name, "tasks": tasks, "input_size": list(p.image_size),
                             "runtime": p.runtime, "backend": runtime_backend(p),
                             "similar": self.index is not None, "top_k": self.top_k,
                             "max_body_bytes": self.max_body,
                             "calibration": _calibration_summary(getattr(p, "calibration", None))})

    async def predict(self, request):
        from zoo.inference.prediction import prediction_json

        name, pixels = await self.pixels_of(request)
        outputs = await asyncio.wrap_future(self.worker.predict(pixels))
        return JSONResponse({"image": name, **prediction_json(outputs, self.predictor.label_space, self.top_k,
                                                              getattr(self.predictor, "calibration", None))})

    async def explain(self, request):
        from zoo.explain import class_heads, explain_pixels, render_png

        task = request.query_params.get("task", "artist")
        if task not in class_heads(self.predictor):
            raise UploadError(400, f"task={task}: no such classification head; "
                                   f"use one of {', '.join(class_heads(self.predictor))}")
        name, pixels = await self.pixels_of(request)
        explanation = await asyncio.wrap_future(self.worker.call(explain_pixels, self.predictor, pixels, task))
        loop = asyncio.get_running_loop()
        png = await loop.run_in_executor(None, render_png, pixels, explanation, name)
        return Response(png, media_type="image/png")

    async def similar(self, request):
        if self.index is None:
            raise UploadError(404, "no embeddings loaded: start the server with --embeddings FILE")
        k = _k_of(request)
        if request.method == "GET":
            image_id = request.query_params.get("id")
            if not image_id:
                raise UploadError(400, "GET /similar needs ?id=IMAGE_ID (or POST an image)")
            try:
                vector = self.index.vector_of(image_id)
            except KeyError:
                raise UploadError(404, f"id={image_id}: not in the embeddings file") from None
            return JSONResponse({"query": image_id, "results": self.index.closest(vector, k, exclude=image_id)})
        if not hasattr(self.predictor, "embed"):
            raise UploadError(400, "POST /similar needs --runtime keras; use GET /similar?id=...")
        name, pixels = await self.pixels_of(request)
        vector = await asyncio.wrap_future(self.worker.call(self.predictor.embed, pixels[None]))
        return JSONResponse({"query": name, "results": self.index.closest(vector[0], k)})

    async def page(self, request):
        return FileResponse(STATIC / "index.html")


async def _upload_error(request, exc: UploadError):
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _http_error(request, exc: HTTPException):
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


def create_app(predictor, *, index=None, max_body: int = 20 * 2**20, top_k: int = 5):
    """The Starlette app around a `zoo.inference.Predictor`; `index`: a `zoo.similar.Index`
    for /similar (POST needs a predictor that can `embed`, i.e. the keras runtime)."""
    r = Routes(predictor, index, max_body, top_k)
    return Starlette(
        routes=[
            Route("/", r.page),
            Route("/health", r.health),
            Route("/model", r.model_info),
            Route("/predict", r.predict, methods=["POST"]),
            Route("/explain", r.explain, methods=["POST"]),
            Route("/similar", r.similar, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={UploadError: _upload_error, HTTPException: _http_error},
    )
