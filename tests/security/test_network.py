"""Attacks that try to leave the sandbox over the network, or to make AWS calls outside the broker."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_DB

CONNECT = '''
import socket

def run(ctx, paths, endpoint, host, port, payload):
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            sock.sendall(payload.encode())
            return {"got": sock.recv(1000).decode("utf-8", "replace"), "error": None}
    except OSError as exc:
        return {"got": None, "error": type(exc).__name__}
'''


@pytest.mark.parametrize(("host", "port", "payload"), [
    ("127.0.0.1", 6379, f"SELECT {TEST_DB}\r\nFLUSHDB\r\n"),
    ("169.254.169.254", 80, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n"),
    ("169.254.170.2", 80, "GET /v2/credentials HTTP/1.0\r\n\r\n"),
], ids=["redis-flush", "instance-metadata", "container-credentials"])
def test_no_tcp_connection_leaves_the_sandbox(attack, host, port, payload):
    """FLUSHDB on the test's own database rather than FLUSHALL: a broken sandbox must not wipe other data."""
    run = attack(CONNECT, host=host, port=port, payload=payload)

    assert run.ok, run.error
    assert run.value == {"got": None, "error": "PermissionError"}


def test_dns_does_not_resolve(attack):
    run = attack('''
        import socket

        def run(ctx, paths, endpoint):
            results = {}
            for name in ("example.com", "sts.amazonaws.com", "localhost"):
                try:
                    results[name] = socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)[0][4][0]
                except OSError as exc:
                    results[name] = None
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53))
                udp = "sent"
            except OSError as exc:
                udp = type(exc).__name__
            return {"got": {k: v for k, v in results.items() if v and k != "localhost"}, "udp": udp}
    ''')

    assert run.ok, run.error
    assert run.value == {"got": {}, "udp": "PermissionError"}


BOTO_WAYS = {
    "endpoint-make-request": '''
        import boto3
        client = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
        model = client.meta.service_model.operation_model("DeleteBucket")
        request = {"url_path": "/acme-audit-evidence", "query_string": {}, "method": "DELETE", "headers": {},
                   "body": b"", "url": endpoint + "/acme-audit-evidence", "context": {}}
        client._endpoint.make_request(model, request)
    ''',
    "fresh-botocore-session": '''
        import botocore.session
        client = botocore.session.Session().create_client("s3", region_name="us-east-1", endpoint_url=endpoint)
        client.delete_bucket(Bucket="acme-public-site")
    ''',
    "unregister-hooks": '''
        s3 = ctx.client("s3")
        s3.meta.events.unregister("before-call.s3.DeleteBucket", None)
        s3.delete_bucket(Bucket="acme-public-site")
    ''',
    "hand-signed-sigv4": '''
        import urllib.request
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        credentials = botocore.session.Session().get_credentials()
        if credentials is None:
            raise LookupError("no credentials to sign with")
        request = AWSRequest(method="DELETE", url=endpoint + "/acme-public-site")
        SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
        urllib.request.urlopen(urllib.request.Request(request.url, method="DELETE", headers=dict(request.headers)))
    ''',
    "own-client-made-up-keys": '''
        import boto3
        boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="AKIAFAKEFAKEFAKE0000",
                     aws_secret_access_key="made/up/secret/key/0123456789abcdefghij").delete_bucket(
                         Bucket="acme-public-site")
    ''',
    "urllib-to-moto": '''
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(endpoint + "/acme-public-site", method="DELETE"), timeout=3)
    ''',
}


@pytest.mark.parametrize("way", list(BOTO_WAYS))
def test_aws_calls_outside_the_broker_fail(attack, way):
    body = "\n".join("        " + line for line in BOTO_WAYS[way].strip("\n").splitlines())
    run = attack(f'''
def run(ctx, paths, endpoint):
    try:
{body}
    except Exception as exc:
        return {{"got": None, "error": type(exc).__name__}}
    return {{"got": "the call went through"}}
''')

    assert run.ok, run.error
    assert run.value["got"] is None, run.value
    assert not [c for c in run.calls if c.error is None], "no call may have been made by the broker"
