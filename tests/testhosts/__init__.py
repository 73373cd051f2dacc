"""Real Linux test hosts on one machine: network namespaces joined by a
bridge that plays the internet, each with its own sshd, /etc and /run.

See ``lab.Lab``; the pytest fixtures are in ``fixtures.py``; ``remote.py``
executes ``command:remote:Command`` resources over SSH on these hosts.
"""
