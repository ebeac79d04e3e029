"""The articles under /api: `POST /api/documents` (upload, indexed in the background), `GET /api/documents`
(every article with its status) and `DELETE /api/documents/{name}`, through `QAService.documents()`
(qa/documents.py), behind the bearer token like every /api route.

Questions are answered meanwhile from the committed index; an upload's reply comes at once with each file's
stored name and `queued` (or `skipped` and why), and the article is answerable when `GET` says `ready`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import InputError
from qa.api.auth import guarded_router
from qa.api.common import MAX_BODY_BYTES, ServiceDep
from qa.documents import DocumentStatus, UploadResult
from qa.settings import Settings

MAX_FILES = 20  # files in one upload request
DELETE_WAIT_S = 60.0  # a removal waits this long for the indexing worker (which may be busy) to finish it


class UploadReply(BaseModel):
    """`POST /api/documents`: what became of each file, in the order sent."""

    files: list[UploadResult]


class DocumentList(BaseModel):
    """`GET /api/documents`."""

    documents: list[DocumentStatus] = Field(description="Every article of the corpus folder, by name.")


class Removed(BaseModel):
    """`DELETE /api/documents/{name}`."""

    name: str
    status: Literal["removed", "queued"] = Field(
        description="`removed`: gone from the folder and the index, no answer cites it; `queued` (HTTP 202): "
        "the file is gone and the indexing worker, busy with other articles, removes it next."
    )


def documents_router(settings: Settings) -> APIRouter:
    """The three routes; an upload may carry MAX_FILES files of up to QA_MAX_UPLOAD_MB each."""
    router = guarded_router("/api", "documents")
    per_file = int(settings.index.max_upload_mb * 1024 * 1024)

    @router.post(
        "/documents",
        response_model=UploadReply,
        status_code=202,
        summary="Add articles (indexed in the background)",
        max_body_size=MAX_FILES * per_file + MAX_BODY_BYTES,
    )
    async def upload(
        file: Annotated[
            list[UploadFile],
            File(description="The files, field `file` repeated (.txt, .md, .html, .htm, .pdf, .docx)."),
        ],
        service: ServiceDep,
    ) -> UploadReply:
        """Save each file into the corpus folder under a safe name (its last path component, cleaned) and
        queue it for indexing. A name that exists replaces that article (`replaced: true`; its old sentences
        go when the new ones are in). A file that is not an article, is empty or is over QA_MAX_UPLOAD_MB
        is `skipped` with the reason and not saved; one that cannot be read turns `skipped` in
        `GET /api/documents`, and the folder is put back as it was."""
        if len(file) > MAX_FILES:
            raise InputError(f"{len(file)} files in one request; send at most {MAX_FILES} at a time.")
        docs = service.documents()
        results = await run_in_threadpool(docs.add, [(f.filename or "upload", f.file) for f in file])
        return UploadReply(files=results)

    @router.get("/documents", response_model=DocumentList, summary="The articles and their status")
    async def listing(service: ServiceDep) -> DocumentList:
        """Every article of the corpus folder with its format, size, sentence count and status (`queued`,
        `indexing`, `ready`, `skipped` or `failed` with the reason, `new` when never indexed), and the
        uploads that were not kept."""
        return DocumentList(documents=await run_in_threadpool(service.documents().list))

    @router.delete(
        "/documents/{name}",
        response_model=Removed,
        summary="Remove an article",
        responses={
            202: {"model": Removed, "description": "The file is gone; its removal from the index is queued."},
            404: {"description": "No article has that name."},
        },
    )
    async def remove(name: str, service: ServiceDep) -> JSONResponse:
        """Delete the file and its sentences from the index; once this answers `removed`, no answer cites
        it. `name` must be exactly an article's name (as `GET /api/documents` lists it)."""
        docs = service.documents()
        if not await run_in_threadpool(docs.remove, name):
            raise StarletteHTTPException(404, "No article has that name: GET /api/documents lists them.")
        done = await run_in_threadpool(docs.wait, [name], DELETE_WAIT_S)
        body = Removed(name=name, status="removed" if done else "queued")
        return JSONResponse(body.model_dump(), status_code=200 if done else 202)

    return router
