"""`python -m pipelines.cli`: the same as the `mailjet-elt` command."""

from pipelines.cli import main

main()
