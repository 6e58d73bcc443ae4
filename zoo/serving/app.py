"""`python -m zoo serve MODEL [--port 8000] [--host 127.0.0.1] [--runtime keras|onnx]`.

A Starlette app under uvicorn:
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
decoding goes through `data_tools.preprocess.load_image`. Every bad upload is a 4xx JSON
`{"error": "..."}`.
"""

import asyncio
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from queue import Empty, Queue

import numpy as np

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
        size = 1 << (len(jobs) - 1).bit_length()
        if size > len(jobs):
            pixels = np.concatenate([pixels, np.repeat(pixels[-1:], size - len(jobs), axis=0)])
        try:
            out = self.predictor.predict(pixels)
        except Exception as exc:
            for _, _, future in jobs:
                future.set_exception(exc)
            return
        for i, (_, _, future) in enumerate(jobs):
            future.set_result({name: np.asarray(v)[i] for name, v in out.items()})


def _decode(data: bytes, size) -> np.ndarray:
    """Upload bytes -> pixels through `load_image`; a bad image is an UploadError (413 for an
    image over the decoder's pixel limit, i.e. a decompression bomb; 422 otherwise)."""
    from data_tools.preprocess import BadImage, load_image

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


def create_app(predictor, *, runtime: str, backend: str, index=None, features=None,
               max_body: int = 20 * 2**20, top_k: int = 5):
    """The Starlette app around `predictor` (.name, .input_size, .class_names, .predict);
    `index`: a `zoo.similar.Index` for /similar, `features`: its feature model (keras runtime)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from zoo.explain import class_heads, explain_pixels, render_png
    from zoo.training.predict import format_prediction

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
        return name, await loop.run_in_executor(None, _decode, data, predictor.input_size)

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def model_info(request):
        tasks = {n: ({"kind": "classification", "class_names": list(c)} if c else {"kind": "regression"})
                 for n, c in predictor.class_names.items()}
        return JSONResponse({"name": predictor.name, "tasks": tasks, "input_size": list(predictor.input_size),
                             "runtime": runtime, "backend": backend,
                             "similar": index is not None, "top_k": top_k})

    async def predict(request):
        name, pixels = await pixels_of(request)
        outputs = await asyncio.wrap_future(worker.predict(pixels))
        return JSONResponse(format_prediction(name, outputs, predictor.class_names, top_k=top_k))

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
        if features is None:
            raise UploadError(400, "POST /similar needs --runtime keras; use GET /similar?id=...")
        from zoo.similar import embed

        name, pixels = await pixels_of(request)
        vector = await asyncio.wrap_future(worker.call(embed, features, pixels[None]))
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


class OnnxRuntimePredictor:
    """`zoo.export.OnnxPredictor` with the class names of its sidecar (same interface as
    `zoo.explain.KerasPredictor`)."""

    def __init__(self, path):
        from zoo.export import OnnxPredictor, read_sidecar

        meta = read_sidecar(path)
        self.runner = OnnxPredictor(path, meta)
        self.name = meta.get("model_name", Path(path).stem)
        self.input_size = tuple(self.runner.input_size)
        self.class_names = {n: tuple(t.get("class_names", ())) for n, t in meta["tasks"].items()}
        self.fixed_batch = meta.get("batch")

    def predict(self, batch: np.ndarray) -> dict:
        if not self.fixed_batch:
            return self.runner.predict(batch)
        parts = []  # a fixed-batch artifact: run padded chunks of its size
        for start in range(0, len(batch), self.fixed_batch):
            chunk = batch[start:start + self.fixed_batch]
            pad = self.fixed_batch - len(chunk)
            out = self.runner.predict(np.concatenate([chunk, np.repeat(chunk[-1:], pad, 0)]) if pad else chunk)
            parts.append({n: np.asarray(v)[: len(chunk)] for n, v in out.items()})
        return {n: np.concatenate([p[n] for p in parts]) for n in parts[0]}


def main(argv) -> int:
    """`python -m zoo serve MODEL [--port 8000] [--host 127.0.0.1] [--runtime keras|onnx]`."""
    from zoo.cli import Parser

    p = Parser(prog="python -m zoo serve", description=__doc__.splitlines()[0])
    p.add_argument("model_file", help="MODEL.keras (--runtime keras) or an exported MODEL.onnx (--runtime onnx)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--runtime", choices=["keras", "onnx"], default="keras")
    p.add_argument("--embeddings", help="FILE.npz from `zoo embed`: enables /similar")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--max-body-mb", type=float, default=20.0, help="upload size limit")
    p.add_argument("--backend", help="jax|tensorflow|torch (keras runtime; chosen before keras loads)")
    args = p.parse_args(argv)
    if not Path(args.model_file).is_file():
        raise ValueError(f"{args.model_file}: no such model file")
    if args.runtime == "onnx" and Path(args.model_file).suffix != ".onnx":
        raise ValueError(f"--runtime onnx serves an exported .onnx file (python -m zoo export "
                         f"{args.model_file} --format onnx --out MODEL.onnx), got {args.model_file}")

    import uvicorn

    from zoo.similar import Index, feature_model

    index = Index(args.embeddings) if args.embeddings else None
    features = None
    if args.runtime == "keras":
        import keras

        import zoo
        from zoo.explain import KerasPredictor

        predictor = KerasPredictor(zoo.load_model(args.model_file, compile=False))
        backend = keras.backend.backend()
        if index is not None:
            features = feature_model(predictor.model)
            if features.output_shape[-1] != index.dim:
                raise ValueError(f"--embeddings {args.embeddings}: {index.dim} features, but "
                                 f"{args.model_file} makes {features.output_shape[-1]}; embed with this model")
    else:
        predictor = OnnxRuntimePredictor(args.model_file)
        backend = "onnxruntime"
    app = create_app(predictor, runtime=args.runtime, backend=backend, index=index, features=features,
                     max_body=int(args.max_body_mb * 2**20), top_k=args.top_k)
    print(f"serving {predictor.name} ({args.runtime}, {backend}) on http://{args.host}:{args.port}/",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
