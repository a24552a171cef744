"""PNG plots of a results store (matplotlib, the optional extra 'plots'; Agg backend).

- bound_vs_L.png: G1, G2, G1-net and G2-net (the bounds the answer is about) against the test
  risk across L, lazy parametrization filled and contrast (the negative control) hollow, vacuous
  line at 1 (section 4);
- complexity_vs_L.png: C(L) of the class and the negative control on log-log axes, each with
  its polynomial and exponential fit, and the declared law as an upper envelope, one panel per
  scaling design (section 5);
- complexity_heatmap.png: complexity over (N, l_0) of N-variable targets at one (L, n) (C3/C4);
- position_effect.png: first-token vs last-token targets (section 3);
- kernel_convergence.png: ||K_m - H|| / ||H|| against m with an m^{-1/2} reference (section 3);
- quality_scatter.png: each bound / measure against the generalization gap, one panel per measure,
  one point per configuration, with Kendall's tau (reports/render/_quality.py).
- g1_large_n.png: G1's non-vacuous fraction and median bound against n per concept class (the
  large-n design, ``--profile large``).
- sample_complexity_vs_L.png: n_eps (at the deciding eps), n_G1 and T_eps against L on log axes,
  one row per scaling claim (C2, C4-N, C4-l0): class and control per seed, censored values at the
  cap (hollow upward triangles), the cap as a dashed step, both fitted growth models per seed, the
  verdict and the 2 log LR per seed (sections 5-6; embedded under the report's sample-complexity
  section).

A plot whose data is absent from the store is skipped (and said so), never drawn empty.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from ._format import num


def _mpl():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI machines
    import matplotlib.pyplot as plt

    return plt


def make_plots(records: list[dict], rep: dict, out: Path) -> tuple[list[Path], str]:
    """Draw every plot whose data is present; return the files and a note for the report."""
    try:
        plt = _mpl()
    except ImportError:
        return [], ("matplotlib is not installed: plots skipped "
                    "(install the extra: pip install 'rnn-gen-checks[plots]').")
    made, skipped = [], []
    for name, fn in _PLOTS:
        path = out / f"{name}.png"
        fig = fn(plt, records, rep)
        if fig is None:
            skipped.append(name)
            continue
        for ax in fig.axes:
            _readable_log_ticks(ax)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        made.append(path)
    note = f"Skipped for lack of data in the store: {', '.join(skipped)}." if skipped else ""
    return made, note


def _ticks(ax, xs) -> None:
    """Label a log x-axis with the actual values (not 2 x 10^0)."""
    from matplotlib.ticker import NullFormatter

    xs = sorted({float(x) for x in xs})
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _readable_log_ticks(ax) -> None:
    """A log y-axis spanning less than two decades gets one labelled major tick or none (the P
    panel of quality_scatter showed none above 1): label 1-2-5 ticks (under a decade: evenly
    stepped values) with their plain values."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    if ax.get_yscale() != "log" or not ax.axison:
        return
    lo, hi = ax.get_ylim()
    if not (0 < lo < hi) or math.log10(hi / lo) >= 2:  # two decades or more: the default labels do
        return
    if math.log10(hi / lo) < 1:  # under a decade: evenly stepped values (0.9, 1, 1.1, ...) label it
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _real(r):
    return not r.get("metrics", {}).get("mutant")


_BOUND_PANELS = ("G1", "G2", "G1-net", "G2-net")


def _bounds(plt, records, rep):
    """One panel per bound: bound (o) and test risk (x) of each case against L, a colour per
    family; lazy-parametrization cases filled, contrast ones (the negative control) hollow."""
    from ._summary import parametrization

    pts = {c: defaultdict(list) for c in _BOUND_PANELS}
    for r in records:
        if r["kind"] != "bound" or r["claim"] not in pts or not _real(r):
            continue
        if r["verdict"] not in ("holds", "vacuous", "violation"):
            continue
        b, risk = num(r["bound"].get("value")), num(r["metrics"].get("test_risk"))
        if math.isfinite(b) and math.isfinite(risk):
            key = (r["config"].get("family", "?"), parametrization(r))
            pts[r["claim"]][key].append((r["config"]["L"], b, risk))
    panels = [c for c in _BOUND_PANELS if pts[c]]
    if not panels:
        return None
    cols = min(len(panels), 2)
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.6 * cols, 4.2 * rows), squeeze=False)
    fams = sorted({fam for c in panels for fam, _ in pts[c]})
    for ax, claim in zip(axes.flat, panels):
        for (fam, param), got in sorted(pts[claim].items()):
            i = fams.index(fam)
            L, b, risk = (np.array(x, float) for x in zip(*got))
            jitter = L * (1 + 0.04 * (i - 1)) * (1.02 if param == "contrast" else 1.0)
            face = "none" if param == "contrast" else f"C{i}"
            tag = f"{fam} [{param}]" if param == "contrast" else fam
            ax.scatter(jitter, b, marker="o", facecolors=face, edgecolors=f"C{i}", alpha=0.8,
                       label=f"{tag}: bound")
            ax.scatter(jitter, risk, marker="x" if param != "contrast" else "+", color=f"C{i}",
                       alpha=0.8, label=f"{tag}: test risk")
        ax.axhline(1.0, color="k", ls="--", lw=1, label="vacuous (bound >= 1)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        _ticks(ax, [p[0] for got in pts[claim].values() for p in got] or [1])
        ax.set_xlabel("sequence length L")
        ax.set_ylabel("bound or test risk (clipped absolute loss)")
        hollow = any(param == "contrast" for _, param in pts[claim])
        ax.set_title(f"{claim}: bound vs test risk"
                     + (" (hollow: contrast, the negative control)" if hollow else ""), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _scaling(plt, records, rep):
    """Class and control C(L) (geometric mean over seeds, seed range as bars), each with its
    polynomial (solid) and exponential (dashed) fit, and the declared law as an upper envelope."""
    fits = rep["scaling"]
    if not fits:
        return None
    k = len(fits)
    cols = min(k, 2)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 4.6 * rows), squeeze=False)
    for ax, s in zip(axes.flat, fits):
        L = np.array(s["Ls"], float)
        grid = np.geomspace(L.min(), L.max(), 64)
        for role, color, marker, label in (("class", "C0", "o", "class"),
                                           ("control", "C3", "s", "control (parity)")):
            C = np.array(s[f"C_{role}"], float)
            seeds = np.array(s.get(f"C_{role}_seeds") or [], float)
            yerr = None
            if seeds.ndim == 2 and seeds.shape[1] == len(C):
                yerr = np.clip([C - seeds.min(axis=0), seeds.max(axis=0) - C], 0, None)
            ax.errorbar(L, C, yerr=yerr, fmt=marker, color=color, capsize=3,
                        label=f"{label}: {s[f'{role}_model']}")
            f = s.get(f"{role}_fit")
            if f:
                ax.plot(grid, np.exp(f["a_poly"] + f["slope"] * np.log(grid)), "-", color=color,
                        lw=1, label=f"{label} poly fit L^{f['slope']:.2f}")
                ax.plot(grid, np.exp(f["a_exp"] + f["rate"] * grid), "--", color=color, lw=1,
                        label=f"{label} exp fit e^({f['rate']:.3f} L)")
        p, kappa = num(s["declared_exponent"]), num(s.get("kappa_envelope"))
        if math.isfinite(p) and math.isfinite(kappa):
            ax.plot(grid, kappa * grid**p, ":", color="k",
                    label=f"declared kappa L^{p:.2f}, kappa = smallest upper envelope")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _ticks(ax, L)
        ax.set_ylim(0.5 * min(np.min(s["C_class"]), np.min(s["C_control"])),
                    2.0 * max(np.max(s["C_class"]), np.max(s["C_control"])))
        ax.set_title(f"{s['key']}: {s['verdict']}\n(class {s['class_model']}, control "
                     f"{s['control_model']}; bars: range over seeds)", fontsize=9)
        ax.set_xlabel("L")
        ax.set_ylabel(f"complexity C_n at n = {s['n_max']}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def heatmap_cells(records: list[dict]) -> tuple[tuple, dict] | None:
    """Complexity of N-variable targets per (N, l_0), at the (source, L, n) with the most cells.

    Sources: G1 records of N-variable bound cases (metrics['complexity']) and class-role
    complexity records of the C4 designs (metrics['C_n']); complexity depends on L and n, so
    only cells at one (L, n) are compared.
    """
    groups: dict[tuple, dict[tuple[int, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if not _real(r):
            continue
        c = r["config"]
        if r["kind"] == "bound" and r["claim"] == "G1" and c.get("family") == "n-variable":
            v = num(r["metrics"].get("complexity"))
            key = ("bound cases", c.get("L"), c.get("n"))
            N, l0 = c.get("N"), c.get("l0")
        elif r["kind"] == "complexity" and c.get("role") == "class" and r["claim"].startswith("C4"):
            v = num(r["metrics"].get("C_n"))
            pos = c.get("positions") or []
            if not pos:
                continue
            key = ("C4 designs", c.get("L"), c.get("n"))
            N, l0 = len(pos), pos[-1] - pos[0]
        else:
            continue
        if N is not None and l0 is not None and math.isfinite(v):
            groups[key][(int(N), int(l0))].append(v)
    if not groups:
        return None
    best = max(groups, key=lambda k: (len(groups[k]), k[0] == "bound cases", num(k[2])))
    if len(groups[best]) < 2:
        return None
    return best, {cell: float(np.mean(v)) for cell, v in groups[best].items()}


def _heatmap(plt, records, rep):
    got = heatmap_cells(records)
    if got is None:
        return None
    (src, L, n), cells = got
    Ns = sorted({c[0] for c in cells})
    l0s = sorted({c[1] for c in cells})
    Z = np.full((len(Ns), len(l0s)), np.nan)
    for (N, l0), v in cells.items():
        Z[Ns.index(N), l0s.index(l0)] = v
    fig, ax = plt.subplots(figsize=(1.2 * len(l0s) + 3, 0.8 * len(Ns) + 2.5))
    im = ax.imshow(np.log10(Z), cmap="viridis", origin="lower", aspect="auto")
    for i, j in zip(*np.where(np.isfinite(Z))):
        ax.text(j, i, f"{Z[i, j]:.3g}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xticks(range(len(l0s)), [str(x) for x in l0s])
    ax.set_yticks(range(len(Ns)), [str(x) for x in Ns])
    ax.set_xlabel("spread l_0 = l_N - l_1")
    ax.set_ylabel("number of positions N")
    ax.set_title(f"complexity of N-variable targets ({src}, L = {L}, n = {n}); blank: not run")
    fig.colorbar(im, ax=ax, label="log10 C_n")
    return fig


def _position(plt, records, rep):
    pe = rep["position_effect"]
    if not pe:
        return None
    L = [p["L"] for p in pe]
    x = np.arange(len(L))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (a, b, lab) in zip(axes, (("complexity_first", "complexity_last", "complexity C_n"),
                                      ("g1_first", "g1_last", "G1 bound"))):
        ax.bar(x - 0.2, [num(p[a]) for p in pe], 0.4, label="target of X_1 only")
        ax.bar(x + 0.2, [num(p[b]) for p in pe], 0.4, label="target of X_L only")
        ax.set_xticks(x, [f"L={v}" for v in L])
        ax.set_xlabel("sequence length L")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3, axis="y")
    axes[1].axhline(1.0, color="k", ls="--", lw=1, label="vacuous")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.suptitle("position effect: the last token enters H only through k0 (docs/theory.md section 3)")
    return fig


def _kernel(plt, records, rep):
    pts = defaultdict(list)
    for r in records:
        if r["kind"] == "kernel-mc" and _real(r):
            pts[int(r["config"]["m"])].append(num(r["metrics"]["rel_err"]))
    if not pts:
        return None
    ms = np.array(sorted(pts), float)
    means = np.array([np.mean(pts[int(m)]) for m in ms])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for m in ms:
        ax.scatter([m] * len(pts[int(m)]), pts[int(m)], color="C0", alpha=0.4, s=12)
    ax.loglog(ms, means, "o-", color="C0", label="mean relative Frobenius error")
    ax.loglog(ms, means[0] * (ms / ms[0]) ** -0.5, "--", color="k", label="$m^{-1/2}$ reference")
    _ticks(ax, ms)
    fit = rep["kernel_mc"][0] if rep["kernel_mc"] else None
    ax.set_title("empirical NTK -> H" + (f": fitted rate {num(fit['fitted_rate']):.2f}" if fit else ""))
    ax.set_xlabel("width m")
    ax.set_ylabel("||K_m - H||_F / ||H||_F")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def _quality(plt, records, rep):
    q = rep.get("quality") or {}
    rows = q.get("rows") or []
    if not rows:
        return None
    cols = min(len(rows), 4)
    nrow = math.ceil(len(rows) / cols)
    fig, axes = plt.subplots(nrow, cols, figsize=(3.8 * cols, 3.4 * nrow), squeeze=False)
    fams = sorted({str(p["config"].get("family")) for p in q["points"]})
    for ax, row in zip(axes.flat, rows):
        name = row["measure"]
        for i, fam in enumerate(fams):
            pts = [p for p in q["points"] if str(p["config"].get("family")) == fam
                   and name in p["measures"] and math.isfinite(num(p["measures"][name]))]
            if pts:
                ax.scatter([p["gap"] for p in pts], [num(p["measures"][name]) for p in pts], s=14,
                           color=f"C{i}", alpha=0.7, label=fam)
        vals = [num(p["measures"][name]) for p in q["points"] if name in p["measures"]]
        if vals and min(vals) > 0:
            ax.set_yscale("log")
        if row["kind"] != "measure":
            ax.axhline(1.0, color="k", ls="--", lw=0.8)
        ax.set_title(f"{name}: tau {num(row['tau']):.2f} ({row['configs']} configs)", fontsize=8)
        ax.set_xlabel("gap = test risk - train risk", fontsize=8)
        ax.set_ylabel(f"{name} ({'bound' if row['kind'] != 'measure' else 'measure'} value)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _large_n(plt, records, rep):
    rows = (rep.get("large_n") or {}).get("rows") or []
    if not rows:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, fam in enumerate(sorted({r["family"] for r in rows})):
        rs = sorted((r for r in rows if r["family"] == fam), key=lambda r: r["n"])
        n = [r["n"] for r in rs]
        mk = "os^D"[i % 4]  # classes can coincide (G1's B sits on a grid): markers tell them apart
        axes[0].plot(n, [r["non_vacuous_fraction"] for r in rs], f"{mk}-", color=f"C{i}",
                     label=fam, alpha=0.8, mfc="none")
        axes[1].plot(n, [r["g1_median"] for r in rs], f"{mk}-", color=f"C{i}", label=f"{fam}: G1",
                     alpha=0.8, mfc="none")
        axes[1].plot(n, [r["test_risk_median"] for r in rs], f"{mk}:", color=f"C{i}",
                     label=f"{fam}: test risk", alpha=0.8)
    axes[1].axhline(1.0, color="k", ls="--", lw=1, label="vacuous (bound >= 1)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("sample size n")
        ax.grid(alpha=0.3, which="both")
    axes[1].set_yscale("log")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].set_ylabel("fraction of targets with G1 < 1")
    axes[1].set_ylabel("median over targets")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7)
    L = {r["config"].get("L") for r in records if r["kind"] == "large-n"}
    fig.suptitle(f"G1 at large n (L = {', '.join(map(str, sorted(L))) or '?'}): non-vacuous "
                 "fraction per concept class")
    return fig


#: Columns of sample_complexity_vs_L.png, in this order (any other measure follows, sorted):
#: the deciding n_eps, the bound's n_G1, and the iterations T_eps ("iteration-scaling" records).
_SC_MEASURES = ("n_eps", "n_G1", "T_eps")
_SC_KINDS = ("sample-scaling", "iteration-scaling")
_SC_YLABEL = {"n_eps": "samples to relative risk <= eps",
              "n_G1": "samples for G1 <= eps x zero risk",
              "T_eps": "GD steps to relative risk <= eps"}
_SC_SEED_MARKERS = "osDPXv<>"  # "^" is kept for censored points


def sample_scaling_panels(records: list[dict]) -> dict[tuple[str, str], dict]:
    """The fit drawn in each panel of sample_complexity_vs_L.png, keyed (claim, measure): per claim
    the deciding eps (the ``decides`` n_eps fit's; else the largest eps of the claim), and per
    measure the fit at that eps (else at the measure's largest eps). Mutant records are left out."""
    fits: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        if r.get("kind") in _SC_KINDS and _real(r):
            m = r["metrics"]
            fits[(r["claim"], m["measure"])].append(m)
    eps_of = {}
    for claim in {c for c, _ in fits}:
        ms = [m for (c, _), got in fits.items() if c == claim for m in got]
        dec = [m["eps"] for m in ms if m.get("decides")]
        eps_of[claim] = dec[0] if dec else max(m["eps"] for m in ms)
    return {key: next((m for m in got if m["eps"] == eps_of[key[0]]), max(got, key=lambda m: m["eps"]))
            for key, got in fits.items()}


def growth_lines(fit: dict, role: str) -> list[dict]:
    """Per seed, both fitted models of ``role``'s curve (class or control) as drawn:
    ``{"seed", "a_poly", "slope", "a_exp", "rate"}`` (log C = a_poly + slope log L, resp.
    a_exp + rate L): the record's own fit (``{role}_a_poly`` / ``{role}_a_exp``, stored by
    fit_sample_complexity since 2026-11-27, late); a store written before that has slopes and
    rates only, and its fit is redone here by the one rule, ``theory.GrowthTest`` with the
    record's sigma_floor, on the record's values (censored = NaN, at the cap). A seed with fewer than two
    observed points has no fitted shape (its 2 log LR is 0 by the rule) and gets no lines."""
    import theory as T

    C = np.array([[num(v) for v in row] for row in fit[f"n_{role}"]], float)
    cens = ~np.isfinite(C)
    C = np.where(cens, np.asarray([num(v) for v in fit["n_cap"]], float)[None, :], C)
    seeds = list(fit["seeds"])
    if f"{role}_a_poly" in fit and f"{role}_a_exp" in fit:
        a_poly, a_exp = fit[f"{role}_a_poly"], fit[f"{role}_a_exp"]
        slope, rate = fit[f"{role}_slope"], fit[f"{role}_rate"]
    else:
        g = T.GrowthTest(sigma_floor=float(fit.get("sigma_floor") or 0.0)).fit(
            fit["Ls"], C, seeds, censored=cens)
        a_poly, slope, a_exp, rate = g.a_poly, g.slope, g.a_exp, g.rate
    return [{"seed": s, "a_poly": float(a_poly[i]), "slope": float(slope[i]),
             "a_exp": float(a_exp[i]), "rate": float(rate[i])}
            for i, s in enumerate(seeds) if (~cens[i]).sum() >= 2]


def _sample_complexity(plt, records, rep):
    """n_eps, n_G1 and T_eps against L (log-log), one row per claim and one column per measure:
    class (blue) and control (red) per seed (a marker per seed), a censored value as a hollow
    upward triangle at the cap (the truth is above it), the cap per L as a dashed step line, and
    both fitted models per seed (polynomial solid, exponential dashed); title: the verdict,
    subtitle: the two curves' models with 2 log LR per seed (docs/theory.md section 5)."""
    panels = sample_scaling_panels(records)
    if not panels:
        return None
    from ..cases._sample_complexity import SC_CLAIMS

    claims = [c for c in SC_CLAIMS if any(k[0] == c for k in panels)]
    claims += sorted({c for c, _ in panels} - set(claims))
    measures = [m for m in _SC_MEASURES if any(k[1] == m for k in panels)]
    measures += sorted({m for _, m in panels} - set(measures))
    rows, cols = len(claims), len(measures)
    fig, axes = plt.subplots(rows, cols, figsize=(5.6 * cols, 4.6 * rows), squeeze=False)
    handles = {}
    for (i, claim), (j, measure) in ((a, b) for a in enumerate(claims) for b in enumerate(measures)):
        ax, fit = axes[i, j], panels.get((claim, measure))
        if fit is None:
            ax.axis("off")
            ax.text(0.5, 0.5, f"{claim}: no {measure} records", ha="center", va="center",
                    transform=ax.transAxes)
            continue
        _sample_complexity_panel(ax, fit, handles)
    fig.tight_layout()
    # one legend for all panels, under them (savefig's tight bounding box takes it in), one column
    # per curve: class, control, then the cap; columns padded with blank entries to equal length
    cols = [sorted((k for k in handles if k.startswith(role)),
                   key=lambda k: ("fit" in k, "censored" in k, "exponential" in k, k))
            for role in ("class", "control")]
    cols.append([k for k in handles if not k.startswith(("class", "control"))])
    cols = [c for c in cols if c]
    depth = max(len(c) for c in cols)
    blank = plt.Line2D([], [], alpha=0)
    keys = [c[i] if i < len(c) else "" for c in cols for i in range(depth)]
    fig.legend([handles.get(k, blank) for k in keys], keys, loc="upper center", ncol=len(cols),
               fontsize=7, bbox_to_anchor=(0.5, 0.0), frameon=False)
    return fig


def _sample_complexity_panel(ax, fit: dict, handles: dict) -> None:
    L = np.array(fit["Ls"], float)
    cap = np.array([num(v) for v in fit["n_cap"]], float)
    grid = np.geomspace(L.min(), L.max(), 64)
    measure, seeds = fit["measure"], list(fit["seeds"])
    shown, unfit = [cap], []
    for role, color, dx in (("class", "C0", -1), ("control", "C3", 1)):
        vals = np.array([[num(v) for v in row] for row in fit[f"n_{role}"]], float)
        for k, s in enumerate(seeds):
            # a small offset per role and seed so coinciding values (a nested grid) stay visible
            x = L * (1 + 0.025 * (dx * (1 + k) - 0.5 * dx))
            ok = np.isfinite(vals[k])
            mk = _SC_SEED_MARKERS[k % len(_SC_SEED_MARKERS)]
            h = ax.scatter(x[ok], vals[k][ok], marker=mk, color=color, s=22, alpha=0.85, zorder=3,
                           label=f"{role} seed {s}")
            handles.setdefault(f"{role} seed {s}", h)
            if (~ok).any():  # censored: drawn at the cap, hollow, pointing up
                h = ax.scatter(x[~ok], cap[~ok], marker="^", facecolors="none", edgecolors=color,
                               s=46, lw=1.2, zorder=3, label=f"{role} censored (> cap)")
                handles.setdefault(f"{role} censored (> cap)", h)
            shown.append(vals[k][ok])
        lines = growth_lines(fit, role)
        fitted = [ln["seed"] for ln in lines]
        if len(fitted) < len(seeds):  # said, not silently missing: the rule has no shape there
            unfit.append(f"{role} seed(s) " + ", ".join(str(s) for s in seeds if s not in fitted))
        for ln in lines:
            h = ax.plot(grid, np.exp(ln["a_poly"] + ln["slope"] * np.log(grid)), "-", color=color,
                        lw=0.9, alpha=0.6)[0]
            handles.setdefault(f"{role} polynomial fit a L^p (per seed)", h)
            h = ax.plot(grid, np.exp(ln["a_exp"] + ln["rate"] * grid), "--", color=color, lw=0.9,
                        alpha=0.6)[0]
            handles.setdefault(f"{role} exponential fit a e^(b L) (per seed)", h)
    if unfit:
        ax.text(0.98, 0.02, "no fit drawn (< 2 observed points): " + "; ".join(unfit),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    h = ax.step(L, cap, where="mid", ls="--", color="0.45", lw=1.2)[0]
    handles.setdefault("cap (largest n or T measured) per L", h)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks(ax, L)
    got = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in shown])
    # the data and the cap set the view; fitted lines (an exponential through censored points
    # can reach 10^6) are cut at 4x the cap rather than rescaling the panel
    ax.set_ylim(0.5 * got.min(), 4.0 * got.max())
    _readable_log_ticks(ax)  # before tight_layout: the plain labels (10000) are wider than 10^4
    ax.set_xlabel("sequence length L")
    ax.set_ylabel(f"{measure} (eps = {fit['eps']:g})\n{_SC_YLABEL.get(measure, '')}", fontsize=8)
    llr = "\n".join(f"{role} {fit[f'{role}_model']}, 2 log LR per seed ["
                    + ", ".join(f"{num(x):.1f}" for x in fit[f"{role}_llr"]) + "]"
                    for role in ("class", "control"))
    ax.set_title(f"{fit['claim']}, {measure}: {fit['verdict']}"
                 + (" (decides)" if fit.get("decides") else "") + f"\n{llr}", fontsize=8)
    ax.grid(alpha=0.3)
    ax.grid(alpha=0.1, which="minor")


_PLOTS = (("bound_vs_L", _bounds), ("complexity_vs_L", _scaling), ("complexity_heatmap", _heatmap),
          ("position_effect", _position), ("kernel_convergence", _kernel),
          ("quality_scatter", _quality), ("g1_large_n", _large_n),
          ("sample_complexity_vs_L", _sample_complexity))
#: Every plot ``make_plots`` can write (``<name>.png``); the report writer removes an older
#: report's plot that a new report skips.
PLOT_NAMES = tuple(name for name, _ in _PLOTS)
