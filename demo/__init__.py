"""`make run`: two p4sim switches, the controller and tenant hosts in namespaces (see README)."""
