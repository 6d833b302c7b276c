"""``python -m convmat`` runs the command-line interface."""

from .cli import run

run()
