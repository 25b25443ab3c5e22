"""The Lambda handler against moto in server mode (S3, Secrets Manager) through real HTTP, with S3
faults injected by a proxy: every status the handler can answer."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.images import SAMPLES
from tests.lambda_stack import SETTING_NAMES, Context, Stack, reset_caches, v1_event, v2_event
from thumbor_urls.aws import lambda_handler
from thumbor_urls.config import MAX_LAMBDA_BODY_BYTES, Settings
from thumbor_urls.filters import blur
from thumbor_urls.signing import sign_thumbor_path, sih_signature


def test_unsigned_thumbor_url_from_s3(stack: Stack) -> None:
    answer = stack.get("/unsafe/fit-in/300x300/astronaut.jpg")
    assert answer.status == 200, answer.body[:300]
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert answer.image().size == (300, 300)
    assert "Last-Modified" in answer.headers
    assert answer.log["status"] == 200
    assert answer.log["key"] == "astronaut.jpg"
    assert answer.log["outcome"] == "processed"
    assert answer.log["coldStart"] is True
    assert answer.log["requestId"] == "test-request"
    assert answer.log["event"] == "apigw-v2"
    assert {"ms", "totalMs", "bytes", "path", "method"} <= answer.log.keys()


def test_rest_api_v1_event_and_nested_key(stack: Stack) -> None:
    answer = stack.call(v1_event("/unsafe/100x0/photos/pan.gif"))
    assert answer.status == 200
    image = answer.image()
    assert image.format == "GIF"
    assert image.size[0] == 100
    assert getattr(image, "n_frames", 1) > 1
    assert answer.log["event"] == "apigw-v1"
    assert answer.log["coldStart"] is True


def test_head_has_no_body_but_the_length(stack: Stack) -> None:
    get = stack.get("/unsafe/200x0/astronaut.jpg")
    head = stack.get("/unsafe/200x0/astronaut.jpg", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(get.body))
    assert head.headers["ETag"] == get.headers["ETag"]


def test_results_are_cached_in_the_result_bucket(stack: Stack) -> None:
    first = stack.get("/unsafe/120x80/astronaut.jpg")
    assert first.log["outcome"] == "processed"
    keys = stack.result_keys()
    assert len(keys) == 1
    assert keys[0].startswith("results/")
    second = stack.get("/unsafe/120x80/astronaut.jpg")
    assert second.status == 200
    assert second.log["outcome"] == "result-cache"
    assert second.log["coldStart"] is False
    assert second.body == first.body
    # A new original invalidates the stored result (S3 times are to the second).
    time.sleep(1.1)
    stack.put(stack.source, "astronaut.jpg", (SAMPLES / "dandelions.jpg").read_bytes())
    third = stack.get("/unsafe/120x80/astronaut.jpg")
    assert third.log["outcome"] == "processed"


def test_result_store_failures_never_fail_the_request(stack: Stack) -> None:
    stack.aws.proxy.inject(f"/{stack.results}/", status=500, code="InternalError")
    answer = stack.get("/unsafe/90x60/astronaut.jpg")
    assert answer.status == 200
    assert answer.image().size == (90, 60)


def test_allow_list_picks_buckets_with_the_s3_segment(stack: Stack) -> None:
    answer = stack.get(f"/unsafe/50x50/s3:{stack.other}/elsewhere.jpg")
    assert answer.status == 200
    assert answer.image().size == (50, 50)
    refused = stack.get("/unsafe/50x50/s3:someone-elses-bucket/elsewhere.jpg")
    assert refused.status == 403
    assert refused.json()["code"] == "BucketNotAllowed"
    # The default (first) bucket does not have it:
    assert stack.get("/unsafe/50x50/elsewhere.jpg").status == 404


def test_missing_key_is_404(stack: Stack) -> None:
    answer = stack.get("/unsafe/300x200/no/such/image.jpg")
    assert answer.status == 404
    assert answer.json()["code"] == "NoSuchKey"
    assert answer.headers["Cache-Control"] == "public, max-age=60"
    assert answer.log["outcome"] == "NoSuchKey"


def test_originals_over_max_source_bytes_are_refused_from_their_length(stack: Stack) -> None:
    size = len((SAMPLES / "astronaut.jpg").read_bytes())
    stack.configure(MAX_SOURCE_BYTES=str(size - 1))
    answer = stack.get("/unsafe/100x100/astronaut.jpg")
    assert answer.status == 413
    assert answer.json()["code"] == "ImageTooLarge"
    assert f"{size:,} bytes" in answer.json()["message"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    stack.configure(MAX_SOURCE_BYTES=str(size))
    assert stack.get("/unsafe/100x100/astronaut.jpg").status == 200


@pytest.mark.parametrize(
    ("status", "code", "expected", "retry_after"),
    [
        (403, "AccessDenied", 403, False),
        (503, "SlowDown", 503, True),
        (500, "InternalError", 503, True),
        (400, "InvalidRequest", 502, False),
    ],
)
def test_s3_errors_map_to_clear_statuses(
    stack: Stack, status: int, code: str, expected: int, retry_after: bool
) -> None:
    fault = stack.aws.proxy.inject(f"/{stack.source}/astronaut.jpg", status=status, code=code)
    answer = stack.get("/unsafe/100x100/astronaut.jpg")
    assert fault.hits >= 1
    assert answer.status == expected, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    assert ("Retry-After" in answer.headers) is retry_after
    if expected >= 500:
        assert answer.headers["Cache-Control"] == "no-store"


def test_s3_timeout_is_504_with_retry_after(stack: Stack) -> None:
    stack.configure(S3_TIMEOUT_SECONDS="0.3")
    stack.aws.proxy.inject(f"/{stack.source}/astronaut.jpg", delay=1.0)
    answer = stack.get("/unsafe/100x100/astronaut.jpg")
    assert answer.status == 504
    assert answer.json()["code"] == "SourceTimeout"
    assert answer.headers["Retry-After"] == "1"


def _request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "thumbor-urls-request"]


def test_deadline_answers_503_before_api_gateway_gives_up(stack: Stack) -> None:
    stack.configure(REQUEST_DEADLINE_SECONDS="0.5")
    stack.aws.proxy.inject(f"/{stack.source}/astronaut.jpg", delay=0.8)
    answer = stack.get("/unsafe/100x100/astronaut.jpg")
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "1"
    assert "longer than 0.5 s" in answer.json()["message"]
    assert answer.log["outcome"] == "deadline"
    # The slow S3 read ends at 0.8 s, past the deadline; the work stops at its next check and is
    # waited for (up to a second past the deadline), so that nothing of it runs on into the
    # next invocation.
    assert answer.log["totalMs"] < 0.5e3 + lambda_handler.STOP_GRACE_SECONDS * 1e3 + 400
    assert _request_threads() == []


def test_work_past_its_deadline_stops_and_gives_its_memory_back(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blur, "has_opencv", lambda: False)  # as in the Lambda zip
    noise = Image.effect_noise((1400, 1000), 100).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=1)
    stack.put(stack.source, "noise.png", buffer.getvalue(), "image/png")
    path = "/unsafe/filters:blur(150):format(jpeg)/noise.png"  # seconds of CPU, 200 MB
    stack.configure(REQUEST_DEADLINE_SECONDS="0.4")
    stack.get("/unsafe/10x10/astronaut.jpg")  # the container warm, its imports done
    resident = []
    for _ in range(3):
        started = time.perf_counter()
        answer = stack.get(path)
        assert answer.status == 503, answer.body
        assert answer.log["outcome"] == "deadline"
        assert time.perf_counter() - started < 0.4 + lambda_handler.STOP_GRACE_SECONDS
        assert _request_threads() == []  # the work has stopped, not just been left behind
        resident.append(_resident_mib())
    # Each invocation's strip of int32 sums (about 200 MB) is freed for the next: nothing piles up.
    assert resident[-1] - resident[0] < 64, resident


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_deadline_follows_the_remaining_lambda_time(stack: Stack) -> None:
    stack.aws.proxy.inject(f"/{stack.source}/astronaut.jpg", delay=1.5)
    answer = stack.call(v2_event("/unsafe/100x100/astronaut.jpg"), Context(remaining_ms=1600))
    assert answer.status == 503
    assert answer.log["outcome"] == "deadline"


def test_oversize_result_is_stored_and_redirected_to_its_cdn_path(stack: Stack) -> None:
    stack.configure(MAX_RESPONSE_BYTES="5000", MAX_AGE="3600")
    answer = stack.get("/unsafe/400x400/astronaut.jpg")
    assert answer.status == 302
    assert answer.body == b""
    # Cached like the image: the redirect always leads to the same bytes.
    assert answer.headers["Cache-Control"] == "public, max-age=3600"
    location = answer.headers["Location"]
    assert re.fullmatch(r"/oversize/[0-9a-f]{40}", location), location
    assert answer.log["oversize"] > 5000
    # CloudFront serves the path from the result bucket, with the stored type and caching.
    stored = stack.aws.client("s3").get_object(Bucket=stack.results, Key=location[1:])
    assert stored["ContentType"] == "image/jpeg"
    assert stored["CacheControl"] == "public, max-age=3600"
    assert Image.open(io.BytesIO(stored["Body"].read())).size == (400, 400)
    # HEAD answers as GET does (the same redirect), without rendering into a second object.
    head = stack.get("/unsafe/400x400/astronaut.jpg", method="HEAD")
    assert (head.status, head.headers["Location"], head.body) == (302, location, b"")
    assert head.log["method"] == "HEAD"
    assert sorted(k for k in stack.result_keys() if k.startswith("oversize/")) == [location[1:]]


def test_max_response_bytes_must_fit_lambdas_response_in_base64() -> None:
    with pytest.raises(ValueError, match="MAX_RESPONSE_BYTES"):
        Settings.from_env({"MAX_RESPONSE_BYTES": str(6 * 1024 * 1024)})
    limit = Settings.from_env({"MAX_RESPONSE_BYTES": str(MAX_LAMBDA_BODY_BYTES)})
    # The largest body allowed, in base64, with headers as large as 16 KiB, fits in 6 MiB.
    body = base64.b64encode(bytes(limit.MAX_RESPONSE_BYTES))
    assert len(body) + 16 * 1024 <= 6 * 1024 * 1024


def test_signed_urls_with_the_key_from_secrets_manager(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret("s3cr3t-from-secrets-manager")
    signed = sign_thumbor_path("s3cr3t-from-secrets-manager", "200x100/astronaut.jpg")
    answer = stack.get(signed)
    assert answer.status == 200, answer.body
    assert answer.image().size == (200, 100)
    wrong = sign_thumbor_path("another-key", "200x100/astronaut.jpg")
    assert stack.get(wrong).json()["code"] == "SignatureDoesNotMatch"
    unsafe = stack.get("/unsafe/200x100/astronaut.jpg")
    assert unsafe.status == 403
    assert unsafe.json()["code"] == "UnsafeUrlNotAllowed"
    # The secret is read once per container.
    calls = [p for m, p in stack.aws.proxy.seen if m == "POST" and p == "/"]
    stack.get(signed)
    assert [p for m, p in stack.aws.proxy.seen if m == "POST" and p == "/"] == calls


def test_signing_on_turns_unsafe_urls_off_unless_asked_for_both(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret("k")
    stack.monkeypatch.delenv("ALLOW_UNSAFE_URL")
    stack.configure()
    assert stack.get("/unsafe/20x20/astronaut.jpg").json()["code"] == "UnsafeUrlNotAllowed"
    stack.configure(ALLOW_UNSAFE_URL="Yes")
    assert stack.get("/unsafe/20x20/astronaut.jpg").status == 200
    assert stack.get(sign_thumbor_path("k", "20x20/astronaut.jpg")).status == 200


def test_sih_signature_query_parameter(stack: Stack, signing_secret: Callable[..., str]) -> None:
    signing_secret("secret", field="signingKey")
    path = "/fit-in/80x80/astronaut.jpg"
    answer = stack.get(path, query=f"signature={sih_signature('secret', path)}")
    assert answer.status == 200, answer.body
    assert answer.image().size == (80, 80)
    bad = stack.get(path, query="signature=" + "0" * 64)
    assert bad.status == 403
    assert bad.json()["code"] == "SignatureDoesNotMatch"


def test_sih_signature_vector() -> None:
    path = (
        "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5Iiwi"
        "ZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0="
    )
    expected = "4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3"
    assert sih_signature("secret", path) == expected


def test_only_requests_with_the_origin_secret_are_served(stack: Stack) -> None:
    stack.aws.client("secretsmanager").create_secret(Name="origin-1", SecretString="from-cf")
    stack.configure(
        ORIGIN_SECRET="origin-1",
        ENABLE_DEFAULT_FALLBACK_IMAGE="Yes",
        DEFAULT_FALLBACK_IMAGE_BUCKET=stack.other,
        DEFAULT_FALLBACK_IMAGE_KEY="elsewhere.jpg",
    )
    through_cdn = stack.get("/unsafe/50x50/astronaut.jpg", x_origin_verify="from-cf")
    assert through_cdn.status == 200
    for headers in ({}, {"x_origin_verify": "guess"}, {"x_origin_verify": "from-cf "}):
        for path in ("/unsafe/50x50/astronaut.jpg", "/healthcheck"):
            direct = stack.get(path, **headers)
            assert direct.status == 403, (path, headers)
            # A JSON error, not the fallback image, and nothing a cache would keep.
            assert direct.json()["code"] == "OriginNotAllowed"
            assert direct.headers["Cache-Control"] == "public, max-age=0"
            assert direct.log["outcome"] == "OriginNotAllowed"
    assert stack.get("/healthcheck", x_origin_verify="from-cf").status == 200


def test_unreadable_origin_secret_is_503(stack: Stack) -> None:
    stack.configure(ORIGIN_SECRET="no-such-secret")
    answer = stack.get("/healthcheck", x_origin_verify="anything")
    assert answer.status == 503
    assert "origin secret" in answer.json()["message"]


def test_log_line_explains_where_the_time_went(stack: Stack) -> None:
    path = "/unsafe/fit-in/120x90/filters:grayscale():quality(70)/astronaut.jpg"
    log = stack.get(path).log
    width, height = Image.open(SAMPLES / "astronaut.jpg").size
    size = (SAMPLES / "astronaut.jpg").stat().st_size
    assert log["source"] == {
        "bytes": size, "format": "JPEG", "width": width, "height": height, "frames": 1
    }  # fmt: skip
    assert log["operations"] == ["resize 90x90", "grayscale"]
    assert log["output"] == {"format": "jpeg", "width": 90, "height": 90}
    stages = log["stagesMs"]
    assert {"cacheRead", "load", "decode", "process", "encode", "cacheWrite"} == stages.keys()
    assert all(ms >= 0 for ms in stages.values())
    assert sum(stages.values()) <= log["totalMs"]
    cached = stack.get(path).log
    assert cached["outcome"] == "result-cache"
    assert cached["stagesMs"].keys() == {"cacheRead"}


def test_unreadable_secret_is_503_and_not_cached(stack: Stack) -> None:
    stack.configure(
        ENABLE_SIGNATURE="Yes", SECRETS_MANAGER="not-created-yet", ALLOW_UNSAFE_URL="No"
    )
    answer = stack.get("/unsafe/100x100/astronaut.jpg")
    assert answer.status == 503
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Retry-After"] == "1"
    assert "Secrets Manager" in answer.json()["message"]
    stack.aws.client("secretsmanager").create_secret(Name="not-created-yet", SecretString="k")
    signed = sign_thumbor_path("k", "100x100/astronaut.jpg")
    assert stack.get(signed).status == 200
    stack.aws.client("secretsmanager").delete_secret(
        SecretId="not-created-yet", ForceDeleteWithoutRecovery=True
    )


def test_fallback_image_keeps_the_error_status(stack: Stack) -> None:
    fallback = (SAMPLES / "pan.gif").read_bytes()
    stack.put(stack.other, "fallback/default.gif", fallback, "image/gif")
    stack.configure(
        ENABLE_DEFAULT_FALLBACK_IMAGE="Yes",
        DEFAULT_FALLBACK_IMAGE_BUCKET=stack.other,
        DEFAULT_FALLBACK_IMAGE_KEY="fallback/default.gif",
    )
    answer = stack.get("/unsafe/100x100/not-there.jpg")
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "image/gif"
    assert answer.headers["X-Error-Code"] == "NoSuchKey"
    assert answer.body == fallback
    assert answer.log["fallback"] is True
    assert stack.get("/unsafe/100x100/astronaut.jpg").status == 200
    assert stack.get("/healthcheck").body == b"WORKING"


def test_missing_fallback_image_still_answers_the_error(stack: Stack) -> None:
    stack.configure(
        ENABLE_DEFAULT_FALLBACK_IMAGE="Yes",
        DEFAULT_FALLBACK_IMAGE_BUCKET=stack.other,
        DEFAULT_FALLBACK_IMAGE_KEY="nothing-here.png",
    )
    answer = stack.get("/unsafe/100x100/not-there.jpg")
    assert answer.status == 404
    assert answer.json()["code"] == "NoSuchKey"
    assert answer.log["fallbackError"] == "NoSuchKey"


def test_cors_headers(stack: Stack) -> None:
    stack.configure(CORS_ENABLED="Yes", CORS_ORIGIN="https://example.com")
    answer = stack.get("/unsafe/60x60/astronaut.jpg")
    assert answer.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert "Origin" in answer.headers["Vary"]


def test_other_statuses_through_the_handler(stack: Stack) -> None:
    assert stack.get("/healthcheck").status == 200
    assert stack.get("/unsafe/60x60/astronaut.jpg", method="POST").status == 405
    assert stack.get("/unsafe/99999x10/astronaut.jpg").status == 413
    stack.put(stack.source, "notes.txt", b"not an image", "text/plain")
    assert stack.get("/unsafe/60x60/notes.txt").status == 415
    assert stack.get("/").status == 404  # nothing was signed: not a 403
    etag = stack.get("/unsafe/60x60/astronaut.jpg").headers["ETag"]
    assert stack.get("/unsafe/60x60/astronaut.jpg", if_none_match=etag).status == 304


def test_auto_webp_from_accept(stack: Stack) -> None:
    stack.configure(AUTO_WEBP="Yes")
    answer = stack.get("/unsafe/60x60/astronaut.jpg", accept="image/webp,*/*")
    assert answer.headers["Content-Type"] == "image/webp"
    assert answer.headers["Vary"] == "Accept"
    plain = stack.get("/unsafe/60x60/astronaut.jpg", accept="*/*")
    assert plain.headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        ({"feature": "smartCropping", "width": 60, "height": 30}, 200, None),
        ({"feature": "smartCropping"}, 400, "InvalidInvocation"),
        ({"feature": "contentModeration"}, 503, "ModerationUnavailable"),  # fails closed
        ({"feature": "colorize"}, 400, "UnknownFeature"),
        ({"feature": None}, 400, "UnknownFeature"),
    ],
)
def test_direct_invocation(
    stack: Stack, event: dict[str, Any], status: int, code: str | None
) -> None:
    stack.configure(MODERATION_BACKEND="none")
    stack.capsys.readouterr()
    answer = lambda_handler.handler({"imageKey": "astronaut.jpg", **event}, Context())
    assert answer["status"] == status
    assert answer.get("code") == code
    line = json.loads(stack.capsys.readouterr().err)
    assert line["event"] == "direct"
    assert line["status"] == status


def test_smart_cropping_invocation_stores_the_image_in_the_result_bucket(stack: Stack) -> None:
    event = {"imageKey": "astronaut.jpg", "feature": "smartCropping", "width": 80, "height": 40}
    answer = lambda_handler.handler(event, Context())
    assert answer["cropBox"] == {"left": 0, "top": 128, "right": 512, "bottom": 384}
    prefix = f"s3://{stack.results}/"
    assert answer["resultKey"].startswith(prefix)
    assert answer["resultKey"].removeprefix(prefix) in stack.result_keys()
    served = stack.get(answer["url"])  # the same URL, now from the result bucket
    assert served.status == 200 and served.log["outcome"] == "result-cache"


def test_no_bucket_means_the_local_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FILE_LOADER_ROOT_PATH", str(SAMPLES))
    monkeypatch.setenv("RESULT_STORAGE_FILE_STORAGE_ROOT_PATH", str(tmp_path))
    reset_caches()
    try:
        proxy = lambda_handler.handler(v2_event("/unsafe/30x30/astronaut.jpg"), Context())
    finally:
        reset_caches()
    assert proxy["statusCode"] == 200
    assert Image.open(io.BytesIO(base64.b64decode(proxy["body"]))).size == (30, 30)


def test_boto3_stays_out_of_the_core_import_path() -> None:
    import subprocess
    import sys

    code = (
        "import sys, thumbor_urls.app, thumbor_urls.server, thumbor_urls.cli;"
        "print(any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
