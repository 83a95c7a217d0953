"""The packet-test harness: veth pairs and namespaces that clean up after themselves, and PTF under pytest."""
