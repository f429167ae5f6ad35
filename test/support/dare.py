#!/usr/bin/env python3
"""An independent implementation of SFTPGo's encrypted file format (CryptFs:
0x10 + 32-byte nonce, HKDF-SHA256 file key, DARE 2.0 packages of minio/sio),
written from the published specs with the `cryptography` package, used by
the interop tests as the other side.
  dare.py encrypt PASSPHRASE IN OUT [chacha]   dare.py decrypt PASSPHRASE IN OUT
"""
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_PAYLOAD = 1 << 16
HEADER, TAG = 16, 16


def file_key(passphrase, nonce):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=b"").derive(passphrase)


def pkg_nonce(header, seq):
    n = bytearray(header[4:16])
    last = struct.unpack("<I", bytes(n[8:12]))[0] ^ seq
    n[8:12] = struct.pack("<I", last)
    return bytes(n)


def encrypt(passphrase, data, chacha):
    nonce = os.urandom(32)
    key = file_key(passphrase, nonce)
    aead = ChaCha20Poly1305(key) if chacha else AESGCM(key)
    rand = os.urandom(12)
    out = bytearray(b"\x10" + nonce)
    chunks = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)]
    for seq, chunk in enumerate(chunks):
        final = seq == len(chunks) - 1
        header = bytearray(HEADER)
        header[0] = 0x20
        header[1] = 1 if chacha else 0
        header[2:4] = struct.pack("<H", len(chunk) - 1)
        header[4:16] = rand
        header[4] = (header[4] | 0x80) if final else (header[4] & 0x7F)
        out += header + aead.encrypt(pkg_nonce(header, seq), chunk, bytes(header[:4]))
    return bytes(out)


def decrypt(passphrase, blob):
    assert blob[0] == 0x10, "version"
    key = file_key(passphrase, blob[1:33])
    body = blob[33:]
    out = bytearray()
    seq = 0
    pos = 0
    while pos < len(body):
        header = body[pos:pos + HEADER]
        assert header[0] == 0x20, "package version"
        length = struct.unpack("<H", header[2:4])[0] + 1
        aead = ChaCha20Poly1305(key) if header[1] == 1 else AESGCM(key)
        end = pos + HEADER + length + TAG
        final = header[4] & 0x80 != 0
        assert final == (end == len(body)), "final flag"
        out += aead.decrypt(pkg_nonce(header, seq), body[pos + HEADER:end], header[:4])
        seq += 1
        pos = end
    return bytes(out)


if __name__ == "__main__":
    mode, passphrase, src, dst = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
    with open(src, "rb") as f:
        data = f.read()
    res = encrypt(passphrase, data, len(sys.argv) > 5) if mode == "encrypt" else decrypt(passphrase, data)
    with open(dst, "wb") as f:
        f.write(res)
