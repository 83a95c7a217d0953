"""The switch's control-plane host: a network namespace whose interfaces stand for the
switch's network ports, so the Linux kernel answers ARP and ND for the switch's own
addresses and resolves its neighbours, as on any router (docs/underlay.md)."""
