"""The stand-in's Batch API subset: upload a JSONL file, create a batch, poll it, download.

A batch is answered when it is created (by the same rules as chat), reported `in_progress` on
its first poll and `completed` on the next, so a client must really poll. Files and batches live
in the server's state, so a client that crashes after uploading can come back and poll.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tardis_assets.lib.llm.offline_answers import completion

if TYPE_CHECKING:
    from tardis_assets.lib.llm.offline_app import State


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "offline_fault", "code": status}}, status_code=status
    )


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _answer_lines(lines: list[str]) -> tuple[bytes, int]:
    out, failed = [], 0
    for n, line in enumerate(lines):
        item = json.loads(line)
        try:
            result, _ = completion(item["body"])
            resp = {"status_code": 200, "request_id": f"req_{n}", "body": result}
            out.append(
                {"id": f"batch_req_{n}", "custom_id": item["custom_id"], "response": resp,
                 "error": None}
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            failed += 1
            out.append(
                {"id": f"batch_req_{n}", "custom_id": item.get("custom_id"), "response": None,
                 "error": {"message": str(exc)}}
            )  # fmt: skip
    return ("\n".join(json.dumps(o) for o in out) + "\n").encode(), failed


def routes(state: State) -> list[Route]:
    async def upload_file(request: Request) -> Response:
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        content = None
        filename = "upload.jsonl"
        for part in msg.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)
                filename = part.get_filename() or filename
        if content is None:
            return _error(400, "multipart field 'file' is missing")
        state.uploads += 1
        file_id = f"file-{hashlib.sha256(content).hexdigest()[:24]}"
        state.files[file_id] = content
        return JSONResponse(
            {"id": file_id, "object": "file", "bytes": len(content), "filename": filename,
             "purpose": "batch", "created_at": int(time.time())}
        )  # fmt: skip

    async def file_content(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if file_id not in state.files:
            return _error(404, f"no file {file_id}")
        return Response(state.files[file_id], media_type="application/jsonl")

    async def create_batch(request: Request) -> Response:
        body = json.loads(await request.body())
        input_id = body.get("input_file_id")
        if input_id not in state.files:
            return _error(404, f"no file {input_id}")
        lines = [ln for ln in state.files[input_id].decode().splitlines() if ln.strip()]
        output, failed = _answer_lines(lines)
        output_id = f"file-{hashlib.sha256(output).hexdigest()[:24]}"
        state.files[output_id] = output
        batch_id = f"batch_{len(state.batches) + 1}"
        state.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "input_file_id": input_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "in_progress",
            "output_file_id": None,
            "_output": output_id,
            "request_counts": {"total": len(lines), "completed": len(lines) - failed,
                               "failed": failed},
            "created_at": int(time.time()),
        }  # fmt: skip
        return JSONResponse(_public(state.batches[batch_id]))

    async def get_batch(request: Request) -> Response:
        batch = state.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _error(404, "no such batch")
        # First poll sees in_progress, the next one completed: the client must really poll.
        if batch["status"] == "in_progress" and batch.get("_polled"):
            batch["status"] = "completed"
            batch["output_file_id"] = batch["_output"]
        batch["_polled"] = True
        return JSONResponse(_public(batch))

    return [
        Route("/v1/files", upload_file, methods=["POST"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
        Route("/v1/batches", create_batch, methods=["POST"]),
        Route("/v1/batches/{batch_id}", get_batch, methods=["GET"]),
    ]
