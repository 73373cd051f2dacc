"""What a stack remembers between updates: its own (and other stacks') outputs."""
