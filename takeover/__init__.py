"""The operator's one-sitting switch from the manual Dagster deployment to the Pulumi program.

Run from the repository root: `python3 -m takeover --stack kde04 --dry-run` (see README.md here).
"""
