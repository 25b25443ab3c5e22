"""The requests of the SIH differential suite: what record.py sends to AWS's image handler and
test_sih_peer.py sends to us. Each names the deployment it runs against (`config`), how it is
signed, and which of the recorded versions it is compared with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, NamedTuple
from urllib.parse import quote

SECRET = "SIH_SECRET"
BUCKET = "images"
OTHER_BUCKET = "other-bucket"  # exists in neither SOURCE_BUCKETS nor the store
PAST = "20200102T030405Z"
FUTURE = "20991231T235959Z"
# The originals uploaded with metadata (S3's Cache-Control and Expires), by key.
METADATA = {"cached.jpg": {"CacheControl": "max-age=123,public", "Expires": "2099-01-01T00:00:00Z"}}
# Rekognition's answers, whatever the image (moto has neither call): the recorder's fake
# Rekognition gives them to SIH, the test gives them to us.
FACES = [
    {"BoundingBox": {"Width": 0.4, "Height": 0.5, "Left": 0.3, "Top": 0.2}, "Confidence": 99.9}
]
MODERATION_LABELS = [{"Name": "Suggestive", "ParentName": "", "Confidence": 80.0}]
# REWRITE_MATCH_PATTERN / REWRITE_SUBSTITUTION of the `rewrite` deployment.
REWRITE = (r"/^\/thumbs\/(\d+)x(\d+)\/(.*)$/", "/fit-in/$1x$2/$3")

# The deployments: their environment besides SOURCE_BUCKETS and the AWS endpoint.
CONFIGS: dict[str, dict[str, str]] = {
    "open": {"ENABLE_SIGNATURE": "No"},
    "signed": {
        "ENABLE_SIGNATURE": "Yes",
        "SECRETS_MANAGER": "sih-secret",
        "SECRET_KEY": "signing-key",
    },
    "rewrite": {
        "ENABLE_SIGNATURE": "No",
        "REWRITE_MATCH_PATTERN": REWRITE[0],
        "REWRITE_SUBSTITUTION": REWRITE[1],
    },
}


class Case(NamedTuple):
    name: str
    path: str  # as sent, before percent-encoding
    query: tuple[tuple[str, str], ...] = ()
    config: str = "open"
    sign: str | None = None  # "v6" (the path), "v7" (path and query), "bad"
    versions: tuple[str, ...] = ("v6", "v7")
    headers: tuple[tuple[str, str], ...] = ()

    def url(self) -> str:
        """Path and query as sent on the wire."""
        query = list(self.query)
        signature = self.signature()
        if signature is not None:
            query.append(("signature", signature))
        path = quote(self.path, safe="/:,()=+@!$&'*;~")
        if not query:
            return path
        return path + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)

    def signature(self) -> str | None:
        if self.sign is None:
            return None
        if self.sign == "bad":
            return "0" * 64
        text = self.path
        if self.sign == "v7" and self.query:
            # v7: every parameter but `signature`, decoded, as `k=v` sorted and joined by `&`.
            text += "?" + "&".join(f"{k}={v}" for k, v in sorted(self.query))
        return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


def default(document: dict[str, Any]) -> str:
    return "/" + base64.b64encode(json.dumps(document).encode()).decode()


def edits(key: str = "photo.jpg", **changes: Any) -> str:
    return default({"bucket": BUCKET, "key": key, "edits": changes})


def _cases() -> list[Case]:
    both: list[Case] = []
    add = both.append

    def e(
        name: str, key: str = "photo.jpg", *, versions: tuple[str, ...] = ("v6", "v7"), **kw: Any
    ) -> None:
        add(Case(name, edits(key, **kw), versions=versions))

    # --- default requests: resize ---------------------------------------------------------------
    add(Case("no-edits", default({"bucket": BUCKET, "key": "photo.jpg"})))
    add(Case("no-bucket", default({"key": "photo.jpg", "edits": {"resize": {"width": 50}}})))
    add(
        Case(
            "empty-edits-outputFormat-png",
            default({"bucket": BUCKET, "key": "photo.jpg", "outputFormat": "png"}),
        )
    )
    e("resize-width", resize={"width": 100})
    e("resize-height", resize={"height": 50})
    e("resize-string-width", resize={"width": "90"})
    e("resize-cover", resize={"width": 100, "height": 100})
    e("resize-cover-top", resize={"width": 100, "height": 100, "position": "top"})
    e("resize-cover-left", resize={"width": 60, "height": 100, "position": "left"})
    e("resize-cover-right-bottom", resize={"width": 100, "height": 40, "position": "right bottom"})
    e("resize-cover-gravity-southeast", resize={"width": 100, "height": 40, "gravity": "southeast"})
    e("resize-contain", resize={"width": 100, "height": 100, "fit": "contain"})
    e(
        "resize-contain-background",
        resize={
            "width": 100,
            "height": 100,
            "fit": "contain",
            "background": {"r": 255, "g": 0, "b": 0, "alpha": 1},
        },
    )
    e(
        "resize-contain-background-hex",
        resize={"width": 120, "height": 60, "fit": "contain", "background": "#00ff00"},
    )
    e(
        "resize-contain-png-transparent",
        "alpha.png",
        resize={
            "width": 100,
            "height": 100,
            "fit": "contain",
            "background": {"r": 0, "g": 0, "b": 0, "alpha": 0},
        },
    )
    e("resize-fill", resize={"width": 100, "height": 100, "fit": "fill"})
    e("resize-inside", resize={"width": 100, "height": 100, "fit": "inside"})
    e("resize-outside", resize={"width": 100, "height": 100, "fit": "outside"})
    e("resize-without-enlargement", resize={"width": 400, "withoutEnlargement": True})
    e("resize-enlarge", resize={"width": 300})
    e("resize-without-reduction", resize={"width": 50, "withoutReduction": True})
    e("resize-zero-width", resize={"width": 0})
    e("resize-negative", resize={"width": -10})
    e("resize-fraction", resize={"width": 99.6})
    e("resize-huge", resize={"width": 40000, "height": 40000})
    e("resize-bad-fit", resize={"width": 50, "fit": "squash"})
    # --- geometry -------------------------------------------------------------------------------
    e("extract", extract={"left": 10, "top": 20, "width": 80, "height": 60})
    e("crop", crop={"left": 30, "top": 10, "width": 100, "height": 100})
    e("crop-out-of-bounds", crop={"left": 150, "top": 10, "width": 100, "height": 100})
    e(
        "resize-then-extract",
        resize={"width": 100},
        extract={"left": 5, "top": 5, "width": 50, "height": 40},
    )
    e(
        "extract-then-resize",
        extract={"left": 5, "top": 5, "width": 100, "height": 80},
        resize={"width": 50},
    )
    e("rotate-90", rotate=90)
    e("rotate-180", rotate=180)
    e("rotate-270-resize", rotate=270, resize={"width": 60})
    e("rotate-45", rotate=45)
    e("rotate-30-png", "alpha.png", rotate=30)
    e("rotate-null-exif", "exif6.jpg", rotate=None)
    e("exif-kept", "exif6.jpg", resize={"width": 60})
    e("flip", flip=True)
    e("flop", flop=True)
    e("flip-flop-resize", flip=True, flop=True, resize={"width": 80})
    # --- colour and filters ---------------------------------------------------------------------
    e("grayscale", grayscale=True)
    e("greyscale", greyscale=True)
    e("negate", negate=True)
    e("negate-alpha-false", "alpha.png", negate={"alpha": False})
    e("negate-png", "alpha.png", negate=True)
    e("normalise", normalise=True)
    e("normalize", normalize=True)
    e("flatten", "alpha.png", flatten={"background": {"r": 0, "g": 0, "b": 255}})
    e("flatten-hex", "alpha.png", flatten={"background": "#ffcc00"})
    e("flatten-default", "alpha.png", flatten=True)
    e("tint", tint={"r": 255, "g": 128, "b": 0})
    e("tint-hex", tint="#3050a0")
    e("blur-true", blur=True)
    e("blur-3", blur=3)
    e("blur-too-small", blur=0.1)
    e("sharpen-true", sharpen=True)
    e("sharpen-2", sharpen=2)
    e("median-3", median=3)
    e("median-true", median=True)
    e("threshold-128", threshold=128)
    e("threshold-true", threshold=True)
    e("gamma-2", gamma=2)
    e("gamma-bad", gamma=4)
    e("modulate", modulate={"brightness": 1.2, "saturation": 0.5})
    e("modulate-hue", modulate={"hue": 90})
    e("unknown-edit", resize={"width": 80}, sparkle=True)
    e("edit-order-blur-then-resize", blur=2, resize={"width": 80})
    e("edit-order-resize-then-blur", resize={"width": 80}, blur=2)
    e(
        "many-edits",
        resize={"width": 120, "height": 90, "fit": "cover"},
        grayscale=True,
        sharpen=True,
        flop=True,
        gamma=2.2,
    )
    # --- formats --------------------------------------------------------------------------------
    e("toFormat-png", toFormat="png")
    e("toFormat-webp", toFormat="webp")
    e("toFormat-avif", toFormat="avif", resize={"width": 64})
    e("toFormat-tiff", toFormat="tiff", resize={"width": 64})
    e("toFormat-gif", toFormat="gif", resize={"width": 64})
    e("toFormat-jpeg-from-png", "alpha.png", toFormat="jpeg")
    e("toFormat-bad", toFormat="bmp")
    e("jpeg-quality", jpeg={"quality": 30})
    e("jpeg-progressive", jpeg={"quality": 80, "progressive": True})
    e("png-options", "alpha.png", png={"compressionLevel": 9})
    e("webp-quality", toFormat="webp", webp={"quality": 40})
    e("webp-lossless", toFormat="webp", webp={"lossless": True}, resize={"width": 50})
    e("avif-quality", toFormat="avif", avif={"quality": 30}, resize={"width": 64})
    add(
        Case(
            "outputFormat-webp",
            default(
                {
                    "bucket": BUCKET,
                    "key": "photo.jpg",
                    "edits": {"resize": {"width": 80}},
                    "outputFormat": "webp",
                }
            ),
        )
    )
    add(
        Case(
            "toFormat-wins-over-outputFormat",
            default(
                {
                    "bucket": BUCKET,
                    "key": "photo.jpg",
                    "edits": {"toFormat": "png"},
                    "outputFormat": "webp",
                }
            ),
        )
    )
    add(
        Case(
            "webp-effort",
            default(
                {
                    "bucket": BUCKET,
                    "key": "photo.jpg",
                    "edits": {"resize": {"width": 80}},
                    "outputFormat": "webp",
                    "effort": 6,
                }
            ),
        )
    )
    e("webp-source", "photo.webp", resize={"width": 60})
    # --- SIH's own edits ------------------------------------------------------------------------
    e("roundCrop-true", roundCrop=True)
    e("roundCrop-options", roundCrop={"rx": 40, "ry": 30, "top": 50, "left": 70})
    e("roundCrop-resize", resize={"width": 100, "height": 100}, roundCrop=True)
    e("smartCrop-true", "face.jpg", smartCrop=True)
    e("smartCrop-padding", "face.jpg", smartCrop={"faceIndex": 0, "padding": 10})
    e("smartCrop-resize", "face.jpg", smartCrop=True, resize={"width": 40})
    e("smartCrop-face-out-of-range", "face.jpg", smartCrop={"faceIndex": 3})
    e("contentModeration-true", "face.jpg", contentModeration=True)
    e(
        "contentModeration-labels-miss",
        "face.jpg",
        contentModeration={"moderationLabels": ["Violence"]},
    )
    e(
        "contentModeration-blur",
        "face.jpg",
        contentModeration={"minConfidence": 50, "blur": 5, "moderationLabels": ["Suggestive"]},
    )
    e("overlay", overlayWith={"bucket": BUCKET, "key": "logo.png"})
    e(
        "overlay-position",
        overlayWith={"bucket": BUCKET, "key": "logo.png", "options": {"left": 10, "top": 20}},
    )
    e(
        "overlay-negative",
        overlayWith={"bucket": BUCKET, "key": "logo.png", "options": {"left": -10, "top": -5}},
    )
    e(
        "overlay-percent",
        overlayWith={
            "bucket": BUCKET,
            "key": "logo.png",
            "options": {"left": "50p", "top": "-20p"},
        },
    )
    e(
        "overlay-alpha-ratio",
        overlayWith={
            "bucket": BUCKET,
            "key": "logo.png",
            "alpha": "50",
            "wRatio": "40",
            "hRatio": "40",
            "options": {"left": 5, "top": 5},
        },
    )
    e(
        "overlay-resized",
        resize={"width": 100},
        overlayWith={"bucket": BUCKET, "key": "logo.png", "options": {"left": 0, "top": 0}},
    )
    e("overlay-bucket-not-allowed", overlayWith={"bucket": OTHER_BUCKET, "key": "logo.png"})
    e("overlay-missing", overlayWith={"bucket": BUCKET, "key": "nothing.png"})
    e("gif-animated-resize", "anim.gif", resize={"width": 48})
    e("gif-animated-false", "anim.gif", animated=False, resize={"width": 48})
    e("gif-rotate-skipped", "anim.gif", rotate=90)
    e("gif-to-webp", "anim.gif", toFormat="webp")
    # --- headers, errors ------------------------------------------------------------------------
    add(
        Case(
            "headers",
            default(
                {
                    "bucket": BUCKET,
                    "key": "photo.jpg",
                    "edits": {"resize": {"width": 40}},
                    "headers": {
                        "Cache-Control": "max-age=60",
                        "X-Custom": "yes",
                        "Content-Type": "text/html",
                        "x-amz-meta-x": "no",
                        "Access-Control-Allow-Origin": "*",
                        "Set-Cookie": "a=b",
                    },
                }
            ),
        )
    )
    add(Case("metadata-cache-control", edits("cached.jpg", resize={"width": 40})))
    add(
        Case(
            "bucket-not-allowed", default({"bucket": OTHER_BUCKET, "key": "photo.jpg", "edits": {}})
        )
    )
    add(Case("missing-key", edits("nothing.jpg", resize={"width": 40})))
    add(Case("bad-json", "/" + base64.b64encode(b'{"key": "photo.jpg",').decode()))
    add(Case("not-an-object", "/" + base64.b64encode(b'["photo.jpg"]').decode()))
    add(Case("bad-base64-png-name", "/eyJrZXkiOiJwaG90by5qcGcifQ==.png"))
    add(Case("not-an-image-request", "/photo.bmp"))
    add(Case("non-image-key", edits("notes.txt", resize={"width": 10})))
    # --- Thumbor paths (served with Thumbor's semantics here) --------------------------------
    add(Case("thumbor-plain-key", "/photo.jpg"))
    add(Case("thumbor-resize", "/100x100/photo.jpg"))
    add(Case("thumbor-fit-in", "/fit-in/100x100/photo.jpg"))
    add(Case("thumbor-width-only", "/100x0/photo.jpg"))
    add(Case("thumbor-grayscale", "/filters:grayscale()/photo.jpg"))
    add(Case("thumbor-format-webp", "/fit-in/80x80/filters:format(webp)/photo.jpg"))
    add(Case("thumbor-quality", "/80x0/filters:quality(30)/photo.jpg"))
    add(Case("thumbor-fill", "/fit-in/100x100/filters:fill(ff0000)/photo.jpg"))
    add(Case("thumbor-crop", "/10x10:110x90/photo.jpg"))
    add(Case("thumbor-bucket", "/s3:images/fit-in/60x60/photo.jpg"))
    add(Case("thumbor-missing", "/fit-in/60x60/nothing.jpg"))
    # --- query parameters (v7) ------------------------------------------------------------------
    v7 = ("v7",)
    add(Case("query-width", "/photo.jpg", (("width", "80"),), versions=v7))
    add(
        Case(
            "query-width-height-fit",
            "/photo.jpg",
            (("width", "80"), ("height", "80"), ("fit", "contain")),
            versions=v7,
        )
    )
    add(Case("query-format", "/photo.jpg", (("format", "webp"),), versions=v7))
    add(Case("query-rotate", "/photo.jpg", (("rotate", "90"), ("width", "50")), versions=v7))
    add(
        Case(
            "query-flip-flop",
            "/photo.jpg",
            (("flip", "true"), ("flop", "1"), ("width", "60")),
            versions=v7,
        )
    )
    add(
        Case("query-grayscale", "/photo.jpg", (("grayscale", "true"), ("width", "60")), versions=v7)
    )
    add(
        Case(
            "query-grayscale-false",
            "/photo.jpg",
            (("grayscale", "false"), ("width", "60")),
            versions=v7,
        )
    )
    add(Case("query-width-zero", "/photo.jpg", (("width", "0"), ("height", "40")), versions=v7))
    add(Case("query-unknown-only", "/photo.jpg", (("utm", "x"),), versions=v7))
    add(Case("query-on-thumbor", "/fit-in/100x100/photo.jpg", (("format", "png"),), versions=v7))
    add(
        Case("query-on-thumbor-width", "/fit-in/100x100/photo.jpg", (("width", "50"),), versions=v7)
    )
    add(
        Case(
            "query-on-default-resize",
            edits(resize={"width": 100, "height": 100, "fit": "fill"}, grayscale=True),
            (("width", "40"),),
            versions=v7,
        )
    )
    add(
        Case(
            "query-format-over-outputFormat",
            default(
                {
                    "bucket": BUCKET,
                    "key": "photo.jpg",
                    "edits": {"resize": {"width": 60}},
                    "outputFormat": "png",
                }
            ),
            (("format", "webp"),),
            versions=v7,
        )
    )
    add(
        Case(
            "query-format-over-thumbor-format",
            "/filters:format(png)/photo.jpg",
            (("format", "webp"),),
            versions=v7,
        )
    )
    add(Case("expires-past", "/photo.jpg", (("expires", PAST),), versions=v7))
    add(Case("expires-future", edits(resize={"width": 40}), (("expires", FUTURE),), versions=v7))
    add(Case("expires-bad", "/photo.jpg", (("expires", "tomorrow"),), versions=v7))
    # --- signatures -----------------------------------------------------------------------------
    s = "signed"
    add(Case("signed-default-v6", edits(resize={"width": 50}), config=s, sign="v6"))
    add(Case("signed-thumbor-v6", "/fit-in/50x50/photo.jpg", config=s, sign="v6"))
    add(Case("signed-missing", edits(resize={"width": 50}), config=s))
    add(Case("signed-wrong", edits(resize={"width": 50}), config=s, sign="bad"))
    add(
        Case(
            "signed-v7-query",
            "/photo.jpg",
            (("width", "60"), ("format", "png")),
            config=s,
            sign="v7",
            versions=v7,
        )
    )
    add(
        Case(
            "signed-v7-unknown-param",
            edits(resize={"width": 50}),
            (("v", "2"), ("a", "x y")),
            config=s,
            sign="v7",
            versions=v7,
        )
    )
    add(
        Case(
            "signed-v7-expires",
            edits(resize={"width": 50}),
            (("expires", FUTURE),),
            config=s,
            sign="v7",
            versions=v7,
        )
    )
    add(
        Case(
            "signed-v6-with-query",
            "/photo.jpg",
            (("width", "60"),),
            config=s,
            sign="v6",
            versions=v7,
        )
    )
    add(
        Case("signed-expired", "/photo.jpg", (("expires", PAST),), config=s, sign="v7", versions=v7)
    )
    # --- rewrites -------------------------------------------------------------------------------
    r = "rewrite"
    add(Case("rewrite-match", "/thumbs/80x80/photo.jpg", config=r))
    add(Case("rewrite-no-match", "/fit-in/60x60/photo.jpg", config=r))
    add(Case("rewrite-default-request", edits(resize={"width": 30}), config=r))
    add(
        Case(
            "rewrite-query", "/thumbs/80x80/photo.jpg", (("format", "png"),), config=r, versions=v7
        )
    )
    return both


CASES: tuple[Case, ...] = tuple(_cases())
assert len({case.name for case in CASES}) == len(CASES)
