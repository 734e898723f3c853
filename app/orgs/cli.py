"""Command-line tasks for organisations: `flask --app app orgs import FILE --icb CODE` and `orgs add-sub-icb`."""

import sys
from pathlib import Path

import click
from flask import Flask

from ..services import roster


def register_orgs(app: Flask) -> None:
    @app.cli.group("orgs")
    def orgs_group():
        """ICBs' sub-ICB locations and PCNs."""

    @orgs_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--icb", "icb_code", required=True, help="The ICB's ODS code, such as QDM.")
    def import_roster(file: Path, icb_code: str):
        """Import an ICB's PCNs from FILE, the ePCN file's PCN Core Partner Details sheet saved as CSV.

        Every row is checked first: if any is wrong, each problem is printed as "line N, column C: message" and
        nothing is imported. PCNs are added, renamed and moved between sub-ICB locations, never removed.
        """
        icb = roster.icb_by_code(icb_code)
        if icb is None:
            click.echo(f"There is no ICB with the code {icb_code}.", err=True)
            sys.exit(1)
        try:
            plan = roster.import_roster(file.read_bytes(), icb, source=f"{file.name} (command line)")
        except roster.UnreadableFile as refused:
            click.echo(f"{file}: {refused}.", err=True)
            sys.exit(1)
        except roster.RosterProblems as bad:
            for problem in bad.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(bad.problems)} problem(s) found: nothing was imported.", err=True)
            sys.exit(1)
        except roster.ImportClash as clash:
            click.echo(f"{clash}. Try again.", err=True)
            sys.exit(1)
        for pcn in plan.additions:
            click.echo(f"Added {pcn.code} {pcn.name} in sub-ICB location {pcn.sub_icb}")
        for rename in plan.renames:
            click.echo(f"Renamed {rename.code} from {rename.old_name} to {rename.new_name}")
        for move in plan.moves:
            click.echo(
                f"Moved {move.code} {move.name} from sub-ICB location {move.old_sub_icb or 'none'} "
                f"to {move.new_sub_icb}"
            )
        if plan.not_in_file:
            kept = ", ".join(sorted(pcn.ods_code for pcn in plan.not_in_file))
            click.echo(f"Not in the file, so left as they are: {kept}")
        click.echo(f"{icb.name}: {plan.summary()}")

    @orgs_group.command("add-sub-icb")
    @click.argument("icb_code")
    @click.argument("sub_icb_code")
    @click.argument("name")
    def add_sub_icb(icb_code: str, sub_icb_code: str, name: str):
        """Register SUB_ICB_CODE (such as 91Q), called NAME, as one of ICB_CODE's sub-ICB locations (or rename it)."""
        try:
            location, outcome = roster.add_sub_icb(icb_code, sub_icb_code, name)
        except ValueError as refused:
            click.echo(str(refused), err=True)
            sys.exit(1)
        icb_name = location.area.name
        click.echo(
            {
                "added": f"Sub-ICB location {location.ods_code} {location.name} added to {icb_name}.",
                "renamed": f"Sub-ICB location {location.ods_code} of {icb_name} is now called {location.name}.",
                "unchanged": f"Sub-ICB location {location.ods_code} {location.name} is already one of {icb_name}'s.",
            }[outcome]
        )
