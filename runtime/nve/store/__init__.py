"""The overlay description held in etcd: key layout, import, reads and single changes
(docs/fleet.md). The YAML file stays the default; nothing here runs without a store."""
