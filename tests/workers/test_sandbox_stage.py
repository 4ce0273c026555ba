"""Evidence files are scrubbed in blocks: bounded memory, nothing split, nothing lost."""

import io

from workers.redaction import redact_bytes
from workers.sandbox_stage import text_blocks

KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


def test_blocks_rejoin_to_the_file_and_stay_bounded():
    data = b"".join(f"line {n} {'x' * (n % 90)}\n".encode() for n in range(5000))
    blocks = list(text_blocks(io.BytesIO(data), size=4096))
    assert b"".join(blocks) == data
    assert max(len(b) for b in blocks) <= 2 * 4096 and len(blocks) > 50
    assert all(b.endswith(b"\n") for b in blocks)


def test_no_credential_is_split_across_blocks():
    data = b"a" * 4000 + b" AKIAABCDEFGHIJKLMNOP " + b"b" * 100 + b"\n" + KEY + b"c" * 5000
    for size in (64, 512, 4050, 4100):
        scrubbed = b"".join(redact_bytes(b) for b in text_blocks(io.BytesIO(data), size=size))
        assert b"AKIA" not in scrubbed and b"MIIEow" not in scrubbed, size
