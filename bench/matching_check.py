#!/usr/bin/env python3
"""Checks `maillage match` against independent solvers.

For an instance in `maillage match`'s input format, computes the optimum of the documented objective —
maximise the total weight of matched requests, then minimise the total great-circle distance — with
  * OR-Tools' min-cost flow (`ortools` from PyPI), and, for small instances,
  * SciPy's MILP (HiGHS) in two stages: maximise the weight; then, weight fixed, minimise the distance,
and compares both totals with `maillage match --json`. Exits 1 on any difference.

  python3 bench/matching_check.py INSTANCE.json [--maillage target/release/maillage] [--milp]
  python3 bench/matching_check.py --random 50 [--maillage …]     # random small instances, all three solvers

Distances are in whole centimetres, as in the engine (so totals agree exactly); coordinates come from
data/communes.csv, the same table compiled into the binary.
"""
import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EARTH_RADIUS_KM = 6371.0


def communes():
    with open(os.path.join(ROOT, "data", "communes.csv"), encoding="utf-8") as f:
        return {
            row["code_insee"]: (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(f)
            # Two communes of the source have `nan` coordinates: unknown, as in the engine.
            if row["latitude"] and row["longitude"] and "nan" not in (row["latitude"], row["longitude"])
        }


def distance_km(a, b):
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def position(place, table):
    if "commune" in place:
        return table.get(place["commune"], (math.nan, math.nan))
    return (place["lat"], place["lon"])


def pairs_of(problem, table):
    """(request index, doctor index, distance in cm) of every pair within reach, by a latitude band."""
    requests = [position(r, table) for r in problem["requests"]]
    doctors = [position(d, table) for d in problem["doctors"]]
    limit = problem["max_distance_km"]
    limits = [min(limit, d.get("max_distance_km", limit)) for d in problem["doctors"]]
    band = math.degrees(limit / EARTH_RADIUS_KM) + 1e-9
    order = sorted((j for j in range(len(doctors)) if not math.isnan(doctors[j][0])), key=lambda j: doctors[j][0])
    latitudes = [doctors[j][0] for j in order]
    import bisect

    pairs = []
    for i, p in enumerate(requests):
        lo = bisect.bisect_left(latitudes, p[0] - band)
        hi = bisect.bisect_right(latitudes, p[0] + band)
        for k in range(lo, hi):
            j = order[k]
            if problem["doctors"][j]["capacity"] <= 0:
                continue
            d = distance_km(p, doctors[j])
            if d <= limits[j]:
                pairs.append((i, j, int(round(d * 100_000))))
    return pairs


def ortools_optimum(problem, pairs):
    from ortools.graph.python import min_cost_flow

    n_r, n_d = len(problem["requests"]), len(problem["doctors"])
    source, sink = n_r + n_d, n_r + n_d + 1
    longest = [0] * n_r
    for i, _, cm in pairs:
        longest[i] = max(longest[i], cm)
    unit = 1 + sum(longest)  # one unit of weight outweighs any total distance
    flow = min_cost_flow.SimpleMinCostFlow()
    for i, r in enumerate(problem["requests"]):
        # A request not matched pays its weight: the arc to the sink bypasses the doctors.
        flow.add_arc_with_capacity_and_unit_cost(source, i, 1, 0)
        flow.add_arc_with_capacity_and_unit_cost(i, sink, 1, r["weight"] * unit)
    arcs = []
    for i, j, cm in pairs:
        arcs.append(flow.add_arc_with_capacity_and_unit_cost(i, n_r + j, 1, cm))
    for j, d in enumerate(problem["doctors"]):
        flow.add_arc_with_capacity_and_unit_cost(n_r + j, sink, d["capacity"], 0)
    flow.set_node_supply(source, n_r)
    flow.set_node_supply(sink, -n_r)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"OR-Tools status {status}")
    weight, cm_total = 0, 0
    for arc, (i, _, cm) in zip(arcs, pairs):
        if flow.flow(arc) > 0:
            weight += problem["requests"][i]["weight"]
            cm_total += cm
    return weight, cm_total


def milp_optimum(problem, pairs):
    """Two stages with HiGHS: no big-M, a different formulation altogether."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    if not pairs:
        return 0, 0
    n_r, n_d, n = len(problem["requests"]), len(problem["doctors"]), len(pairs)
    a = lil_matrix((n_r + n_d, n))
    for k, (i, j, _) in enumerate(pairs):
        a[i, k] = 1
        a[n_r + j, k] = 1
    upper = [1] * n_r + [d["capacity"] for d in problem["doctors"]]
    capacity = LinearConstraint(a.tocsr(), -np.inf, upper)
    weights = np.array([problem["requests"][i]["weight"] for i, _, _ in pairs], dtype=float)
    cms = np.array([cm for _, _, cm in pairs], dtype=float)
    integral, bounds = np.ones(n), Bounds(0, 1)
    first = milp(-weights, constraints=[capacity], integrality=integral, bounds=bounds)
    best = round(-first.fun)
    keep = LinearConstraint(weights.reshape(1, -1), best, best)
    second = milp(cms, constraints=[capacity, keep], integrality=integral, bounds=bounds)
    return best, round(second.fun)


def maillage_totals(binary, path):
    out = subprocess.run([binary, "match", "--input", path, "--json"], capture_output=True, text=True, check=True)
    solution = json.loads(out.stdout)
    return solution


def check(problem, binary, use_milp, label):
    table = communes()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(problem, f)
        path = f.name
    try:
        started = time.time()
        ours = maillage_totals(binary, path)
        ours_seconds = time.time() - started
    finally:
        os.unlink(path)
    pairs = pairs_of(problem, table)
    # The engine's assignments measured here in centimetres (its output is rounded to the metre).
    index_r = {r["id"]: i for i, r in enumerate(problem["requests"])}
    index_d = {d["id"]: j for j, d in enumerate(problem["doctors"])}
    cm_of = {(i, j): cm for i, j, cm in pairs}
    ours_cm = sum(cm_of[(index_r[a["request"]], index_d[a["doctor"]])] for a in ours["assignments"])
    started = time.time()
    weight, cm = ortools_optimum(problem, pairs)
    tools_seconds = time.time() - started
    ok = ours["total_weight"] == weight and abs(ours_cm - cm) <= len(ours["assignments"])
    line = (f"{label}: maillage weight {ours['total_weight']} distance {ours_cm / 100_000:.3f} km ({ours_seconds:.2f} s); "
            f"OR-Tools {weight} / {cm / 100_000:.3f} km ({tools_seconds:.2f} s); {len(pairs)} pairs")
    if use_milp:
        m_weight, m_cm = milp_optimum(problem, pairs)
        ok = ok and m_weight == weight and abs(m_cm - cm) <= 1
        line += f"; SciPy MILP {m_weight} / {m_cm / 100_000:.3f} km"
    # Feasibility of the engine's answer: capacities and distance limits.
    load = {}
    limit = problem["max_distance_km"]
    doctors = {d["id"]: d for d in problem["doctors"]}
    for a in ours["assignments"]:
        load[a["doctor"]] = load.get(a["doctor"], 0) + 1
        own = doctors[a["doctor"]].get("max_distance_km", limit)
        ok = ok and a["distance_km"] <= min(limit, own) + 0.0005
    ok = ok and all(load[d] <= doctors[d]["capacity"] for d in load)
    print(("OK   " if ok else "DIFF ") + line, flush=True)
    return ok


def random_problem(rng, table):
    # One département: pairs within reach are many, so the choices are hard.
    codes = [c for c in table if c.startswith("30")]
    problem = {"max_distance_km": rng.choice([15, 25, 35, 50]), "requests": [], "doctors": []}
    for i in range(rng.randint(1, 120)):
        problem["requests"].append({"id": f"r{i}", "commune": rng.choice(codes), "weight": rng.randint(1, 12)})
    for j in range(rng.randint(1, 12)):
        d = {"id": f"d{j}", "commune": rng.choice(codes), "capacity": rng.randint(0, 6)}
        if rng.random() < 0.4:
            d["max_distance_km"] = rng.randint(5, 40)
        problem["doctors"].append(d)
    return problem


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("instance", nargs="?")
    parser.add_argument("--maillage", default=os.path.join(ROOT, "target", "release", "maillage"))
    parser.add_argument("--milp", action="store_true", help="also solve with SciPy's MILP (small instances)")
    parser.add_argument("--random", type=int, default=0, help="number of random small instances")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    good = True
    if args.random:
        rng, table = random.Random(args.seed), communes()
        for k in range(args.random):
            good &= check(random_problem(rng, table), args.maillage, True, f"random #{k}")
    if args.instance:
        with open(args.instance, encoding="utf-8") as f:
            good &= check(json.load(f), args.maillage, args.milp, os.path.basename(args.instance))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
