"""Plain-text rendering of a CostReport for the CLI."""

from __future__ import annotations

from .model import CostReport, money


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def format_cost_table(report: CostReport) -> str:
    out = ["Self-hosted, per month"]
    rows = [["GROUP", "PROVIDER", "TYPE", "REGION", "COUNT", "UNIT", "TOTAL", "NOTE"]]
    for g in report.groups:
        note = {"on-prem": "on-prem (cost from spec)", "override": "negotiated/override"}.get(g.price_basis, "")
        rows.append([g.group, g.provider, g.instance_type or "-", g.region or "-", str(g.count),
                     f"{money(g.unit_price)} {g.currency}", f"{money(g.monthly_total)} {g.currency}", note])
    rows.append(["TOTAL", "", "", "", "", "", f"{money(report.total_eur)} EUR", ""])
    out += _table(rows, {4, 5, 6})

    for h in report.hyperscalers:
        out += ["", f"{h.display_name} ({h.region}) equivalent, per month"]
        rows = [["GROUP", "TYPE", "COUNT", "UNIT", "TOTAL"]]
        rows += [[ln.group, ln.instance_type, str(ln.count), f"{money(ln.unit_price)} USD",
                  f"{money(ln.monthly_total)} USD"] for ln in h.lines]
        rows.append(["control plane", "", "", "", f"{money(h.control_plane_usd)} USD"])
        rows.append([f"storage {h.storage_gb} GB", h.storage_type, "", "", f"{money(h.storage_usd)} USD"])
        rows.append([f"egress {h.egress_gb} GB", "(assumed)", "", "", f"{money(h.egress_usd)} USD"])
        rows.append(["TOTAL", "", "", "", f"{money(h.total_usd)} USD"])
        out += _table(rows, {2, 3, 4})
        verdict = (f"self-hosted ({money(h.self_hosted_eur)} EUR) saves {money(h.saving_eur)} EUR/month "
                   f"({money(h.saving_pct)} %)" if h.saving_eur >= 0 else
                   f"self-hosted ({money(h.self_hosted_eur)} EUR) costs {money(-h.saving_eur)} EUR/month more")
        out.append(f"= {money(h.total_eur)} EUR at {report.fx_eur_usd} USD/EUR ({report.fx_date}); {verdict}")
        if h.unmatched_groups:
            out.append(f"  (left out on both sides: {', '.join(h.unmatched_groups)})")

    if report.warnings:
        out += ["", "Warnings:"] + [f"  - {w}" for w in report.warnings]
    return "\n".join(out) + "\n"
