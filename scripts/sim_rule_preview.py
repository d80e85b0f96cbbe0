"""Preview of a threshold rule on the simulated channel, before phones exist.

Expands a few days of contacts of a town where everyone has the app into scans, draws what
each scan hears (`RadioChannel.observe`), and applies a simplified Immuni-like rule per
directed pair and day: minutes of scans whose typical attenuation is at most THRESHOLD (each
scan weighted by the time since the receiver's previous scan, at most 300 s) must reach
MINUTES. The result is compared with the ground truth (≤ 2 m for ≥ 15 min), per setting.

This is not the real pipeline (no keys, no matching, GAEN's buckets and caps are ignored); it
shows what the channel alone allows. Usage:

    python scripts/sim_rule_preview.py                         # realistic channel, 63 dB
    python scripts/sim_rule_preview.py --noiseless --at-ground-truth [--slope 2.35] [--round]
"""

from __future__ import annotations

import argparse

import numpy as np

from notifica.sim import (
    ContactModel,
    RadioChannel,
    ScanSchedule,
    Scenario,
    Seeds,
    Setting,
    build_population,
    load_device_sampler,
    pair_days,
    scan_sightings,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=5000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=63.0, help="dB (Immuni, Oct 2020)")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--noiseless", action="store_true")
    parser.add_argument(
        "--at-ground-truth", action="store_true", help="threshold = median loss at 2 m"
    )
    parser.add_argument("--slope", type=float, help="near slope of every environment")
    parser.add_argument("--round", action="store_true", help="round attenuations to whole dB")
    args = parser.parse_args()
    values: dict[str, object] = {
        "adoption.overall": 1.0,
        "adoption.min_age": "0 yr",
        "run.seed": args.seed,
    }
    if args.noiseless:
        values["radio.channel"] = "noiseless"
    if args.slope is not None:
        for environment in ("home", "indoor", "vehicle", "outdoor"):
            values[f"radio.environments.{environment}.slope_near"] = args.slope
    scenario = Scenario().with_values(values)
    seeds = Seeds(args.seed)
    people = build_population(
        scenario, size=args.population, seeds=seeds, devices=load_device_sampler()
    )
    contacts_model = ContactModel(scenario, people, seeds)
    channel = RadioChannel.from_scenario(scenario)
    counts = {s.label: np.zeros(4, dtype=np.int64) for s in Setting}
    n = people.size
    previous = None
    for day in range(args.days):
        contacts = contacts_model.potential(day)
        schedule = ScanSchedule.for_day(
            seeds.generator("scans", day),
            people.devices.has_phone,
            scenario.scanning,
            previous=previous,
        )
        previous = schedule
        sightings = scan_sightings(contacts, schedule)
        carriage = channel.draw_carriage(seeds.generator("radio", day, 1), n)
        loss = channel.episode_loss_db(seeds.generator("radio", day, 2), contacts, carriage)
        heard = channel.observe(
            seeds.generator("radio", day), sightings, contacts, people.devices, loss
        )
        attenuation = heard.typical_attenuation_db.astype(np.float64)
        threshold = args.threshold
        if args.at_ground_truth:
            threshold = float(channel.median_attenuation_db([2.0], [int(Setting.WORK)])[0])
        if args.round:
            attenuation, threshold = np.rint(attenuation), float(np.floor(threshold))
        receiver, sender = sightings.receiver[heard.sighting], sightings.sender[heard.sighting]
        previous_scan = sightings.previous_scan_s[heard.sighting]
        gap = np.minimum(
            np.where(previous_scan >= 0, sightings.scan_s[heard.sighting] - previous_scan, 300), 300
        )
        keys, inverse = np.unique(receiver.astype(np.int64) * n + sender, return_inverse=True)
        flagged = (
            np.bincount(inverse, weights=gap * (attenuation <= threshold + 1e-6)) / 60
            >= args.minutes
        )
        truth = pair_days(
            contacts,
            max_distance_m=scenario.ground_truth.max_distance_m,
            min_duration_s=scenario.ground_truth.min_duration_s,
        )
        truth_key = np.concatenate(
            [truth.a.astype(np.int64) * n + truth.b, truth.b.astype(np.int64) * n + truth.a]
        )
        order = np.argsort(truth_key)
        at = np.searchsorted(truth_key[order], keys)
        risky = np.concatenate([truth.risky, truth.risky])[order][at]
        setting = np.concatenate([truth.setting, truth.setting])[order][at]
        for s in Setting:
            mine = setting == s
            counts[s.label] += [
                (flagged & risky & mine).sum(),
                (~flagged & risky & mine).sum(),
                (flagged & ~risky & mine).sum(),
                (~flagged & ~risky & mine).sum(),
            ]
    total = sum(counts.values())
    rule = "L(2 m)" if args.at_ground_truth else f"{args.threshold:g} dB"
    print(f"threshold {rule}, {args.minutes:g} min, channel {scenario.radio.channel}")
    print(f"{'setting':<11} {'TPR':>5} {'FPR':>5} {'precision':>9} {'risky':>8} {'not risky':>9}")
    for label, (tp, fn, fp, tn) in [*counts.items(), ("all", total)]:
        cells = f"{_rate(tp, fn):5.2f} {_rate(fp, tn):5.2f} {_rate(tp, fp):9.2f}"
        print(f"{label:<11} {cells} {tp + fn:8d} {fp + tn:9d}")


def _rate(hits: int, misses: int) -> float:
    return hits / (hits + misses) if hits + misses else float("nan")


if __name__ == "__main__":
    main()
