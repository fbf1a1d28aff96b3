"""Batch validation: a 1,000-result batch's bytes to checked columns, against plain json.loads.

``seedboard.ingest.parse_batch`` decodes and checks a batch against the
``BatchBody`` Struct (msgspec), then makes sure no key came twice and no text
holds NUL.  The reference is the standard library's ``json.loads`` of the same
bytes, which checks nothing: the ratio says what the checks cost over merely
reading the JSON.  Both sides run interleaved, in CPU time, on two batches: one
as the reporter sends it (compact, every field, nulls written) and one as
another client might (spaced, fields without a value left out).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ingest import result_rows

from seedboard.ingest import parse_batch

ROUNDS = 200


def bodies(count: int = 1000) -> dict[str, bytes]:
    rows = result_rows(count)
    left_out = [{k: v for k, v in row.items() if v is not None} for row in rows]
    return {
        "as the reporter writes it": json.dumps({"results": rows}, separators=(",", ":")).encode(),
        "spaced, nulls left out": json.dumps({"results": left_out}).encode(),
    }


def _cpu_per_call(call: Callable[[], object], rounds: int) -> float:
    call()
    start = time.process_time()
    for _ in range(rounds):
        call()
    return (time.process_time() - start) / rounds


def measure(repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, body in bodies().items():
        seedboard, plain = [], []
        for _ in range(repeat):
            seedboard.append(_cpu_per_call(lambda body=body: parse_batch(body), ROUNDS))
            plain.append(_cpu_per_call(lambda body=body: json.loads(body), ROUNDS))
        figures[name] = {
            "bytes": len(body),
            "parse_batch_ms": min(seedboard) * 1000,
            "json_loads_ms": min(plain) * 1000,
            "ratio": min(seedboard) / min(plain),
        }
    return figures


def print_rows(figures: dict[str, Any]) -> None:
    print("| batch of 1,000 results | bytes | parse_batch | json.loads | ratio |")
    print("|---|---|---|---|---|")
    for name, row in figures.items():
        print(
            f"| {name} | {row['bytes']:,} | {row['parse_batch_ms']:.2f} ms"
            f" | {row['json_loads_ms']:.2f} ms | {row['ratio']:.2f} |"
        )
