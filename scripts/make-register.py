#!/usr/bin/env python3
"""Writes a synthetic register export (CSV, dates as DD/MM/YYYY) for the register import
benchmark: scripts/make-register.py ROWS SEED > register.csv

Deterministic for a given seed. One weapon per row; every row is valid for Tracemark's rules
(acquisition after manufacture, holder after acquisition, status after the holder), so a
benchmark measures the import, not error reporting."""

import csv
import random
import sys

MODELS = [
    ("Izhmash", "AK-74", "5.45x39mm", "assault rifle", "RU", "АК"),
    ("Norinco", "Type 56", "7.62x39mm", "assault rifle", "CN", ""),
    ("FN Herstal", "FAL", "7.62x51mm", "rifle", "BE", "FN"),
    ("Heckler & Koch", "G3", "7.62x51mm", "rifle", "DE", "HK"),
    ("Glock", "17", "9x19mm", "pistol", "AT", "BX"),
    ("Česká zbrojovka", "CZ 75", "9x19mm", "pistol", "CZ", "SK"),
    ("Smith & Wesson", "Model 10", ".38 Special", "revolver", "US", "NL"),
    ("Beretta", "92FS", "9x19mm", "pistol", "IT", "BER"),
    ("Mossberg", "500", "12 gauge", "shotgun", "US", "U"),
    ("Tula Arms Plant", "TT-33", "7.62x25mm", "pistol", "RU", "ЦЦ"),
]
SUPPLIERS = {"RU": "Rosoboronexport", "CN": "China North Industries", "BE": "FN Herstal",
             "DE": "Heckler & Koch", "AT": "Glock GmbH", "CZ": "Česká zbrojovka",
             "US": "Licensed dealer No. 3", "IT": "Beretta"}
STATIONS = ["Central Police Station", "Kilimani Police Station", "Moyale Police Station",
            "Embakasi Garrison", "Kakamega Forest Station", "Kitale Police Station"]
STATUSES = ["stolen", "lost", "seized"]


def date(rng, lo, hi):
    year = rng.randint(lo, hi)
    return year, f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"


def main():
    rows, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["Ref", "Serial number", "Make", "Model", "Calibre", "Type",
                "Country of manufacture", "Year of manufacture", "Date of acquisition",
                "Supplier", "Supplier country", "Holder", "Holder date", "Status",
                "Status date"])
    for i in range(1, rows + 1):
        make, model, cal, typ, cc, prefix = MODELS[rng.randrange(len(MODELS))]
        made = rng.randint(1950, 2015)
        acq_year, acquired = date(rng, made + 1, made + 3)
        held_year, held = date(rng, acq_year + 1, acq_year + 4)
        status, status_date = "", ""
        if rng.random() < 0.125:
            status = STATUSES[rng.randrange(3)]
            _, status_date = date(rng, held_year + 1, held_year + 6)
        w.writerow([f"REG-{i:08d}", f"{prefix}{rng.randint(0, 99_999_999):08d}", make, model,
                    cal, typ, cc, made, acquired, SUPPLIERS[cc], cc,
                    STATIONS[rng.randrange(len(STATIONS))], held, status, status_date])


if __name__ == "__main__":
    main()
