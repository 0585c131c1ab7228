"""The soak's phases for a shared stub at scale (#27), imported by scripts/soak.py:
  - a version-1 state spray (finding 1): a small PUT naming thousands of projects, refused at once;
  - trickled uploads with a known access key and a garbage signature (finding 2), while another
    tenant imports: the trickles hold one permit at most and are ended by the upload floor;
  - made-up access keys (finding 5): thousands of 30 000-character keys leave no memory behind;
  - a connection flood of the main port (finding 6), with health probed on the probe port.
Standard library only, loopback only, bounded in count and time.
"""

import asyncio
import json
import os
import time


def v1_spray(projects):
    """A version-1 snapshot whose one legacy instance holds a 100 KB asset, and `projects` jobs
    that only name a scope, each in its own project."""
    jobs = ",".join(f'{{"scope":{{"project":"p{k}","instance":"i"}}}}' for k in range(projects))
    content = "x" * 100_000
    return ('{"format":"roma-emulator-state","version":1,"registry":{"last_seq":0,"jobs":[' + jobs +
            '],"work":[],"archives":[],"catalog":{"i":{"apps":[{"id":"a","name":"a","content":{"blob":"' +
            content + '"}}],"tasks":[]}}}}').encode()


async def state_spray(http, port, results, seconds):
    body = v1_spray(2000)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, _, rest = await http(port, "PUT", "/_emulator/state", body, {"Content-Type": "application/json"},
                                     timeout=10)
        results.check("v1 state spray refused", status == 400, f"status {status} {rest[:100]!r}")


def sdk_date():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


async def trickled_uploads(http, multipart, package, port, results, seconds):
    """Four connections sign an import with a known access key and a garbage signature, declare
    12 MB and send a byte a second (again when answered); another tenant imports meanwhile."""
    end = time.monotonic() + seconds

    async def trickle():
        while time.monotonic() < end:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write((f"POST /v2/p/instances/i/assets/import HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: SDK-HMAC-SHA256 Access=AK-KNOWN, SignedHeaders=host;x-sdk-date, Signature=00\r\n"
                         f"X-Sdk-Date: {sdk_date()}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                         f"Content-Length: 12000000\r\n\r\n").encode())
                await w.drain()
                answer = b""
                while time.monotonic() < end and not answer:
                    w.write(b"-")
                    await w.drain()
                    try:
                        answer = await asyncio.wait_for(r.read(64), 1.0)
                    except asyncio.TimeoutError:
                        pass
                w.close()
                if answer:
                    results.check("trickle ended by the floor or refused (408/503)",
                                  answer[9:12] in (b"408", b"503"), repr(answer[:40]))
            except OSError:
                await asyncio.sleep(0.1)

    trickles = [asyncio.create_task(trickle()) for _ in range(4)]
    body, headers = multipart(package)
    accepted = tried = 0
    await asyncio.sleep(0.5)
    while time.monotonic() < end:
        status, _, _ = await http(port, "POST", "/v2/p/instances/i/assets/import", body,
                                  {**headers, "X-Auth-Token": "victim"}, timeout=10)
        tried += 1
        accepted += status == 200
        await asyncio.sleep(0.2)
    await asyncio.gather(*trickles)
    results.check("another tenant's imports go through the trickles", tried > 0 and accepted == tried,
                  f"{accepted} of {tried} accepted")


async def made_up_keys(rss_kib, pid, port, results, n):
    """n body-less requests, each with a new 30 000-character access key and no X-Sdk-Date."""
    before = rss_kib(pid)
    filler = "k" * 30_000
    for k in range(n):
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write((f"GET /v2/p/instances/i/assets/jobs/{k:032x} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     f"Authorization: SDK-HMAC-SHA256 Access={k:05}{os.urandom(4).hex()}{filler}, "
                     f"SignedHeaders=host;x-sdk-date, Signature=00\r\n\r\n").encode())
            await w.drain()
            answer = await asyncio.wait_for(r.read(), 5)
            w.close()
            results.check("made-up access key refused (401)", answer[9:12] == b"401", repr(answer[:40]))
        except (OSError, asyncio.TimeoutError) as e:
            results.check("made-up access key refused (401)", False, repr(e))
    grown = (rss_kib(pid) - before) / 1024
    results.check("made-up access keys leave no memory behind", grown < 16, f"RSS grew {grown:.1f} MiB")
