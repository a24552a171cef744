"""The report's C1-on-the-trained-network section and C1's answer line (records of
``reports/cases/_c1_net.py``: one "c1-net" record per verdict, role 'judged' or 'beyond')."""

from __future__ import annotations

from ..cases._c1_net import control_rejected
from ._format import fmt


def c1_net_by_role(records) -> dict[str, dict]:
    """The store's last "c1-net" record of each role ('judged': C1's verdict over the claim's
    range; 'beyond': every scale, the negative control's scales included)."""
    return {r["metrics"].get("role"): r for r in records if r.get("kind") == "c1-net"}


def c1_answer_line(records, title: str) -> str | None:
    """C1's answer line from its 'judged' c1-net record (None: the store has none)."""
    by = c1_net_by_role(records)
    judged = by.get("judged")
    if judged is None:
        return None
    m = judged["metrics"]
    lo, hi = m["judged_range"]
    line = (f"C1 ({title}), on the trained network: **{judged['verdict']}** over r = {lo:g}..{hi:g} "
            f"(r = {m['scales']}; the median min(G1-net, G2-net) certificate and the network's risk "
            f"within {m['tol']:g} x their value at r = {m['r_ref']:g}, no violation or divergence)")
    if m.get("degrades"):
        line += f", degrading at r = {m['degrades']}"
    nv = [t["non_vacuous"] for t in m["per_r"]]
    line += (" (every certificate vacuous: only the network-risk clause was tested)" if max(nv) == 0
             else f" (certificates non-vacuous for {min(nv):.0%}-{max(nv):.0%} of the networks per r)")
    beyond = by.get("beyond")
    if beyond is not None:
        b = beyond["metrics"]
        control = b.get("control_scales", [])
        caught = control_rejected(control, {**b, "verdict": beyond["verdict"]})  # the one rule
        line += (f"; beyond the range (negative control r = {control}): {beyond['verdict']}, "
                 f"degrading at r = {b.get('degrades', [])}" if caught else
                 f"; the negative control at r = {control} was NOT caught ({beyond['verdict']}, "
                 f"degrading at r = {b.get('degrades', [])}): the rule did not fail where expected")
    return line + "."


def render_c1_net(records) -> list[str]:
    """Markdown: the per-r table (every scale of the 'beyond' record, else the judged ones) and
    each verdict with its reason."""
    by = c1_net_by_role(records)
    if not by:
        return []
    full = by.get("beyond") or by["judged"]
    m = full["metrics"]
    lo, hi = m["judged_range"]
    control = m.get("control_scales", [])
    out = ["## C1 on the trained network: input scale r", "",
           f"Lazy networks on the same function of the normalized tokens at every r; the rule "
           f"(theory.ScaleTest, docs/theory.md section 5) compares each r with r = {m['r_ref']:g} "
           f"(factor {m['tol']:g}). The claim is judged over r = {lo:g}..{hi:g}; r = {control} is "
           "the negative control, where the verdict is expected to fail.", "",
           "| r | range | networks | G1-net non-vacuous | G2-net non-vacuous | median min certificate "
           "| network risk | linearization gap | violations | diverged | degrades |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    bad = set(m.get("degrades", []))
    for t in m["per_r"]:
        nv = t.get("non_vacuous_by_bound", {})
        where = "judged" if lo <= t["r"] <= hi else "control" if t["r"] in control else "beyond"
        out.append(f"| {t['r']:g} | {where} | {fmt(t.get('networks'))} | {fmt(nv.get('G1-net'))} | "
                   f"{fmt(nv.get('G2-net'))} | {fmt(t['cert'])} | {fmt(t['net_risk'])} | "
                   f"{fmt(t['lin_gap'])} | {fmt(t['violations'])} | {fmt(t.get('diverged'))} | "
                   f"{'yes' if t['r'] in bad else 'no'} |")
    out.append("")
    for role in ("judged", "beyond"):
        if role in by:
            r = by[role]
            bad = r["metrics"].get("degrades")
            out.append(f"- {role} (r = {r['metrics']['scales']}, expected "
                       f"{r['metrics'].get('expected')}): **{r['verdict']}**"
                       + (f", degrading at r = {bad}" if bad else ""))
    return out + [""]
