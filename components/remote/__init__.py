"""Running the project's node scripts on machines over SSH (pulumi-command)."""
