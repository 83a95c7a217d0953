"""p4sim: an embedded, pure-Python P4_16 v1model target with a P4Runtime server.

A stand-in for bmv2's simple_switch_grpc: the compiler (preprocess -> parse -> typed IR ->
checks -> P4Info -> code generation), the v1model engine, and the switch around it.
"""
