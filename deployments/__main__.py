"""Entry point of `pulumi up` in deployments/: everything lives in stack_deployments.py."""

from stack_deployments import main

main()
