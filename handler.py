"""AWS Lambda entry point (`handler.handler` in serverless.yml); the adapter lives in
`thumbor_urls.aws.lambda_handler`. Imported at init, so the first request pays for nothing
that could have been done before it: Pillow's codecs are loaded here."""

from PIL import Image

from thumbor_urls.aws.lambda_handler import handler

Image.init()

__all__ = ["handler"]
