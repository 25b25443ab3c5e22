"""Every AWS call this package makes, by service (botocore's names), in a module that imports
nothing: scripts/trim_botocore.py reads it to cut the Lambda zip's botocore down to these calls,
with whichever Python packs the zip."""

CALLS: dict[str, tuple[str, ...]] = {
    "rekognition": ("DetectFaces", "DetectModerationLabels"),
    "s3": ("GetObject", "HeadObject", "PutObject"),
    "secretsmanager": ("GetSecretValue",),
}
