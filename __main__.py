"""Entry point of `pulumi up`: everything lives in stacks/ and components/."""

from stacks.program import main

main()
