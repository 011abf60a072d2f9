"""Where a 100-report sync batch's CPU goes, stage by stage, in one process: each stage
before (the code this branch replaced, re-run here) and after, timed on the same 100
items, the best of several runs (CPU time of this process; the machine is shared).

    .venv/bin/python bench/sync_breakdown.py [--engine sqlite|postgresql] [--runs 9]
"""
import argparse
import base64
import hashlib
import hmac
import json
import random
import time
import uuid

from flask import jsonify
from harness import database, make_app, migrate_and_seed_areas


def item(n):
    return {"id": str(uuid.uuid4()), "occurred_on": "2026-11-01", "area": "hackney",
            "incident_types": ["robbery"], "description": f"Took the money back. {n}",
            "offender": {"phones": [f"07700 9{random.randrange(100000):05d}"]}}


def best(fn, runs):
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times) * 1000


def old_receipt(secret, report_id):
    key = hashlib.sha256(f"receipt:{secret}".encode()).digest()
    digest = hmac.new(key, str(report_id).encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:26]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="sqlite")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    from server.extensions import db
    from server.identifiers import normalise
    from server.identifiers.models import Identifier
    from server.reports import service
    from server.reports.models import Report
    from server.reports.schemas import SyncResponseSchema
    with database(args.engine) as url:
        app = make_app(url, RATELIMIT_ENABLED=False)
        migrate_and_seed_areas(app)
        with app.test_request_context("/"):
            items = [item(n) for n in range(100)]
            body = json.dumps({"reports": items}).encode()
            data = [service.load_report(i) for i in items]
            phones = [i["offender"]["phones"][0] for i in items]
            secret = app.config["SECRET_KEY"]
            results = service.sync_reports([item(n) for n in range(100)])
            stages = [
                ("JSON body parsed", lambda: json.loads(body), lambda: json.loads(body)),
                ("validation", lambda: [service.REPORT_SCHEMA.load(i) for i in items],
                 lambda: [service.load_report(i) for i in items]),
                ("phone to E.164", lambda: [normalise._read_text(normalise._ascii_digits(p), "GB")
                                            for p in phones],
                 lambda: [normalise.read_phone.__wrapped__(p, "GB") for p in phones]),
                ("receipt (x2 before)", lambda: [old_receipt(secret, d["id"]) for d in data * 2],
                 lambda: [service.receipt_for(d["id"]) for d in data]),
                ("content hash", lambda: [service.content_hash(d) for d in data],
                 lambda: [service.content_hash(d) for d in data]),
                ("response body", lambda: jsonify(SyncResponseSchema().dump({"results": results})),
                 lambda: jsonify(results=results)),
            ]
            total_before = total_after = 0
            print(f"\n{args.engine}: CPU ms per 100 reports, best of {args.runs}")
            print(f"  {'stage':24s} {'before':>8s} {'after':>8s}")
            for name, before, after in stages:
                b, a = best(before, args.runs), best(after, args.runs)
                total_before, total_after = total_before + b, total_after + a
                print(f"  {name:24s} {b:8.2f} {a:8.2f}")

            def inserts(write):
                fresh = service._prepare_all([item(n) for n in range(100)], None, None)
                service._begin_write()
                start = time.process_time()
                write(fresh)
                middle = time.process_time()
                db.session.commit()
                return middle - start, time.process_time() - middle

            def executemany(fresh):
                db.session.execute(Report.__table__.insert(), [p[1] for p in fresh])
                db.session.execute(Identifier.__table__.insert(), [i for p in fresh for i in p[2]])

            def converted(fresh):
                return list(service._driver_values(fresh, range(len(fresh))).values())

            def driver(fresh):
                values = converted(fresh)
                service._insert_many([v[0] for v in values], [i for v in values for i in v[1]])
            timed = {name: [inserts(write) for _ in range(args.runs)]
                     for name, write in (("before", executemany), ("after", driver))}
            ins = {k: min(t[0] for t in v) * 1000 for k, v in timed.items()}
            commit = min(t[1] for v in timed.values() for t in v) * 1000
            print(f"  {'INSERTs (both tables)':24s} {ins['before']:8.2f} {ins['after']:8.2f}")
            batches = iter([service._prepare_all([item(n) for n in range(100)], None, None)
                            for _ in range(args.runs)])
            convert = best(lambda: converted(next(batches)), args.runs)
            print(f"  {'  of which converting':24s} {'':8s} {convert:8.2f}   "
                  "(before the writer's lock since the seventh pass)")
            print(f"  {'COMMIT':24s} {commit:8.2f} {commit:8.2f}")
            batches = iter([[item(n) for n in range(100)] for _ in range(args.runs)])
            prepare = best(lambda: service._prepare_all(next(batches), None, None), args.runs)
            print(f"  {'all of _prepare (after)':24s} {'':8s} {prepare:8.2f}")
            row = best(lambda: [service._report_row(d, None) for d in data], args.runs)
            print(f"  {'  of which _report_row':24s} {'':8s} {row:8.2f}")
            print(f"  {'sum of the stages':24s} {total_before + ins['before'] + commit:8.2f} "
                  f"{total_after + ins['after'] + commit:8.2f}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
