"""The result's lookup beside the original's read (thumbor_urls/lookup.py), through the Lambda
handler on moto: a render's two S3 reads are in flight at once, and a cached result is checked
against the original's headers from that read, not from a HEAD of its own."""

from __future__ import annotations

import time

from tests.lambda_stack import Stack

PATH = "/unsafe/40x30/astronaut.jpg"


def source_calls(stack: Stack) -> list[str]:
    return [method for method, path in stack.aws.proxy.seen if path.endswith("/astronaut.jpg")]


def test_a_render_reads_the_original_while_the_result_is_looked_up(stack: Stack) -> None:
    # S3 holds the result's lookup (up to 1.5 s) until the original's read has come too.
    held = stack.aws.proxy.inject("results/", method="GET", until="/astronaut.jpg", delay=1.5)
    answer = stack.get(PATH)
    assert (answer.status, answer.log["outcome"]) == (200, "processed")
    assert held.hits == 1 and held.met  # both on the wire at once
    assert source_calls(stack) == ["GET"]


def test_a_cached_result_is_checked_against_the_originals_read_not_a_head(stack: Stack) -> None:
    assert stack.get(PATH).log["outcome"] == "processed"
    stack.aws.proxy.clear()
    answer = stack.get(PATH)
    assert (answer.status, answer.log["outcome"]) == (200, "result-cache")
    assert source_calls(stack) == ["GET"]  # its body dropped unread
    assert stack.get(PATH).log["outcome"] == "result-cache"  # the next one unhindered


def test_a_stale_result_is_made_again_from_the_original_already_opened(stack: Stack) -> None:
    first = stack.get(PATH)
    assert first.log["outcome"] == "processed"
    # A newer original: S3's Last-Modified has a resolution of a second.
    data = stack.aws.client("s3").get_object(Bucket=stack.source, Key="astronaut.jpg")["Body"]
    original = data.read()
    time.sleep(1.1)
    stack.put(stack.source, "astronaut.jpg", original)
    stack.aws.proxy.clear()
    answer = stack.get(PATH)
    assert (answer.status, answer.log["outcome"]) == (200, "processed")
    assert source_calls(stack) == ["GET"]  # one read: the one opened beside the lookup


def test_a_missing_original_is_404_even_with_its_result_stored(stack: Stack) -> None:
    assert stack.get(PATH).status == 200
    stack.aws.client("s3").delete_object(Bucket=stack.source, Key="astronaut.jpg")
    answer = stack.get(PATH)
    assert (answer.status, answer.json()["code"]) == (404, "NoSuchKey")
