"""Project-wide pytest setup: the real-interface harness (veths, namespaces, PTF adapter)."""

pytest_plugins = ["nve_ptf.plugin"]
