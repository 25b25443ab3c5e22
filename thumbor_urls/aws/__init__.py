"""AWS adapters: S3 originals and results, the signing key from Secrets Manager, the Lambda handler.

Nothing here is imported by the local server: botocore is imported lazily, inside functions, so the
core runs (and its tests pass) without it.
"""
