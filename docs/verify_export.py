#!/usr/bin/env python3
"""Verify a Care Portal audit export with seals, offline: Python 3.10+, standard library only.

    python3 verify_export.py audit-log.csv [--head SEQUENCE:HASH]

The export is the audit log's CSV downloaded with `?seals=1` (docs/audit.md). Each row's seal
content is rebuilt from the row itself and must hash, with the row's prev hash, to its seal
hash; seals that follow each other in the file must link; no row may be sealed after the chain
head on the last line; with --head, that head must be the one the operator gave you separately.
Prints one line; exits 0 when everything holds, 1 naming each problem.
"""

import csv
import hashlib
import json
import sys

TABLE = "entitlements_changeattempt"
SEAL_COLUMNS = ["seal sequence", "seal kind", "sealed at (UTC)", "seal prev hash", "seal hash"]
HEAD_ROW = "chain head"


def seal_content(kind, record_id, sealed_at, fact):
    # docs/audit.md: four lines; the fact as JSON, keys sorted, no whitespace, UTF-8.
    fact_json = json.dumps(fact, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}\n{TABLE}:{record_id}\n{sealed_at}\n{fact_json}"


def verify(rows, expected_head=None):
    header, body = rows[0], rows[1:]
    if header[-len(SEAL_COLUMNS):] != SEAL_COLUMNS or not body or body[-1][0] != HEAD_ROW:
        return ["not an audit export with seals (download it with ?seals=1)"], 0
    head_sequence, head_hash = int(body[-1][1] or 0), body[-1][2]
    columns, problems, links = header[: -len(SEAL_COLUMNS)], [], {}
    for line, row in enumerate(body[:-1], start=2):
        if len(row) != len(header):
            problems.append(f"line {line}: {len(row)} cells, the header has {len(header)}")
            continue
        fact = dict(zip(columns, row[: len(columns)], strict=True))
        sequence, kind, sealed_at, prev_hash, digest = row[len(columns):]
        record = fact["record id"]
        if not sequence:
            problems.append(f"line {line}: record {record} has no seal")
            continue
        content = seal_content(kind, record, sealed_at, fact)
        if hashlib.sha256((prev_hash + content).encode()).hexdigest() != digest:
            problems.append(f"line {line}: record {record} does not match its seal {sequence}")
        links[int(sequence)] = (prev_hash, digest)
    for sequence, (prev_hash, _digest) in sorted(links.items()):
        if sequence - 1 in links and links[sequence - 1][1] != prev_hash:
            problems.append(f"seal {sequence} does not follow seal {sequence - 1}")
        if sequence > head_sequence:
            problems.append(f"seal {sequence} comes after the chain head {head_sequence}")
    if head_sequence in links and links[head_sequence][1] != head_hash:
        problems.append(f"seal {head_sequence} is not the chain head it claims to be")
    if expected_head and expected_head != f"{head_sequence}:{head_hash}":
        problems.append(f"the chain head {head_sequence}:{head_hash} is not {expected_head}")
    return problems, len(links)


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--head"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], newline="", encoding="utf-8") as export:
        rows = list(csv.reader(export))
    problems, sealed = verify(rows, argv[3] if len(argv) == 4 else None)
    for problem in problems:
        print(f"BROKEN: {problem}")
    if problems:
        return 1
    head = f"{rows[-1][1]}:{rows[-1][2]}"
    print(f"export intact: {sealed} records match their seals, chain head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
