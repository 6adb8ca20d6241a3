"""What moto 5.2.5 does with the S3 and CloudFront calls `deckhand site deploy` makes, where it
differs from AWS or where deckhand relies on it (world/README.md, "S3 and CloudFront"). If a moto
upgrade changes one of these, the test fails and the README must change with it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from botocore.exceptions import ClientError, WaiterError

from helpers import REPO_ROOT, WORLD_DIR, create_distribution, invalidate, make_client, start_world


def test_invalidations_are_completed_at_once_in_upper_case(aws):
    distribution = create_distribution(aws.cloudfront)
    created = invalidate(aws.cloudfront, distribution, ["/", "/index.html"], "ref-1")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["Invalidation"]["Status"] == "COMPLETED"  # AWS: "InProgress", later "Completed"
    got = aws.cloudfront.get_invalidation(
        DistributionId=distribution, Id=created["Invalidation"]["Id"]
    )
    assert got["Invalidation"]["Status"] == "COMPLETED"
    assert got["Invalidation"]["InvalidationBatch"] == {
        "Paths": {"Quantity": 2, "Items": ["/", "/index.html"]},
        "CallerReference": "ref-1",
    }
    listed = aws.cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert [item["Status"] for item in listed["Items"]] == ["COMPLETED"]


def test_the_sdk_waiter_never_accepts_moto_status(aws):
    # botocore's InvalidationCompleted waiter (like the Rust SDK's) matches "Completed" exactly.
    distribution = create_distribution(aws.cloudfront)
    created = invalidate(aws.cloudfront, distribution, ["/*"], "ref-w")
    with pytest.raises(WaiterError):
        aws.cloudfront.get_waiter("invalidation_completed").wait(
            DistributionId=distribution,
            Id=created["Invalidation"]["Id"],
            WaiterConfig={"Delay": 0.1, "MaxAttempts": 2},
        )


def test_caller_reference_is_not_deduplicated(aws):
    # AWS returns the earlier invalidation for the same CallerReference and batch, and answers
    # InvalidationBatchAlreadyExists for the same reference with other paths. moto creates a new
    # invalidation every time.
    distribution = create_distribution(aws.cloudfront)
    first = invalidate(aws.cloudfront, distribution, ["/index.html"], "same")
    again = invalidate(aws.cloudfront, distribution, ["/index.html"], "same")
    other = invalidate(aws.cloudfront, distribution, ["/other.html"], "same")
    ids = {answer["Invalidation"]["Id"] for answer in (first, again, other)}
    assert len(ids) == 3
    listed = aws.cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert listed["Quantity"] == 3


def test_unknown_distribution_and_invalidation(aws):
    with pytest.raises(ClientError) as caught:
        invalidate(aws.cloudfront, "E0000000000000", ["/x"], "r")
    assert caught.value.response["Error"]["Code"] == "NoSuchDistribution"
    distribution = create_distribution(aws.cloudfront)
    with pytest.raises(ClientError) as caught:
        aws.cloudfront.get_invalidation(DistributionId=distribution, Id="I0000000000000")
    assert caught.value.response["Error"]["Code"] == "NoSuchInvalidation"


def test_get_distribution_returns_the_origin_path(aws):
    with_path = create_distribution(aws.cloudfront, origin_path="/site")
    without = create_distribution(aws.cloudfront)
    answer = aws.cloudfront.get_distribution(Id=with_path)["Distribution"]
    [origin] = answer["DistributionConfig"]["Origins"]["Items"]
    assert origin["OriginPath"] == "/site"
    assert origin["DomainName"] == "bucket.s3.us-east-1.amazonaws.com"
    assert answer["ARN"] == f"arn:aws:cloudfront::123456789012:distribution/{with_path}"
    [origin] = aws.cloudfront.get_distribution(Id=without)["Distribution"]["DistributionConfig"][
        "Origins"
    ]["Items"]
    assert origin["OriginPath"] == ""


def test_copy_object_onto_itself_with_replace_updates_the_headers(aws):
    s3 = aws.s3
    s3.put_object(
        Bucket="bucket",
        Key="index.html",
        Body=b"<h1>demo</h1>",
        ContentType="text/html",
        CacheControl="no-cache",
    )
    before = s3.head_object(Bucket="bucket", Key="index.html")
    s3.copy_object(
        Bucket="bucket",
        Key="index.html",
        CopySource={"Bucket": "bucket", "Key": "index.html"},
        MetadataDirective="REPLACE",
        CacheControl="public, max-age=60",
        ContentType="text/html; charset=utf-8",
        ContentLanguage="en",
        ContentDisposition="inline",
    )
    after = s3.get_object(Bucket="bucket", Key="index.html")
    assert after["Body"].read() == b"<h1>demo</h1>"
    assert after["ETag"] == before["ETag"]
    assert after["CacheControl"] == "public, max-age=60"
    assert after["ContentType"] == "text/html; charset=utf-8"
    assert after["ContentLanguage"] == "en"
    assert after["ContentDisposition"] == "inline"

    # Without REPLACE, as on AWS, copying an object onto itself is refused.
    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket="bucket", Key="index.html", CopySource={"Bucket": "bucket", "Key": "index.html"}
        )
    assert caught.value.response["Error"]["Code"] == "InvalidRequest"


def test_s3_keeps_content_encoding_and_has_no_delete_objects_cap(aws):
    aws.s3.put_object(
        Bucket="bucket",
        Key="app.js",
        Body=b"\x1f\x8b",
        ContentEncoding="gzip",
        ContentType="text/javascript",
    )
    assert aws.s3.head_object(Bucket="bucket", Key="app.js")["ContentEncoding"] == "gzip"
    # AWS refuses more than 1,000 keys per DeleteObjects (MalformedXML); moto accepts them.
    answer = aws.s3.delete_objects(
        Bucket="bucket", Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]}
    )
    assert len(answer["Deleted"]) == 1001


def test_s3_pages_at_1000_keys_by_default(aws):
    for i in range(3):
        aws.s3.put_object(Bucket="bucket", Key=f"k{i}", Body=b"1")
    page = aws.s3.list_objects_v2(Bucket="bucket")
    assert (page["MaxKeys"], page["KeyCount"], page["IsTruncated"]) == (1000, 3, False)


def test_s3_max_keys_forces_paging():
    server = start_world("--s3-max-keys", "2")
    try:
        s3 = make_client("s3", server.url)
        s3.create_bucket(Bucket="bucket")
        for i in range(5):
            s3.put_object(Bucket="bucket", Key=f"site/k{i}", Body=b"1")
        first = s3.list_objects_v2(Bucket="bucket", Prefix="site/")
        assert (first["MaxKeys"], first["KeyCount"], first["IsTruncated"]) == (2, 2, True)
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="bucket", Prefix="site/"))
        assert [page["KeyCount"] for page in pages] == [2, 2, 1]
        assert [o["Key"] for page in pages for o in page["Contents"]] == [
            f"site/k{i}" for i in range(5)
        ]
        # A client that asks for fewer still gets fewer.
        assert s3.list_objects_v2(Bucket="bucket", MaxKeys=1)["KeyCount"] == 1
    finally:
        server.close()


def test_s3_max_keys_must_be_positive():
    answer = subprocess.run(
        [sys.executable, "-m", "deckhand_world", "--s3-max-keys", "0"],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(WORLD_DIR), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 2
    assert "must be at least 1" in answer.stderr
    assert answer.stdout == ""
