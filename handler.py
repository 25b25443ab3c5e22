"""AWS Lambda entry point (`handler.handler` in serverless.yml); the adapter lives in
`thumbor_urls.aws.lambda_handler`. Imported during Lambda's init phase, so the first request does
not pay for it: the core, boto3 and Pillow's common codecs (JPEG, PNG, GIF; the rarer ones load
on first use: `Image.init()` would cost ~240 ms more for formats few requests need). It also
sets glibc's allocator up for image-sized buffers (thumbor_urls/allocator.py)."""

from PIL import Image

from thumbor_urls.allocator import keep_freed_memory
from thumbor_urls.aws.lambda_handler import handler

Image.preinit()
keep_freed_memory()

__all__ = ["handler"]
