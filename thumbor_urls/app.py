"""One request, start to end: route, verify, parse, negotiate, cache, load, process, answer."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from . import (
    allocator,
    budget,
    codecs,
    expiry,
    grammar,
    hints,
    jsonp,
    lookup,
    meta,
    output,
    pipeline,
    signed,
)
from .allowlists import Allowlists
from .config import Settings
from .deadline import Deadline, running_until
from .decode import guard_pixels
from .detectors.service import DetectionService
from .errors import (
    ImageServiceError,
    ImageTooLarge,
    MethodNotAllowed,
    NoSuchKey,
)
from .loaders import Loaders, build_source, source_expires
from .messages import Access, Request, Response, error_response, json_response
from .moderation import ModerationService
from .plan import Plan
from .presets import Presets
from .sources import Original, Source, serving
from .stores import FolderResultStore, NoResultStore, ResultStore
from .trace import Trace
from .url import build_plan, parse_path

log = logging.getLogger("thumbor_urls")
access_log = logging.getLogger("thumbor_urls.access")


NOT_IMAGES = frozenset({"", "/", "/favicon.ico", "/robots.txt"})


class Rendered(NamedTuple):
    """A plan made into an image: what the answer and the result store need."""

    body: bytes
    content_type: str
    vary_accept: bool  # whether another Accept header could have changed the format
    job: pipeline.Job


class App:
    def __init__(
        self,
        settings: Settings,
        source: Source | None = None,
        results: ResultStore | None = None,
        concurrency: int = 1,
    ) -> None:
        """`concurrency`: how many requests this process may run at once (the server's
        threads), which the memory budget of each is derived from."""
        self.settings = settings
        guard_pixels(settings.MAX_SOURCE_PIXELS)
        self.limits = budget.Limits(
            budget.memory_per_request(
                settings.MEMORY_LIMIT_MB,
                concurrency,
                budget.resident_bytes(),
                settings.MAX_REQUEST_MEMORY_MB,
            ),
            settings.MAX_REQUEST_CPU_SECONDS,
        )
        # Freed buffers stay for the next request, which is what makes a request fast; what is
        # well above the idle size goes back once the process has been idle a moment.
        self._memory = allocator.IdleGiveBack(budget.resident_bytes())
        if results is None:
            path = settings.RESULT_STORAGE_FILE_STORAGE_ROOT_PATH
            results = FolderResultStore(path) if path else NoResultStore()
        self.results = results
        # LOADERS: the folder by default; HTTP origins keep their originals beside the results.
        self.source = source or build_source(settings, results)
        # Results of two sources must never share a cache entry, even in one shared folder.
        self._fingerprint = f"{settings.output_fingerprint()}|{self.source!r}"
        # smart/ and moderation, their answers cached per original in the result store.
        self.detectors = DetectionService.from_settings(settings, results, repr(self.source))
        if settings.DETECTORS is None:
            # The default chain depends on what is installed, which the settings do not say.
            self._fingerprint += f"|{self.detectors.chain}"
        self.moderator = ModerationService.from_settings(settings, results, repr(self.source))
        # What URLs may ask for; None when off, so that nothing at all is done per request.
        self.presets = Presets.from_settings(settings)
        self.allowlists = Allowlists.from_settings(settings)
        if settings.SIH_COMPAT:
            # Only where it is on (a Lambda's init, not its first request): importing Serverless
            # Image Handler's routes costs every other cold start ~5 ms.
            from .sih import route  # noqa: F401, PLC0415

    def handle(
        self,
        request: Request,
        deadline: Deadline | None = None,
        record: Callable[[Access], None] | None = None,
    ) -> Response:
        """The answer to `request`; its work is abandoned (503) once `deadline` passes, by
        default REQUEST_DEADLINE_SECONDS from now. What became of it goes to `record`, by
        default one JSON line on the `thumbor_urls.access` logger."""
        started = time.perf_counter()
        if deadline is None:
            deadline = Deadline(self.settings.REQUEST_DEADLINE_SECONDS)
        routed: list[str] = []  # the image's key, once the URL is parsed
        trace = Trace()
        self._memory.started()
        try:
            with running_until(deadline), serving(request.headers):
                response, outcome = self._route(request, routed, trace)
        except ImageServiceError as error:
            response, outcome = error_response(error, self.settings.ERROR_MAX_AGE), error.code
        except Exception:
            # A bug of ours, not the client's: log it whole, answer without a stack trace.
            log.exception("unexpected error for %s", request.path)
            bug = ImageServiceError("the image could not be processed; this is a server bug")
            response, outcome = error_response(bug, self.settings.ERROR_MAX_AGE), bug.code
        finally:
            self._memory.finished()
        if request.method == "HEAD":
            response = response.without_body()
        access = Access(
            request.method,
            request.path,
            response.status,
            outcome,
            bytes=len(response.body),
            ms=round((time.perf_counter() - started) * 1000, 1),
            image=routed[0] if routed else None,
            trace=trace,
        )
        (record or _log_access)(access)
        return response

    def describe(self) -> str:
        """What this App does, in a line for the start-up log."""
        settings = self.settings
        if settings.security_keys:
            unsafe = "allowed" if settings.ALLOW_UNSAFE_URL else "refused"
            keys = len(settings.security_keys)
            signing = (
                f"signing on (unsafe URLs {unsafe}), {keys} key{'s' * (keys > 1)}, "
                f"signatures {','.join(settings.SIGNER_TYPES)}"
            )
        else:
            signing = "signing off (no SECURITY_KEY: unsafe URLs only)"
        detectors = self.detectors.chain or "none"
        moderation = "every image" if self.moderator.always else "moderate() only"
        return (
            f"originals {self.source!r}; {signing}; detectors {detectors}; moderation "
            f"{moderation} ({self.moderator.backend.name}); results cached in {self.results!r}; "
            f"budget per request {self.limits.memory / budget.MiB:.0f} MiB, "
            f"{self.limits.seconds:g} s of CPU"
        )

    def _route(self, request: Request, routed: list[str], trace: Trace) -> tuple[Response, str]:
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(f"{request.method} is not allowed; use GET or HEAD")
        if request.path.rstrip("/") == "/healthcheck":
            headers = {"Content-Type": "text/plain", "Cache-Control": "no-cache"}
            return Response(200, headers, b"WORKING"), "healthcheck"
        if request.path in NOT_IMAGES:
            # A browser's first requests: nothing was signed, so no signature can be wrong.
            raise NoSuchKey(
                f"nothing at {request.path}; images are at /unsafe/<options>/<image> or "
                "/<signature>/<options>/<image>"
            )
        if request.path.lstrip("/").startswith("params/"):
            return self._params(request), "params"
        if self.settings.SIH_COMPAT:
            from .sih import route as sih_route  # noqa: PLC0415 - imported by __init__

            return sih_route.handle(self, request, routed, trace)
        return self.serve_path(self._verified_rest(request), request, routed, trace)

    def serve_path(
        self, rest: str, request: Request, routed: list[str], trace: Trace
    ) -> tuple[Response, str]:
        """The answer to the Thumbor path `rest` (after `unsafe/` or the signature)."""
        plan = self._plan(rest)
        routed.append(plan.image)
        self._check_requested_size(plan)
        if plan.meta:
            # Checked before the image is loaded: a bad callback costs nothing.
            callback = jsonp.callback_for(self.settings.META_CALLBACK_NAME, request.query)
            return self._meta(plan, trace, callback), "meta"
        return self._image(plan, request, trace)

    def _plan(self, rest: str) -> Plan:
        """The Plan of the path after `unsafe/` or the signature: a preset's (presets.py), or
        the path's own, within the allow-lists (allowlists.py)."""
        params = None if self.presets is None else self.presets.expand(rest)
        if params is None:
            plan = parse_path(
                rest, strict=self.settings.STRICT_FILTERS, max_filters=self.settings.MAX_FILTERS
            )
        else:
            plan = build_plan(params, grammar.generate(params), strict=True)
        # An expired URL is refused before anything else is looked at (imagor's expire()).
        expiry.check(plan.output.expires, time.time())
        if self.allowlists is not None:
            self.allowlists.check(plan)
        return plan

    def _verified_rest(self, request: Request) -> str:
        """The path after `unsafe/` or a valid signature: the string the signature covers
        (signed.py)."""
        return signed.verified_rest(request, self.settings)

    def _params(self, request: Request) -> Response:
        """`/params/<unsafe-or-signature>/<path>`: what the path says, as JSON (imagor's
        `/params/`). Checked as the image URL after `/params` would be, and nothing loaded."""
        path = request.path.lstrip("/").removeprefix("params")
        raw = (request.raw_path or "").lstrip("/")
        # The signature may have been checked on the path as sent: keep it when it has the prefix.
        raw_path = raw.removeprefix("params") if raw.startswith("params/") else None
        rest = self._verified_rest(request._replace(path=path, raw_path=raw_path))
        params = None if self.presets is None else self.presets.expand(rest)
        if params is None:
            params = grammar.parse(rest, max_filters=self.settings.MAX_FILTERS)
        return json_response(200, params.as_dict(), {"Cache-Control": "no-cache"})

    def _check_requested_size(self, plan: Plan) -> None:
        limit = self.settings.MAX_OUTPUT_SIDE
        width, height = plan.geometry.requested
        for side in (width, height):
            if isinstance(side, int) and side > limit:
                raise ImageTooLarge(f"{side} pixels is over the limit of {limit} (MAX_OUTPUT_SIDE)")
        if isinstance(width, int) and isinstance(height, int):
            pipeline.check_output_pixels((width, height), self.settings.MAX_OUTPUT_PIXELS)

    def _meta(self, plan: Plan, trace: Trace, callback: str | None = None) -> Response:
        with trace.stage("load"):
            original = self.source.load(plan.image)
        job = pipeline.run_meta(self.job(plan, original, trace=trace))
        trace.describe(job)
        if callback is not None:  # JSONP, as Thumbor answers `?callback=`
            return jsonp.jsonp_response(
                200, callback, meta.describe(job), {"Cache-Control": "no-cache"}
            )
        return json_response(200, meta.describe(job), {"Cache-Control": "no-cache"})

    def result_key(self, plan: Plan, accepted: str, variant: str = "") -> str:
        """Where the result of `plan` for clients of the `accepted` class is stored; `variant`
        names the client-hint classes that changed the plan (hints.py)."""
        path = plan.path if plan.output.expires is None else expiry.without_expire(plan.path)
        text = f"{self._fingerprint}|{accepted}|{path}"
        if variant:
            text += f"|{variant}"
        if isinstance(self.source, Loaders):
            # A chain may serve one key from either of its sources: the key says which.
            text += f"|{self.source.identity(plan.image)}"
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def job(
        self, plan: Plan, original: Original, accepted: str = "", trace: Trace | None = None
    ) -> pipeline.Job:
        return pipeline.Job(
            plan,
            self.settings,
            original.data,
            source=self.source,
            detectors=self.detectors,
            moderator=self.moderator,
            source_modified=original.last_modified,
            limits=self.limits,
            accepted=accepted,
            trace=trace,
        )

    def render(
        self,
        plan: Plan,
        accepted: str,
        original: Original | None = None,
        trace: Trace | None = None,
    ) -> Rendered:
        """The image `plan` asks for, for clients of the `accepted` class, within the budget."""
        trace = Trace() if trace is None else trace
        if original is None:
            with trace.stage("load"):
                original = self.source.load(plan.image)
        job = self.job(plan, original, accepted, trace)
        try:
            pipeline.run(job)
        finally:
            trace.describe(job)  # a refused or failed request is explained too
        fmt, vary = output.choose(job, accepted)
        with trace.stage("encode"):
            body = output.encode(job, fmt)
        trace.encoded(fmt, job.frames[0].size)
        return Rendered(body, codecs.CONTENT_TYPES[fmt], vary, job)

    def _image(self, plan: Plan, request: Request, trace: Trace) -> tuple[Response, str]:
        settings = self.settings
        accepted = codecs.accept_class(
            request.header("accept"), settings.auto_formats, plan.output.format
        )
        shaped = None
        if settings.CLIENT_HINTS:
            shaped = hints.shape(plan, hints.read(request.headers), settings)
            plan = shaped.plan
        key = self.result_key(plan, accepted, shaped.variant if shaped else "")
        with trace.stage("cacheRead"):
            stored, pending = lookup.look_up(self.results, self.source, key, plan.image)
        try:
            if stored is not None:
                with trace.stage("cacheRead"):
                    last_modified = (
                        pending.last_modified()
                        if pending is not None
                        else self.source.last_modified(plan.image)
                    )
                if self._fresh(plan, stored.stored_at, last_modified):
                    response = self._image_response(
                        request, plan, stored.data, stored.content_type, stored.vary_accept,
                        last_modified, source_expires(self.source, plan.image), shaped,
                    )  # fmt: skip
                    return response, "result-cache"
            with trace.stage("load"):
                original = pending.read() if pending is not None else self.source.load(plan.image)
        finally:
            if pending is not None:
                pending.close()
        body, content_type, vary, job = self.render(plan, accepted, original, trace)
        # A result too large to be worth a cache entry is served, not stored: nobody can fill
        # the result store with a few huge URLs.
        if job.cacheable and len(body) <= settings.RESULT_STORAGE_MAX_BYTES:
            with trace.stage("cacheWrite"):
                self.results.put(key, body, content_type, vary)
        response = self._image_response(
            request,
            plan,
            body,
            content_type,
            vary,
            original.last_modified,
            original.expires,
            shaped,
        )
        return response, "processed"

    def _fresh(self, plan: Plan, stored_at: float, last_modified: float | None) -> bool:
        """Whether a result stored at `stored_at` is newer than its original and every image
        its filters draw (a changed watermark changes the result)."""
        if last_modified is not None and stored_at < last_modified:
            return False
        for key in plan_overlay_keys(plan):
            try:
                changed = self.source.last_modified(key)
            except ImageServiceError:
                return False
            if changed is not None and stored_at < changed:
                return False
        return True

    def _image_response(
        self,
        request: Request,
        plan: Plan,
        body: bytes,
        content_type: str,
        vary_accept: bool,
        last_modified: float | None,
        expires: float | None = None,
        shaped: hints.Shaped | None = None,
    ) -> Response:
        max_age = self.settings.MAX_AGE if plan.output.max_age is None else plan.output.max_age
        if expires is not None:  # not cached downstream past its original's expiry
            max_age = min(max_age, max(0, int(expires - time.time())))
        # Never cached past the URL's expiry, whether rendered now or read from the store.
        max_age = expiry.capped_max_age(max_age, plan.output.expires, time.time())
        headers = {
            "Content-Type": content_type,
            "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
        }
        if self.settings.ENABLE_ETAGS:
            headers["ETag"] = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        if last_modified is not None:
            headers["Last-Modified"] = http_date(last_modified)
        if vary_accept:
            headers["Vary"] = "Accept"
        if shaped is not None:
            hints.answer(headers, shaped, body)
        if _not_modified(request, headers.get("ETag"), last_modified):
            return Response(304, headers)
        return Response(200, headers, body)


def _log_access(access: Access) -> None:
    access_log.info(json.dumps(access.as_dict()))


def plan_overlay_keys(plan: Plan) -> tuple[str, ...]:
    return tuple(key for bound in plan.filters for key in bound.overlay_keys())


def _not_modified(request: Request, etag: str | None, last_modified: float | None) -> bool:
    if_none_match = request.header("if-none-match")
    if if_none_match:
        if etag is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.header("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            # email.utils costs ~15 ms to import: only requests that need it pay for it.
            from email.utils import parsedate_to_datetime  # noqa: PLC0415

            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(last_modified) <= since
    return False


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(timestamp: float) -> str:
    """RFC 9110 date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (English names whatever the locale)."""
    t = time.gmtime(timestamp)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
