"""AWS Lambda entry point (`handler.handler` in serverless.yml); the adapter lives in
`thumbor_urls.aws.lambda_handler`. Imported during Lambda's init phase, so the first request does
not pay for it: the core, botocore and Pillow's common codecs (JPEG, PNG, GIF; the rarer ones load
on first use: `Image.init()` would add 20-30 ms to every cold start for formats few requests
need, except under SnapStart, where the snapshot keeps them). It also sets glibc's allocator up
for image-sized buffers (thumbor_urls/allocator.py), and on Lambda builds the service and its AWS
clients and registers the SnapStart hooks (thumbor_urls/aws/lifecycle.py)."""

import time

_STARTED = time.perf_counter()

# After the clock: the init's split includes the imports.
from thumbor_urls.allocator import keep_freed_memory  # noqa: E402

keep_freed_memory()  # before any thread: one malloc arena for all of them

from thumbor_urls.aws import lifecycle  # noqa: E402 - botocore, not yet the pipeline

if lifecycle.on_lambda():
    # The secrets' read waits on the network while the pipeline and Pillow are imported.
    lifecycle.read_secrets_ahead()

from PIL import Image  # noqa: E402

from thumbor_urls.aws.lambda_handler import handler  # noqa: E402

Image.preinit()
if lifecycle.on_lambda():
    lifecycle.init(_STARTED)

__all__ = ["handler"]
