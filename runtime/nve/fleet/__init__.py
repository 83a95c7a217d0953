"""Controller replicas sharing the switches of one overlay through etcd (docs/fleet-ownership.md).

Each switch is owned by one live replica (`ownership`), spread evenly over them (`spread`);
the owner becomes primary on its switch with an election id derived from the etcd revision
at which it took ownership (`election`), so the switch itself fences a stale owner.
"""
