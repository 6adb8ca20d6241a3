"""Fault injection: /_deckhand/faults makes the next N matching requests fail, in the called
service's own error format, without reaching moto. Driven through boto3 with retries off."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from helpers import create_distribution, invalidate, raw_request

SLOWDOWN = {
    "service": "s3",
    "method": "PUT",
    "path_regex": "^/bucket/assets/",
    "status": 503,
    "code": "SlowDown",
    "message": "Please reduce your request rate.",
    "count": 2,
}
TOO_MANY_INVALIDATIONS = {
    "service": "cloudfront",
    "operation": "CreateInvalidation",
    "status": 400,
    "code": "TooManyInvalidationsInProgress",
    "count": 1,
}


def set_faults(world, *rules):
    return world.post("/_deckhand/faults", {"rules": list(rules)})


def faults(world):
    status, answer = world.request("GET", "/_deckhand/faults")
    assert status == 200
    return answer["rules"]


def error_of(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket="bucket").get("Contents", [])]


def test_s3_fault_fails_the_next_count_matching_requests_then_lets_them_through(aws):
    answer = set_faults(aws.world, SLOWDOWN)
    assert answer == {"rules": [{**SLOWDOWN, "remaining": 2, "matched": 0, "failed": 0}]}

    put = lambda key: aws.s3.put_object(Bucket="bucket", Key=key, Body=b"x" * 100)  # noqa: E731
    for attempt in (1, 2):
        error = error_of(lambda: put("assets/app.js"))
        assert error.response["Error"]["Code"] == "SlowDown"
        assert error.response["Error"]["Message"] == "Please reduce your request rate."
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert re.fullmatch(r"[0-9A-F]{16}", error.response["ResponseMetadata"]["RequestId"])
        # A request that does not match passes while the rule is armed.
        if attempt == 1:
            put("index.html")
    # The failed PUTs never reached moto.
    assert keys(aws.s3) == ["index.html"]
    assert faults(aws.world) == [{**SLOWDOWN, "remaining": 0, "matched": 2, "failed": 2}]

    put("assets/app.js")
    assert keys(aws.s3) == ["assets/app.js", "index.html"]
    assert faults(aws.world)[0]["failed"] == 2


def test_s3_error_body_is_s3s_xml(aws):
    set_faults(aws.world, {**SLOWDOWN, "count": 1})
    status, headers, body = raw_request(aws.world.url, "PUT", "/bucket/assets/a.js", "s3", b"abc")
    assert status == 503
    assert headers["Content-Type"] == "application/xml"
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert [child.tag for child in root] == ["Code", "Message", "RequestId", "HostId"]
    assert root.findtext("Code") == "SlowDown"
    assert root.findtext("Message") == "Please reduce your request rate."
    assert root.findtext("RequestId") == headers["x-amz-request-id"]


def test_cloudfront_fault_uses_cloudfronts_error_response(aws):
    distribution = create_distribution(aws.cloudfront)
    set_faults(aws.world, TOO_MANY_INVALIDATIONS)

    # Another CloudFront operation is not matched.
    aws.cloudfront.get_distribution(Id=distribution)
    error = error_of(lambda: invalidate(aws.cloudfront, distribution, ["/index.html"], "r1"))
    assert error.response["Error"] == {
        "Type": "Sender",
        "Code": "TooManyInvalidationsInProgress",
        "Message": "Injected by deckhand-world.",
    }
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    listed = aws.cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert listed["Quantity"] == 0, "the failed request must not reach moto"

    created = invalidate(aws.cloudfront, distribution, ["/index.html"], "r1")
    assert created["Invalidation"]["Status"] == "COMPLETED"
    assert faults(aws.world)[0]["remaining"] == 0
    assert faults(aws.world)[0]["failed"] == 1


def test_cloudfront_error_body_and_5xx_type(aws):
    set_faults(
        aws.world,
        {"service": "cloudfront", "status": 503, "code": "ServiceUnavailable", "message": "a < b"},
    )
    path = "/2020-05-31/distribution/E123/invalidation"
    status, headers, body = raw_request(aws.world.url, "POST", path, "cloudfront", b"<x/>")
    assert status == 503
    assert headers["Content-Type"] == "text/xml"
    ns = {"cf": "http://cloudfront.amazonaws.com/doc/2020-05-31/"}
    root = ET.fromstring(body)
    assert root.tag == "{http://cloudfront.amazonaws.com/doc/2020-05-31/}ErrorResponse"
    assert root.findtext("cf:Error/cf:Type", namespaces=ns) == "Receiver"
    assert root.findtext("cf:Error/cf:Code", namespaces=ns) == "ServiceUnavailable"
    assert root.findtext("cf:Error/cf:Message", namespaces=ns) == "a < b"
    assert root.findtext("cf:RequestId", namespaces=ns) == headers["x-amz-request-id"]


def test_the_service_comes_from_the_credential_scope(aws):
    distribution = create_distribution(aws.cloudfront)
    # No filter but the service: every S3 request fails, nothing else does.
    set_faults(aws.world, {"service": "s3", "status": 500, "code": "InternalError", "count": 100})
    assert error_of(aws.s3.list_buckets).response["Error"]["Code"] == "InternalError"
    aws.cloudfront.get_distribution(Id=distribution)
    aws.cloudfront.list_invalidations(DistributionId=distribution)
    aws.ecs.list_clusters()
    assert faults(aws.world)[0]["failed"] == 1

    set_faults(aws.world, {"service": "cloudfront", "status": 500, "code": "InternalError"})
    # An S3 key that looks like a CloudFront path is still S3: the credential scope decides.
    aws.s3.put_object(Bucket="bucket", Key="2020-05-31/distribution/x", Body=b"1")
    status, _, _ = raw_request(aws.world.url, "GET", "/2020-05-31/distribution", "s3")
    assert status != 500
    # Unsigned, the path decides, as in moto's dispatcher.
    status, _, _ = raw_request(aws.world.url, "GET", "/2020-05-31/distribution", None)
    assert status == 500


def test_matching_by_operation_method_and_path(aws):
    aws.s3.put_object(Bucket="bucket", Key="site/index.html", Body=b"<h1>")
    set_faults(
        aws.world,
        {"service": "s3", "operation": "CopyObject", "status": 503, "code": "SlowDown"},
        {"service": "s3", "operation": "HeadObject", "status": 403, "code": "AccessDenied"},
        {
            "service": "s3",
            "method": "GET",
            "path_regex": r"\.deckhand/manifest\.json$",
            "status": 500,
            "code": "InternalError",
        },
        {"service": "s3", "operation": "ListObjectsV2", "status": 503, "code": "SlowDown"},
        {"service": "s3", "operation": "DeleteObjects", "status": 500, "code": "InternalError"},
    )
    # PutObject and CopyObject are both PUTs to the key; only the copy is matched.
    aws.s3.put_object(Bucket="bucket", Key="site/app.js", Body=b"1")
    copy = lambda: aws.s3.copy_object(  # noqa: E731
        Bucket="bucket",
        Key="site/index.html",
        CopySource={"Bucket": "bucket", "Key": "site/index.html"},
        MetadataDirective="REPLACE",
        CacheControl="no-cache",
    )
    assert error_of(copy).response["Error"]["Code"] == "SlowDown"
    copy()
    # HEAD answers carry no body: the client sees the status.
    head = lambda: aws.s3.head_object(Bucket="bucket", Key="site/app.js")  # noqa: E731
    assert error_of(head).response["Error"]["Code"] == "403"
    head()
    # The path rule: a GET of another key passes.
    aws.s3.get_object(Bucket="bucket", Key="site/app.js")
    get = lambda: aws.s3.get_object(
        Bucket="bucket", Key="site/.deckhand/manifest.json"
    )  # noqa: E731
    assert error_of(get).response["Error"]["Code"] == "InternalError"
    assert error_of(get).response["Error"]["Code"] == "NoSuchKey"  # from moto now
    # ListObjects (v1) is not ListObjectsV2.
    aws.s3.list_objects(Bucket="bucket")
    listing = lambda: aws.s3.list_objects_v2(Bucket="bucket", Prefix="site/")  # noqa: E731
    assert error_of(listing).response["Error"]["Code"] == "SlowDown"
    assert [o["Key"] for o in listing()["Contents"]] == ["site/app.js", "site/index.html"]
    delete = lambda: aws.s3.delete_objects(  # noqa: E731
        Bucket="bucket", Delete={"Objects": [{"Key": "site/app.js"}]}
    )
    assert error_of(delete).response["Error"]["Code"] == "InternalError"
    aws.s3.delete_object(Bucket="bucket", Key="site/app.js")  # DeleteObject, not matched
    assert [rule["failed"] for rule in faults(aws.world)] == [1, 1, 1, 1, 1]


def test_rules_are_tried_in_order_and_an_exhausted_rule_gives_way(aws):
    set_faults(
        aws.world,
        {"service": "s3", "method": "PUT", "status": 503, "code": "SlowDown", "count": 1},
        {"service": "s3", "method": "PUT", "status": 500, "code": "InternalError", "count": 1},
    )
    put = lambda: aws.s3.put_object(Bucket="bucket", Key="k", Body=b"1")  # noqa: E731
    assert error_of(put).response["Error"]["Code"] == "SlowDown"
    assert error_of(put).response["Error"]["Code"] == "InternalError"
    put()
    assert [(r["remaining"], r["failed"]) for r in faults(aws.world)] == [(0, 1), (0, 1)]


def test_a_large_failed_upload_sees_the_error(aws):
    # The body of a failed PUT is read before the answer, so the client gets the error rather
    # than a connection closed while it is still sending, and later requests work.
    set_faults(aws.world, {**SLOWDOWN, "count": 3})
    big = b"z" * (2 * 1024 * 1024)
    for _ in range(3):
        error = error_of(lambda: aws.s3.put_object(Bucket="bucket", Key="assets/big.bin", Body=big))
        assert error.response["Error"]["Code"] == "SlowDown"
        assert aws.s3.list_objects_v2(Bucket="bucket")["KeyCount"] == 0
    aws.s3.put_object(Bucket="bucket", Key="assets/big.bin", Body=big)
    assert aws.s3.get_object(Bucket="bucket", Key="assets/big.bin")["Body"].read() == big


def test_json_protocol_services_get_a_type_field(aws):
    set_faults(
        aws.world,
        {
            "service": "ecs",
            "operation": "DescribeServices",
            "status": 400,
            "code": "ThrottlingException",
            "message": "Rate exceeded",
        },
    )
    aws.ecs.list_clusters()
    error = error_of(lambda: aws.ecs.describe_services(cluster="c", services=["web"]))
    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert error.response["Error"]["Message"] == "Rate exceeded"


def test_get_delete_and_reset(aws):
    assert faults(aws.world) == []
    set_faults(aws.world, SLOWDOWN, TOO_MANY_INVALIDATIONS)
    listed = faults(aws.world)
    assert [rule["code"] for rule in listed] == ["SlowDown", "TooManyInvalidationsInProgress"]
    # Defaults are shown: message, and no filter that was not given.
    assert listed[1] == {
        **TOO_MANY_INVALIDATIONS,
        "message": "Injected by deckhand-world.",
        "remaining": 1,
        "matched": 0,
        "failed": 0,
    }
    assert aws.world.request("DELETE", "/_deckhand/faults") == (200, {"rules": []})
    aws.s3.put_object(Bucket="bucket", Key="assets/a.js", Body=b"1")

    set_faults(aws.world, SLOWDOWN)
    aws.world.post("/_deckhand/reset", {})
    assert faults(aws.world) == []
    aws.s3.create_bucket(Bucket="bucket")
    aws.s3.put_object(Bucket="bucket", Key="assets/a.js", Body=b"1")

    # POST replaces the whole set.
    set_faults(aws.world, SLOWDOWN)
    set_faults(aws.world, TOO_MANY_INVALIDATIONS)
    assert [rule["code"] for rule in faults(aws.world)] == ["TooManyInvalidationsInProgress"]


@pytest.mark.parametrize(
    "body, needle",
    [
        ([SLOWDOWN], '{"rules": [...]}'),
        ({"rules": SLOWDOWN}, '{"rules": [...]}'),
        ({"rules": [SLOWDOWN], "extra": 1}, '{"rules": [...]}'),
        ({"rules": [{**SLOWDOWN, "times": 2}]}, "unknown keys ['times']"),
        ({"rules": [{**SLOWDOWN, "service": "S3"}]}, "unknown service 'S3'"),
        (
            {"rules": [{k: v for k, v in SLOWDOWN.items() if k != "service"}]},
            "`service` is required",
        ),
        ({"rules": [{k: v for k, v in SLOWDOWN.items() if k != "code"}]}, "`code` is required"),
        ({"rules": [{k: v for k, v in SLOWDOWN.items() if k != "status"}]}, "`status` is required"),
        ({"rules": [{**SLOWDOWN, "status": 200}]}, "`status` must be an integer from 400 to 599"),
        ({"rules": [{**SLOWDOWN, "status": "503"}]}, "`status` must be an integer"),
        ({"rules": [{**SLOWDOWN, "count": 0}]}, "`count` must be an integer from 1"),
        ({"rules": [{**SLOWDOWN, "count": True}]}, "`count` must be an integer"),
        ({"rules": [{**SLOWDOWN, "method": "put"}]}, "`method` must be one of"),
        (
            {"rules": [{**TOO_MANY_INVALIDATIONS, "operation": "CreateInvalidations"}]},
            "cloudfront operation 'CreateInvalidations' is not one this world recognizes",
        ),
        ({"rules": [{**SLOWDOWN, "path_regex": "("}]}, "`path_regex` does not compile"),
        ({"rules": [SLOWDOWN, {**SLOWDOWN, "code": ""}]}, "rules[1]: `code` must be a non-empty"),
        ({"rules": [{**SLOWDOWN, "delay_ms": -1}]}, "`delay_ms` must be an integer from 0"),
        ({"rules": [{**SLOWDOWN, "delay_ms": 60_001}]}, "`delay_ms` must be an integer from 0"),
        # A delay with half of a failure is still a failure missing its other half.
        ({"rules": [{"service": "s3", "delay_ms": 10, "status": 503}]}, "`code` is required"),
    ],
)
def test_bad_rules_answer_400_and_change_nothing(aws, body, needle):
    set_faults(aws.world, TOO_MANY_INVALIDATIONS)
    status, answer = aws.world.request("POST", "/_deckhand/faults", body)
    assert status == 400
    assert needle in answer["error"]
    assert [rule["code"] for rule in faults(aws.world)] == ["TooManyInvalidationsInProgress"]


def test_invalid_json_and_methods(aws):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(aws.world.url + "/_deckhand/faults", data=b"{", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=10)
    assert caught.value.code == 400
    assert aws.world.request("PUT", "/_deckhand/faults", {"rules": []})[0] == 405


def test_a_delay_only_rule_holds_matching_requests_then_lets_them_reach_moto(aws):
    import time

    slow = {"service": "s3", "operation": "PutObject", "path_regex": "^/bucket/slow/"}
    set_faults(aws.world, {**slow, "delay_ms": 400, "count": 2})
    put = lambda key: aws.s3.put_object(Bucket="bucket", Key=key, Body=b"x")  # noqa: E731
    started = time.monotonic()
    put("fast.txt")
    assert time.monotonic() - started < 0.4, "a request the rule does not match is not held"
    for _ in range(2):
        started = time.monotonic()
        put("slow/a.txt")
        assert time.monotonic() - started >= 0.4
    assert keys(aws.s3) == ["fast.txt", "slow/a.txt"]
    assert faults(aws.world) == [
        {**slow, "delay_ms": 400, "count": 2, "remaining": 0, "matched": 2, "failed": 0}
    ]


def test_a_delay_with_a_status_waits_then_fails(aws):
    import time

    set_faults(aws.world, {**SLOWDOWN, "delay_ms": 300, "count": 1})
    started = time.monotonic()
    error = error_of(lambda: aws.s3.put_object(Bucket="bucket", Key="assets/a.js", Body=b"1"))
    assert time.monotonic() - started >= 0.3
    assert error.response["Error"]["Code"] == "SlowDown"
    assert keys(aws.s3) == []
    assert faults(aws.world)[0]["matched"] == faults(aws.world)[0]["failed"] == 1
