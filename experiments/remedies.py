"""What escapes the bad minimum? The usual cures of posterior collapse, measured on Proposition 1 data (issue 21).

For α ∈ {0, 0.1, 0.5, 1}: the data set `landscape.prop1_dataset(α)` (n = 20, d = 3, κ = 1, seed 0),
trained at the same α by `landscape.train_remedy` with every remedy below, from the same
``--restarts`` starting points (restart r's decoder, and its free moments, are `init_params`' draw r
for seed 0 in every row; an amortised encoder has its own draw r). Then κ = 2 on one data set
(`prop1_dataset(0.5, kappa=2)`) for a subset of the rows. Training is Adam (rate 1e-2, ``--steps``),
float64, no polish: the state training leaves is what is classified (collapsed / partial /
reconstructing, by the dimensions that carry information *and* that the decoder reads).

Rows (the remedy's settings; γ̄ is the data's per-coordinate variance):

- plain: Adam on eq. (5), γ learned (the baseline of every difference);
- β-VAE: β = 0.5, 0.8 (constant KL weight);
- KL warm-up: linear over 1000 steps (Bowman et al. 2016); cyclical, 4 cycles over 1600 steps, rising over
  half of each (Fu et al. 2019);
- free bits: λ = 0.1 and 0.5 nats per point and latent dimension (Kingma et al. 2016, per dimension over
  the data set);
- aggressive inference: K = 2 and 5 encoder steps per decoder step for the first 300 steps (He et al. 2019);
- γ: fixed at γ̄/10, and annealed from γ̄ to γ̄/10 over 1000 steps;
- initialisation: small (W and μ at 0.1 of the default scale), large (W at 3 times);
- amortised encoders (plain Adam): affine μ = A(x − x̄) + c with shared log σ, and an MLP (one tanh layer of 16).

Per row and α: the fractions with 95% Wilson intervals, the collapsed fraction's difference from
plain with Newcombe's interval, the paired counts (restarts that collapsed under plain and escaped,
and the reverse), and the collapsed point's certificate on the row's final objective
(`landscape.certify_remedy_collapsed`: gradient, inertia, label), with, where the final objective is
eq. (5), the sphere certificate (`landscape.sphere_certificate`; it covers the amortised encoders too,
`landscape.models.amortised`).

    python experiments/remedies.py [--restarts 1024] [--steps 2000] [--resume] [--out experiments/out/remedies]

Saves <out>/runs/*.json (one per row and α, as it finishes; ``--resume`` skips those whose configuration
matches), <out>/remedies.json (configuration, seed, versions, the table, the certificates), <out>/table.md
and <out>/remedies.png (the summary figure).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ALPHAS = (0.0, 0.1, 0.5, 1.0)
KAPPA2 = {"alpha": 0.5, "rows": ("plain", "beta_0.5", "warmup_linear", "free_bits_0.1", "affine")}


def rows(gbar: float):
    """(name, label, Remedy, encoder) for every row; γ settings depend on the data's γ̄."""
    import landscape as L

    R = L.Remedy
    small, large = L.InitScales(w=0.1, mu=0.1), L.InitScales(w=3.0)
    return [
        ("plain", "plain Adam, γ learned", R("plain"), "free"),
        ("beta_0.5", "β = 0.5", R("beta_0.5", beta=0.5), "free"),
        ("beta_0.8", "β = 0.8", R("beta_0.8", beta=0.8), "free"),
        ("warmup_linear", "KL warm-up, linear 1000", R("warmup_linear", warmup=1000), "free"),
        ("warmup_cyclical", "KL warm-up, cyclical 4×400", R("warmup_cyclical", warmup=1600, cycles=4, ramp=0.5),
         "free"),
        ("free_bits_0.1", "free bits λ = 0.1", R("free_bits_0.1", free_bits=0.1), "free"),
        ("free_bits_0.5", "free bits λ = 0.5", R("free_bits_0.5", free_bits=0.5), "free"),
        ("aggressive_2", "aggressive inference K = 2", R("aggressive_2", inner_steps=2, inner_until=300), "free"),
        ("aggressive_5", "aggressive inference K = 5", R("aggressive_5", inner_steps=5, inner_until=300), "free"),
        ("gamma_fixed", "γ fixed at γ̄/10", R("gamma_fixed", gamma=gbar / 10), "free"),
        ("gamma_annealed", "γ annealed γ̄ → γ̄/10", R("gamma_annealed", gamma=gbar / 10, gamma_start=gbar, anneal=1000),
         "free"),
        ("init_small", "small initialisation (0.1×)", R("init_small", init=small), "free"),
        ("init_large", "large initialisation (3× W)", R("init_large", init=large), "free"),
        ("affine", "affine encoder", R("affine"), "affine"),
        ("mlp", "MLP encoder (16 tanh)", R("mlp"), "mlp"),
    ]


def final_key(remedy, encoder) -> tuple:
    """Rows with the same final objective share one certificate."""
    return (encoder, remedy.beta, remedy.free_bits, remedy.gamma)


def run_one(L, ds, alpha, kappa, name, remedy, encoder, args, path):
    config = {"alpha": alpha, "kappa": kappa, "row": name, "remedy": remedy.to_dict(), "encoder": encoder,
              "restarts": args.restarts, "steps": args.steps, "seed": args.seed,
              "data": f"prop1_dataset({alpha}, kappa={kappa})"}  # fmt: skip
    if args.resume and path.exists():
        old = json.loads(path.read_text())
        if old.get("config") == json.loads(json.dumps(config)):
            return old
    run = L.train_remedy(ds.X, alpha, kappa=kappa, restarts=args.restarts, remedy=remedy, encoder=encoder,
                         steps=args.steps, seed=args.seed, progress=False)  # fmt: skip
    out = {"config": config, "fractions": run.fractions, "intervals": run.intervals,
           "counts": {c: run.count(c) for c in ("collapsed", "partial", "reconstructing", "failed")},
           "category": run.category.tolist(), "seconds": run.seconds, "compile_seconds": run.compile_seconds,
           "engine_config": run.config}  # fmt: skip
    from landscape.common.provenance import save_json

    save_json(path, out)
    return json.loads(path.read_text())


def certificate(L, ds, alpha, kappa, remedy, encoder, spheres):
    c = L.certify_remedy_collapsed(ds.X, alpha, kappa=kappa, remedy=remedy, encoder=encoder)
    out = {"final_objective": remedy.final_objective(), "gamma": remedy.gamma, "label": c.label,
           "inertia": list(c.inertia), "grad_norm": c.grad_norm, "tol": c.tol,
           "zero_modes_descend": c.zero_modes_descend}  # fmt: skip
    eq5 = remedy.beta == 1 and remedy.free_bits == 0 and remedy.gamma is None
    if c.n_negative:
        verdict = "saddle"
    elif c.label == "strict_min":
        verdict = "certified minimum (second order)"
    elif eq5 and alpha > 0:
        key = (alpha, kappa)
        if key not in spheres:
            sc = L.sphere_certificate(ds, alpha, kappa=kappa)
            spheres[key] = {"holds": sc.holds, "r_star": sc.r_star, "barrier_lower": sc.barrier_lower}
        out["sphere"] = spheres[key]
        verdict = ("certified minimum (sphere" + (", transferred)" if encoder != "free" else ")")
                   if spheres[key]["holds"] else "not certified (sphere)")  # fmt: skip
    elif remedy.free_bits:
        verdict = "uncertified: every encoder direction flat"
    else:
        verdict = "uncertified: W flat to second order"
    if verdict.startswith("uncertified") and c.zero_modes_descend is False:
        verdict += " (its zero-mode slices rise)"
    out["verdict"] = verdict
    return out


def fmt_cell(f, lo, hi):
    return f"{f:.2f} [{lo:.2f}, {hi:.2f}]"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="remedies.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--restarts", type=int, default=1024)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    p.add_argument("--rows", nargs="+", default=None, help="a subset of the rows, by name")
    p.add_argument("--no-kappa2", action="store_true", help="skip the kappa = 2 data set")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", default="experiments/out/remedies")
    args = p.parse_args(argv)
    if args.restarts < 2 or args.steps < 1 or any(a < 0 for a in args.alphas):
        p.error("--restarts must be >= 2, --steps >= 1 and every alpha >= 0")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import landscape as L
    from landscape.common.provenance import save_json

    names = [r[0] for r in rows(1.0)]
    if args.rows is not None and (bad := sorted(set(args.rows) - set(names))):
        p.error(f"unknown rows {bad}; choose from {names}")
    if args.rows is not None and "plain" not in args.rows:
        args.rows = ["plain", *args.rows]
    out = Path(args.out)
    t0 = time.perf_counter()
    table, certs, spheres = [], {}, {}
    settings = [(a, 1) for a in args.alphas] + ([] if args.no_kappa2 else [(KAPPA2["alpha"], 2)])
    for alpha, kappa in settings:
        ds = L.prop1_dataset(alpha, kappa=kappa)
        gbar = float(ds.data.gamma_bar)
        runs = {}
        for name, label, remedy, encoder in rows(gbar):
            if (args.rows is not None and name not in args.rows) or (kappa == 2 and name not in KAPPA2["rows"]):
                continue
            runs[name] = run_one(L, ds, alpha, kappa, name, remedy, encoder, args,
                                 out / "runs" / f"alpha{alpha:g}_kappa{kappa}_{name}.json")  # fmt: skip
            key = (alpha, kappa, *final_key(remedy, encoder))
            if key not in certs:
                certs[key] = certificate(L, ds, alpha, kappa, remedy, encoder, spheres)
            base, r = runs["plain"], runs[name]
            k, k0, R = r["counts"]["collapsed"], base["counts"]["collapsed"], args.restarts
            cat, cat0 = np.array(r["category"]), np.array(base["category"])
            table.append({"alpha": alpha, "kappa": kappa, "row": name, "label": label, "fractions": r["fractions"],
                          "intervals": r["intervals"], "collapsed_minus_plain": k / R - k0 / R,
                          "difference_interval": L.difference_interval(k, R, k0, R),
                          "escaped": int(np.sum((cat0 == "collapsed") & (cat != "collapsed"))),
                          "newly_collapsed": int(np.sum((cat0 != "collapsed") & (cat == "collapsed"))),
                          "certificate": certs[key], "seconds": r["seconds"]})  # fmt: skip
            t = table[-1]
            print(f"alpha {alpha:<4g} kappa {kappa} {name:<16} collapsed "
                  f"{fmt_cell(t['fractions']['collapsed'], *t['intervals']['collapsed'])}  "
                  f"partial {t['fractions']['partial']:.2f}  reconstructing {t['fractions']['reconstructing']:.2f}  "
                  f"vs plain {t['collapsed_minus_plain']:+.2f} [{t['difference_interval'][0]:+.2f}, "
                  f"{t['difference_interval'][1]:+.2f}]  collapsed point: {t['certificate']['label']}  "
                  f"({r['seconds']:.0f} s; {time.perf_counter() - t0:.0f} s so far)", flush=True)  # fmt: skip
    seconds = time.perf_counter() - t0
    md = markdown(table, args)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(md)
    figure(plt, table, args, out / "remedies.png")
    payload = {"config": {"alphas": args.alphas, "restarts": args.restarts, "steps": args.steps, "seed": args.seed,
                          "kappa2": None if args.no_kappa2 else KAPPA2, "rows": args.rows or names,
                          "data": "landscape.prop1_dataset(alpha), n = 20, d = 3, kappa = 1, seed 0",
                          "command": ["python", *sys.argv]},
               "table": table, "seconds": seconds}  # fmt: skip
    save_json(out / "remedies.json", payload)
    print(md)
    print(f"wrote {out / 'remedies.json'}, {out / 'table.md'} and {out / 'remedies.png'} ({seconds:.0f} s)")
    return 0


def markdown(table, args) -> str:
    k1 = [t for t in table if t["kappa"] == 1]
    alphas = sorted({t["alpha"] for t in k1})
    names = list(dict.fromkeys(t["row"] for t in k1))
    by = {(t["row"], t["alpha"]): t for t in k1}
    head = "| remedy | " + " | ".join(f"α = {a:g}" for a in alphas) + " |\n|---|" + "---|" * len(alphas) + "\n"
    lines = []
    for name in names:
        cells = []
        for a in alphas:
            t = by.get((name, a))
            if t is None:
                cells.append("—")
                continue
            cell = fmt_cell(t["fractions"]["collapsed"], *t["intervals"]["collapsed"])
            if name != "plain":
                lo, hi = t["difference_interval"]
                cell += f" ({t['collapsed_minus_plain']:+.2f})" + ("" if lo <= 0 <= hi else "*")
            cells.append(cell)
        label = next(t["label"] for t in k1 if t["row"] == name)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    certs = {}
    for t in k1:
        c = t["certificate"]
        certs.setdefault((c["final_objective"], t["row"] if t["row"] in ("affine", "mlp") else "free moments",
                          c["gamma"] is not None), {})[t["alpha"]] = c  # fmt: skip
    chead = "| final objective | encoder | " + " | ".join(f"α = {a:g}" for a in alphas) + " |\n|---|---|"
    chead += "---|" * len(alphas) + "\n"
    clines = []
    for (obj, enc, fixed), by_a in certs.items():
        cells = [("—" if a not in by_a else f"{by_a[a]['label']} {tuple(by_a[a]['inertia'])}: {by_a[a]['verdict']}")
                 for a in alphas]  # fmt: skip
        clines.append(f"| {obj}{', γ fixed' if fixed else ''} | {enc} | " + " | ".join(cells) + " |")
    return (f"Collapsed fraction of {args.restarts} restarts [95% Wilson interval] (difference from plain Adam; "
            "* where Newcombe's 95% interval excludes 0):\n\n" + head + "\n".join(lines) + "\n\n"
            "The collapsed point on each final objective (label, inertia (n₋, n₀, n₊), verdict):\n\n"
            + chead + "\n".join(clines) + "\n")  # fmt: skip


def figure(plt, table, args, path):
    k1 = [t for t in table if t["kappa"] == 1]
    alphas = sorted({t["alpha"] for t in k1})
    names = list(dict.fromkeys(t["row"] for t in k1))
    labels = {t["row"]: t["label"] for t in k1}
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(names) + 1.5), constrained_layout=True)
    for j, a in enumerate(alphas):
        for i, name in enumerate(names):
            t = next((t for t in k1 if t["row"] == name and t["alpha"] == a), None)
            if t is None:
                continue
            f, (lo, hi) = t["fractions"]["collapsed"], t["intervals"]["collapsed"]
            y = i + (j - (len(alphas) - 1) / 2) * 0.18
            ax.errorbar(f, y, xerr=[[f - lo], [hi - f]], fmt="o", ms=4, color=f"C{j}", capsize=2,
                        label=f"α = {a:g}" if i == 0 else None)  # fmt: skip
    ax.set_yticks(range(len(names)), [labels[n] for n in names])
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"collapsed fraction of {args.restarts} restarts (95% Wilson interval)")
    ax.set_title("Proposition 1 data (n = 20, d = 3, κ = 1): where training ends, by remedy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
